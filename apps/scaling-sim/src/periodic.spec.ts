import { DAY_SECONDS } from '@app/scaling-policy';

import { FRONTIER_HEADROOMS, reactiveFrontier, reactiveTimeline } from './frontier';
import {
  durationOption,
  judgePeriodic,
  modelSettings,
  parseOptions,
  run,
  runPeriodic,
  SimOptions,
} from './main';
import { measure } from './metrics';
import { PERIODIC_FAMILIES, periodicTrace, periodicTraces } from './periodic';
import { PUBLIC_TRACES } from './traces';

const bounds = { min: 1, max: 20 };

describe('multi-day traces', () => {
  it('takes --duration in seconds or with units', () => {
    expect(durationOption('3600')).toBe(3600);
    expect(durationOption('3d')).toBe(3 * DAY_SECONDS);
    expect(durationOption('36h')).toBe(36 * 3600);
    expect(durationOption('1d12h')).toBe(36 * 3600);
    expect(durationOption('90m')).toBe(5400);
    expect(() => durationOption('3 days')).toThrow(/--duration/);
    expect(() => durationOption('0')).toThrow(/--duration/);
  });

  it('draws periodic traces from the seed: business and daily 3 days, weekly 9, within 0..15 clients', () => {
    const traces = periodicTraces(1, 1);
    expect(traces.map((t) => [t.name, t.duration])).toEqual([
      ['business-1', 3 * DAY_SECONDS],
      ['daily-1', 3 * DAY_SECONDS],
      ['weekly-1', 9 * DAY_SECONDS],
    ]);
    for (const family of PERIODIC_FAMILIES) {
      const a = periodicTrace(family, 4);
      const b = periodicTrace(family, 4);
      for (let t = 0; t < a.duration; t += 997) {
        expect(a.clientsAt(t)).toBe(b.clientsAt(t));
        expect(a.clientsAt(t)).toBeGreaterThanOrEqual(0);
        expect(a.clientsAt(t)).toBeLessThanOrEqual(15);
      }
    }
    // --duration in days lengthens a periodic trace.
    const options = parseOptions(['--trace', 'business', '--duration', '5d']) as SimOptions;
    expect(options.traces[0].duration).toBe(5 * DAY_SECONDS);
    expect(options.traces[0].clientsAt(5 * DAY_SECONDS - 1)).toBeGreaterThanOrEqual(0);
  });

  it('measures the frontier without timelines exactly as measure(reactiveTimeline) does, from any second', () => {
    const settings = modelSettings({ boot: 120, noise: 0, seed: 1, bounds });
    const trace = PUBLIC_TRACES.ramp;
    const frontier = reactiveFrontier(trace, settings);
    const late = reactiveFrontier(trace, settings, undefined, 900);
    for (const k of [0, 10, 50, 100]) {
      const headroom = FRONTIER_HEADROOMS[k];
      const timeline = reactiveTimeline(trace, settings, frontier.delay, headroom);
      expect(frontier.points[k].metrics).toEqual(measure(timeline));
      expect(late.points[k].metrics.underProvisionedPct).toBe(measure(timeline, 900).underProvisionedPct);
      expect(late.points[k].metrics.costRatio).toBe(measure(timeline, 900).costRatio);
    }
  });

  it('--predict on changes nothing on a one-hour trace (no history a day back)', () => {
    const base = {
      traces: [PUBLIC_TRACES.step],
      policies: ['target' as const],
      boot: 120,
      noise: 0,
      seed: 1,
      bounds,
      json: false,
    };
    const off = run(base)[0];
    const on = run({
      ...(parseOptions(['--trace', 'step', '--predict', 'on']) as SimOptions),
      policies: ['target'],
    })[0];
    expect(on.prediction).toBe('on');
    expect(on.metrics).toEqual(off.metrics);
    expect(on.timeline.calls).toEqual(off.timeline.calls);
    expect(on.timeline.forecast!.every((f) => f === null)).toBe(true);
  });
});

describe('predictive pre-scaling (a fixed slice of --suite periodic)', () => {
  it('beats the reactive frontier at cost <= 1.15 from day 2 on a 3-day daily trace (seed 1)', () => {
    const options = parseOptions(['--suite', 'periodic', '--count', '2']) as SimOptions;
    const trace = options.traces.find((t) => t.name === 'daily-1')!;
    const results = runPeriodic({ ...options, traces: [trace] });
    const [verdict] = judgePeriodic(results, 0);
    expect(verdict.trace).toBe('daily-1');
    expect(verdict.predictive.costRatio).toBeLessThanOrEqual(1.15);
    expect(verdict.predictive.underProvisionedPct).toBeLessThan(verdict.frontier.underProvisionedPct);
    // Below the reactive policy too, and the forecast acted (Forecast calls) only from day 2.
    expect(verdict.predictive.underProvisionedPct).toBeLessThan(verdict.reactive.underProvisionedPct - 2);
    const predictive = results.find((r) => r.prediction === 'on')!;
    const forecastCalls = predictive.timeline.calls.filter((c) => c.code === 'Forecast');
    expect(forecastCalls.length).toBeGreaterThan(0);
    expect(forecastCalls[0].t).toBeGreaterThan(DAY_SECONDS - 600);
  });
});
