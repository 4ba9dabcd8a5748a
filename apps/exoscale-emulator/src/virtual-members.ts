import { EmulatedInstance, MemberRuntime } from './zone';

interface VirtualMember {
  /** Fraction of its one vCPU in use, 0..1; follows the pool's value until set on the member itself. */
  utilisation: number | null;
  healthy: boolean;
  /** Cumulative busy and idle CPU seconds up to `since` (node_cpu_seconds_total, without a process). */
  busySeconds: number;
  idleSeconds: number;
  since: number;
}

/**
 * Pool members that are API objects only: no process, no port, nothing bound. Each has a settable CPU utilisation
 * (its own, or its pool's) and health, and node-exporter-style CPU counters that integrate the utilisation over
 * time, so a benchmark can run many pools cheaply and still read a load from them.
 */
export class VirtualMembers implements MemberRuntime {
  private readonly members = new Map<string, VirtualMember & { poolId: string }>();
  private readonly poolUtilisation = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now() / 1000) {}

  start(member: EmulatedInstance): Promise<void> {
    this.members.set(member.id, {
      poolId: member.poolId,
      utilisation: null,
      healthy: true,
      busySeconds: 0,
      idleSeconds: 0,
      since: this.now(),
    });
    return Promise.resolve();
  }

  stop(member: EmulatedInstance): Promise<void> {
    this.members.delete(member.id);
    return Promise.resolve();
  }

  has(instanceId: string): boolean {
    return this.members.has(instanceId);
  }

  healthy(instanceId: string): boolean {
    return this.members.get(instanceId)?.healthy ?? false;
  }

  setHealthy(instanceId: string, healthy: boolean): void {
    const member = this.members.get(instanceId);
    if (member) member.healthy = healthy;
  }

  utilisation(instanceId: string): number {
    const member = this.members.get(instanceId);
    if (!member) return 0;
    return member.utilisation ?? this.poolUtilisation.get(member.poolId) ?? 0;
  }

  /** Sets one member's utilisation (0..1) from now on. */
  setUtilisation(instanceId: string, utilisation: number): void {
    const member = this.members.get(instanceId);
    if (!member) return;
    this.accumulate(instanceId);
    member.utilisation = utilisation;
  }

  /** Sets the utilisation (0..1) of a pool's members, present and future, except those given their own. */
  setPoolUtilisation(poolId: string, utilisation: number): void {
    for (const [id, member] of this.members) if (member.poolId === poolId) this.accumulate(id);
    this.poolUtilisation.set(poolId, utilisation);
  }

  /** node_cpu_seconds_total of the member's one vCPU, as node_exporter would expose it. */
  metrics(instanceId: string): string | null {
    const member = this.members.get(instanceId);
    if (!member) return null;
    this.accumulate(instanceId);
    return [
      '# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.',
      '# TYPE node_cpu_seconds_total counter',
      `node_cpu_seconds_total{cpu="0",mode="idle"} ${member.idleSeconds.toFixed(3)}`,
      `node_cpu_seconds_total{cpu="0",mode="user"} ${member.busySeconds.toFixed(3)}`,
      '',
    ].join('\n');
  }

  private accumulate(instanceId: string): void {
    const member = this.members.get(instanceId)!;
    const now = this.now();
    const elapsed = Math.max(0, now - member.since);
    const u = this.utilisation(instanceId);
    member.busySeconds += elapsed * u;
    member.idleSeconds += elapsed * (1 - u);
    member.since = now;
  }
}
