import { Injectable, Logger } from '@nestjs/common';

import { Measurement, READING_SERIES } from '@app/scaling-policy';

import { Settings } from '../config/settings';
import { PrometheusQuery } from './prometheus-query';

/**
 * The recording rules of monitoring/prometheus/rules. The alert path reads the alerts' own 1-minute mean; target
 * tracking (SCALE_ON_EVERY_READING) reads the same PromQL over each member's newest scrape interval (irate,
 * READING_SERIES), so that the tick sees a change of the load before the 1-minute mean does.
 */
export const UTILISATION_QUERY = 'pool:node_cpu_utilisation:avg';
export const MEMBERS_QUERY = 'pool:node_cpu_utilisation:members';

export type UtilisationReading = { measurement: Measurement } | { unavailable: string };

/**
 * Reads the pool-average utilisation fresh from Prometheus at decision time (PROMETHEUS_URL). Never throws: a
 * failure is a reason in the decision log, and the policy falls back to the notification's value.
 */
@Injectable()
export class UtilisationReader {
  private readonly logger = new Logger(UtilisationReader.name);

  /**
   * @param pool the value of the `pool` label to select (pools-file mode); null reads the rules' first series, as
   *   a one-pool deployment whose targets may carry no `pool` label does
   */
  private readonly prometheus: PrometheusQuery;

  constructor(
    private readonly settings: Settings,
    private readonly pool: string | null = null,
  ) {
    this.prometheus = new PrometheusQuery(settings);
  }

  get enabled(): boolean {
    return Boolean(this.settings.PROMETHEUS_URL);
  }

  async read(now: number): Promise<UtilisationReading | null> {
    if (!this.settings.PROMETHEUS_URL) return null;
    try {
      // Only a pool that tracks (the target policy) reads the newest interval; the step policy never tracks.
      const tracking = this.settings.SCALE_ON_EVERY_READING && this.settings.SCALING_POLICY === 'target';
      const [utilisationQuery, membersQuery] = tracking
        ? [READING_SERIES.utilisation, READING_SERIES.members]
        : [UTILISATION_QUERY, MEMBERS_QUERY];
      const [utilisation, members, inFlight] = await Promise.all([
        this.prometheus.scalar(this.select(utilisationQuery)),
        this.prometheus.scalar(this.select(membersQuery)),
        // Requests in flight are optional: a rules file without the series, or a failed query, leaves the policy
        // guessing a saturated pool's load as before.
        tracking
          ? this.prometheus.scalar(this.select(READING_SERIES.inFlight)).catch(() => null)
          : Promise.resolve(null),
      ]);
      if (utilisation === null) return { unavailable: `Prometheus has no value for ${utilisationQuery}` };
      if (utilisation < 0 || utilisation > 1)
        return { unavailable: `${utilisationQuery} is ${utilisation}, outside 0..1` };
      return {
        measurement: {
          utilisation,
          measuredAt: now,
          ...(members !== null && members > 0 ? { members: Math.round(members) } : {}),
          ...(inFlight !== null && inFlight >= 0 ? { inFlight } : {}),
          source: 'prometheus',
        },
      };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.warn({ msg: 'cannot read the utilisation from Prometheus', error: reason });
      return { unavailable: `Prometheus: ${reason}` };
    }
  }

  private select(series: string): string {
    return this.pool === null ? series : `${series}{pool="${this.pool}"}`;
  }
}
