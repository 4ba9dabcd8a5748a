import {
  applyForecast,
  DAY_SECONDS,
  DEFAULT_FORECAST_SETTINGS,
  Forecast,
  FORECAST_LOAD_SERIES,
  forecastDay,
  forecastPool,
  forecastQueries,
  ForecastSettings,
  LoadSample,
  promDuration,
  seasonalMean,
  seasonalPeak,
  WEEK_SECONDS,
} from './forecast';
import { Decision } from './types';

const bounds = { min: 1, max: 20 };
const on: ForecastSettings = {
  ...DEFAULT_FORECAST_SETTINGS,
  mode: 'on',
  margin: 0.1,
  targetUtilisation: 0.8,
};

const decision = (over: Partial<Decision>): Decision => ({
  outcome: 'none',
  code: 'NoSignal',
  direction: null,
  currentSize: 4,
  targetSize: 4,
  consumes: [],
  reasons: [{ code: 'NoSignal', text: 'no pending signal and no firing alert' }],
  boundApplied: null,
  basis: null,
  ...over,
});
const tick = { kind: 'tick' } as const;

describe('forecastPool', () => {
  it('sizes ceil(peak x (1 + margin) / target) from the day, the week, or the larger of both', () => {
    // 6.9 x 1.1 = 7.59 members' worth; / 0.8 = 9.49: 10 members.
    expect(forecastPool({ day: 6.9, week: null }, on, bounds)).toMatchObject({
      mode: 'on',
      source: 'day',
      forecastSize: 10,
      reason: { code: 'Forecast' },
    });
    expect(forecastPool({ day: 6.9, week: null }, on, bounds).forecastLoad).toBeCloseTo(7.59);
    expect(forecastPool({ day: null, week: 2 }, on, bounds)).toMatchObject({
      source: 'week',
      forecastSize: 3,
    });
    expect(forecastPool({ day: 2, week: 6.9 }, on, bounds)).toMatchObject({
      source: 'both',
      forecastSize: 10,
    });
    expect(forecastPool({ day: 6.9, week: 2 }, on, bounds)).toMatchObject({
      source: 'both',
      forecastSize: 10,
    });
    // week-first: the week's peak whenever there is one (the day after a busy day is not a busy day).
    const weekFirst = { ...on, combine: 'week-first' as const };
    expect(forecastPool({ day: 6.9, week: 2 }, weekFirst, bounds)).toMatchObject({
      source: 'week',
      forecastSize: 3,
    });
    expect(forecastPool({ day: 6.9, week: null }, weekFirst, bounds)).toMatchObject({ source: 'day' });
  });

  it('is exact at whole sizes (0.8 x 10 / 0.8 is 10) and clamps to the bounds', () => {
    expect(forecastPool({ day: 8, week: null }, { ...on, margin: 0 }, bounds).forecastSize).toBe(10);
    expect(forecastPool({ day: 0, week: null }, on, bounds).forecastSize).toBe(1);
    const big = forecastPool({ day: 40, week: null }, on, bounds);
    expect(big.forecastSize).toBe(20);
    expect(big.reason.text).toContain('clamped to the bounds 1..20');
    expect(forecastPool({ day: 1, week: null }, on, { min: 3, max: 20 }).forecastSize).toBe(3);
  });

  it('has no forecast without history a day or a week back, with mode off, or on nonsense', () => {
    expect(forecastPool({ day: null, week: null }, on, bounds)).toMatchObject({
      source: 'none',
      forecastSize: null,
      forecastLoad: null,
    });
    expect(forecastPool({ day: 5, week: 5 }, { ...on, mode: 'off' }, bounds)).toMatchObject({
      mode: 'off',
      source: 'none',
      forecastSize: null,
    });
    expect(forecastPool({ day: NaN, week: -1 }, on, bounds).source).toBe('none');
  });
});

describe('the agreement check', () => {
  it('leaves out a source whose same span today was much lower (a Saturday after a Friday)', () => {
    const saturday = { now: 1, day: 6, week: null };
    expect(forecastPool({ day: 9, week: null, recent: saturday }, on, bounds)).toMatchObject({
      source: 'none',
      forecastSize: null,
    });
    expect(forecastPool({ day: 9, week: null, recent: saturday }, on, bounds).reason.text).toContain(
      'a day ago left out',
    );
    // The Monday after the weekend: the day (Sunday) disagrees upwards, which is no reason to leave it out; the
    // week (last Monday) agrees.
    const monday = { now: 1.5, day: 1.2, week: 1.6 };
    expect(forecastPool({ day: 1.2, week: 9, recent: monday }, on, bounds)).toMatchObject({
      source: 'both',
      forecastSize: 13,
    });
    // Today busier than that day: the peak scaled by the ratio (6.6 / 6), at most x1.5.
    expect(
      forecastPool({ day: 6, week: null, recent: { now: 6.6, day: 6, week: null } }, on, bounds).forecastLoad,
    ).toBeCloseTo(6 * 1.1 * 1.1);
    expect(
      forecastPool({ day: 6, week: null, recent: { now: 20, day: 6, week: null } }, on, bounds).forecastLoad,
    ).toBeCloseTo(6 * 1.5 * 1.1);
    // Within the share, or less than a member's worth apart (a quiet night), or no check: kept.
    expect(
      forecastPool({ day: 9, week: null, recent: { now: 4.5, day: 6, week: null } }, on, bounds).source,
    ).toBe('day');
    expect(
      forecastPool({ day: 9, week: null, recent: { now: 0.2, day: 1, week: null } }, on, bounds).source,
    ).toBe('day');
    expect(
      forecastPool({ day: 9, week: null, recent: saturday }, { ...on, agreement: 0 }, bounds).source,
    ).toBe('day');
  });
});

describe('seasonalMean', () => {
  it('is the mean over (now - season - span, now - season]', () => {
    const samples: LoadSample[] = [0, 15, 30, 45, 60].map((t) => ({ t: DAY_SECONDS + t, load: t / 15 }));
    expect(seasonalMean(samples, 2 * DAY_SECONDS + 60, DAY_SECONDS, 30)).toBe(3.5);
    expect(seasonalMean(samples, 60, 0, 30)).toBeNull();
  });
});

describe('seasonalPeak', () => {
  // A load that is 2 all day, 9 between 08:00 and 08:30 on day 0, sampled every 15 s.
  const samples: LoadSample[] = [];
  for (let t = 0; t < 2 * DAY_SECONDS; t += 15)
    samples.push({ t, load: t >= 8 * 3600 && t < 8.5 * 3600 ? 9 : 2 });

  it('is the peak over (now - season, now - season + lead], as max_over_time with offset gives it', () => {
    const eight = DAY_SECONDS + 8 * 3600;
    // 7 min before 08:00 on day 1, with a 7-minute lead, the window ends at 08:00 on day 0: the rise is in it.
    expect(seasonalPeak(samples, eight - 420, DAY_SECONDS, 420)).toBe(9);
    // A second earlier it is not.
    expect(seasonalPeak(samples, eight - 421, DAY_SECONDS, 420)).toBe(2);
    // The window starts after now - season: at 08:30 the 08:30 sample of day 0 (load 2) is the first.
    expect(seasonalPeak(samples, eight + 1800, DAY_SECONDS, 420)).toBe(2);
  });

  it('takes a quantile of the window as quantile_over_time does (linear interpolation at rank q x (n - 1))', () => {
    // Seven readings a minute apart, one of them a noise spike: the highest is the spike, the 85th percentile is not.
    const noisy: LoadSample[] = [4, 4.2, 6, 4.1, 4, 4.2, 4.1].map((load, i) => ({ t: 60 * (i + 1), load }));
    const now = DAY_SECONDS;
    expect(seasonalPeak(noisy, now, DAY_SECONDS, 420)).toBe(6);
    expect(seasonalPeak(noisy, now, DAY_SECONDS, 420, 1)).toBe(6);
    // Sorted: 4, 4, 4.1, 4.1, 4.2, 4.2, 6; rank 0.85 x 6 = 5.1: 4.2 + 0.1 x (6 - 4.2).
    expect(seasonalPeak(noisy, now, DAY_SECONDS, 420, 0.85)).toBeCloseTo(4.38, 10);
    expect(seasonalPeak(noisy, now, DAY_SECONDS, 420, 0.5)).toBeCloseTo(4.1, 10);
    expect(seasonalPeak(noisy, now, DAY_SECONDS, 420, 0)).toBe(4);
    // One reading: every quantile is that reading.
    expect(seasonalPeak([{ t: 60, load: 3 }], now, DAY_SECONDS, 420, 0.85)).toBe(3);
  });

  it('is null where nothing was recorded (before the history, or a week back on day 1)', () => {
    expect(seasonalPeak(samples, 3600, DAY_SECONDS, 420)).toBeNull();
    expect(seasonalPeak(samples, DAY_SECONDS + 3600, WEEK_SECONDS, 420)).toBeNull();
    expect(seasonalPeak([], 10 * DAY_SECONDS, DAY_SECONDS, 420)).toBeNull();
  });
});

describe('PromQL of the forecast', () => {
  it('writes durations as Prometheus does', () => {
    expect(promDuration(0)).toBe('0s');
    expect(promDuration(300)).toBe('5m');
    expect(promDuration(86_100)).toBe('23h55m');
    expect(promDuration(WEEK_SECONDS - 420)).toBe('6d23h53m');
    expect(promDuration(90)).toBe('1m30s');
    expect(() => promDuration(1.5)).toThrow(RangeError);
  });

  it('reads the peak of the recorded load over the lead, a day and a week back', () => {
    expect(forecastQueries(420)).toEqual({
      day: 'quantile_over_time(0.85, pool:node_cpu_utilisation:sum[7m] offset 23h53m)',
      week: 'quantile_over_time(0.85, pool:node_cpu_utilisation:sum[7m] offset 6d23h53m)',
      recent: {
        now: 'avg_over_time(pool:node_cpu_utilisation:sum[30m])',
        day: 'avg_over_time(pool:node_cpu_utilisation:sum[30m] offset 1d)',
        week: 'avg_over_time(pool:node_cpu_utilisation:sum[30m] offset 7d)',
      },
    });
    expect(forecastQueries(300, 'pool:node_cpu_utilisation:sum{pool="web"}').day).toBe(
      'quantile_over_time(0.85, pool:node_cpu_utilisation:sum{pool="web"}[5m] offset 23h55m)',
    );
    // A quantile of 1 is the highest reading.
    expect(forecastQueries(420, FORECAST_LOAD_SERIES, 1800, DAY_SECONDS, 1).day).toBe(
      'max_over_time(pool:node_cpu_utilisation:sum[7m] offset 23h53m)',
    );
    expect(() => forecastQueries(420, FORECAST_LOAD_SERIES, 1800, DAY_SECONDS, 1.5)).toThrow(/peak quantile/);
    expect(() => forecastQueries(0)).toThrow(RangeError);
    expect(() => forecastQueries(DAY_SECONDS + 1)).toThrow(RangeError);
  });

  it('reads a compressed day back just as a real one (the local stack --fast: 120 s, a lead of 15 s)', () => {
    const settings = forecastDay(DEFAULT_FORECAST_SETTINGS, 120);
    // 30 minutes of a 24-hour day: 2.5 s of a 2-minute one.
    expect(settings).toMatchObject({ daySeconds: 120, checkSeconds: 3 });
    expect(forecastQueries(15, FORECAST_LOAD_SERIES, settings.checkSeconds, settings.daySeconds)).toEqual({
      day: 'quantile_over_time(0.85, pool:node_cpu_utilisation:sum[15s] offset 1m45s)',
      week: 'quantile_over_time(0.85, pool:node_cpu_utilisation:sum[15s] offset 13m45s)',
      recent: {
        now: 'avg_over_time(pool:node_cpu_utilisation:sum[3s])',
        day: 'avg_over_time(pool:node_cpu_utilisation:sum[3s] offset 2m)',
        week: 'avg_over_time(pool:node_cpu_utilisation:sum[3s] offset 14m)',
      },
    });
    expect(forecastDay(DEFAULT_FORECAST_SETTINGS, DAY_SECONDS)).toEqual(DEFAULT_FORECAST_SETTINGS);
    // The lead stays within the day; the day is 60 s .. 24 h.
    expect(() => forecastQueries(120, FORECAST_LOAD_SERIES, 3, 120)).toThrow(/lead .* 1\.\.119/);
    expect(() => forecastQueries(15, FORECAST_LOAD_SERIES, 3, 59)).toThrow(/day .* 60\.\.86400/);
    expect(() => forecastQueries(15, FORECAST_LOAD_SERIES, 121, 120)).toThrow(/check span/);
    // The log says the spans in seconds below a minute.
    const fast = { ...settings, mode: 'on' as const, leadSeconds: 15 };
    expect(forecastPool({ day: 2, week: null }, fast, { min: 1, max: 10 }).reason.text).toMatch(
      /^forecast: p85 load over the next 15 s a day ago 2\.00/,
    );
  });
});

describe('applyForecast', () => {
  const forecast = (size: number | null, mode: Forecast['mode'] = 'on'): Forecast => ({
    mode,
    forecastLoad: size === null ? null : size * 0.8,
    forecastSize: size,
    source: size === null ? 'none' : 'day',
    reason: { code: 'Forecast', text: `forecast ${size}` },
  });

  it('scales out ahead of the load when the reactive policy does nothing', () => {
    const d = applyForecast(decision({}), forecast(9), tick);
    expect(d).toMatchObject({
      outcome: 'scale',
      code: 'Forecast',
      direction: 'up',
      currentSize: 4,
      targetSize: 9,
    });
    expect(d.reasons.map((r) => r.code)).toEqual(['NoSignal', 'Forecast', 'Scale']);
  });

  it('takes the larger of the reactive and the forecast size', () => {
    const up = decision({
      outcome: 'scale',
      code: 'TargetSize',
      direction: 'up',
      targetSize: 7,
      reasons: [
        { code: 'TargetSize', text: 'needs 7' },
        { code: 'Scale', text: 'size 4 -> 7' },
      ],
    });
    const raised = applyForecast(up, forecast(9), tick);
    expect(raised).toMatchObject({ outcome: 'scale', code: 'Forecast', targetSize: 9 });
    expect(raised.reasons.filter((r) => r.code === 'Scale')).toEqual([
      { code: 'Scale', text: 'size 4 -> 9' },
    ]);
    // The reactive size is larger: unchanged but for the reason saying so.
    const kept = applyForecast(up, forecast(6), tick);
    expect(kept).toMatchObject({ outcome: 'scale', code: 'TargetSize', targetSize: 7 });
    expect(kept.reasons[kept.reasons.length - 1].code).toBe('Forecast');
  });

  it('never scales in: a reactive scale-in stops at the forecast size', () => {
    const down = decision({ outcome: 'scale', code: 'TargetSize', direction: 'down', targetSize: 2 });
    expect(applyForecast(down, forecast(4), tick)).toMatchObject({
      outcome: 'none',
      code: 'Forecast',
      targetSize: 4,
    });
    expect(applyForecast(down, forecast(3), tick)).toMatchObject({
      outcome: 'scale',
      code: 'Forecast',
      direction: 'down',
      targetSize: 3,
    });
    expect(applyForecast(down, forecast(1), tick)).toMatchObject({ outcome: 'scale', targetSize: 2 });
    // A forecast below the current size with no reactive change is no scale-in.
    expect(applyForecast(decision({}), forecast(2), tick)).toMatchObject({ outcome: 'none', targetSize: 4 });
  });

  it('forecast-only and no forecast log the forecast and change nothing', () => {
    const base = decision({});
    const only = applyForecast(base, forecast(9, 'forecast-only'), tick);
    expect({ ...only, reasons: base.reasons }).toEqual(base);
    expect(only.reasons[only.reasons.length - 1]).toEqual({
      code: 'Forecast',
      text: 'forecast 9 (forecast-only: would ask for 9)',
    });
    const none = applyForecast(base, forecast(null), tick);
    expect({ ...none, reasons: base.reasons }).toEqual(base);
    expect(applyForecast(base, forecast(9, 'off'), tick)).toBe(base);
  });

  it('leaves manual requests, deferred decisions and bounds corrections alone', () => {
    const manual = decision({ code: 'Manual', outcome: 'scale', direction: 'down', targetSize: 2 });
    expect(applyForecast(manual, forecast(9), { kind: 'size', size: 2 })).toBe(manual);
    const busy = decision({ outcome: 'deferred', code: 'PoolBusy' });
    expect(applyForecast(busy, forecast(9), tick)).toBe(busy);
    const correction = decision({ outcome: 'scale', code: 'AboveMax', direction: 'down', targetSize: 3 });
    expect(applyForecast(correction, forecast(9), tick)).toBe(correction);
  });
});
