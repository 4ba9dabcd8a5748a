import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';

import { FleetScheduler } from '../src/fleet/fleet.scheduler';
import { Fleet } from '../src/fleet/fleet.service';
import { eventually, startFleetApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';

/** Two pools of one zone managed by one control plane from a pools file: routing, independence, API, state. */
describe('many pools (e2e)', () => {
  let fake: FakeExoscale;
  let workerId: string;
  let dir: string;
  let app: NestExpressApplication;

  const start = async () => {
    app = await startFleetApp(fake, dir, {
      SCALE_UP_COOLDOWN_SECONDS: '0',
      SCALE_DOWN_COOLDOWN_SECONDS: '0',
      WEBHOOK_DEDUP_SECONDS: '0',
    });
  };
  const server = () => app.getHttpServer();
  const fleet = () => app.get(Fleet);
  const pending = (name: string) => {
    const s = fleet().find(name)!.signals.snapshot();
    return { up: Boolean(s.up), down: Boolean(s.down) };
  };
  const scaleCalls = () =>
    fake.api.requests
      .filter((r) => r.operation === 'scale-instance-pool' && r.status === 200)
      .map((r) => r.path);
  const alert = (labels: Record<string, string>, status = 'firing') => ({
    status,
    labels: { alertname: 'PoolCpuHigh', autoscale: 'up', ...labels },
    annotations: {},
    startsAt: new Date().toISOString(),
    fingerprint: `fp-${JSON.stringify(labels)}`,
  });
  const notification = (alerts: unknown[], extra: Record<string, unknown> = {}) => ({
    version: '4',
    status: 'firing',
    receiver: 'autoscaler',
    groupKey: `{}:{alertname="PoolCpuHigh"}-${Math.random()}`,
    alerts,
    ...extra,
  });

  beforeAll(async () => {
    fake = await startFakeExoscale({ size: 1 });
    const worker = await fake.zone.createPool({ name: 'worker-pool', size: 2 });
    fake.zone.createLoadBalancer({ name: 'lb-2', poolId: worker.id, port: 81, targetPort: 8080 });
    workerId = worker.id;
    dir = await mkdtemp(join(tmpdir(), 'cp-pools-'));
    await writeFile(
      join(dir, 'pools.yaml'),
      [
        'pools:',
        `  - {name: web, id: ${fake.poolId}, zone: at-vie-1, min: 1, max: 4}`,
        `  - name: worker`,
        `    id: ${workerId}`,
        `    min: 2`,
        `    max: 3`,
        `    settings: {TARGET_UTILIZATION: 0.5}`,
      ].join('\n'),
    );
    await start();
  });
  afterAll(async () => {
    await app?.close();
    await fake.close();
  });
  beforeEach(async () => {
    for (const scope of fleet().all()) {
      scope.signals.clear('up');
      scope.signals.clear('down');
      await scope.state.save();
    }
  });

  it('lists every pool with its name, id, zone, size and bounds', async () => {
    await eventually(
      () => request(server()).get('/pools'),
      (r) => r.body.every((p: { size: number | null }) => p.size !== null),
    );
    const { body } = await request(server()).get('/pools').expect(200);
    expect(body).toEqual([
      expect.objectContaining({ name: 'web', id: fake.poolId, zone: 'at-vie-1', size: 1, min: 1, max: 4 }),
      expect.objectContaining({ name: 'worker', id: workerId, zone: 'at-vie-1', size: 2, min: 2, max: 3 }),
    ]);
    const worker = await request(server()).get('/pools/worker').expect(200);
    expect(worker.body).toMatchObject({ pool: 'worker', id: workerId, size: 2, bounds: { min: 2, max: 3 } });
    expect(worker.body.policy.targetUtilization).toBe(0.5);
    await request(server()).get(`/pools/${workerId}`).expect(200);
    const missing = await request(server()).get('/pools/nope').expect(404);
    expect(JSON.stringify(missing.body)).toContain('web, worker');
  });

  it('writes one file_sd file per pool, each target labelled with its pool', async () => {
    for (const [name, id] of [
      ['web', fake.poolId],
      ['worker', workerId],
    ]) {
      const groups = await eventually(
        async () =>
          JSON.parse(await readFile(join(dir, 'sd', `pool-${name}.json`), 'utf8').catch(() => '[]')) as {
            labels: Record<string, string>;
          }[],
        (g) => g.length === fake.zone.members(id).length,
      );
      for (const g of groups) expect(g.labels).toMatchObject({ pool: name, pool_id: id, zone: 'at-vie-1' });
    }
  });

  it('routes an alert by its pool label: only that pool records it, and only that pool is scaled', async () => {
    const before = scaleCalls().length;
    const res = await request(server())
      .post('/webhooks/alertmanager')
      .send(notification([alert({ pool: 'worker' })]))
      .expect(202);
    expect(res.body).toMatchObject({ pool: 'worker', status: 'accepted' });
    expect(fleet().find('worker')!.signals.firing()).toHaveLength(1);
    expect(fleet().find('web')!.signals.firing()).toHaveLength(0);
    await app.get(FleetScheduler).tick();
    expect(scaleCalls().slice(before)).toEqual([expect.stringContaining(workerId)]);
    await eventually(
      () => fake.zone.getPool(workerId).size,
      (size) => size === 3,
    );
    expect(fake.zone.getPool(fake.poolId).size).toBe(1);
    const events = await request(server()).get('/pools/worker/events?limit=1').expect(200);
    expect(events.body[0]).toMatchObject({
      poolName: 'worker',
      outcome: expect.stringMatching(/scaled|pending/),
    });
    const webEvents = await request(server()).get('/pools/web/events?limit=1').expect(200);
    expect(webEvents.body[0]).toMatchObject({ poolName: 'web', outcome: 'none' });
    // Resolved: the worker's alert clears; still nothing for web.
    await request(server())
      .post('/webhooks/alertmanager')
      .send(notification([alert({ pool: 'worker' }, 'resolved')], { status: 'resolved' }))
      .expect(200);
    expect(fleet().find('worker')!.signals.firing()).toHaveLength(0);
  });

  it('splits a notification whose alerts are for several pools; the pool may be named by id', async () => {
    const res = await request(server())
      .post('/webhooks/alertmanager')
      .send(notification([alert({ pool: 'web', autoscale: 'down' }), alert({ pool: workerId })]))
      .expect(202);
    expect(res.body.pools).toEqual(['web', 'worker']);
    expect(res.body.changes).toEqual([
      expect.objectContaining({ pool: 'web', direction: 'down' }),
      expect.objectContaining({ pool: 'worker', direction: 'up' }),
    ]);
    expect(
      fleet()
        .find('web')!
        .signals.firing()
        .map((a) => a.direction),
    ).toEqual(['down']);
    expect(
      fleet()
        .find('worker')!
        .signals.firing()
        .map((a) => a.direction),
    ).toEqual(['up']);
  });

  it('a whole notification of a group spread over pools resolves the alerts of a pool it no longer lists', async () => {
    const groupKey = '{}:{alertname="PoolCpuHigh"}-mixed';
    await request(server())
      .post('/webhooks/alertmanager')
      .send(notification([alert({ pool: 'web' }), alert({ pool: 'worker' })], { groupKey }))
      .expect(202);
    expect(fleet().find('worker')!.signals.firing()).toHaveLength(1);
    // send_resolved off: the worker's alert resolved, the group's next notification lists web's alone.
    const res = await request(server())
      .post('/webhooks/alertmanager')
      .send(notification([alert({ pool: 'web' })], { groupKey }))
      .expect(202);
    expect(res.body.pools).toEqual(['web', 'worker']);
    expect(res.body.changes).toContainEqual(expect.objectContaining({ pool: 'worker', action: 'clear' }));
    expect(fleet().find('worker')!.signals.firing()).toHaveLength(0);
    expect(fleet().find('web')!.signals.firing()).toHaveLength(1);
    // A truncated list resolves nothing it does not show, in any pool.
    await request(server())
      .post('/webhooks/alertmanager')
      .send(notification([alert({ pool: 'web' }), alert({ pool: 'worker' })], { groupKey }))
      .expect(202);
    await request(server())
      .post('/webhooks/alertmanager')
      .send(notification([alert({ pool: 'web' })], { groupKey, truncatedAlerts: 1 }))
      .expect(202);
    expect(fleet().find('worker')!.signals.firing()).toHaveLength(1);
  });

  it('answers 400 for a pool given twice in the query, on every route that takes one', async () => {
    for (const path of [
      '/pool?pool=web&pool=worker',
      '/pool/events?pool=web&pool=web',
      '/health?pool=web&pool=x',
    ])
      expect(JSON.stringify((await request(server()).get(path).expect(400)).body)).toContain(
        'pool must be given once',
      );
    await request(server()).get('/up?pool=web&pool=worker').expect(400);
  });

  it.each([
    ['an alert naming no pool', () => notification([alert({})]), /names no pool and several are managed/],
    [
      'an alert naming a pool not managed here',
      () => notification([alert({ pool: 'db' })]),
      /db.*does not manage/,
    ],
    [
      'one good alert beside one for an unknown pool',
      () => notification([alert({ pool: 'web' }), alert({ pool: 'db' })]),
      /db.*does not manage/,
    ],
  ])('answers 400 for %s and records nothing in any pool', async (_name, body, reason) => {
    const res = await request(server()).post('/webhooks/alertmanager').send(body()).expect(400);
    expect(JSON.stringify(res.body)).toMatch(reason);
    for (const scope of fleet().all()) expect(scope.signals.firing()).toHaveLength(0);
  });

  it('takes ?pool= for bare /up and /down and for notifications; refuses a pool label that disagrees', async () => {
    await request(server()).get('/up?pool=web').expect(202);
    expect(pending('web')).toEqual({ up: true, down: false });
    expect(pending('worker')).toEqual({ up: false, down: false });
    const bare = await request(server()).get('/down').expect(400);
    expect(JSON.stringify(bare.body)).toMatch(/several are managed \(web, worker\)/);
    await request(server())
      .post('/webhooks/grafana?pool=worker')
      .send(notification([alert({})]))
      .expect(202);
    expect(fleet().find('worker')!.signals.firing()).toHaveLength(1);
    const conflict = await request(server())
      .post('/webhooks/alertmanager?pool=web')
      .send(notification([alert({ pool: 'worker' })]))
      .expect(400);
    expect(JSON.stringify(conflict.body)).toMatch(/labelled for pool worker but the request names pool web/);
    await request(server()).get('/up?pool=nope').expect(400);
  });

  it('scales one pool by hand through /pools/{name}/scale; /pool needs ?pool= when there are several', async () => {
    await eventually(
      () => fake.zone.getPool(workerId).state,
      (s) => s === 'running',
    );
    const webBefore = fake.zone.getPool(fake.poolId).size;
    const res = await request(server()).post('/pools/worker/scale').send({ size: 2 }).expect(200);
    expect(res.body).toMatchObject({ poolName: 'worker', targetSize: 2 });
    expect(fake.zone.getPool(fake.poolId).size).toBe(webBefore);
    await request(server()).post('/pools/worker/scale').send({ size: 4 }).expect(400);
    await request(server()).get('/pool').expect(400);
    const one = await request(server()).get('/pool?pool=web').expect(200);
    expect(one.body.pool).toBe('web');
  });

  it('reports health, metrics and the status overview by pool', async () => {
    const health = await eventually(
      () => request(server()).get('/health'),
      (r) => r.status === 200,
    );
    expect(Object.keys(health.body.details)).toEqual(['pool:web', 'pool:worker']);
    const one = await request(server()).get('/health?pool=worker').expect(200);
    expect(Object.keys(one.body.details)).toEqual([
      'exoscale',
      'discovery',
      'sdFile',
      'stateFile',
      'scalingTick',
    ]);
    await request(server()).get('/up?pool=worker').expect(202);
    const metrics = await request(server()).get('/metrics').expect(200);
    expect(metrics.text).toContain('autoscaler_pending_signal{pool="worker",direction="up"} 1');
    expect(metrics.text).toMatch(/autoscaler_discovery_targets\{pool="web"\} \d/);
    expect(metrics.text).toContain('autoscaler_pools 2');
    const page = await request(server()).get('/').expect(200);
    expect(page.text).toContain('all pools');
    expect(page.text).toContain('/status/overview.js');
    const detail = await request(server()).get('/status/pools/worker').expect(200);
    expect(detail.text).toContain('/status/app.js');
    await request(server()).get('/status/pools/nope').expect(404);
    const spark = await request(server())
      .get('/status/pools/web/spark.svg')
      .buffer(true)
      .parse((res, done) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done(null, text));
      })
      .expect(200);
    expect(spark.body).toContain('<svg');
  });

  it("keeps each pool's state in its own file across a restart", async () => {
    await request(server()).get('/up?pool=web').expect(202);
    await app.close();
    const saved = JSON.parse(await readFile(join(dir, 'state', 'pools', fake.poolId, 'state.json'), 'utf8'));
    expect(saved.signals.steps.map((s: { direction: string }) => s.direction)).toEqual(['up']);
    await start();
    expect(pending('web')).toEqual({ up: true, down: false });
    expect(pending('worker')).toEqual({ up: false, down: false });
  });
});
