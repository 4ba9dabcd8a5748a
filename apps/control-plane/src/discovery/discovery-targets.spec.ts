import { Instance } from '@app/exoscale-client';

import { targetGroupsForMembers } from './discovery-targets';

const member = (id: string, state: string, publicIp: string | null): Instance => ({
  id,
  name: `pool-${id}`,
  state,
  publicIp,
  labels: {},
});

describe('targetGroupsForMembers', () => {
  it('keeps running members with a public IP, one labelled group each', () => {
    const groups = targetGroupsForMembers(
      [
        member('a', 'running', '194.182.0.10'),
        member('b', 'starting', '194.182.0.11'),
        member('c', 'running', null),
      ],
      { poolId: 'p', zone: 'at-vie-1', pool: 'web', targetPort: 9100 },
    );
    expect(groups).toEqual([
      {
        targets: ['194.182.0.10:9100'],
        labels: { instance_id: 'a', instance_name: 'pool-a', pool_id: 'p', zone: 'at-vie-1', pool: 'web' },
      },
    ]);
  });

  it('gives no groups for an empty pool', () => {
    expect(targetGroupsForMembers([], { poolId: 'p', zone: 'z', pool: 'web', targetPort: 1 })).toEqual([]);
  });
});
