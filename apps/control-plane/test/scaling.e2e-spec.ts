import request from 'supertest';

import { DiscoveryService } from '../src/discovery/discovery.service';
import { DecisionLogService } from '../src/scaling/decision-log.service';
import { ScalingService } from '../src/scaling/scaling.service';
import { SignalStore } from '../src/scaling/signal-store';
import { eventually, startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';

describe('scaling (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  const server = () => t.app.getHttpServer();
  const poolSize = () => fake.zone.getPool(fake.poolId).size;

  afterEach(async () => {
    await t?.app.close();
    await fake?.close();
  });

  it('runs the course grader scenario on the periodic tick', async () => {
    fake = await startFakeExoscale({ size: 1 });
    t = await startApp(fake, { SCALING_INTERVAL_SECONDS: '1' });
    const log = t.app.get(DecisionLogService);
    await request(server()).get('/up').expect(202);
    await eventually(
      () => fake.zone.members(fake.poolId).filter((m) => m.state === 'running').length,
      (n) => n === 2,
    );
    await request(server()).get('/down').expect(202);
    const down = await eventually(
      () => log.latest(),
      (e) => e?.outcome === 'scaled' && e.direction === 'down',
    );
    expect(poolSize()).toBe(1);
    await request(server()).get('/down').expect(202);
    const atMin = await eventually(
      () => log.latest(),
      (e) => e !== undefined && e.id > down!.id && e.pending.down,
    );
    expect(atMin).toMatchObject({ trigger: 'tick', outcome: 'none', boundApplied: 'min', pool: { size: 1 } });
    expect(poolSize()).toBe(1);
    expect(fake.zone.overlappingOperations).toBe(0);
  });

  describe('with the tick driven by the test', () => {
    beforeEach(async () => {
      fake = await startFakeExoscale({ size: 1 });
      t = await startApp(fake);
    });
    const tick = () => t.app.get(ScalingService).tick();

    it('logs every tick, including "nothing to do", and serves the log newest first', async () => {
      expect(await tick()).toMatchObject({
        trigger: 'tick',
        outcome: 'none',
        code: 'NoSignal',
        reasons: [{ code: 'NoSignal', text: 'no pending signal and no firing alert' }],
      });
      await request(server()).post('/up').expect(202);
      const scaled = await tick();
      expect(scaled).toMatchObject({
        outcome: 'scaled',
        direction: 'up',
        targetSize: 2,
        pending: { up: true, down: false },
        pool: { size: 1, state: 'running' },
        bounds: { min: 1, max: 3 },
        operation: { outcome: 'success' },
      });
      expect(scaled.operation?.id).toMatch(/^[0-9a-f-]{36}$/);
      const events = await request(server()).get('/pool/events').expect(200);
      expect(events.body.map((e: { id: number }) => e.id)).toEqual([scaled.id, scaled.id - 1]);
      await request(server()).get('/pool/events?limit=0').expect(400);
      // The signal was consumed: the next tick does nothing.
      expect(await tick()).toMatchObject({ outcome: 'none' });
      expect(poolSize()).toBe(2);
    });

    it('keeps the signal when the scale call fails, and applies it on the next tick', async () => {
      await request(server()).get('/up').expect(202);
      fake.api.injectFault({
        operation: 'scale-instance-pool',
        status: 400,
        body: '{"message":"quota exceeded"}',
      });
      const failed = await tick();
      expect(failed).toMatchObject({ outcome: 'error', code: 'ApiError', operation: { outcome: 'failure' } });
      expect(failed.reasons.map((r) => r.text).join(' ')).toMatch(/quota exceeded/);
      expect(t.app.get(SignalStore).snapshot().up).toBeDefined();
      expect(poolSize()).toBe(1);
      expect(await tick()).toMatchObject({ outcome: 'scaled', targetSize: 2 });
    });

    it('retries transient API faults within one tick without applying the step twice', async () => {
      await request(server()).get('/up').expect(202);
      fake.api.injectFault({ operation: 'scale-instance-pool', status: 503, times: 1 });
      fake.api.injectFault({ operation: 'get-operation', status: 429, retryAfter: '0', times: 1 });
      expect(await tick()).toMatchObject({ outcome: 'scaled', targetSize: 2 });
      expect(poolSize()).toBe(2);
      expect(fake.api.count('scale-instance-pool')).toBe(2);
    });

    it('defers while the pool is not running, keeping the signal', async () => {
      fake.zone.timings.bootDelayMs = 1500;
      fake.zone.scale(fake.poolId, 2);
      await request(server()).get('/up').expect(202);
      expect(await tick()).toMatchObject({ outcome: 'deferred', pool: { state: 'scaling-up' } });
      await fake.zone.settle();
      expect(await tick()).toMatchObject({ outcome: 'scaled', targetSize: 3 });
    });

    it('keeps the signal when the pool cannot be read', async () => {
      await request(server()).get('/up').expect(202);
      fake.api.injectFault({ operation: 'get-instance-pool', status: 500, times: 10 });
      const entry = await tick();
      expect(entry).toMatchObject({ outcome: 'error', pool: null });
      expect(t.app.get(SignalStore).snapshot().up).toBeDefined();
    });

    it('never runs two scale calls at once nor leaves the bounds under concurrent webhooks, ticks and manual calls', async () => {
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) {
        calls.push(request(server()).get(i % 3 === 0 ? '/down' : '/up'));
        calls.push(
          request(server())
            .post('/pool/scale')
            .send({ direction: i % 2 === 0 ? 'up' : 'down' }),
        );
        if (i % 5 === 0) calls.push(tick());
        if (i % 7 === 0)
          calls.push(
            request(server())
              .post('/pool/scale')
              .send({ size: 1 + (i % 3) }),
          );
      }
      const sizes: number[] = [];
      const sampler = setInterval(() => sizes.push(poolSize()), 5);
      await Promise.all(calls);
      clearInterval(sampler);
      await tick();
      expect(fake.zone.overlappingOperations).toBe(0);
      expect(
        fake.api.requests.filter((r) => r.operation === 'scale-instance-pool' && r.status !== 200),
      ).toEqual([]);
      for (const size of [...sizes, poolSize()]) {
        expect(size).toBeGreaterThanOrEqual(1);
        expect(size).toBeLessThanOrEqual(3);
      }
      // Each scale operation completes before the next scale request is even sent.
      const scaleRequests = fake.api.requests.filter((r) => r.operation === 'scale-instance-pool');
      expect(scaleRequests.length).toBeGreaterThan(5);
    });

    it('scales manually by step and to an absolute size, refusing sizes outside the bounds', async () => {
      const up = await request(server()).post('/pool/scale').send({ direction: 'up' }).expect(200);
      expect(up.body).toMatchObject({ trigger: 'manual', outcome: 'scaled', targetSize: 2 });
      await request(server()).post('/pool/scale').send({ size: 3 }).expect(200);
      expect(poolSize()).toBe(3);
      const at = await request(server()).post('/pool/scale').send({ direction: 'up' }).expect(200);
      expect(at.body).toMatchObject({ outcome: 'none', boundApplied: 'max' });
      const tooBig = await request(server()).post('/pool/scale').send({ size: 4 }).expect(400);
      expect(tooBig.body.message).toEqual([
        'size 4 is outside the bounds POOL_MIN_SIZE=1 and POOL_MAX_SIZE=3',
      ]);
      await request(server()).post('/pool/scale').send({ size: 0 }).expect(400);
      await request(server()).post('/pool/scale').send({}).expect(400);
      await request(server()).post('/pool/scale').send({ direction: 'up', size: 2 }).expect(400);
      await request(server()).post('/pool/scale').send({ direction: 'sideways' }).expect(400);
      await request(server()).post('/pool/scale').send({ size: '2' }).expect(400);
      await request(server()).post('/pool/scale').send({ size: 2, extra: true }).expect(400);
      expect(poolSize()).toBe(3);
    });

    it('answers a manual action 409 while the pool is busy and 502 when the API fails, changing nothing', async () => {
      fake.zone.timings.bootDelayMs = 1500;
      fake.zone.scale(fake.poolId, 2);
      const busy = await request(server()).post('/pool/scale').send({ direction: 'up' }).expect(409);
      expect(busy.body.message.join(' ')).toMatch(/pool is scaling-up, not running/);
      expect(busy.body.entry).toMatchObject({ trigger: 'manual', outcome: 'deferred' });
      await fake.zone.settle();
      fake.api.injectFault({
        operation: 'scale-instance-pool',
        status: 403,
        body: '{"message":"Forbidden by role policy"}',
      });
      const failed = await request(server()).post('/pool/scale').send({ size: 3 }).expect(502);
      expect(failed.body.message.join(' ')).toMatch(/Forbidden by role policy/);
      expect(poolSize()).toBe(2);
      const events = await request(server()).get('/pool/events').expect(200);
      expect(events.body.slice(0, 2).map((e: { outcome: string }) => e.outcome)).toEqual([
        'error',
        'deferred',
      ]);
    });

    it('shows the pool: members, load balancer health, pending signal, last decision', async () => {
      await request(server()).get('/up').expect(202);
      const res = await request(server()).get('/pool').expect(200);
      expect(res.body).toMatchObject({
        id: fake.poolId,
        zone: 'at-vie-1',
        size: 1,
        state: 'running',
        bounds: { min: 1, max: 3 },
        pending: { up: true, down: false },
        loadBalancer: { healthy: 1, total: 1 },
        dryRun: false,
      });
      expect(res.body.members).toEqual([
        {
          id: expect.any(String),
          name: expect.any(String),
          ip: expect.stringMatching(/^127\.0\.1\./),
          state: 'running',
          health: 'success',
          createdAt: expect.any(String),
          warmingUp: expect.any(Boolean),
          // A member created seconds ago is within the health grace period (300 s): not judged yet.
          judgedHealth: 'grace',
          healthReason: expect.stringMatching(/within the 300 s grace period/),
        },
      ]);
      expect(new Date(res.body.nextTickAt).getTime()).toBeGreaterThan(Date.now());
      fake.api.injectFault({ operation: 'get-instance-pool', status: 500, times: 10 });
      const down = await request(server()).get('/pool').expect(502);
      expect(down.body.message).toMatch(/Exoscale API: get-instance-pool failed \(HTTP 500\)/);
    });
  });

  it('shows a firing alert as state, and holds while members warm up', async () => {
    fake = await startFakeExoscale({ size: 2 });
    await fake.zone.settle();
    t = await startApp(fake, { POOL_MAX_SIZE: '10', WARMUP_SECONDS: '3600' });
    const scaling = t.app.get(ScalingService);
    const alert = (status: 'firing' | 'resolved', value: string) => ({
      version: '4',
      status,
      receiver: 'control-plane',
      alerts: [{ status, labels: { alertname: 'PoolCpuHigh', autoscale: 'up' }, annotations: { value } }],
    });
    const accepted = await request(server())
      .post('/webhooks/alertmanager')
      .send(alert('firing', '0.9'))
      .expect(202);
    expect(accepted.body.changes[0]).toMatchObject({ direction: 'up', action: 'record', value: 0.9 });
    const status = await request(server()).get('/pool').expect(200);
    expect(status.body.alerts).toEqual([
      expect.objectContaining({
        direction: 'up',
        alert: 'PoolCpuHigh',
        value: 0.9,
        expiresAt: expect.any(String),
      }),
    ]);
    expect(status.body.policy).toMatchObject({
      name: 'target',
      targetUtilization: 0.6,
      readsPrometheus: false,
    });
    // The members were created moments ago, within the (long) warm-up: their capacity is already counted.
    await eventually(
      () => t.app.get(DiscoveryService).status.members.length,
      (n) => n === 2,
    );
    const held = await scaling.tick();
    expect(held).toMatchObject({ outcome: 'none', code: 'Warmup', alerts: { up: { value: 0.9 } } });
    expect(poolSize()).toBe(2);
  });

  it('sizes the pool in one call from the value of a firing alert, and keeps acting while it fires', async () => {
    fake = await startFakeExoscale({ size: 2 });
    await fake.zone.settle();
    t = await startApp(fake, { POOL_MAX_SIZE: '10', WARMUP_SECONDS: '0' });
    const scaling = t.app.get(ScalingService);
    const firing = {
      status: 'firing',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'PoolCpuHigh', autoscale: 'up' },
          annotations: { value: '0.9' },
        },
      ],
    };
    await request(server()).post('/webhooks/alertmanager').send(firing).expect(202);
    // 0.9 x 2 members = 1.8 members of load; at 60 % it needs 3.
    const sized = await scaling.tick();
    expect(sized).toMatchObject({
      outcome: 'scaled',
      code: 'TargetSize',
      targetSize: 3,
      basis: { load: 1.8 },
    });
    expect(poolSize()).toBe(3);
    // Still firing, but the value predates the change: not acted on twice.
    expect(await scaling.tick()).toMatchObject({ outcome: 'none', code: 'StaleValue' });
    // A resolved notification clears the state.
    await request(server())
      .post('/webhooks/alertmanager')
      .send({ ...firing, status: 'resolved', alerts: [{ ...firing.alerts[0], status: 'resolved' }] })
      .expect(200);
    expect(await scaling.tick()).toMatchObject({ outcome: 'none', code: 'NoSignal' });
    const metrics = await request(server()).get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /autoscaler_scaling_decisions_total\{trigger="tick",outcome="scaled",reason="TargetSize"\} 1/,
    );
  });

  it('holds further up steps during the up cooldown, keeping the signal', async () => {
    fake = await startFakeExoscale({ size: 1 });
    t = await startApp(fake, { SCALE_UP_COOLDOWN_SECONDS: '60' });
    const scaling = t.app.get(ScalingService);
    // The pool's member was created moments ago (it may or may not be discovered yet): step by hand, not held.
    await request(server()).post('/pool/scale').send({ direction: 'up' }).expect(200);
    await fake.zone.settle();
    await request(server()).get('/up').expect(202);
    const held = await scaling.tick();
    expect(held).toMatchObject({ outcome: 'deferred', code: 'Cooldown', direction: 'up', pool: { size: 2 } });
    expect(held.reasons.at(-1)!.text).toMatch(/^up cooldown: last pool change \d+ s ago, cooldown 60 s/);
    expect(t.app.get(SignalStore).snapshot().up).toBeDefined();
    // An operator's manual step is not held.
    await request(server()).post('/pool/scale').send({ direction: 'up' }).expect(200);
    expect(poolSize()).toBe(3);
  });

  it('keeps the cooldown across a restart: a member created moments ago holds the next up step', async () => {
    fake = await startFakeExoscale({ size: 1 });
    await fake.zone.settle();
    fake.zone.scale(fake.poolId, 2); // added before this control plane started (e.g. by its previous run)
    await fake.zone.settle();
    t = await startApp(fake, { SCALE_UP_COOLDOWN_SECONDS: '60' });
    await eventually(
      () => t.app.get(DiscoveryService).status.members.length,
      (n) => n === 2,
    );
    await request(server()).get('/up').expect(202);
    const held = await t.app.get(ScalingService).tick();
    expect(held).toMatchObject({ outcome: 'deferred', code: 'Cooldown', pool: { size: 2 } });
    expect(held.reasons.at(-1)!.text).toMatch(/^up cooldown: last pool change [0-9] s ago/);
  });

  it('decides but never calls the scale API in DRY_RUN', async () => {
    fake = await startFakeExoscale({ size: 1 });
    t = await startApp(fake, { DRY_RUN: 'true' });
    await request(server()).get('/up').expect(202);
    const entry = await t.app.get(ScalingService).tick();
    expect(entry).toMatchObject({ outcome: 'dry-run', targetSize: 2, operation: { outcome: 'skipped' } });
    expect(fake.api.count('scale-instance-pool')).toBe(0);
    expect(poolSize()).toBe(1);
  });

  it('requires the API token for manual scaling when API_TOKEN is set', async () => {
    fake = await startFakeExoscale({ size: 1 });
    t = await startApp(fake, { API_TOKEN: 'admin-token' });
    await request(server()).post('/pool/scale').send({ direction: 'up' }).expect(401);
    await request(server())
      .post('/pool/scale')
      .set('Authorization', 'Bearer wrong')
      .send({ direction: 'up' })
      .expect(401);
    await request(server())
      .post('/pool/scale')
      .set('Authorization', 'Bearer admin-token')
      .send({ direction: 'up' })
      .expect(200);
    expect(poolSize()).toBe(2);
  });
});

describe('exactly one step per signal, whatever the API answers (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  const server = () => t.app.getHttpServer();
  const poolSize = () => fake.zone.getPool(fake.poolId).size;

  beforeEach(async () => {
    // Members boot slowly enough that a retry meets the pool still scaling (409), as on Exoscale.
    fake = await startFakeExoscale({ size: 1, timings: { bootDelayMs: 1500, stopDelayMs: 20 } });
    await fake.zone.settle();
    t = await startApp(fake, { POOL_MAX_SIZE: '5' });
  });
  afterEach(async () => {
    await t.app.close();
    await fake.close();
  });

  async function oneUpThenQuiet() {
    const scaling = t.app.get(ScalingService);
    await request(server()).get('/up').expect(202);
    const first = await scaling.tick();
    await fake.zone.settle();
    const second = await scaling.tick();
    await fake.zone.settle();
    return { first, second };
  }

  it('a lost answer (504 after the call applied, 409 on the retry) is one step, recorded as applied', async () => {
    fake.api.injectFault({ operation: 'scale-instance-pool', status: 504, afterApply: true });
    const { first, second } = await oneUpThenQuiet();
    expect(first).toMatchObject({ outcome: 'scaled', code: 'Reconciled', targetSize: 2 });
    expect(first.reasons.map((r) => r.text).join(' ')).toMatch(/it was applied, recorded once/);
    expect(second).toMatchObject({ outcome: 'none', code: 'NoSignal' });
    expect(poolSize()).toBe(2);
  });

  it('a connection dropped after the API accepted the call is one step', async () => {
    fake.api.injectFault({
      operation: 'scale-instance-pool',
      dropConnection: true,
      afterApply: true,
      times: 5,
    });
    const { first, second } = await oneUpThenQuiet();
    expect(first).toMatchObject({ outcome: 'scaled', code: 'Reconciled' });
    expect(second.code).toBe('NoSignal');
    expect(poolSize()).toBe(2);
  });

  it('refused operation polls (403) fall back to the pool state: the step is recorded once', async () => {
    fake.api.injectFault({
      operation: 'get-operation',
      status: 403,
      body: '{"message":"Forbidden"}',
      times: 1000,
    });
    const { first, second } = await oneUpThenQuiet();
    expect(first).toMatchObject({ outcome: 'scaled', code: 'Reconciled', operation: { outcome: 'success' } });
    expect(first.reasons.map((r) => r.text).join(' ')).toMatch(
      /following the scale operation failed.*HTTP 403/,
    );
    expect(second.code).toBe('NoSignal');
    expect(poolSize()).toBe(2);
  });

  it('an unknown outcome that the pool read cannot settle is checked first at the next tick', async () => {
    fake.api.injectFault({ operation: 'scale-instance-pool', status: 504, afterApply: true, times: 5 });
    // The re-read after the failure fails too (every attempt), the one before the decision does not.
    const scaling = t.app.get(ScalingService);
    await request(server()).get('/up').expect(202);
    const read = fake.api;
    const original = read.faults.take.bind(read.faults);
    let pools = 0;
    read.faults.take = (operation: string) => {
      if (operation === 'get-instance-pool' && ++pools > 1 && pools <= 6) return { status: 503 };
      return original(operation);
    };
    const first = await scaling.tick();
    expect(first).toMatchObject({ outcome: 'pending', operation: { outcome: 'unknown' } });
    expect(first.reasons.map((r) => r.text).join(' ')).toMatch(/the next tick settles the call/);
    read.faults.take = original;
    await fake.zone.settle();
    const second = await scaling.tick();
    expect(second).toMatchObject({ outcome: 'none', code: 'NoSignal' });
    expect(second.reasons[0]).toMatchObject({ code: 'Reconciled' });
    expect(poolSize()).toBe(2);
    // The pending decision is settled in place: still in the log, now as applied.
    const settled = (await request(server()).get('/pool/events').expect(200)).body as { id: number }[];
    expect(settled.find((e) => e.id === first.id)).toMatchObject({ outcome: 'scaled', code: 'Reconciled' });
  });

  it('a lost answer read while the pool still moves at the old size is one step, settled once it runs', async () => {
    await t.app.close();
    await fake.close();
    // As the issue saw on Exoscale: the pool reports scaling-up at its old size until the members are there.
    fake = await startFakeExoscale({
      size: 1,
      timings: { bootDelayMs: 1500, stopDelayMs: 20, sizeShownWhenSettled: true },
    });
    await fake.zone.settle();
    t = await startApp(fake, { POOL_MAX_SIZE: '5', SCALING_POLICY: 'step' });
    fake.api.injectFault({ operation: 'scale-instance-pool', status: 504, afterApply: true });
    const release = fake.zone.holdTransitions();
    const scaling = t.app.get(ScalingService);
    await request(server()).get('/up').expect(202);
    const ticking = scaling.tick();
    // The retry met 409 (busy) and the pool reads scaling-up at 1: nothing is decided while it moves.
    await eventually(
      () => fake.api.count('scale-instance-pool'),
      (n) => n >= 2,
    );
    await eventually(
      () => fake.api.count('get-instance-pool'),
      (n) => n >= 3,
    );
    expect(scaling.unsettled).toMatchObject({ from: 1, to: 2 });
    release();
    const first = await ticking;
    expect(first).toMatchObject({ outcome: 'scaled', code: 'Reconciled', targetSize: 2 });
    await fake.zone.settle();
    const second = await scaling.tick();
    expect(second).toMatchObject({ outcome: 'none', code: 'NoSignal' });
    expect(poolSize()).toBe(2);
    expect(fake.zone.overlappingOperations).toBeGreaterThanOrEqual(1);
  });

  it('a tick while an unknown outcome is still moving decides nothing (Settling), then settles once', async () => {
    await t.app.close();
    await fake.close();
    fake = await startFakeExoscale({
      size: 2,
      timings: { bootDelayMs: 20, stopDelayMs: 20, sizeShownWhenSettled: true },
    });
    await fake.zone.settle();
    t = await startApp(fake, { POOL_MAX_SIZE: '5', SCALING_POLICY: 'step' });
    const scaling = t.app.get(ScalingService);
    await request(server()).get('/up').expect(202);
    // Every pool read fails right after the lost answer, so the tick leaves the call unsettled.
    fake.api.injectFault({ operation: 'scale-instance-pool', status: 504, afterApply: true, times: 5 });
    const release = fake.zone.holdTransitions();
    const original = fake.api.faults.take.bind(fake.api.faults);
    let pools = 0;
    fake.api.faults.take = (operation: string) => {
      if (operation === 'get-instance-pool' && ++pools > 1) return { status: 503 };
      return original(operation);
    };
    const first = await scaling.tick();
    expect(first).toMatchObject({ outcome: 'pending' });
    fake.api.faults.take = original;
    const moving = await scaling.tick();
    expect(moving).toMatchObject({
      outcome: 'deferred',
      code: 'Settling',
      pool: { size: 2, state: 'scaling-up' },
    });
    await request(server()).get('/up').expect(202);
    release();
    await fake.zone.settle();
    const settledTick = await scaling.tick();
    expect(settledTick.reasons[0]).toMatchObject({ code: 'Reconciled' });
    // The second /up arrived after the first call was made: it is its own step (3 -> 4), the first is not repeated.
    expect(settledTick).toMatchObject({ outcome: 'scaled', targetSize: 4 });
    await fake.zone.settle();
    expect((await scaling.tick()).code).toBe('NoSignal');
    expect(poolSize()).toBe(4);
  });

  it('404 on the first polls of a just-created operation is retried, not taken as a failure', async () => {
    fake.api.injectFault({
      operation: 'get-operation',
      status: 404,
      body: '{"message":"not found"}',
      times: 2,
    });
    const { first, second } = await oneUpThenQuiet();
    expect(first).toMatchObject({ outcome: 'scaled', operation: { outcome: 'success' } });
    expect(first.code).not.toBe('Reconciled');
    expect(second.code).toBe('NoSignal');
    expect(poolSize()).toBe(2);
  });

  it('a call the API refused keeps the signal for the next tick', async () => {
    fake.api.injectFault({
      operation: 'scale-instance-pool',
      status: 400,
      body: '{"message":"quota exceeded"}',
    });
    const { first, second } = await oneUpThenQuiet();
    expect(first).toMatchObject({ outcome: 'error', code: 'ApiError' });
    expect(second).toMatchObject({ outcome: 'scaled', targetSize: 2 });
    expect(poolSize()).toBe(2);
  });
});
