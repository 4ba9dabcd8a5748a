import { decideScaling, PolicyInput } from './scaling-policy';

const bounds = { min: 1, max: 3 };
const running = (size: number) => ({ size, state: 'running' });
const signals = (up: boolean, down: boolean): PolicyInput['request'] => ({ kind: 'signals', up, down });

describe('decideScaling', () => {
  it('does nothing without a signal', () => {
    expect(decideScaling({ request: signals(false, false), pool: running(2), bounds })).toMatchObject({
      outcome: 'none',
      targetSize: 2,
      consumes: [],
      reasons: ['no pending signal'],
    });
  });

  it('steps up by one on an up signal and consumes it', () => {
    expect(decideScaling({ request: signals(true, false), pool: running(1), bounds })).toEqual({
      outcome: 'scale',
      direction: 'up',
      currentSize: 1,
      targetSize: 2,
      consumes: ['up'],
      reasons: ['up signal pending', 'size 1 -> 2'],
      boundApplied: null,
    });
  });

  it('steps down by one on a down signal', () => {
    expect(decideScaling({ request: signals(false, true), pool: running(3), bounds })).toMatchObject({
      outcome: 'scale',
      direction: 'down',
      targetSize: 2,
      consumes: ['down'],
    });
  });

  it('lets up win when both are pending, dropping the down signal', () => {
    const d = decideScaling({ request: signals(true, true), pool: running(2), bounds });
    expect(d).toMatchObject({ outcome: 'scale', direction: 'up', targetSize: 3, consumes: ['up', 'down'] });
    expect(d.reasons[0]).toMatch(/up wins/);
  });

  it('stays at max and at min, consuming the signal, and says which bound applied', () => {
    expect(decideScaling({ request: signals(true, false), pool: running(3), bounds })).toMatchObject({
      outcome: 'none',
      targetSize: 3,
      consumes: ['up'],
      boundApplied: 'max',
      reasons: ['up signal pending', '4 is above the maximum 3: clamped to 3', 'size stays 3'],
    });
    expect(decideScaling({ request: signals(false, true), pool: running(1), bounds })).toMatchObject({
      outcome: 'none',
      consumes: ['down'],
      boundApplied: 'min',
    });
  });

  it('defers when the pool is not running and keeps the signals', () => {
    expect(
      decideScaling({ request: signals(true, false), pool: { size: 2, state: 'scaling-up' }, bounds }),
    ).toMatchObject({
      outcome: 'deferred',
      targetSize: 2,
      consumes: [],
    });
  });

  it('brings a pool outside the bounds back into them, one clamp at a time', () => {
    expect(decideScaling({ request: signals(true, false), pool: running(7), bounds })).toMatchObject({
      outcome: 'scale',
      targetSize: 3,
      boundApplied: 'max',
    });
  });

  it('handles manual steps and absolute sizes', () => {
    expect(
      decideScaling({ request: { kind: 'step', direction: 'down' }, pool: running(2), bounds }),
    ).toMatchObject({
      outcome: 'scale',
      targetSize: 1,
      consumes: [],
    });
    expect(decideScaling({ request: { kind: 'size', size: 3 }, pool: running(1), bounds })).toMatchObject({
      outcome: 'scale',
      direction: 'up',
      targetSize: 3,
    });
    expect(decideScaling({ request: { kind: 'size', size: 2 }, pool: running(2), bounds })).toMatchObject({
      outcome: 'none',
      direction: null,
    });
  });

  it('never leaves the bounds, whatever the input', () => {
    for (let size = 0; size <= 6; size++) {
      for (const request of [signals(true, false), signals(false, true), signals(true, true)]) {
        const d = decideScaling({ request, pool: running(size), bounds });
        if (d.outcome === 'scale') {
          expect(d.targetSize).toBeGreaterThanOrEqual(bounds.min);
          expect(d.targetSize).toBeLessThanOrEqual(bounds.max);
          expect(Math.abs(d.targetSize - size) === 1 || size < bounds.min || size > bounds.max).toBe(true);
        }
      }
    }
  });

  describe('cooldown', () => {
    const cooldown = (secondsSinceLastChange: number | null) => ({
      secondsSinceLastChange,
      upSeconds: 60,
      downSeconds: 10,
    });

    it('defers an up step within the up cooldown after the last step, keeping the signal', () => {
      expect(
        decideScaling({ request: signals(true, false), pool: running(2), bounds, cooldown: cooldown(30) }),
      ).toEqual({
        outcome: 'deferred',
        direction: 'up',
        currentSize: 2,
        targetSize: 2,
        consumes: [],
        reasons: [
          'up signal pending',
          'up cooldown: last pool change 30 s ago, cooldown 60 s: deferred, signals kept',
        ],
        boundApplied: null,
      });
    });

    it('applies each direction its own period, and nothing before the first step', () => {
      expect(
        decideScaling({ request: signals(false, true), pool: running(2), bounds, cooldown: cooldown(30) })
          .outcome,
      ).toBe('scale');
      expect(
        decideScaling({ request: signals(true, false), pool: running(2), bounds, cooldown: cooldown(61) })
          .outcome,
      ).toBe('scale');
      expect(
        decideScaling({ request: signals(true, false), pool: running(2), bounds, cooldown: cooldown(null) })
          .outcome,
      ).toBe('scale');
    });

    it('does not hold a signal at a bound (it is consumed) nor a manual step', () => {
      expect(
        decideScaling({ request: signals(true, false), pool: running(3), bounds, cooldown: cooldown(1) }),
      ).toMatchObject({
        outcome: 'none',
        consumes: ['up'],
      });
      expect(
        decideScaling({
          request: { kind: 'step', direction: 'up' },
          pool: running(2),
          bounds,
          cooldown: cooldown(1),
        }).outcome,
      ).toBe('scale');
    });
  });
});
