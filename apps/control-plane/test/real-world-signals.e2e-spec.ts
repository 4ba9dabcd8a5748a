import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import request from 'supertest';

import { ScalingService } from '../src/scaling/scaling.service';
import { startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';

// Inputs operators have reported against Grafana and Alertmanager (../shared/fixtures/real-world, copied here),
// and other members of each kind, sent to the real app against the fake API; the tick is driven by the test.
const load = (name: string) =>
  JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as Record<string, unknown> & {
    alerts: Record<string, unknown>[];
  };

type Policy = 'step' | 'target';

describe('signals that mean what they say (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  const server = () => t.app.getHttpServer();
  const size = () => fake.zone.getPool(fake.poolId).size;

  async function boot(policy: Policy, poolSize = 2, env: Record<string, string> = {}) {
    fake = await startFakeExoscale({ size: poolSize, timings: { bootDelayMs: 10, stopDelayMs: 10 } });
    await fake.zone.settle();
    t = await startApp(fake, { SCALING_POLICY: policy, POOL_MAX_SIZE: '10', WARMUP_SECONDS: '0', ...env });
  }
  afterEach(async () => {
    await t?.app.close();
    await fake?.close();
  });
  const tick = async () => {
    const entry = await t.app.get(ScalingService).tick();
    await fake.zone.settle();
    return entry;
  };
  const post = (path: string, body: unknown) =>
    request(server())
      .post(path)
      .send(body as object);

  describe.each(['step', 'target'] as Policy[])('under the %s policy', (policy) => {
    it.each([
      ['real-world/grafana-datasource-nodata.json', /DatasourceNoData: missing data is not load/],
      ['real-world/grafana-datasource-error.json', /DatasourceError: missing data is not load/],
      [
        'real-world/grafana-legacy-alerting-no-evalmatches.json',
        /no evalMatches values: missing data is not load/,
      ],
    ])('%s is ignored with its reason and never scales', async (name, reason) => {
      await boot(policy);
      const res = await post('/webhooks/grafana', load(name)).expect(200);
      expect(res.body).toMatchObject({ status: 'ignored', changes: [], inForce: [] });
      expect(res.body.reasons.join(' ')).toMatch(reason);
      expect(await tick()).toMatchObject({ outcome: 'none', code: 'NoSignal' });
      expect(size()).toBe(2);
    });

    it('a rule that fired on NoData (grafana_state_reason) or a resolved DatasourceError changes nothing', async () => {
      await boot(policy);
      const body = load('real-world/grafana-threshold-B.json');
      body.alerts[0].annotations = { grafana_state_reason: 'NoData' };
      body.alerts[0].values = null;
      await post('/webhooks/grafana', body).expect(200);
      const error = load('real-world/grafana-datasource-error.json');
      error.alerts[0].status = 'resolved';
      await post('/webhooks/grafana', error).expect(200);
      expect((await tick()).code).toBe('NoSignal');
      expect(size()).toBe(2);
    });

    it.each([
      ['real-world/grafana-mixed-instances.json', '/webhooks/grafana'],
      ['real-world/alertmanager-repeat-with-resolved.json', '/webhooks/alertmanager'],
    ])('%s: the firing instance stays in force in either order, one step', async (name, path) => {
      const outcomes: number[] = [];
      for (const reversed of [false, true]) {
        await boot(policy);
        const body = load(name);
        if (reversed) body.alerts.reverse();
        const res = await post(path, body).expect(202);
        expect(res.body.inForce).toEqual([
          expect.objectContaining({ direction: 'up', alert: 'MemberCpuHigh' }),
        ]);
        const first = await tick();
        expect(first.outcome).toBe('scaled');
        outcomes.push(size());
        // No second step from the same notification.
        if (policy === 'step') expect((await tick()).code).toBe('NoSignal');
        expect(size()).toBe(outcomes.at(-1));
        await t.app.close();
        await fake.close();
      }
      expect(outcomes[0]).toBe(outcomes[1]);
      if (policy === 'step') expect(outcomes[0]).toBe(3);
    });

    it('a resolved alert clears only itself: another instance of the same rule stays in force', async () => {
      await boot(policy);
      const body = load('real-world/alertmanager-repeat-with-resolved.json');
      const [a, b] = body.alerts;
      b.status = 'firing';
      await post('/webhooks/alertmanager', { ...body, alerts: [a, b] }).expect(202);
      const resolvedB = { ...b, status: 'resolved' };
      const res = await post('/webhooks/alertmanager', { ...body, alerts: [a, resolvedB] }).expect(202);
      expect(res.body.inForce.map((x: { id: string }) => x.id)).toEqual([a.fingerprint]);
      // Without fingerprints the label sets tell the instances apart.
      const noPrints = [a, resolvedB].map((x) => ({ ...x, fingerprint: undefined }));
      const again = await post('/webhooks/alertmanager?direction=up', {
        ...body,
        groupKey: 'other',
        alerts: noPrints,
      });
      expect(again.body.inForce.filter((x: { alert: string }) => x.alert === 'MemberCpuHigh')).toHaveLength(
        2,
      );
    });

    it('a duplicate delivery (an HA peer, a retry) is not a second step, even after the first was applied', async () => {
      await boot(policy);
      const body = load('real-world/grafana-threshold-B.json');
      await post('/webhooks/grafana', body).expect(202);
      const peer = await post('/webhooks/grafana', {
        ...body,
        externalURL: 'http://grafana-2.example/',
      }).expect(200);
      expect(peer.body.duplicateOf).toEqual(expect.any(String));
      expect(peer.body.reasons[0]).toMatch(/duplicate delivery/);
      expect((await tick()).outcome).toBe('scaled');
      const after = size();
      // The retry arrives after the step was made: still the same notification.
      await post('/webhooks/grafana', body).expect(200);
      const next = await tick();
      expect(next.outcome).not.toBe('scaled');
      expect(size()).toBe(after);
    });
  });

  it('a duplicate with its alerts in another order (an HA peer) is still a duplicate', async () => {
    await boot('step');
    const body = load('real-world/alertmanager-repeat-with-resolved.json');
    body.alerts[1].status = 'firing';
    await post('/webhooks/alertmanager', body).expect(202);
    const peer = { ...body, alerts: [...body.alerts].reverse(), externalURL: 'http://am-2.example' };
    const res = await post('/webhooks/alertmanager', peer).expect(200);
    expect(res.body.duplicateOf).toEqual(expect.any(String));
    await tick();
    expect((await tick()).code).toBe('NoSignal');
    expect(size()).toBe(3);
  });

  it('a repeat outside WEBHOOK_DEDUP_SECONDS is a new signal (the course: repeated after 5 minutes)', async () => {
    await boot('step', 2, { WEBHOOK_DEDUP_SECONDS: '0' });
    const body = load('real-world/grafana-threshold-B.json');
    await post('/webhooks/grafana', body).expect(202);
    await tick();
    await post('/webhooks/grafana', body).expect(202);
    await tick();
    expect(size()).toBe(4);
  });

  it('sizes from the query, never from the threshold B: 2 -> 3, not 6', async () => {
    await boot('target');
    const res = await post('/webhooks/grafana', load('real-world/grafana-threshold-B.json')).expect(202);
    expect(res.body.changes[0].value).toBe(0.62);
    expect(await tick()).toMatchObject({ outcome: 'scaled', targetSize: 3 });
  });

  it('values it cannot tell apart fall back to one step', async () => {
    await boot('target');
    const body = load('real-world/grafana-threshold-B.json');
    body.alerts[0].values = { A: 0.3, B: 0.97, C: 1 };
    body.alerts[0].valueString = '';
    const res = await post('/webhooks/grafana', body).expect(202);
    expect(res.body.changes[0].value).toBeNull();
    expect(await tick()).toMatchObject({ outcome: 'scaled', code: 'NoValue', targetSize: 3 });
  });

  it('a truncated list resolves nothing it does not show; a whole list resolves the absent ones', async () => {
    await boot('target');
    const body = load('real-world/alertmanager-repeat-with-resolved.json');
    const [a, b] = body.alerts;
    const both = [a, { ...b, status: 'firing' }];
    await post('/webhooks/alertmanager', { ...body, alerts: both }).expect(202);
    const cut = await post('/webhooks/alertmanager', { ...body, alerts: [a], truncatedAlerts: 1 }).expect(
      202,
    );
    expect(cut.body.inForce).toHaveLength(2);
    expect(cut.body.reasons.join(' ')).toMatch(/truncated/);
    const whole = await post('/webhooks/alertmanager', {
      ...body,
      alerts: [{ ...a, annotations: { value: '0.92' } }],
      truncatedAlerts: 0,
    }).expect(202);
    expect(whole.body.inForce.map((x: { id: string }) => x.id)).toEqual([a.fingerprint]);
    expect(whole.body.reasons.join(' ')).toMatch(/absent from a whole notification of its group/);
  });
});

describe('the pool is always within its bounds (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  afterEach(async () => {
    await t?.app.close();
    await fake?.close();
  });
  async function boot(poolSize: number, env: Record<string, string>) {
    fake = await startFakeExoscale({ size: poolSize, timings: { bootDelayMs: 10, stopDelayMs: 10 } });
    await fake.zone.settle();
    t = await startApp(fake, { WARMUP_SECONDS: '0', ...env });
    return t.app.get(ScalingService);
  }
  const size = () => fake.zone.getPool(fake.poolId).size;

  it.each([
    [
      'an empty pool with POOL_MIN_SIZE=1 (no members, so no alert ever)',
      0,
      { POOL_MIN_SIZE: '1', POOL_MAX_SIZE: '5' },
      1,
      'BelowMin',
    ],
    ['a pool at 7 with POOL_MAX_SIZE=5, idle', 7, { POOL_MIN_SIZE: '1', POOL_MAX_SIZE: '5' }, 5, 'AboveMax'],
    ['a pool at 1 with POOL_MIN_SIZE=3', 1, { POOL_MIN_SIZE: '3', POOL_MAX_SIZE: '5' }, 3, 'BelowMin'],
  ])('a tick brings %s within its bounds, as its own decision', async (_, from, env, to, code) => {
    for (const policy of ['step', 'target']) {
      const scaling = await boot(from, { ...env, SCALING_POLICY: policy });
      expect(await scaling.tick()).toMatchObject({ outcome: 'scaled', code, targetSize: to });
      await fake.zone.settle();
      expect(size()).toBe(to);
      expect((await scaling.tick()).code).toBe('NoSignal');
      await t.app.close();
      await fake.close();
    }
  });

  it('outside the bounds, the correction is its own decision and the pending signal is then applied against the bound', async () => {
    let scaling = await boot(1, { POOL_MIN_SIZE: '2', POOL_MAX_SIZE: '5', SCALING_POLICY: 'step' });
    await request(t.app.getHttpServer()).get('/down').expect(202);
    const raised = await scaling.tick();
    expect(raised).toMatchObject({ outcome: 'scaled', code: 'BelowMin', targetSize: 2 });
    await fake.zone.settle();
    // The down step is still there and is now applied against the bound: no change.
    expect(await scaling.tick()).toMatchObject({ outcome: 'none', code: 'AtMin' });
    expect(size()).toBe(2);
    await t.app.close();
    await fake.close();

    scaling = await boot(7, { POOL_MIN_SIZE: '1', POOL_MAX_SIZE: '5', SCALING_POLICY: 'step' });
    await request(t.app.getHttpServer()).get('/up').expect(202);
    expect(await scaling.tick()).toMatchObject({ outcome: 'scaled', code: 'AboveMax', targetSize: 5 });
    await fake.zone.settle();
    expect(await scaling.tick()).toMatchObject({ outcome: 'none', code: 'AtMax' });
    expect(size()).toBe(5);
  });
});
