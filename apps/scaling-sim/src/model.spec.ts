import { resolve } from 'node:path';

import { judge, main, modelSettings, parseOptions, run } from './main';
import { measure } from './metrics';
import { REFERENCE_RULES, simulate } from './model';
import { shippedCloudSettings } from './shipped-settings';
import { demandFor, parseTraceCsv, PUBLIC_TRACES, Trace } from './traces';

const bounds = { min: 1, max: 20 };
const cloud = () => modelSettings({ boot: 120, noise: 0, seed: 1, bounds });

describe('scaling simulator', () => {
  it('computes the demand of the reference', () => {
    expect([0, 0.5, 0.8, 1, 8, 10, 15].map((c) => demandFor(c, bounds))).toEqual([1, 1, 2, 2, 11, 13, 19]);
  });

  it('reads the shipped cloud pipeline from the project files', () => {
    const s = shippedCloudSettings(resolve(__dirname, '../../..'));
    expect(s).toMatchObject({ scrapeInterval: 15, rateWindow: 60, evaluationInterval: 10, tickInterval: 60 });
    expect(s.notification).toEqual({
      groupWait: 0,
      groupInterval: 60,
      repeatInterval: 300,
      sendResolved: true,
    });
    expect(s.rules.map((r) => `${r.name} ${r.op} ${r.threshold}`)).toEqual(
      expect.arrayContaining(['PoolCpuHigh > 0.8', 'PoolCpuLow < 0.2']),
    );
    expect(s.valueSource).toBe('prometheus');
    // The rules record the requests in flight (READING_SERIES.inFlight), so the tick's reading carries them.
    expect(s.inFlight).toBe(true);
  });

  it('models requests in flight: a step from 1 member to 12 clients reaches its demand a boot round sooner', () => {
    // 12 clients from 300 s need 16 members. The utilisation stops at 100 %: 1 -> 4 (x3 after a step), 4 -> 11
    // (x2 when new members arrive saturated), 11 -> 20, back to 16. The 4 saturated members read 12 in flight:
    // 1 -> 4 (the count's x3 cap), 4 -> 16: 16 serve at 660 s, not at 840 s (and 20 members are not paid for).
    const trace: Trace = { name: 'step-12', duration: 1800, clientsAt: (t) => (t >= 300 ? 12 : 0) };
    const served = (inFlight: boolean) => {
      const timeline = simulate(trace, 'target', { ...cloud(), inFlight });
      return {
        calls: timeline.calls.map((c) => `${c.from}->${c.to}`),
        at: timeline.serving.findIndex((n, t) => t >= 300 && n >= 16),
      };
    };
    expect(served(true)).toEqual({ calls: ['1->4', '4->16'], at: 660 });
    expect(served(false)).toEqual({ calls: ['1->4', '4->11', '11->20', '20->16'], at: 840 });
  });

  it('models wrong counts (--in-flight-error): idle connections learnt below saturation are taken off', () => {
    // The same step with idle connections on every member (one, or three): the idle readings before it show the
    // strays, so 4 saturated members reading 12 + 4 (+ 12) still size the pool for 12 (16 members, not 20), as exact
    // counts do. A count twice the requests is not corrected, but one call grows the pool by at most x3 (24 on 4
    // members reads as 12).
    const trace: Trace = { name: 'step-12', duration: 1800, clientsAt: (t) => (t >= 300 ? 12 : 0) };
    const calls = (inFlightError?: Parameters<typeof modelSettings>[0]['inFlightError']) =>
      simulate(trace, 'target', {
        ...modelSettings({ boot: 120, noise: 0, seed: 1, bounds, inFlightError }),
      }).calls.map((c) => `${c.from}->${c.to}`);
    expect(calls()).toEqual(['1->4', '4->16']);
    expect(calls({ stray: 1 })).toEqual(['1->4', '4->16']);
    expect(calls({ stray: 3 })).toEqual(['1->4', '4->16']);
    expect(calls({ scale: 2 })).toEqual(['1->4', '4->16']);
    expect(parseOptionsOrThrow(['--in-flight-error', 'stray=1, poisson']).inFlightError).toEqual({
      stray: 1,
      poisson: true,
    });
  });

  it('pins the pipeline on a hand-computed step: first scale call at 420 s, the member serving at 540 s', () => {
    // 8 clients from 300 s: the 1-minute window of 15 s samples passes 0.8 at 360 s (samples 315..360 all 1.0),
    // `for 1m` fires at 420 s, group_wait 0 sends at once, the tick at 420 s calls; boot 120 s.
    const trace: Trace = { name: 'hand', duration: 900, clientsAt: (t) => (t >= 300 ? 8 : 0) };
    for (const policy of ['step', 'reference'] as const) {
      const timeline = simulate(trace, policy, { ...cloud(), rules: REFERENCE_RULES });
      expect(timeline.calls[0]).toMatchObject({ t: 420, from: 1, to: 2 });
      expect(timeline.serving[539]).toBe(1);
      expect(timeline.serving[540]).toBe(2);
    }
    // The step policy's next step waits for Grafana's repeat: group_interval 60 + repeat 300 -> 360 s later.
    const step = simulate(trace, 'step', { ...cloud(), rules: REFERENCE_RULES });
    expect(step.calls[1]).toMatchObject({ t: 780, from: 2, to: 3 });
    // The reference policy gets a notification every 300 s exactly.
    expect(simulate(trace, 'reference', cloud()).calls[1]).toMatchObject({ t: 720 });
  });

  it('measures a new member from its second scrape (a rate needs two samples), a scrape interval after it serves', () => {
    // The same step: the member asked for at 420 s serves at 540 s; its first scrape (540 s) only gives its counters
    // a first value, the second (555 s) its first rate, so the pool average covers 2 members from 555 s on.
    const trace: Trace = { name: 'hand', duration: 900, clientsAt: (t) => (t >= 300 ? 8 : 0) };
    const timeline = simulate(trace, 'step', { ...cloud(), rules: REFERENCE_RULES });
    expect(timeline.serving[540]).toBe(2);
    expect(timeline.measured[554]).toBe(1);
    expect(timeline.measured[555]).toBe(2);
    // The initial member was scraped before the trace began: measured from the first scrape.
    expect(timeline.measured[0]).toBe(1);
  });

  it('reproduces the reference numbers of the public traces (within 2 points and 0.05)', () => {
    const expected = {
      step: { reference: [50.0, 0.66], step: [50.0, 0.58] },
      ramp: { reference: [61.7, 0.78], step: [63.0, 0.69] },
      spike: { reference: [28.3, 0.9], step: [30.0, 0.74] },
      diurnal: { reference: [55.1, 0.7], step: [57.7, 0.64] },
    } as const;
    // Today's one-step policy, as the reference measured it: the course's two rules, no cooldown.
    const settings = { ...cloud(), rules: REFERENCE_RULES };
    for (const [name, byPolicy] of Object.entries(expected)) {
      for (const [policy, [under, cost]] of Object.entries(byPolicy)) {
        const m = measure(
          simulate(PUBLIC_TRACES[name as keyof typeof PUBLIC_TRACES], policy as 'step', settings),
        );
        expect({ name, policy, under: Math.abs(m.underProvisionedPct - under) <= 2 }).toEqual({
          name,
          policy,
          under: true,
        });
        expect({ name, policy, cost: Math.abs(m.costRatio - cost) <= 0.05 }).toEqual({
          name,
          policy,
          cost: true,
        });
      }
    }
  });

  it('meets the goal on the public traces with the shipped settings, clean and with noise (seeds 1 to 5)', () => {
    // Issue 14's goal: cost <= 1.15 (1.20 with noise), under-provisioned <= the reactive frontier at 1.15 + 5 points,
    // and never above the reference's. The step from an idle pool met it only since session 7 (10.0 % against
    // 6.7 + 5; 13.3 before): members that arrive and are saturated at once put the load at x2 the measure.
    for (const [noise, seed] of [
      [0, 1],
      [0.05, 1],
      [0.05, 2],
      [0.05, 3],
      [0.05, 4],
      [0.05, 5],
    ]) {
      const results = run({ ...parseOptionsOrThrow(['--policy', 'target,reference']), noise, seed });
      const verdicts = judge(results, noise);
      expect(verdicts.map((v) => v.trace)).toEqual(Object.keys(PUBLIC_TRACES));
      for (const v of verdicts)
        expect({ noise, seed, trace: v.trace, failures: v.failures }).toEqual({
          noise,
          seed,
          trace: v.trace,
          failures: [],
        });
    }
  });

  it('a flat noisy load at the target: the trend of noise is not followed, and the dead band (opt-in) holds it', () => {
    // Loads that sit exactly at the 75 % target of 2, 4, 6, 8 and 12 members, 5 % noise, seeds 1-3: the scale calls
    // after the first 10 minutes (the pool starts at 1 member). Measured: 137 with neither setting, 128 with the
    // shipped significance test, 56 with the dead band as well (off by default: it costs noisy loads time).
    const calls = (policyOverrides: Record<string, number | boolean>) => {
      let n = 0;
      for (const level of [1.5, 3, 4.5, 6, 9])
        for (const seed of [1, 2, 3]) {
          const trace: Trace = { name: `flat-${level}`, duration: 3600, clientsAt: () => level };
          const settings = modelSettings({ boot: 120, noise: 0.05, seed, bounds, policyOverrides });
          n += simulate(trace, 'target', settings).calls.filter((c) => c.t >= 600).length;
        }
      return n;
    };
    const without = calls({ trendSignificance: 0 });
    const shipped = calls({});
    const band = calls({ upDeadBand: 0.1 });
    expect(shipped).toBeLessThan(without);
    expect(band).toBeLessThanOrEqual(70);
    expect(without).toBeGreaterThan(2 * band);
  });

  it('is reproducible for a seed and differs between seeds', () => {
    const a = run({ ...parseOptionsOrThrow(['--trace', 'ramp', '--policy', 'target']), noise: 0.1, seed: 7 });
    const b = run({ ...parseOptionsOrThrow(['--trace', 'ramp', '--policy', 'target']), noise: 0.1, seed: 7 });
    const c = run({ ...parseOptionsOrThrow(['--trace', 'ramp', '--policy', 'target']), noise: 0.1, seed: 8 });
    expect(a[0].timeline.utilisation).toEqual(b[0].timeline.utilisation);
    expect(a[0].timeline.utilisation).not.toEqual(c[0].timeline.utilisation);
  });

  it('parses CSV traces and rejects bad ones with the line', () => {
    const trace = parseTraceCsv('t.csv', 'seconds,clients\n0,0\n60,2.5\n120,0\n');
    expect([0, 59, 60, 119, 120].map((t) => trace.clientsAt(t))).toEqual([0, 0, 2.5, 2.5, 0]);
    expect(trace.duration).toBe(720);
    expect(() => parseTraceCsv('t.csv', '0,1\n0,2\n')).toThrow('t.csv:2: rows must be sorted');
    expect(() => parseTraceCsv('t.csv', '0,1\n10,-1\n')).toThrow('clients must not be negative');
    expect(() => parseTraceCsv('t.csv', '0,1\nten,1\n')).toThrow('t.csv:2: expected "seconds,clients"');
  });

  it('applies --schedule at every tick: an idle pool rises to the window min, then falls back after it', () => {
    const options = parseOptionsOrThrow([
      '--schedule',
      '[{name: launch, start: "20 8 * * 1-5", end: "40 8 * * 1-5", timezone: Europe/Vienna, min: 4}]',
      '--start',
      '2026-11-30T07:00:00Z', // Monday 08:00 in Vienna: the window is open from second 1200 to 2400
    ]);
    expect(options).toMatchObject({
      schedules: [{ name: 'launch', min: 4 }],
      startAt: Date.parse('2026-11-30T07:00:00Z') / 1000,
    });
    const idle: Trace = { name: 'idle', duration: 3600, clientsAt: () => 0 };
    const timeline = simulate(
      idle,
      'target',
      modelSettings({ ...options, boot: 120, noise: 0, seed: 1, bounds }),
    );
    expect(timeline.calls[0]).toMatchObject({ t: 1200, from: 1, to: 4, code: 'BelowMin' });
    expect(timeline.requested[1199]).toBe(1);
    expect(timeline.requested[2399]).toBe(4);
    expect(timeline.requested[3599]).toBe(1);
    expect(timeline.calls.filter((c) => c.t >= 2400)[0].to).toBeLessThan(4);
    expect(() =>
      parseOptionsOrThrow(['--schedule', '[{name: a, start: "0 8 * * *", end: "0 9 * * *", min: 30}]']),
    ).toThrow(/--schedule\[0\] \(a\)\.min \(30\) must not exceed --max \(20\)/);
    expect(() => parseOptionsOrThrow(['--start', '2026-11-30T07:00:00Z'])).toThrow(
      /--start needs --schedule/,
    );
  });

  it('rejects bad options with a message naming the option', () => {
    const errors: string[] = [];
    const write = jest
      .spyOn(process.stderr, 'write')
      .mockImplementation((s) => (errors.push(String(s)), true));
    try {
      expect(main(['--noise', 'abc'])).toBe(2);
      expect(main(['--policy', 'magic'])).toBe(2);
      expect(main(['--min', '5', '--max', '2'])).toBe(2);
      expect(main(['--trace', '/nonexistent.csv'])).toBe(2);
      expect(main(['--set', 'saturatedAfterGrowth=true'])).toBe(2);
      expect(main(['--set', 'scaleOnEveryReading=2'])).toBe(2);
      expect(main(['--set', 'upTolerance=-0.1'])).toBe(2);
      expect(main(['--set', 'trackingUtilisation=75'])).toBe(2);
      expect(main(['--set', 'saturationMinStep=1.5'])).toBe(2);
      expect(main(['--in-flight-error', 'stray=-1'])).toBe(2);
      expect(main(['--in-flight-error', 'scale=0x10'])).toBe(2);
      expect(main(['--in-flight-error', 'poisson,poisson'])).toBe(2);
      expect(main(['--in-flight-error', 'idle=2'])).toBe(2);
      expect(main(['--in-flight-error', 'stray=1', '--in-flight', 'off'])).toBe(2);
    } finally {
      write.mockRestore();
    }
    expect(errors.join('')).toMatch(/--noise must be a number/);
    expect(errors.join('')).toMatch(/--policy must be target, step, reference, frontier or all/);
    expect(errors.join('')).toMatch(/--min \(5\) must not exceed --max \(2\)/);
    expect(errors.join('')).toMatch(/--trace "\/nonexistent.csv" is neither/);
    expect(errors.join('')).toMatch(/--set saturatedAfterGrowth takes a number, got "true"/);
    expect(errors.join('')).toMatch(/--set scaleOnEveryReading takes a boolean, got "2"/);
    expect(errors.join('')).toMatch(/--set upTolerance must be in \[0, 1\) of a member, got -0.1/);
    expect(errors.join('')).toMatch(/--set trackingUtilisation must be in \(0, 1\], got 75/);
    expect(errors.join('')).toMatch(
      /--set saturationMinStep must be a whole number of members >= 0, got 1.5/,
    );
    expect(errors.join('')).toMatch(/--in-flight-error needs a number >= 0 for stray/);
    expect(errors.join('')).toMatch(/--in-flight-error needs a number >= 0 for scale/);
    expect(errors.join('')).toMatch(/--in-flight-error names poisson twice/);
    expect(errors.join('')).toMatch(/--in-flight-error has an unknown part "idle=2"/);
    expect(errors.join('')).toMatch(/--in-flight-error needs the counts: not --in-flight off/);
  });
});

function parseOptionsOrThrow(argv: string[]) {
  const options = parseOptions(argv);
  if (options === 'help') throw new Error('help');
  return options;
}
