import {
  decideScaling,
  inFlightCount,
  loadNoise,
  loadReversals,
  loadTrend,
  servedLoad,
  strayConnections,
} from './policy';
import { DEFAULT_POLICY_SETTINGS, DirectionSignals, Measurement, PolicyInput, PolicySettings } from './types';

const NOW = 10_000;
const quiet: DirectionSignals = { pendingStep: false, alert: null };
const step: DirectionSignals = { pendingStep: true, alert: null };
const firing = (value: Measurement | null = null): DirectionSignals => ({
  pendingStep: true,
  alert: { firingSince: NOW - 120, lastReceivedAt: NOW - 30, value, alerts: ['PoolCpuHigh'] },
});
const prometheus = (utilisation: number, members?: number): Measurement => ({
  utilisation,
  measuredAt: NOW,
  source: 'prometheus',
  ...(members ? { members } : {}),
});

type InputOverrides = Partial<Omit<PolicyInput, 'settings'>> & { settings?: Partial<PolicySettings> };

function input(over: InputOverrides = {}): PolicyInput {
  const size = over.pool?.size ?? 2;
  return {
    now: NOW,
    request: { kind: 'tick' },
    pool: { size, state: 'running' },
    members: Array.from({ length: size }, () => ({ createdAt: NOW - 3600 })),
    signals: { up: quiet, down: quiet },
    measurement: null,
    lastScaledAt: null,
    ...over,
    settings: { ...DEFAULT_POLICY_SETTINGS, bounds: { min: 1, max: 10 }, ...over.settings },
  };
}
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

describe('decideScaling: step policy (one step per signal)', () => {
  const stepPolicy = { policy: 'step' as const };

  it('does nothing without a signal', () => {
    const d = decideScaling(input({ settings: stepPolicy }));
    expect(d).toMatchObject({ outcome: 'none', code: 'NoSignal', targetSize: 2, consumes: [] });
  });

  it('steps by one on a pending step and consumes it, ignoring the alert state', () => {
    const d = decideScaling(
      input({ settings: stepPolicy, signals: { up: firing(prometheus(1)), down: quiet } }),
    );
    expect(d).toMatchObject({
      outcome: 'scale',
      code: 'StepSignal',
      direction: 'up',
      targetSize: 3,
      consumes: ['up'],
    });
    const alertOnly = { ...firing(prometheus(1)), pendingStep: false };
    expect(decideScaling(input({ settings: stepPolicy, signals: { up: alertOnly, down: quiet } })).code).toBe(
      'NoSignal',
    );
  });

  it('lets up win when both are pending, dropping the down step', () => {
    const d = decideScaling(input({ settings: stepPolicy, signals: { up: step, down: step } }));
    expect(d).toMatchObject({ outcome: 'scale', direction: 'up', targetSize: 3, consumes: ['down', 'up'] });
    expect(codes(d)).toContain('UpWins');
  });

  it('consumes a signal at a bound with AtMax / AtMin', () => {
    expect(
      decideScaling(
        input({
          settings: stepPolicy,
          pool: { size: 10, state: 'running' },
          signals: { up: step, down: quiet },
        }),
      ),
    ).toMatchObject({ outcome: 'none', code: 'AtMax', consumes: ['up'], boundApplied: 'max' });
    expect(
      decideScaling(
        input({
          settings: stepPolicy,
          pool: { size: 1, state: 'running' },
          signals: { up: quiet, down: step },
        }),
      ),
    ).toMatchObject({ outcome: 'none', code: 'AtMin', consumes: ['down'], boundApplied: 'min' });
  });

  it('defers (keeping the signal) while the pool is busy or within a cooldown', () => {
    expect(
      decideScaling(
        input({
          settings: stepPolicy,
          pool: { size: 2, state: 'scaling-up' },
          signals: { up: step, down: quiet },
        }),
      ),
    ).toMatchObject({ outcome: 'deferred', code: 'PoolBusy', consumes: [] });
    const d = decideScaling(
      input({
        settings: { ...stepPolicy, upCooldownSeconds: 60 },
        lastScaledAt: NOW - 30,
        signals: { up: step, down: quiet },
      }),
    );
    expect(d).toMatchObject({ outcome: 'deferred', code: 'Cooldown', consumes: [] });
    expect(d.reasons.at(-1)!.text).toMatch(/^up cooldown: last pool change 30 s ago, cooldown 60 s/);
  });

  it('never leaves the bounds, whatever the input', () => {
    for (let size = 0; size <= 12; size++)
      for (const signals of [
        { up: step, down: quiet },
        { up: quiet, down: step },
        { up: firing(prometheus(1)), down: step },
        { up: quiet, down: firing(prometheus(0.05)) },
      ])
        for (const policy of ['step', 'target'] as const) {
          const d = decideScaling(input({ pool: { size, state: 'running' }, signals, settings: { policy } }));
          if (d.outcome === 'scale') {
            expect(d.targetSize).toBeGreaterThanOrEqual(1);
            expect(d.targetSize).toBeLessThanOrEqual(10);
          }
        }
  });
});

describe('decideScaling: bounds corrections', () => {
  const noSignal = { up: quiet, down: quiet };
  it.each([
    ['an empty pool with min 1 (no members, so no alert)', 0, { min: 1, max: 5 }, 1, 'BelowMin'],
    ['a pool below a raised minimum', 2, { min: 4, max: 8 }, 4, 'BelowMin'],
    ['a pool above a lowered maximum, idle', 7, { min: 1, max: 5 }, 5, 'AboveMax'],
    ['a pool far above the maximum', 30, { min: 2, max: 3 }, 3, 'AboveMax'],
  ] as const)('each tick brings %s within the bounds, no signal needed', (_, size, bounds, to, code) => {
    for (const policy of ['step', 'target'] as const) {
      const d = decideScaling(
        input({ pool: { size, state: 'running' }, signals: noSignal, settings: { policy, bounds } }),
      );
      expect(d).toMatchObject({ outcome: 'scale', code, targetSize: to, consumes: [] });
      expect(codes(d)[0]).toBe(code);
    }
  });

  it('a bounds correction uses up no signal: a down signal below the minimum is not what raises the pool', () => {
    const d = decideScaling(
      input({
        pool: { size: 1, state: 'running' },
        signals: { up: quiet, down: step },
        settings: { policy: 'step', bounds: { min: 2, max: 5 } },
      }),
    );
    expect(d).toMatchObject({
      outcome: 'scale',
      code: 'BelowMin',
      direction: 'up',
      targetSize: 2,
      consumes: [],
    });
  });

  it('waits for a busy pool before correcting it', () => {
    const d = decideScaling(
      input({
        pool: { size: 0, state: 'scaling-up' },
        signals: noSignal,
        settings: { bounds: { min: 1, max: 5 } },
      }),
    );
    expect(d).toMatchObject({ outcome: 'deferred', code: 'PoolBusy', consumes: [] });
  });

  it('a manual step never moves the other way when the pool is outside its bounds', () => {
    const up = decideScaling(
      input({
        request: { kind: 'step', direction: 'up' },
        pool: { size: 7, state: 'running' },
        settings: { bounds: { min: 1, max: 5 } },
      }),
    );
    expect(up).toMatchObject({ outcome: 'none', code: 'AboveMax', targetSize: 7 });
    const down = decideScaling(
      input({
        request: { kind: 'step', direction: 'down' },
        pool: { size: 1, state: 'running' },
        settings: { bounds: { min: 2, max: 5 } },
      }),
    );
    expect(down).toMatchObject({ outcome: 'none', code: 'BelowMin', targetSize: 1 });
  });

  it('an up signal never lowers the size and a down signal never raises it, at any size and bounds', () => {
    for (let size = 0; size <= 12; size++)
      for (const bounds of [
        { min: 1, max: 10 },
        { min: 3, max: 5 },
        { min: 0, max: 2 },
      ])
        for (const [dir, signals] of [
          ['up', { up: step, down: quiet }],
          ['up', { up: firing(prometheus(1)), down: quiet }],
          ['down', { up: quiet, down: step }],
          ['down', { up: quiet, down: firing(prometheus(0.05)) }],
        ] as const)
          for (const policy of ['step', 'target'] as const) {
            const d = decideScaling(
              input({ pool: { size, state: 'running' }, signals, settings: { policy, bounds } }),
            );
            if (d.outcome !== 'scale') continue;
            expect(d.targetSize).toBeGreaterThanOrEqual(bounds.min);
            expect(d.targetSize).toBeLessThanOrEqual(bounds.max);
            if (['BelowMin', 'AboveMax'].includes(d.code)) expect(d.consumes).toEqual([]);
            else if (dir === 'up') expect(d.targetSize).toBeGreaterThan(size);
            else expect(d.targetSize).toBeLessThan(size);
          }
  });
});

describe('decideScaling: target policy on alerts (no reading to track)', () => {
  // The alert path: what the control plane does without a fresh Prometheus reading, or with tracking turned off.
  const alertInput = (over: InputOverrides = {}) =>
    input({ ...over, settings: { scaleOnEveryReading: false, ...over.settings } });

  it('sizes from the load: utilisation x members over the target utilisation', () => {
    // 0.85 x 4 = 3.4 members of load; at 0.6 it needs ceil(5.67) = 6.
    const d = decideScaling(
      alertInput({
        pool: { size: 4, state: 'running' },
        signals: { up: firing(), down: quiet },
        measurement: prometheus(0.85, 4),
      }),
    );
    expect(d).toMatchObject({ outcome: 'scale', code: 'TargetSize', targetSize: 6, consumes: ['up'] });
    expect(d.basis).toMatchObject({ load: 3.4, servingMembers: 4, source: 'prometheus' });
  });

  it('treats a saturated pool as at least x3 or +4 members', () => {
    const one = decideScaling(
      alertInput({
        pool: { size: 1, state: 'running' },
        signals: { up: firing(), down: quiet },
        measurement: prometheus(1, 1),
      }),
    );
    expect(one).toMatchObject({ code: 'Saturated', targetSize: 5 });
    const four = decideScaling(
      alertInput({
        pool: { size: 4, state: 'running' },
        signals: { up: firing(), down: quiet },
        measurement: prometheus(0.97, 4),
      }),
    );
    expect(four).toMatchObject({ code: 'Saturated', targetSize: 10, boundApplied: 'max' });
  });

  it('uses the notification value when Prometheus is not read, and one step without any value', () => {
    const notified: Measurement = { utilisation: 0.9, measuredAt: NOW - 20, source: 'notification' };
    expect(decideScaling(alertInput({ signals: { up: firing(notified), down: quiet } }))).toMatchObject({
      code: 'TargetSize',
      targetSize: 3,
    });
    expect(decideScaling(alertInput({ signals: { up: firing(null), down: quiet } }))).toMatchObject({
      outcome: 'scale',
      code: 'NoValue',
      targetSize: 3,
    });
  });

  it('counts warming members as capacity on its way and does not act on a value from before they settle', () => {
    const members = [{ createdAt: NOW - 3600 }, { createdAt: NOW - 3600 }, { createdAt: NOW - 60 }];
    const d = decideScaling(
      alertInput({
        pool: { size: 3, state: 'running' },
        members,
        signals: { up: firing(), down: quiet },
        measurement: prometheus(1, 2),
      }),
    );
    expect(d).toMatchObject({ outcome: 'none', code: 'Warmup', consumes: ['up'] });
    // A value received before our last step is stale even once nothing is warming any more.
    const stale: Measurement = { utilisation: 0.95, measuredAt: NOW - 400, source: 'notification' };
    expect(
      decideScaling(alertInput({ lastScaledAt: NOW - 300, signals: { up: firing(stale), down: quiet } })),
    ).toMatchObject({ outcome: 'none', code: 'StaleValue' });
  });

  it('holds when the capacity is enough for the measured load', () => {
    const d = decideScaling(
      alertInput({
        pool: { size: 5, state: 'running' },
        signals: { up: firing(), down: quiet },
        measurement: prometheus(0.58, 5),
      }),
    );
    expect(d).toMatchObject({ outcome: 'none', code: 'Sufficient', targetSize: 5 });
  });

  it('scales in proportionally, never past the scale-in utilisation', () => {
    // 0.3 x 10 = 3 members of load; at 0.75 that is 4 members.
    const down = { ...firing(), alert: { ...firing().alert!, alerts: ['PoolCpuBelowTarget'] } };
    expect(
      decideScaling(
        alertInput({
          pool: { size: 10, state: 'running' },
          signals: { up: quiet, down },
          measurement: prometheus(0.3, 10),
        }),
      ),
    ).toMatchObject({ outcome: 'scale', code: 'TargetSize', direction: 'down', targetSize: 4 });
    // 0.6 x 4 = 2.4: at 3 members it would be 80 %, above 75 %: no scale-in.
    expect(
      decideScaling(
        alertInput({
          pool: { size: 4, state: 'running' },
          signals: { up: quiet, down },
          measurement: prometheus(0.6, 4),
        }),
      ),
    ).toMatchObject({ outcome: 'none', code: 'ScaleInGuard' });
    // An idle pool goes to the minimum in one call.
    expect(
      decideScaling(
        alertInput({
          pool: { size: 6, state: 'running' },
          signals: { up: quiet, down },
          measurement: prometheus(0, 6),
        }),
      ),
    ).toMatchObject({ outcome: 'scale', targetSize: 1 });
  });

  it('keeps a bare step a bare step: one member, consumed', () => {
    expect(
      decideScaling(alertInput({ pool: { size: 1, state: 'running' }, signals: { up: step, down: quiet } })),
    ).toMatchObject({
      outcome: 'scale',
      code: 'NoValue',
      targetSize: 2,
      consumes: ['up'],
    });
    expect(
      decideScaling(alertInput({ pool: { size: 1, state: 'running' }, signals: { up: quiet, down: step } })),
    ).toMatchObject({
      outcome: 'none',
      code: 'AtMin',
      consumes: ['down'],
    });
  });

  it('handles manual steps and sizes, which no cooldown holds', () => {
    const settings = { upCooldownSeconds: 600 };
    expect(
      decideScaling(
        alertInput({ request: { kind: 'step', direction: 'up' }, lastScaledAt: NOW - 1, settings }),
      ),
    ).toMatchObject({ outcome: 'scale', code: 'Manual', targetSize: 3 });
    expect(decideScaling(alertInput({ request: { kind: 'size', size: 2 } }))).toMatchObject({
      outcome: 'none',
      direction: null,
    });
  });
});

describe('loadNoise', () => {
  const loads = (...xs: number[]) => xs.map((load) => ({ load }));
  it('is zero for a steady load, a linear ramp and too few readings, and ignores one step', () => {
    expect(loadNoise(loads(3, 3, 3, 3, 3))).toBe(0);
    expect(loadNoise(loads(1, 2, 3, 4, 5, 6))).toBeCloseTo(0, 9);
    expect(loadNoise(loads(1, 5, 1, 5))).toBe(0);
    expect(loadNoise(loads(2, 2, 2, 8, 8, 8, 8))).toBe(0);
  });
  it('is one standard deviation for a load that moves back and forth (members)', () => {
    expect(loadNoise(loads(4, 5, 4, 5, 4))).toBeCloseTo((1.4826 * 2) / Math.sqrt(6), 9);
    expect(loadNoise(loads(4, 5, 4, 5, 4, 5))).toBeCloseTo((1.4826 * 2) / Math.sqrt(6), 9);
  });
});

describe('loadReversals', () => {
  it('counts changes of direction of at least a quarter of the load and half a member', () => {
    expect(loadReversals([4, 10, 4, 10, 4])).toBe(3);
    expect(loadReversals([2, 4, 6, 8, 10])).toBe(0);
    expect(loadReversals([10, 8, 6, 2, 0])).toBe(0);
    // One burst: up, then down again.
    expect(loadReversals([4, 4, 9, 4, 4])).toBe(1);
    // Noise on a steady load (5 %) is no reversal; neither are wiggles under half a member on a small load.
    expect(loadReversals([10, 10.5, 9.6, 10.4, 9.7])).toBe(0);
    expect(loadReversals([0.5, 0.9, 0.5, 0.9])).toBe(0);
    // Small steps that add up to a large change count from where the last counted change ended.
    expect(loadReversals([4, 4.8, 5.6, 6.4, 4])).toBe(1);
    expect(loadReversals([])).toBe(0);
  });
  it('counts a fall out of saturation of half a member or more (the saturated reading was only a lower bound)', () => {
    // 4 <-> 10 clients on a small pool: the saturated highs read 5.75 and 7.73 members, the lows 4.40 and 4.27.
    const loads = [4.13, 5.75, 4.4, 7.73, 4.27];
    expect(loadReversals(loads)).toBe(1);
    expect(loadReversals(loads, [false, true, false, true, false])).toBe(3);
    // Leaving saturation upwards (capacity arrived) is no fall; a wiggle under half a member never counts.
    expect(loadReversals([4, 4.4, 4.2], [true, false, true])).toBe(0);
  });
});

describe('decideScaling: target tracking on a fresh reading (every tick)', () => {
  const reading = (utilisation: number, members: number, at = NOW): Measurement => ({
    utilisation,
    members,
    measuredAt: at,
    source: 'prometheus',
  });
  const settings = { ...DEFAULT_POLICY_SETTINGS, scaleOnEveryReading: true };
  // Tracking is the default (SCALE_ON_EVERY_READING): every case here still says so.
  const track = (over: InputOverrides = {}) =>
    input({ ...over, settings: { scaleOnEveryReading: true, ...over.settings } });
  const booting = (n: number) => Array.from({ length: n }, () => ({ createdAt: NOW - 30 }));
  const serving = (n: number) => Array.from({ length: n }, () => ({ createdAt: NOW - 3600 }));

  it('sizes up from the reading without any alert: ceil(load / trackingUtilisation)', () => {
    // 0.9 x 4 = 3.6 members of load; at 0.75 it needs ceil(4.8) = 5.
    const d = decideScaling(track({ pool: { size: 4, state: 'running' }, measurement: reading(0.9, 4) }));
    expect(d).toMatchObject({ outcome: 'scale', code: 'TargetSize', direction: 'up', targetSize: 5 });
    expect(codes(d)[0]).toBe('Tracking');
    expect(d.basis).toMatchObject({ load: expect.closeTo(3.6, 6), servingMembers: 4 });
  });

  it('counts booting members as capacity on its way: the reading covers only the serving ones', () => {
    const d = decideScaling(
      track({
        pool: { size: 5, state: 'running' },
        members: [...serving(4), ...booting(1)],
        lastScaledAt: NOW - 30,
        measurement: reading(0.9, 4),
      }),
    );
    expect(d).toMatchObject({ outcome: 'none', code: 'Sufficient', targetSize: 5 });
  });

  it('projects a slowly rising load over trendSeconds (Trend), and does not chase a ramp it cannot cover', () => {
    // 4 members, load 2.65 -> 2.95 over 4 minutes: 0.075 per minute, 0.15 in 120 s: 3.1 / 0.75 = 4.13 -> 5 (less
    // the 0.1 tolerance: 4.03), where 2.95 alone fits 4 (3.93).
    const slow = [240, 180, 120, 60].map((ago, i) => reading((2.65 + 0.075 * i) / 4, 4, NOW - ago));
    const withTrend = decideScaling(
      track({ pool: { size: 4, state: 'running' }, measurement: reading(2.95 / 4, 4), history: slow }),
    );
    expect(withTrend).toMatchObject({ outcome: 'scale', code: 'Trend', targetSize: 5 });
    const without = decideScaling(
      track({ pool: { size: 4, state: 'running' }, measurement: reading(2.95 / 4, 4) }),
    );
    expect(without).toMatchObject({ outcome: 'none', code: 'Sufficient' });
    // 1.0 -> 2.6 in 4 minutes: the rise over 120 s (0.8) is far above 15 % of the load: sized for the load only.
    const fast = [240, 180, 120, 60].map((ago, i) => reading((1.0 + 0.4 * i) / 4, 4, NOW - ago));
    const ramp = decideScaling(
      track({ pool: { size: 4, state: 'running' }, measurement: reading(2.6 / 4, 4), history: fast }),
    );
    expect(ramp).toMatchObject({ outcome: 'none', code: 'Sufficient' });
  });

  it('forgives a tenth of a member on the way up (upTolerance)', () => {
    // 1.53 of load on 2 members (76.5 %): 2.04 members at 75 %, less 0.1: 2, no scale-out (it was 2 -> 3, and the next
    // scale-in 3 -> 2). 1.6 (80 %): 2.13 - 0.1 = 2.03: 3. (Without the dead band, which would hold both.)
    const at = (load: number, over: Partial<PolicySettings> = {}) =>
      decideScaling(
        track({
          pool: { size: 2, state: 'running' },
          measurement: reading(load / 2, 2),
          history: [reading(load / 2, 2, NOW - 60)],
          settings: { upDeadBand: 0, ...over },
        }),
      );
    expect(at(1.53)).toMatchObject({ outcome: 'none', code: 'Sufficient' });
    expect(at(1.6)).toMatchObject({ outcome: 'scale', code: 'TargetSize', targetSize: 3 });
    expect(at(1.53, { upTolerance: 0 })).toMatchObject({
      outcome: 'scale',
      code: 'TargetSize',
      targetSize: 3,
    });
  });

  it('with a dead band of 10 % (upDeadBand, off by default), adds no member within it unless saturated or trending', () => {
    // 6 members at a 75 % target: 4.5 of load. Flat history around the reading (noise, no significant slope).
    const flat = (load: number) =>
      [240, 180, 120, 60].map((ago, i) => reading((load + (i % 2 === 0 ? 0.05 : -0.05)) / 6, 6, NOW - ago));
    const at = (load: number, over: Partial<PolicySettings> = {}, history = flat(load)) =>
      decideScaling(
        track({
          pool: { size: 6, state: 'running' },
          measurement: reading(load / 6, 6),
          history,
          settings: { upDeadBand: 0.1, ...over },
        }),
      );
    // 4.75 (79.2 %, 1.056 of the target): within the band, held; it asked for 7 without it.
    expect(at(4.75)).toMatchObject({ outcome: 'none', code: 'Sufficient' });
    expect(at(4.75, { upDeadBand: 0 })).toMatchObject({
      outcome: 'scale',
      code: 'TargetSize',
      targetSize: 7,
    });
    // 5.0 (83.3 %, 1.111): above the band: ceil(5 / 0.75 - 0.1) = 7.
    expect(at(5.0)).toMatchObject({ outcome: 'scale', code: 'TargetSize', targetSize: 7 });
    // 4.85 (80.8 %, 1.078: inside 10 %) is at or above the 80 % alert (upDeadBandCeiling): never held. A clean load
    // of 3.3 on 4 members was held there for an hour.
    expect(at(4.85)).toMatchObject({ outcome: 'scale', code: 'TargetSize', targetSize: 7 });
    expect(at(4.85, { upDeadBandCeiling: 1 })).toMatchObject({ outcome: 'none', code: 'Sufficient' });
    // A steady rise into the band (a significant slope) is followed: 4.3 -> 4.78 over 4 minutes, +0.24 in 120 s.
    const rising = [240, 180, 120, 60].map((ago, i) => reading((4.3 + 0.12 * i) / 6, 6, NOW - ago));
    expect(at(4.78, {}, rising)).toMatchObject({ outcome: 'scale', code: 'Trend', targetSize: 7 });
  });

  it('follows a trend only when its slope stands out of the scatter (trendSignificance)', () => {
    // Readings that zig-zag with an upward drift (1.4 e-3 per s, 1.5 standard errors): 2.6, 3.0, 2.7, 3.05, 3.0.
    const loads = [2.6, 3.0, 2.7, 3.05, 3.0];
    const noisy = loads.map((load, i) => ({ t: NOW - 240 + 60 * i, load }));
    const trend = loadTrend(noisy);
    expect(trend.slope).toBeCloseTo(51 / 36000, 10);
    expect(trend.slope / trend.standardError).toBeCloseTo(1.5, 1);
    // On a line the error is 0; with two points too.
    expect(loadTrend([0, 1, 2, 3].map((i) => ({ t: 60 * i, load: 1 + 0.5 * i })))).toEqual({
      slope: 0.5 / 60,
      standardError: 0,
    });
    expect(
      loadTrend([
        { t: 0, load: 1 },
        { t: 60, load: 2 },
      ]).standardError,
    ).toBe(0);
    expect(loadTrend([{ t: 0, load: 1 }])).toEqual({ slope: 0, standardError: 0 });
    // Through the policy, 4 members (3 at the 75 % target), the last reading 3.0: the slope would add 0.17 in 120 s
    // (4.23 members, 5), but it is noise at 2 standard errors.
    const decide = (trendSignificance: number) =>
      decideScaling(
        track({
          pool: { size: 4, state: 'running' },
          measurement: reading(3.0 / 4, 4),
          history: noisy.slice(0, 4).map((p) => reading(p.load / 4, 4, p.t)),
          settings: { trendSignificance, upDeadBand: 0 },
        }),
      );
    expect(decide(2)).toMatchObject({ outcome: 'none', code: 'Sufficient' });
    expect(decide(0)).toMatchObject({ outcome: 'scale', code: 'Trend', targetSize: 5 });
  });

  it('grows a saturated pool by x3 after a step, and by the saturated readings in a row otherwise', () => {
    // A step: the previous reading (0.1 of 2) was far below: 2 x 3 = 6 members of load, / 0.75 = 8.
    const step = decideScaling(track({ measurement: reading(1, 2), history: [reading(0.1, 2, NOW - 60)] }));
    expect(step).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 8 });
    // Into saturation along a ramp (0.9 before): one saturated reading, x1.5: 3 / 0.75 = 4.
    const ramp = decideScaling(track({ measurement: reading(1, 2), history: [reading(0.9, 2, NOW - 60)] }));
    expect(ramp).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 4 });
    // Saturated for three readings on the same members: x2.5: 5 / 0.75 = 7.
    const long = decideScaling(
      track({
        measurement: reading(1, 2),
        history: [reading(0.9, 2, NOW - 180), reading(1, 2, NOW - 120), reading(1, 2, NOW - 60)],
      }),
    );
    expect(long).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 7 });
    // Capacity asked for since the streak began resets it: the members on their way are not in the reading.
    const asked = decideScaling(
      track({
        pool: { size: 4, state: 'running' },
        members: [...serving(2), ...booting(2)],
        lastScaledAt: NOW - 90,
        measurement: reading(1, 2),
        history: [reading(0.9, 2, NOW - 180), reading(1, 2, NOW - 120), reading(1, 2, NOW - 60)],
      }),
    );
    expect(asked).toMatchObject({ outcome: 'none', code: 'Sufficient' });
  });

  it('sizes a busy pool from its requests in flight, not from a guess (inFlightLoad)', () => {
    const busy = (utilisation: number, members: number, inFlight: number, at = NOW): Measurement => ({
      ...reading(utilisation, members, at),
      inFlight,
    });
    const base = { pool: { size: 4, state: 'running' as const }, settings: { bounds: { min: 1, max: 20 } } };
    // Saturated on 4 members with 10 requests in flight: the load is 10, / 0.75 - 0.1 = 14 (the streak's guess,
    // after a step from 10 %, x3: 16).
    const ten = decideScaling(
      track({ ...base, measurement: busy(1, 4, 10), history: [reading(0.1, 4, NOW - 60)] }),
    );
    expect(ten).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 14 });
    expect(ten.reasons.find((r) => r.code === 'Saturated')!.text).toMatch(
      /10\.0 request\(s\) in flight: load 10\.00/,
    );
    expect(
      decideScaling(track({ ...base, measurement: reading(1, 4), history: [reading(0.1, 4, NOW - 60)] })),
    ).toMatchObject({ targetSize: 16 });
    // Saturated at its capacity (4 in flight, 99 % of 4 members) after three saturated readings: no guess of x2.5
    // (14 members), the load it has: 3.96 / 0.75 - 0.1 = 6.
    const streak = [busy(1, 4, 4, NOW - 180), busy(1, 4, 4, NOW - 120), busy(1, 4, 4, NOW - 60)];
    expect(decideScaling(track({ ...base, measurement: busy(0.99, 4, 3.9), history: streak }))).toMatchObject(
      {
        outcome: 'scale',
        targetSize: 6,
      },
    );
    // Below saturation (95 %) the utilisation measures the load, and a count mostly adds its errors: one stray
    // connection a member (an SSH session, idle keep-alive) on 4 members at 75 % (7 for a load of 3) changes nothing.
    // A count more than one a member above the measure is the load: a saturated member reading 90 % through noise
    // with 8 in flight, at most x3 the measure in one call (2.7 / 0.75 - 0.1: 4; the utilisation alone asks for 2),
    // once two earlier readings show no stray connections (strayConnections); without them it is not taken.
    expect(
      decideScaling(track({ ...base, measurement: busy(0.75, 4, 7), history: [busy(0.75, 4, 7, NOW - 60)] })),
    ).toMatchObject({ outcome: 'none', code: 'Sufficient' });
    const known = [busy(0.5, 1, 0.5, NOW - 120), busy(0.8, 1, 0.8, NOW - 60)];
    expect(
      decideScaling(
        track({ ...base, pool: { size: 1, state: 'running' }, measurement: busy(0.9, 1, 8), history: known }),
      ),
    ).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 4 });
    expect(
      decideScaling(
        track({
          ...base,
          pool: { size: 1, state: 'running' },
          measurement: busy(0.9, 1, 8),
          history: [reading(0.8, 1, NOW - 60)],
        }),
      ),
    ).toMatchObject({ outcome: 'scale', targetSize: 2 });
    // The same on a saturated reading.
    expect(
      decideScaling(
        track({
          ...base,
          pool: { size: 1, state: 'running' },
          measurement: busy(1, 1, 8),
          history: [reading(0.8, 1, NOW - 60)],
        }),
      ),
    ).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 4 });
    // A count below a saturated measure is partial or broken (half the members rolled out to the host's network: 2.5
    // for a load of 4): the guess stands, x3 after a step.
    expect(
      decideScaling(track({ ...base, measurement: busy(1, 4, 2.5), history: [reading(0.1, 4, NOW - 60)] })),
    ).toMatchObject({ code: 'Saturated', targetSize: 16 });
    // A count under half the measure is not the app's (off the host's network: 0): the guess stands, x3 after a step.
    expect(
      decideScaling(track({ ...base, measurement: busy(1, 4, 0), history: [reading(0.1, 4, NOW - 60)] })),
    ).toMatchObject({ targetSize: 16 });
    // inFlightLoad 0 ignores the count.
    expect(
      decideScaling(
        track({
          ...base,
          measurement: busy(1, 4, 10),
          history: [reading(0.1, 4, NOW - 60)],
          settings: { ...base.settings, inFlightLoad: 0 },
        }),
      ),
    ).toMatchObject({ targetSize: 16 });
  });

  it('fits the trend through saturated readings whose requests in flight say the load', () => {
    const busy = (utilisation: number, members: number, inFlight: number, at: number): Measurement => ({
      ...reading(utilisation, members, at),
      inFlight,
    });
    // A ramp that saturated a pool of 6 (6.0, 6.6, 7.2 in flight a minute apart: 0.01 per second), now 7.8 on 9
    // members (87 %). The counts make the saturated readings points of the slope: 7.8 + 1.2 in 120 s = 9,
    // / 0.75 - 0.1 = 12. Without them they are lower bounds only, left out of the slope: 7.8 / 0.75 - 0.1 = 11.
    const base = { pool: { size: 9, state: 'running' as const }, settings: { bounds: { min: 1, max: 20 } } };
    const counted = [6, 6.6, 7.2].map((n, i) => busy(1, 6, n, NOW - 180 + i * 60));
    const d = decideScaling(track({ ...base, measurement: busy(7.8 / 9, 9, 7.8, NOW), history: counted }));
    expect(d).toMatchObject({ outcome: 'scale', code: 'Trend', targetSize: 12 });
    expect(d.reasons.map((r) => r.text).join(' ')).toMatch(/rising 0\.60 per minute/);
    const bounds = counted.map((h) => reading(h.utilisation, h.members!, h.measuredAt));
    expect(
      decideScaling(track({ ...base, measurement: reading(7.8 / 9, 9, NOW), history: bounds })),
    ).toMatchObject({ outcome: 'scale', code: 'TargetSize', targetSize: 11 });
  });

  it('follows a steeper trend on readings with requests in flight (trendCoverShare) than without', () => {
    // 3.0, 3.4, 3.8, 4.2 on 5 members a minute apart: + 0.8 in 120 s, 19 % of the load. Without counts (0.15 of the
    // load at most): not followed, 4.2 / 0.75 - 0.1 = 6; with them (0.3): 5 / 0.75 - 0.1 = 7.
    const loads = [3, 3.4, 3.8, 4.2];
    const at = (i: number) => NOW - 180 + i * 60;
    const plain = loads.map((l, i) => reading(l / 5, 5, at(i)));
    const counted = loads.map((l, i) => ({ ...reading(l / 5, 5, at(i)), inFlight: l }));
    const base = { pool: { size: 5, state: 'running' as const } };
    expect(
      decideScaling(track({ ...base, measurement: plain[3], history: plain.slice(0, 3) })),
    ).toMatchObject({ outcome: 'scale', code: 'TargetSize', targetSize: 6 });
    expect(
      decideScaling(track({ ...base, measurement: counted[3], history: counted.slice(0, 3) })),
    ).toMatchObject({ outcome: 'scale', code: 'Trend', targetSize: 7 });
  });

  it("inFlightCount: the load a busy reading's requests in flight say, or null", () => {
    const s = { inFlightLoad: 1, saturationThreshold: 0.95, trackingUtilisation: 0.75 };
    expect(inFlightCount({ utilisation: 1, members: 2, inFlight: 5 }, s)).toBe(5);
    // A count more than a tenth below the saturated measure is broken (null), within it noise (the measure); a
    // request worth half a member halves the count.
    expect(inFlightCount({ utilisation: 1, members: 2, inFlight: 1.5 }, s)).toBeNull();
    expect(inFlightCount({ utilisation: 1, members: 2, inFlight: 1.9 }, s)).toBe(2);
    expect(inFlightCount({ utilisation: 1, members: 2, inFlight: 5 }, { ...s, inFlightLoad: 0.5 })).toBe(2.5);
    // Under saturation only a busy reading's count of more than one a member above the measure; no count or a
    // non-finite one: null.
    expect(inFlightCount({ utilisation: 0.9, members: 2, inFlight: 5 }, s)).toBe(5);
    expect(inFlightCount({ utilisation: 0.9, members: 2, inFlight: 3.8 }, s)).toBeNull();
    expect(inFlightCount({ utilisation: 0.7, members: 2, inFlight: 5 }, s)).toBeNull();
    expect(inFlightCount({ utilisation: 1, members: 2 }, s)).toBeNull();
    expect(inFlightCount({ utilisation: 1, members: 2, inFlight: NaN }, s)).toBeNull();
    expect(inFlightCount({ utilisation: 1, members: 2, inFlight: 0.9 }, s)).toBeNull();
    expect(inFlightCount({ utilisation: 1, members: 2, inFlight: 5 }, { ...s, inFlightLoad: 0 })).toBeNull();
  });

  it('takes the idle connections the unsaturated readings show off a saturated count (strayConnections)', () => {
    const busy = (utilisation: number, members: number, inFlight: number, at: number): Measurement => ({
      ...reading(utilisation, members, at),
      inFlight,
    });
    const base = { pool: { size: 4, state: 'running' as const }, settings: { bounds: { min: 1, max: 20 } } };
    // 4 idle members hold one keep-alive connection each (4 in flight at 2 %), then a step saturates them with
    // 8 requests: 12 connections. The strays taken off, the load is 8: / 0.75 - 0.1 = 11 members, not 16 (12 / 0.75).
    const idle = [busy(0.02, 4, 4, NOW - 180), busy(0.02, 4, 4, NOW - 120), busy(0.1, 4, 4.4, NOW - 60)];
    const d = decideScaling(track({ ...base, measurement: busy(1, 4, 12, NOW), history: idle }));
    expect(d).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 11 });
    expect(d.reasons.find((r) => r.code === 'Saturated')!.text).toMatch(
      /12\.0 request\(s\) in flight less 0\.98 idle a member \(strayConnections\): load 8\.\d\d/,
    );
    // The same count with no reading to learn the strays from (one only: it might be a saturated one read under
    // 95 % through noise) is taken as it is.
    expect(
      decideScaling(track({ ...base, measurement: busy(1, 4, 12, NOW), history: idle.slice(2) })),
    ).toMatchObject({ targetSize: 16 });
    // Right after a restart (no history) a busy unsaturated reading's count is not taken while the strays are not
    // known: 16 members at 76 % with 44.2 connections (2 idle a member) go to 17 for the load of 12.2, not to 48.
    expect(
      decideScaling(
        track({ ...base, pool: { size: 16, state: 'running' }, measurement: busy(0.76, 16, 44.2, NOW) }),
      ),
    ).toMatchObject({ outcome: 'scale', code: 'TargetSize', targetSize: 17 });
    // Idle connections are counted as connections in the log, whatever a request is worth (2 a member, a request
    // half a member: 1 member's worth taken off).
    const halves = [busy(0.02, 4, 8, NOW - 120), busy(0.02, 4, 8, NOW - 60)];
    const half = decideScaling(
      track({
        ...base,
        measurement: busy(1, 4, 32, NOW),
        history: halves,
        settings: { ...base.settings, inFlightLoad: 0.5 },
      }),
    );
    expect(half.reasons.find((r) => r.code === 'Saturated')!.text).toMatch(
      /32\.0 request\(s\) in flight less 1\.96 idle a member/,
    );
  });

  it('strayConnections: the median excess of the count over the measure, a member, below saturation', () => {
    const s = { inFlightLoad: 1, saturationThreshold: 0.95 };
    const r = (utilisation: number, members: number, inFlight?: number) => ({
      utilisation,
      members,
      inFlight,
    });
    // Excess a member: (4 - 0) / 4 = 1, (6 - 2) / 4 = 1, (9 - 3) / 4 = 1.5: the median is 1.
    expect(strayConnections([r(0, 4, 4), r(0.5, 4, 6), r(0.75, 4, 9)], s)).toBe(1);
    // An even number of readings: the mean of the middle two; a request worth half a member halves the connections.
    expect(strayConnections([r(0, 2, 2), r(0, 2, 4)], s)).toBe(1.5);
    expect(strayConnections([r(0, 2, 2), r(0, 2, 4)], { ...s, inFlightLoad: 0.5 })).toBe(0.75);
    // Saturated readings (their count is above the measure by the load the utilisation cannot show), readings
    // without a count, without members or with a utilisation that is no number are left out; fewer than two left:
    // null (not known).
    expect(
      strayConnections([r(0, 4, 4), r(1, 4, 20), r(0.95, 4, 20), r(0.5, 4), r(0.5, 0, 3), r(NaN, 4, 9)], s),
    ).toBeNull();
    expect(strayConnections([], s)).toBeNull();
    // A count at or below the measure (exact, or a Poisson draw under its mean): no strays, never a negative.
    expect(strayConnections([r(0.5, 4, 2), r(0.5, 4, 1)], s)).toBe(0);
    expect(strayConnections([r(0, 4, 4), r(0, 4, 4)], { ...s, inFlightLoad: 0 })).toBe(0);
    // The count with the strays off: 12 on 4 saturated members, 1 a member idle, is a load of 8.
    expect(
      inFlightCount({ utilisation: 1, members: 4, inFlight: 12 }, { ...s, trackingUtilisation: 0.75 }, 1),
    ).toBe(8);
  });

  it('takes a first reading that is already saturated as a step', () => {
    // No earlier reading (history given, empty): 1 x 3 = 3 members of load, / 0.75 = 4.
    expect(
      decideScaling(track({ pool: { size: 1, state: 'running' }, measurement: reading(1, 1), history: [] })),
    ).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 4 });
    // Without any history at all (a caller that keeps none): the alert path's rule, x3 or +4 members: 5.
    expect(
      decideScaling(track({ pool: { size: 1, state: 'running' }, measurement: reading(1, 1) })),
    ).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 5 });
  });

  it('grows x2 when the pool is still saturated once new members serve (saturatedAfterGrowth)', () => {
    const base = {
      pool: { size: 4, state: 'running' },
      measurement: reading(1, 4),
      history: [reading(1, 2, NOW - 60)],
      settings: { bounds: { min: 1, max: 20 } },
    };
    // The default, 2: 4 x 2 = 8 members of load, / 0.75 = 11 (the streak alone says x1.5: 8).
    expect(decideScaling(track(base))).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 11 });
    const withFactor = (saturatedAfterGrowth: number) =>
      decideScaling(track({ ...base, settings: { ...base.settings, saturatedAfterGrowth } }));
    // 1: the streak alone, x1.5: 8. 3 (the step's factor): 4 x 3 = 12, / 0.75 = 16.
    expect(withFactor(1)).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 8 });
    expect(withFactor(3)).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 16 });
    // Saturated on the same members as before (no capacity arrived): the streak's x2 (two readings), not more.
    expect(
      decideScaling(track({ ...base, measurement: reading(1, 4), history: [reading(1, 4, NOW - 60)] })),
    ).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 11 });
    // The previous reading busy but under saturation (noise takes a saturated member under 95 %): as saturated, x2.
    expect(
      decideScaling(track({ ...base, measurement: reading(1, 4), history: [reading(0.9, 2, NOW - 60)] })),
    ).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 11 });
    // Members asked for still on their way (a pool of 6, 4 measured): no evidence yet, the streak's x1.5: 8.
    expect(
      decideScaling(
        track({ ...base, pool: { size: 6, state: 'running' }, members: [...serving(4), ...booting(2)] }),
      ),
    ).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 8 });
    // The busy reading is older than the trend window (5 minutes): no evidence either: 8.
    expect(decideScaling(track({ ...base, history: [reading(1, 2, NOW - 300)] }))).toMatchObject({
      outcome: 'scale',
      code: 'Saturated',
      targetSize: 8,
    });
    // The previous reading below the tracking target (1.2 of 2 members, not a quarter of the 4 now: no step either):
    // the pool had room, so the arrived capacity is no evidence; the streak's x1.5.
    expect(
      decideScaling(track({ ...base, measurement: reading(1, 4), history: [reading(0.6, 2, NOW - 60)] })),
    ).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 8 });
  });

  it('scales in at once after a collapse, booting members first, and below where a rising load will be', () => {
    // 10 members, 2 of them booting; the load fell from 6.0 to 1.6 within a minute: 3 members keep 1.6 at 53 %.
    const collapse = decideScaling(
      track({
        pool: { size: 10, state: 'running' },
        members: [...serving(8), ...booting(2)],
        lastScaledAt: NOW - 30,
        measurement: reading(0.2, 8),
        history: [reading(0.75, 8, NOW - 60)],
      }),
    );
    expect(collapse).toMatchObject({
      outcome: 'scale',
      code: 'TargetSize',
      direction: 'down',
      targetSize: 3,
    });
    // Rising 1 member a minute (2.0 -> 3.0) on a pool of 10: trimmed, but to what keeps the load of 120 s from now
    // (3.0 + 2.0) within 75 %, 7 members, not to the 4 that the load of now needs (the wave under bursts held 11
    // members for a load of 4.5-6.6 for 11 minutes when a rising load blocked every scale-in).
    const rising = decideScaling(
      track({
        pool: { size: 10, state: 'running' },
        measurement: reading(0.3, 10),
        history: [reading(0.2, 10, NOW - 60)],
      }),
    );
    expect(rising).toMatchObject({ outcome: 'scale', code: 'TargetSize', direction: 'down', targetSize: 7 });
    // Rising 3 a minute (2.0 -> 5.0): in 120 s it needs more than the pool's 70 % band allows: no scale-in.
    const steep = decideScaling(
      track({
        pool: { size: 10, state: 'running' },
        measurement: reading(0.5, 10),
        history: [reading(0.2, 10, NOW - 60)],
      }),
    );
    expect(steep).toMatchObject({ outcome: 'none', code: 'Sufficient' });
    // Rose 0.16 -> 5.0 over the window, then collapsed to 0.16: the window's slope is still positive, but the load
    // no longer rises: down to 1 (the fast loop kept 5 of 8 members
    // of an idle pool when the window's slope alone counted).
    const collapsed = decideScaling(
      track({
        pool: { size: 8, state: 'running' },
        measurement: reading(0.02, 8),
        history: [
          reading(0.02, 8, NOW - 230),
          reading(0.1, 8, NOW - 200),
          reading(0.25, 8, NOW - 170),
          ...[140, 110, 80, 50, 20].map((ago) => reading(0.625, 8, NOW - ago)),
        ],
      }),
    );
    expect(collapsed).toMatchObject({ outcome: 'scale', direction: 'down', targetSize: 1 });
    // More members measured is no rise: 4 measured of 8 serving (2.0 + 4 x 0.75 = 5.0 served), then all 8 measured
    // at 2.4. The measured load rose 2.0 -> 2.4, the served one fell: down to 4 (2.4 at 60 %), not to the 5 that
    // 2.4 rising 0.4 a minute would keep.
    const measuredMore = decideScaling(
      track({
        pool: { size: 8, state: 'running' },
        measurement: reading(0.3, 8),
        history: [{ ...reading(0.5, 4, NOW - 60), serving: 8 }],
      }),
    );
    expect(measuredMore).toMatchObject({ outcome: 'scale', direction: 'down', targetSize: 4 });
  });

  it('takes a reading just under saturation as a lower bound, not as evidence of a step', () => {
    // 94 % of 1 member, then 100 % of the 4 that serve since: the load grew with the capacity, but 0.94 was already
    // all one member could show: not a step (x3: 16), but capacity that arrived and did not relieve the pool
    // (saturatedAfterGrowth): x2, 8 / 0.75 = 11.
    const d = decideScaling(
      track({
        pool: { size: 4, state: 'running' },
        measurement: reading(1, 4),
        history: [reading(0.94, 1, NOW - 60)],
        settings: { bounds: { min: 1, max: 20 } },
      }),
    );
    expect(d).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 11 });
  });

  it('after a saturated reading, keeps the members it asked for while the serving ones still run above the band', () => {
    // 99 % of 1 member asked for 4; a minute later the one serving member reads 74 %: no collapse, hold.
    const base = {
      pool: { size: 4, state: 'running' },
      members: [...serving(1), ...booting(3)],
      lastScaledAt: NOW - 60,
      history: [reading(0.99, 1, NOW - 60)],
    };
    expect(decideScaling(track({ ...base, measurement: reading(0.74, 1) }))).toMatchObject({
      outcome: 'none',
      code: 'Sufficient',
    });
    // A real collapse (20 % of that member): the booting members go at once.
    expect(decideScaling(track({ ...base, measurement: reading(0.2, 1) }))).toMatchObject({
      outcome: 'scale',
      direction: 'down',
      targetSize: 1,
    });
  });

  it('keeps the noise of the load as a margin when it scales in (scaleInNoiseMargin)', () => {
    // 8 members; the load moves 4 -> 5 -> 4 -> 5 -> 4: one standard deviation of noise is 1.4826 x 2 / sqrt(6) =
    // 1.21 members, so 4 + 1.21 needs ceil(6.95) = 7 members at 75 %, where the last reading alone needs 6.
    const history = [4, 5, 4, 5].map((load, i) => reading(load / 8, 8, NOW - 240 + 60 * i));
    const base = { pool: { size: 8, state: 'running' }, measurement: reading(4 / 8, 8), history };
    expect(decideScaling(track(base))).toMatchObject({ outcome: 'scale', direction: 'down', targetSize: 7 });
    expect(decideScaling(track({ ...base, settings: { scaleInNoiseMargin: 0 } }))).toMatchObject({
      outcome: 'scale',
      direction: 'down',
      targetSize: 6,
    });
    // Ticks come a little late (a timer's drift): readings 60.004 s apart are still five readings of the window.
    const late = [4, 5, 4, 5].map((load, i) => reading(load / 8, 8, NOW - 4 * 60.004 + 60.004 * i));
    expect(decideScaling(track({ ...base, history: late }))).toMatchObject({ targetSize: 7 });
    // A steady load has no noise: 4 all along needs 6.
    const steady = [4, 4, 4, 4].map((load, i) => reading(load / 8, 8, NOW - 240 + 60 * i));
    expect(decideScaling(track({ ...base, history: steady }))).toMatchObject({ targetSize: 6 });
  });

  it('scales in counting the serving members not measured yet at the tracking target (servedLoad, the HPA rule)', () => {
    // The fast local loop: 8 members serve, Prometheus has two scrapes of only 4 of them, which read 59 %: 2.36
    // measured + 4 x 0.75 = 5.36 members served, which the 8 keep (the measured 4 alone trimmed the pool to 4).
    const base = { pool: { size: 8, state: 'running' }, members: serving(8), lastScaledAt: NOW - 10 };
    const d = decideScaling(track({ ...base, measurement: { ...reading(0.59, 4), serving: 8 } }));
    expect(d).toMatchObject({ outcome: 'none', code: 'Sufficient' });
    expect(d.reasons.find((r) => r.code === 'Sufficient')!.text).toContain(
      '8 serve (load balancer), 4 not measured yet, counted at 75 %: 5.36 members served',
    );
    expect(servedLoad({ ...reading(0.59, 4), members: 4, serving: 8 }, 0.75)).toBeCloseTo(5.36, 9);
    // Without the load balancer's count the measured members alone set it: 2.36 / 0.75 -> 4.
    expect(decideScaling(track({ ...base, measurement: reading(0.59, 4) }))).toMatchObject({ targetSize: 4 });
    // Fewer serving than measured (a member scraped before its health check passes) changes nothing.
    expect(decideScaling(track({ ...base, measurement: { ...reading(0.59, 4), serving: 2 } }))).toMatchObject(
      {
        targetSize: 4,
      },
    );
    // A collapse is still followed: 5 % of 4 + 4 x 0.75 = 3.2 needs 5 until the new members are measured.
    expect(decideScaling(track({ ...base, measurement: { ...reading(0.05, 4), serving: 8 } }))).toMatchObject(
      {
        outcome: 'scale',
        direction: 'down',
        targetSize: 5,
      },
    );
    // The closed loop in CI: 1 -> 4, then 52 % of the one measured member with 4 serving trimmed it to 3.
    const after = decideScaling(
      track({
        pool: { size: 4, state: 'running' },
        members: serving(4),
        measurement: { ...reading(0.52, 1), serving: 4 },
        history: [reading(1, 1, NOW - 5)],
      }),
    );
    expect(after).toMatchObject({ outcome: 'none', code: 'Sufficient' });
    // Earlier readings count their serving members too: with a scale-in window, the peak of the last 2 minutes is
    // 0.9 x 4 + 4 x 0.75 = 6.6, which needs 9: the 8 stay.
    const history = [{ ...reading(0.9, 4, NOW - 60), serving: 8 }];
    const windowed = { ...base, settings: { scaleInWindowSeconds: 120 } };
    expect(
      decideScaling(track({ ...windowed, measurement: { ...reading(0.3, 8), serving: 8 }, history })),
    ).toMatchObject({ outcome: 'none', code: 'Sufficient' });
  });

  it('takes no rise that is only more members measured for a step', () => {
    // 52 % of 1 measured with 4 serving (2.77 members served), then 99 % of 3: the load rose from at least 2.77, not
    // from 0.52, so the saturated reading grows x1.5 (2.97 x 1.5 / 0.75 -> 6), not x3 (12).
    const input = (previous: Measurement) =>
      track({
        pool: { size: 4, state: 'running' },
        members: serving(4),
        measurement: { ...reading(0.99, 3), serving: 4 },
        history: [previous],
        settings: { bounds: { min: 1, max: 20 } },
      });
    expect(decideScaling(input({ ...reading(0.52, 1, NOW - 5), serving: 4 }))).toMatchObject({
      code: 'Saturated',
      targetSize: 6,
    });
    expect(decideScaling(input(reading(0.52, 1, NOW - 5)))).toMatchObject({
      code: 'Saturated',
      targetSize: 12,
    });
  });

  it('sizes up from the measured members alone, whatever the load balancer reports serving', () => {
    // 100 % of 2 measured with 4 serving: the average was taken mostly before the 2 new ones served; the up size is
    // the step rule on the 2 (x3: 6 / 0.75 = 8), not on 4 (16).
    const d = decideScaling(
      track({
        pool: { size: 4, state: 'running' },
        members: serving(4),
        measurement: { ...reading(1, 2), serving: 4 },
        history: [reading(0.2, 2, NOW - 60)],
        settings: { bounds: { min: 1, max: 20 } },
      }),
    );
    expect(d).toMatchObject({ outcome: 'scale', code: 'Saturated', targetSize: 8 });
    expect(d.basis).toMatchObject({ servingMembers: 2, serving: 4 });
  });

  it('keeps the high of a load that swings faster than members boot (two reversals in the trend window)', () => {
    // 10 members; the load alternates 4 <-> 9 every minute (the highs saturated on the members then measured): the
    // low reading alone would trim to ceil(4 / 0.75) = 6, and the next high finds the members booting again.
    const swings = [
      reading(1, 9, NOW - 240),
      reading(0.4, 10, NOW - 180),
      reading(0.9, 10, NOW - 120),
      reading(0.4, 10, NOW - 60),
    ];
    const base = {
      pool: { size: 10, state: 'running' },
      members: serving(10),
      measurement: reading(0.9, 10),
    };
    const d = decideScaling(track({ ...base, history: swings, measurement: reading(0.4, 10) }));
    expect(d).toMatchObject({ outcome: 'none', code: 'Sufficient' });
    expect(d.reasons.find((r) => r.code === 'Sufficient')!.text).toContain('the load swings');
    // One fall after a steady high is followed at once.
    const steady = [9, 9, 9, 9].map((load, i) => reading(load / 10, 10, NOW - 240 + 60 * i));
    expect(decideScaling(track({ ...base, history: steady, measurement: reading(0.4, 10) }))).toMatchObject({
      outcome: 'scale',
      direction: 'down',
      targetSize: 6,
    });
  });

  it('leaves the alert path to a bare step, to a reading without a member count, and to scaleOnEveryReading false', () => {
    const bare = decideScaling(track({ signals: { up: step, down: quiet }, measurement: reading(0.1, 2) }));
    expect(bare).toMatchObject({ outcome: 'scale', code: 'NoValue', targetSize: 3, consumes: ['up'] });
    const notification = decideScaling(
      track({ measurement: { utilisation: 0.9, measuredAt: NOW, source: 'notification' } }),
    );
    expect(notification).toMatchObject({ outcome: 'none', code: 'NoSignal' });
    const off = decideScaling(
      track({ measurement: reading(0.9, 2), settings: { scaleOnEveryReading: false } }),
    );
    expect(off).toMatchObject({ outcome: 'none', code: 'NoSignal' });
  });

  it('stays within the bounds, uses up the pending steps of firing alerts, and defers on a busy pool', () => {
    const atMax = decideScaling(
      track({
        pool: { size: 9, state: 'running' },
        signals: { up: firing(prometheus(1)), down: quiet },
        measurement: reading(1, 9),
        history: [reading(0.1, 9, NOW - 60)],
      }),
    );
    expect(atMax).toMatchObject({ outcome: 'scale', targetSize: 10, boundApplied: 'max', consumes: ['up'] });
    const busy = decideScaling(track({ pool: { size: 2, state: 'scaling-up' }, measurement: reading(1, 2) }));
    expect(busy).toMatchObject({ outcome: 'deferred', code: 'PoolBusy', consumes: [] });
    expect(settings.trackingUtilisation).toBeLessThan(0.8);
  });
});
