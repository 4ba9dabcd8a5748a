import { settleScaleCall, UNKNOWN_OUTCOME_GRACE_SECONDS } from './settlement';

const call = { from: 2, to: 3, calledAt: 1000 };
const later = 1000 + UNKNOWN_OUTCOME_GRACE_SECONDS + 1;

describe('settleScaleCall', () => {
  it.each(['scaling-up', 'scaling-down', 'updating'])(
    'keeps the outcome unknown while the pool is %s, whatever size it reports',
    (state) => {
      for (const size of [2, 3, 4])
        expect(settleScaleCall(call, { size, state }, later)).toMatchObject({
          outcome: 'unknown',
          code: 'Settling',
        });
    },
  );

  it('counts a running pool at the target as applied', () => {
    expect(settleScaleCall(call, { size: 3, state: 'running' }, 1001)).toMatchObject({
      outcome: 'applied',
      code: 'Reconciled',
    });
  });

  it('counts a pool moved past the old size in the step direction as applied (scale-out and scale-in)', () => {
    expect(settleScaleCall(call, { size: 5, state: 'running' }, later).outcome).toBe('applied');
    expect(
      settleScaleCall({ from: 6, to: 3, calledAt: 1000 }, { size: 4, state: 'running' }, later).outcome,
    ).toBe('applied');
  });

  it('waits out the grace before a running pool at the old size counts as not applied', () => {
    expect(settleScaleCall(call, { size: 2, state: 'running' }, 1003)).toMatchObject({
      outcome: 'unknown',
      code: 'Settling',
    });
    expect(settleScaleCall(call, { size: 2, state: 'running' }, later)).toMatchObject({
      outcome: 'not-applied',
      code: 'NotApplied',
    });
  });

  it('counts a pool moved the other way (someone else) as not applied', () => {
    const d = settleScaleCall(call, { size: 1, state: 'running' }, 1001);
    expect(d).toMatchObject({ outcome: 'not-applied', code: 'NotApplied' });
    expect(d.text).toMatch(/someone else/);
  });

  it('counts the grace from the last moment a request may have been sent (retries given up, or a restart)', () => {
    const retried = { ...call, sentUntil: 1000 + 80 };
    expect(settleScaleCall(retried, { size: 2, state: 'running' }, 1000 + 90).outcome).toBe('unknown');
    expect(
      settleScaleCall(retried, { size: 2, state: 'running' }, 1000 + 80 + UNKNOWN_OUTCOME_GRACE_SECONDS + 1)
        .outcome,
    ).toBe('not-applied');
  });
});
