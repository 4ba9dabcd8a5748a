import request from 'supertest';

import { DiscoveryService } from '../src/discovery/discovery.service';
import { MemberHealthService } from '../src/discovery/member-health.service';
import { DecisionLogService } from '../src/scaling/decision-log.service';
import { ScalingService } from '../src/scaling/scaling.service';
import { startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';

/**
 * Replacement of unhealthy members and quota/anti-affinity clamping, on the real app against the fake API. The
 * load balancer's per-member status (`healthcheck-status` in the API answer) is what the test sets; reads and
 * ticks are driven by the test.
 */
describe('healthy members (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  const failing = new Set<string>();

  async function boot(size: number, env: Record<string, string> = {}, pool: { antiAffinity?: boolean } = {}) {
    fake = await startFakeExoscale({ size, timings: { bootDelayMs: 10, stopDelayMs: 10 } });
    if (pool.antiAffinity)
      fake.zone.getPool(fake.poolId).antiAffinityGroupIds = ['a9f0c1d2-0000-4000-8000-000000000001'];
    await fake.zone.settle();
    failing.clear();
    fake.zone.healthOf = (ip) => {
      const m = [...fake.zone.instances.values()].find((i) => i.publicIp === ip);
      return m && m.state === 'running' && !failing.has(m.id) ? 'success' : 'failure';
    };
    t = await startApp(fake, {
      SCALING_POLICY: 'step',
      POOL_MAX_SIZE: '10',
      WARMUP_SECONDS: '0',
      HEALTH_GRACE_SECONDS: '0',
      HEALTH_FAILURE_READS: '3',
      HEALTH_FAILURE_SECONDS: '0',
      ...env,
    });
  }
  afterEach(async () => {
    await t?.app.close();
    await fake?.close();
  });
  const members = () => fake.zone.members(fake.poolId);
  const ids = () => members().map((m) => m.id);
  /** One discovery pass and one read of the load balancer, as the scheduler does. */
  const read = async (times = 1) => {
    for (let i = 0; i < times; i++) {
      await t.app.get(DiscoveryService).refresh();
      await t.app.get(MemberHealthService).observe(t.app.get(DiscoveryService).status.members);
    }
  };
  const tick = async () => {
    const entry = await t.app.get(ScalingService).tick();
    await fake.zone.settle();
    return entry;
  };
  const log = () => t.app.get(DecisionLogService).list();
  const calls = (op: string) => fake.api.count(op);

  it('counts the members the load balancer reports serving (the reading\'s serving), from its last good read', async () => {
    await boot(3, { DISCOVERY_INTERVAL_SECONDS: '10' });
    const health = t.app.get(MemberHealthService);
    const now = Date.now() / 1000;
    // Before any read: unknown, not zero.
    expect(health.servingCount(ids(), now)).toBeNull();
    await read();
    expect(health.servingCount(ids(), now)).toBe(3);
    failing.add(ids()[1]);
    expect(health.servingCount(ids(), now)).toBe(3);
    await read();
    expect(health.servingCount(ids(), now)).toBe(2);
    // Only the members asked about: a member no longer in the pool is not counted.
    expect(health.servingCount(ids().slice(0, 1), now)).toBe(1);
    expect(health.servingCount(['not-a-member'], now)).toBe(0);
    // One failed read of the load balancer keeps the last good one, for up to three discovery passes.
    fake.api.injectFault({ operation: 'get-load-balancer', status: 503, times: 1000 });
    await read();
    expect(health.lbKnown).toBe(false);
    expect(health.servingCount(ids(), now + 5)).toBe(2);
    expect(health.servingCount(ids(), now + 31)).toBeNull();
  });

  it('replaces one hung member once: launch first, evict it once the new member serves', async () => {
    await boot(3);
    const bad = ids()[0];
    failing.add(bad);
    await read(3);
    const pool = await request(t.app.getHttpServer()).get('/pool').expect(200);
    expect(pool.body.members.find((m: { id: string }) => m.id === bad)).toMatchObject({
      judgedHealth: 'unhealthy',
    });
    await tick();
    expect(members()).toHaveLength(4);
    const replace = log().find((e) => e.code === 'Replace')!;
    expect(replace).toMatchObject({ outcome: 'pending' });
    // The new member serves at the next read: the failed one is evicted.
    await read();
    await tick();
    expect(ids()).not.toContain(bad);
    expect(members()).toHaveLength(3);
    expect(log().find((e) => e.id === replace.id)).toMatchObject({ outcome: 'scaled' });
    // Once only.
    await read(3);
    await tick();
    await tick();
    expect(calls('scale-instance-pool')).toBe(1);
    expect(calls('evict-instance-pool-members')).toBe(1);
    expect(log().filter((e) => e.code === 'Replace')).toHaveLength(1);
  });

  it('replaces a member whose instance is in state error', async () => {
    await boot(2);
    const bad = ids()[1];
    fake.zone.setMemberState(bad, 'error');
    await read();
    await tick();
    await read();
    await tick();
    expect(ids()).not.toContain(bad);
    expect(members()).toHaveLength(2);
  });

  it('replaces nothing when half the pool fails the check (HealthGuard), and says so', async () => {
    await boot(4);
    failing.add(ids()[0]);
    failing.add(ids()[1]);
    await read(3);
    await tick();
    await tick();
    expect(calls('scale-instance-pool') + calls('evict-instance-pool-members')).toBe(0);
    const guard = log().find((e) => e.code === 'HealthGuard');
    expect(guard?.reasons[0].text).toMatch(/2 of 4 members are unhealthy, more than max\(1, 40 %\) = 1/);
  });

  it('replaces nothing during the grace period (warm-up)', async () => {
    await boot(2, { HEALTH_GRACE_SECONDS: '3600' });
    failing.add(ids()[0]);
    await read(5);
    await tick();
    expect(calls('scale-instance-pool') + calls('evict-instance-pool-members')).toBe(0);
    const pool = await request(t.app.getHttpServer()).get('/pool').expect(200);
    expect(pool.body.members.map((m: { judgedHealth: string }) => m.judgedHealth)).toEqual([
      'grace',
      'grace',
    ]);
  });

  it('a replacement racing a scale-out still gives the right size', async () => {
    await boot(3);
    const bad = ids()[0];
    failing.add(bad);
    await read(3);
    await tick(); // launch: 4 members, 3 of them counted
    expect(members()).toHaveLength(4);
    await request(t.app.getHttpServer()).get('/up').expect(202);
    const up = await tick(); // the step: 3 -> 4 decided, 5 asked (the replacement's extra member kept)
    expect(up).toMatchObject({ outcome: 'scaled', targetSize: 5 });
    expect(up.reasons.map((r) => r.text).join(' ')).toMatch(/decided on 3, asking 5/);
    expect(members()).toHaveLength(5);
    await read();
    await tick(); // evict the failed member
    expect(ids()).not.toContain(bad);
    expect(members()).toHaveLength(4);
  });

  it('at the maximum, evicts first and scales back', async () => {
    await boot(3, { POOL_MAX_SIZE: '3' });
    const bad = ids()[2];
    failing.add(bad);
    await read(3);
    await tick();
    expect(ids()).not.toContain(bad);
    expect(members()).toHaveLength(3);
    expect(log().find((e) => e.code === 'Replace')).toMatchObject({ outcome: 'scaled' });
  });

  it('replaces nothing while the pool is saturated', async () => {
    await boot(3, { SCALING_POLICY: 'target', POOL_MAX_SIZE: '3' });
    failing.add(ids()[0]);
    await read(3);
    await request(t.app.getHttpServer())
      .post('/webhooks/alertmanager?direction=up')
      .send({
        status: 'firing',
        alerts: [{ status: 'firing', labels: { alertname: 'PoolCpuHigh' }, annotations: { value: '0.99' } }],
      })
      .expect(202);
    await tick();
    expect(calls('evict-instance-pool-members')).toBe(0);
    expect(log().find((e) => e.code === 'HealthGuard')?.reasons[0].text).toMatch(/saturated/);
  });

  it('scale-in evicts chosen members: an unhealthy one first, else the newest', async () => {
    await boot(4, { HEALTH_REPLACEMENT: 'off' });
    const [oldest, middle, newer, newest] = ids();
    [oldest, middle, newer, newest].forEach((id, i) => {
      fake.zone.instances.get(id)!.createdAt = new Date(Date.now() - (10 - i) * 60_000).toISOString();
    });
    failing.add(middle);
    await read(3);
    await request(t.app.getHttpServer()).get('/down').expect(202);
    await tick();
    expect(ids()).not.toContain(middle);
    await read();
    await request(t.app.getHttpServer()).get('/down').expect(202);
    await tick();
    expect(ids()).toEqual([oldest, newer]);
    expect(calls('evict-instance-pool-members')).toBe(2);
    expect(calls('scale-instance-pool')).toBe(0);
  });

  it('never asks for more than the instance quota leaves (QuotaLimited)', async () => {
    await boot(2, { SCALING_POLICY: 'target' });
    fake.zone.instanceQuotaLimit = 3; // 2 used: room for 1
    const alert = (v: string) => ({
      status: 'firing',
      alerts: [
        { status: 'firing', labels: { alertname: 'PoolCpuHigh' }, annotations: { value: v }, fingerprint: v },
      ],
    });
    await request(t.app.getHttpServer())
      .post('/webhooks/alertmanager?direction=up')
      .send(alert('0.99'))
      .expect(202);
    const capped = await tick();
    expect(capped.reasons.map((r) => r.code)).toContain('QuotaLimited');
    expect(members()).toHaveLength(3);
    const full = await request(t.app.getHttpServer()).post('/pool/scale').send({ direction: 'up' });
    expect(full.body).toMatchObject({ outcome: 'none', code: 'QuotaLimited' });
    expect(members()).toHaveLength(3);
  });

  it('clamps the maximum to 8 for a pool in an anti-affinity group', async () => {
    await boot(6, { SCALING_POLICY: 'target', POOL_MAX_SIZE: '20' }, { antiAffinity: true });
    await request(t.app.getHttpServer())
      .post('/webhooks/alertmanager?direction=up')
      .send({
        status: 'firing',
        alerts: [{ status: 'firing', labels: { alertname: 'PoolCpuHigh' }, annotations: { value: '0.99' } }],
      })
      .expect(202);
    expect(await tick()).toMatchObject({ outcome: 'scaled', targetSize: 8 });
    const pool = await request(t.app.getHttpServer()).get('/pool').expect(200);
    expect(pool.body.bounds).toEqual({ min: 1, max: 8 });
  });
});
