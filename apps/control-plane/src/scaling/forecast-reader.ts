import { Logger } from '@nestjs/common';

import {
  DEFAULT_FORECAST_SETTINGS,
  Forecast,
  forecastDay,
  FORECAST_LOAD_SERIES,
  forecastPool,
  forecastQueries,
  ForecastSettings,
} from '@app/scaling-policy';

import { Settings } from '../config/settings';
import { PrometheusQuery } from './prometheus-query';

/** The forecast as the status page and GET /pool show it. */
export interface ForecastSeen extends Forecast {
  /** Unix seconds. */
  at: number;
}

/**
 * Predictive pre-scaling's input (docs/architecture.md §4, "Predictive pre-scaling"): the pool's own load a day and
 * a week back, read from Prometheus with `offset` (libs/scaling-policy's forecastQueries: the peak over the
 * look-ahead window, and the means of the agreement check), turned into a forecast size by forecastPool. Never
 * throws: without PROMETHEUS_URL, or when Prometheus fails, the forecast is `none` with the reason.
 */
export class ForecastReader {
  private readonly logger = new Logger(ForecastReader.name);
  /** The last forecast made (null: none yet, or mode `off`). */
  last: ForecastSeen | null = null;

  /**
   * @param pool the `pool` label to select (pools-file mode); null reads the rule's first series (one pool)
   */
  constructor(
    private readonly settings: Settings,
    private readonly prometheus: PrometheusQuery,
    private readonly pool: string | null,
  ) {}

  get forecastSettings(): ForecastSettings {
    return forecastDay(
      {
        ...DEFAULT_FORECAST_SETTINGS,
        mode: this.settings.FORECAST_MODE,
        margin: this.settings.FORECAST_MARGIN,
        leadSeconds: this.settings.FORECAST_LEAD_SECONDS,
        targetUtilisation: this.settings.FORECAST_TARGET_UTILIZATION,
        peakQuantile: this.settings.FORECAST_PEAK_QUANTILE,
      },
      this.settings.FORECAST_DAY_SECONDS,
    );
  }

  /**
   * The forecast for now, within `bounds` (the bounds in force, schedules included).
   * @param now Unix seconds
   */
  async read(bounds: { min: number; max: number }, now: number): Promise<Forecast> {
    const settings = this.forecastSettings;
    const none = (text: string): Forecast => ({
      mode: settings.mode,
      forecastLoad: null,
      forecastSize: null,
      source: 'none',
      reason: { code: 'Forecast', text },
    });
    let forecast: Forecast;
    if (settings.mode === 'off') forecast = none('prediction off');
    else if (!this.prometheus.enabled) forecast = none('no forecast: PROMETHEUS_URL is not set');
    else {
      const series =
        this.pool === null ? FORECAST_LOAD_SERIES : `${FORECAST_LOAD_SERIES}{pool="${this.pool}"}`;
      const q = forecastQueries(
        settings.leadSeconds,
        series,
        settings.checkSeconds,
        settings.daySeconds,
        settings.peakQuantile,
      );
      try {
        const [day, week, recentNow, recentDay, recentWeek] = await Promise.all(
          [q.day, q.week, q.recent.now, q.recent.day, q.recent.week].map((query) =>
            this.prometheus.scalar(query),
          ),
        );
        forecast = forecastPool(
          { day, week, recent: { now: recentNow, day: recentDay, week: recentWeek } },
          settings,
          bounds,
        );
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.logger.warn({ msg: 'cannot read the load history from Prometheus', error: reason });
        forecast = none(`no forecast: Prometheus: ${reason}`);
      }
    }
    this.last = settings.mode === 'off' ? null : { ...forecast, at: now };
    return forecast;
  }
}
