import { describeLeadership, LeadershipAnswer, leadershipProblems } from './leadership';
import { stackControlPlanes } from './timings';

const [cp1, cp2] = stackControlPlanes(2);
const at = Date.parse('2026-11-30T12:00:00Z');
const lease = (role: 'leader' | 'follower', holder = 'cp-1', epoch = 3) => ({
  role,
  holder,
  epoch,
  leaseExpiresAt: new Date(at + 4500).toISOString(),
});

describe('leadership of the replicas', () => {
  it('is settled with one leader that both replicas name, at the same epoch', () => {
    expect(
      leadershipProblems([
        { cp: cp1, leadership: lease('leader') },
        { cp: cp2, leadership: lease('follower') },
      ]),
    ).toEqual([]);
  });

  it.each<[string, LeadershipAnswer[], RegExp]>([
    [
      'no leader',
      [
        { cp: cp1, leadership: lease('follower', 'cp-9') },
        { cp: cp2, leadership: lease('follower', 'cp-9') },
      ],
      /no replica leads/,
    ],
    [
      'two leaders',
      [
        { cp: cp1, leadership: lease('leader') },
        { cp: cp2, leadership: lease('leader') },
      ],
      /2 replicas say they lead \(cp-1, cp-2\)/,
    ],
    [
      'different epochs',
      [
        { cp: cp1, leadership: lease('leader', 'cp-1', 4) },
        { cp: cp2, leadership: lease('follower', 'cp-1', 3) },
      ],
      /disagree: cp-1 sees cp-1 at epoch 4, cp-2 sees cp-1 at epoch 3/,
    ],
    [
      'a leader the lease does not name',
      [
        { cp: cp1, leadership: lease('leader', 'cp-2') },
        { cp: cp2, leadership: lease('follower', 'cp-2') },
      ],
      /cp-1 leads but the lease names cp-2/,
    ],
    [
      'a replica not answering',
      [
        { cp: cp1, leadership: lease('leader') },
        { cp: cp2, error: 'ECONNREFUSED' },
      ],
      /cp-2: ECONNREFUSED/,
    ],
  ])('is not settled with %s', (_, answers, problem) => {
    expect(leadershipProblems(answers).join('; ')).toMatch(problem);
  });

  it('prints each replica on one line', () => {
    expect(describeLeadership({ cp: cp1, leadership: lease('leader') }, at)).toBe(
      'cp-1  http://127.0.0.1:8090/leadership  leader, holder cp-1, epoch 3, lease 4.5 s left',
    );
    expect(describeLeadership({ cp: cp2, error: 'answered 404' }, at)).toBe(
      'cp-2  http://127.0.0.1:8091/leadership  no answer (answered 404)',
    );
  });
});
