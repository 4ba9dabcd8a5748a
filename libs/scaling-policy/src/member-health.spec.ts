import {
  chooseVictims,
  DEFAULT_HEALTH_SETTINGS,
  judgeMember,
  MemberObservation,
  planReplacement,
} from './member-health';

const NOW = 100_000;
const s = DEFAULT_HEALTH_SETTINGS;
const member = (over: Partial<MemberObservation> = {}): MemberObservation => ({
  id: 'm1',
  createdAt: NOW - 3600,
  state: 'running',
  lb: { failures: 0, failingSince: null },
  ...over,
});

describe('judgeMember', () => {
  it('never judges a member within the grace period, whatever it reports', () => {
    for (const state of ['error', 'stopped', 'starting', 'running'])
      expect(
        judgeMember(
          member({ createdAt: NOW - 10, state, lb: { failures: 9, failingSince: NOW - 100 } }),
          NOW,
          s,
        ).health,
      ).toBe('grace');
  });

  it.each(['error', 'stopped'])('an instance in state %s is unhealthy', (state) => {
    expect(judgeMember(member({ state }), NOW, s)).toMatchObject({ health: 'unhealthy', code: 'Unhealthy' });
  });

  it('a member still starting past the start-up timeout is unhealthy; before it, unknown', () => {
    expect(judgeMember(member({ state: 'starting', createdAt: NOW - 601 }), NOW, s).health).toBe('unhealthy');
    expect(judgeMember(member({ state: 'starting', createdAt: NOW - 400 }), NOW, s).health).toBe('unknown');
  });

  it('needs K failed reads spanning M seconds: fewer reads or a shorter span are not enough', () => {
    expect(judgeMember(member({ lb: { failures: 3, failingSince: NOW - 30 } }), NOW, s).health).toBe(
      'unhealthy',
    );
    expect(judgeMember(member({ lb: { failures: 2, failingSince: NOW - 300 } }), NOW, s).health).toBe(
      'healthy',
    );
    expect(judgeMember(member({ lb: { failures: 10, failingSince: NOW - 5 } }), NOW, s).health).toBe(
      'healthy',
    );
    expect(judgeMember(member({ lb: null }), NOW, s).health).toBe('unknown');
  });
});

describe('planReplacement', () => {
  const judge = (unhealthy: number, healthy: number) => [
    ...Array.from({ length: unhealthy }, (_, i) =>
      judgeMember(member({ id: `bad${i}`, state: 'error' }), NOW, s),
    ),
    ...Array.from({ length: healthy }, (_, i) => judgeMember(member({ id: `ok${i}` }), NOW, s)),
  ];

  it('replaces one unhealthy member, launching first below the maximum and evicting first at it', () => {
    expect(planReplacement(judge(1, 3), { size: 4, max: 10 }, false, s)).toMatchObject({
      action: 'replace',
      code: 'Replace',
      memberId: 'bad0',
      mode: 'launch-first',
    });
    expect(planReplacement(judge(1, 3), { size: 4, max: 4 }, false, s).mode).toBe('evict-first');
  });

  it('replaces nothing when more than max(1, 40 %) is unhealthy (half the pool)', () => {
    expect(planReplacement(judge(2, 2), { size: 4, max: 10 }, false, s)).toMatchObject({
      action: 'none',
      code: 'HealthGuard',
    });
    // A single unhealthy member of a small pool is allowed (max(1, ...)).
    expect(planReplacement(judge(1, 1), { size: 2, max: 10 }, false, s).action).toBe('replace');
    expect(planReplacement(judge(2, 3), { size: 5, max: 10 }, false, s).action).toBe('replace');
    expect(planReplacement(judge(3, 2), { size: 5, max: 10 }, false, s).code).toBe('HealthGuard');
  });

  it('replaces nothing while the pool is saturated, and nothing when switched off', () => {
    expect(planReplacement(judge(1, 3), { size: 4, max: 10 }, true, s)).toMatchObject({
      code: 'HealthGuard',
    });
    expect(planReplacement(judge(1, 3), { size: 4, max: 10 }, false, { ...s, enabled: false })).toMatchObject(
      {
        action: 'none',
        code: 'Unhealthy',
      },
    );
  });
});

describe('chooseVictims', () => {
  it('removes unhealthy members first, then the newest', () => {
    const members = [
      { id: 'old', createdAt: 1, health: 'healthy' as const },
      { id: 'new', createdAt: 3, health: 'healthy' as const },
      { id: 'mid-bad', createdAt: 2, health: 'unhealthy' as const },
      { id: 'unknown-age', createdAt: null, health: 'healthy' as const },
    ];
    expect(chooseVictims(members, 2)).toEqual(['mid-bad', 'new']);
    expect(chooseVictims(members, 4)).toEqual(['mid-bad', 'new', 'old', 'unknown-age']);
    expect(chooseVictims(members, 0)).toEqual([]);
  });
});
