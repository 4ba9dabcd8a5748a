import { Settings } from '../config/settings';
import { DiscoveryService } from '../discovery/discovery.service';
import { ScalingService } from '../scaling/scaling.service';

export interface HistorySample {
  /** Unix seconds. */
  t: number;
  /** The pool size as last read or requested. */
  requested: number | null;
  /** Running members past their warm-up. */
  serving: number;
  /** The utilisation the last decision saw, while it is recent (two ticks). */
  utilisation: number | null;
}

export const SAMPLE_SECONDS = 5;
/** One hour of samples. */
export const HISTORY_CAPACITY = 3600 / SAMPLE_SECONDS;

/** The last hour of the pool, sampled every few seconds into a bounded ring, for the status page's chart. */
export class StatusHistory {
  private readonly ring: HistorySample[] = [];

  constructor(
    private readonly settings: Settings,
    private readonly discovery: DiscoveryService,
    private readonly scaling: ScalingService,
  ) {}

  /** Takes a sample into the ring. */
  sample(now = Date.now() / 1000): HistorySample {
    const sample = this.current(now);
    this.ring.push(sample);
    if (this.ring.length > HISTORY_CAPACITY) this.ring.splice(0, this.ring.length - HISTORY_CAPACITY);
    return sample;
  }

  /** The pool as it is now, without storing it (the chart's last point). */
  current(now = Date.now() / 1000): HistorySample {
    const warm = this.settings.WARMUP_SECONDS;
    const members = this.discovery.status.members.filter((m) => m.state === 'running');
    const serving = members.filter(
      (m) => !m.createdAt || now - Date.parse(m.createdAt) / 1000 >= warm,
    ).length;
    const u = this.scaling.lastUtilisation;
    const fresh = u && now - u.at <= 2 * this.settings.SCALING_INTERVAL_SECONDS + SAMPLE_SECONDS;
    const sample: HistorySample = {
      t: now,
      requested: this.scaling.lastPool?.size ?? (this.discovery.status.lastSuccessAt ? members.length : null),
      serving,
      utilisation: fresh ? u.value : null,
    };
    return sample;
  }

  /** Oldest first, ending with the pool as it is now. */
  samples(now = Date.now() / 1000): HistorySample[] {
    return [...this.ring, this.current(now)];
  }
}
