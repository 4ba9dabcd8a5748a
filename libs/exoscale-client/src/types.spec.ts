import {
  MalformedResponseError,
  toInstance,
  toInstancePool,
  toLoadBalancer,
  toOperation,
  toQuota,
} from './types';

describe('wire mapping', () => {
  it('maps an instance without a public IP (absent or null) and ignores unknown fields', () => {
    expect(
      toInstance({ id: 'i1', state: 'running', name: 'pool-a', 'brand-new-field': { x: 1 } }).publicIp,
    ).toBeNull();
    expect(toInstance({ id: 'i1', state: 'running', 'public-ip': null }).publicIp).toBeNull();
    expect(toInstance({ id: 'i1', state: 'running', 'public-ip': '194.182.0.10' }).publicIp).toBe(
      '194.182.0.10',
    );
  });

  it('maps a pool with only the required fields', () => {
    expect(toInstancePool({ id: 'p1', size: 0, state: 'running' })).toEqual({
      id: 'p1',
      name: '',
      description: undefined,
      size: 0,
      state: 'running',
      instanceIds: [],
      instancePrefix: undefined,
      instanceTypeId: undefined,
      templateId: undefined,
      labels: {},
      antiAffinityGroupIds: [],
    });
    expect(
      toInstancePool({
        id: 'p1',
        size: 0,
        state: 'running',
        'anti-affinity-groups': [{ id: 'g1' }, { name: 'x' }],
      }).antiAffinityGroupIds,
    ).toEqual(['g1']);
  });

  it('maps a quota, -1 meaning unlimited', () => {
    expect(toQuota({ resource: 'instance', usage: 3, limit: -1 })).toEqual({
      resource: 'instance',
      usage: 3,
      limit: -1,
    });
    expect(() => toQuota({ resource: 'instance', usage: '3', limit: 10 })).toThrow(MalformedResponseError);
  });

  it('rejects objects missing what the schema requires', () => {
    expect(() => toInstancePool({ id: 'p1', size: -1, state: 'running' })).toThrow(MalformedResponseError);
    expect(() => toInstancePool(null)).toThrow(MalformedResponseError);
    expect(() => toOperation({ state: 'pending' })).toThrow(/operation.id is missing/);
    expect(() => toInstance({ id: 'i', state: 'running', labels: 'x', 'instance-type': 3 })).not.toThrow();
  });

  it('maps the load balancer health-check status', () => {
    const lb = toLoadBalancer({
      id: 'lb',
      ip: '1.2.3.4',
      services: [{ id: 's', 'healthcheck-status': [{ 'public-ip': '10.0.0.1', status: 'failure' }] }],
    });
    expect(lb.services[0].healthcheckStatus).toEqual([{ publicIp: '10.0.0.1', status: 'failure' }]);
  });
});
