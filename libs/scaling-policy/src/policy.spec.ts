import { decideScaling } from './policy';
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
