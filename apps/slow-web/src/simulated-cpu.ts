/**
 * One simulated vCPU: busy (100%) while at least one load is active, otherwise idle apart from a small baseline.
 * It burns no real CPU: the counters are computed from the busy intervals, like the kernel's per-mode jiffies.
 */
export class SimulatedCpu {
  private active = 0;
  private busySeconds = 0;
  private busySince: number | null = null;
  private readonly startedAt: number;

  constructor(
    private readonly now: () => number = () => performance.now() / 1000,
    /** Fraction of idle time accounted as `system`, so an idle member is not at exactly 0%. */
    private readonly baseline = 0.02,
  ) {
    this.startedAt = now();
  }

  get activeLoads(): number {
    return this.active;
  }

  begin(): void {
    if (this.active++ === 0) this.busySince = this.now();
  }

  end(): void {
    if (this.active === 0) return;
    if (--this.active === 0 && this.busySince !== null) {
      this.busySeconds += this.now() - this.busySince;
      this.busySince = null;
    }
  }

  /** Cumulative seconds per mode, as node_exporter's node_cpu_seconds_total. */
  counters(): { user: number; system: number; idle: number } {
    const now = this.now();
    const busy = this.busySeconds + (this.busySince !== null ? now - this.busySince : 0);
    const notBusy = Math.max(0, now - this.startedAt - busy);
    return { user: busy, system: notBusy * this.baseline, idle: notBusy * (1 - this.baseline) };
  }
}
