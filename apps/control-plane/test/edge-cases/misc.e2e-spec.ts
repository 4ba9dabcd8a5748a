import request from 'supertest';

import { ScalingService } from '../../src/scaling/scaling.service';
import { startApp, TestApp } from '../support/app';
import { FakeExoscale, startFakeExoscale } from '../support/fake-exoscale';

/** Adversarial probes: clock skew in the decision log, 404s on a new operation, bounds at 0 with signals. */
describe('edge cases: misc', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  const size = () => fake.zone.getPool(fake.poolId).size;
  afterEach(async () => {
    await t?.app.close();
    await fake?.close();
  });
  async function boot(poolSize: number, env: Record<string, string> = {}, clockOffsetMs = 0) {
    fake = await startFakeExoscale({
      size: poolSize,
      timings: { bootDelayMs: 10, stopDelayMs: 10 },
      clockOffsetMs,
    });
    await fake.zone.settle();
    t = await startApp(fake, { SCALING_POLICY: 'step', POOL_MAX_SIZE: '10', WARMUP_SECONDS: '0', ...env });
    return t.app.get(ScalingService);
  }
  const http = () => request(t.app.getHttpServer());

  it('a tick refused for clock skew names the skew in its decision', async () => {
    const scaling = await boot(2, {}, 20 * 60_000);
    await http().post('/up').expect(202);
    const entry = await scaling.tick();
    expect(entry.code).toBe('PoolUnreadable');
    expect(entry.reasons.map((r) => r.text).join(' ')).toMatch(/clock skew/);
    const events = await http().get('/pool/events').expect(200);
    expect(JSON.stringify(events.body[0])).toMatch(/clock skew/);
  });

  it('404 on the first polls of a new operation (3 s): followed, one step', async () => {
    const scaling = await boot(2);
    fake.api.injectFault({ operation: 'get-operation', status: 404, times: 4 });
    const release = fake.zone.holdTransitions();
    setTimeout(release, 200);
    await http().post('/up').expect(202);
    const entry = await scaling.tick();
    await fake.zone.settle();
    expect(entry.outcome).toBe('scaled');
    expect((await scaling.tick()).code).toBe('NoSignal');
    expect(size()).toBe(3);
  }, 60_000);

  it('404 on every poll of a new operation: settled from the pool, one step', async () => {
    const scaling = await boot(2);
    fake.api.injectFault({ operation: 'get-operation', status: 404, times: 1000 });
    const release = fake.zone.holdTransitions();
    setTimeout(release, 200);
    await http().post('/up').expect(202);
    const entry = await scaling.tick();
    await fake.zone.settle();
    expect(entry.outcome).toBe('scaled');
    expect((await scaling.tick()).code).toBe('NoSignal');
    expect(size()).toBe(3);
  }, 60_000);

  it.each(['step', 'target'])(
    'a pool at 0 with a down alert firing (%s) is raised to the minimum and never lowered again below it',
    async (policy) => {
      const scaling = await boot(0, { SCALING_POLICY: policy, POOL_MIN_SIZE: '1', POOL_MAX_SIZE: '5' });
      await http()
        .post('/webhooks/alertmanager')
        .send({
          status: 'firing',
          receiver: 'x',
          groupKey: 'g',
          alerts: [
            {
              status: 'firing',
              labels: { alertname: 'PoolCpuLow', autoscale: 'down' },
              annotations: { value: '0.01' },
              fingerprint: 'f1',
            },
          ],
        })
        .expect(202);
      expect(await scaling.tick()).toMatchObject({ outcome: 'scaled', code: 'BelowMin', targetSize: 1 });
      await fake.zone.settle();
      for (let i = 0; i < 3; i++) {
        expect((await scaling.tick()).outcome).not.toBe('scaled');
        await fake.zone.settle();
      }
      expect(size()).toBe(1);
    },
  );

  it('manual {"direction":"up"} against a pool above its maximum answers AboveMax without a change; a manual size in bounds is honoured', async () => {
    await boot(7, { POOL_MIN_SIZE: '1', POOL_MAX_SIZE: '5' });
    const up = await http().post('/pool/scale').send({ direction: 'up' });
    expect(up.body.code ?? up.body.entry?.code).toBe('AboveMax');
    expect(size()).toBe(7);
    const sized = await http().post('/pool/scale').send({ size: 4 });
    expect(sized.status).toBe(200);
    await fake.zone.settle();
    expect(size()).toBe(4);
  });

  it.each([
    [1, 2],
    [4, 4],
  ])(
    'someone else scales the pool to %d while our call (2 -> 3, answers lost, not applied) is unsettled: ends at %d',
    async (other, expected) => {
      const scaling = await boot(2);
      fake.api.injectFault({ operation: 'scale-instance-pool', status: 504, times: 2 });
      fake.api.injectFault({
        operation: 'scale-instance-pool',
        status: 504,
        times: 3,
        arrived: () => {
          if (fake.zone.getPool(fake.poolId).state === 'running' && size() === 2)
            fake.zone.scale(fake.poolId, other);
        },
      });
      await http().post('/up').expect(202);
      await scaling.tick();
      await fake.zone.settle();
      for (let i = 0; i < 3; i++) {
        await scaling.tick();
        await fake.zone.settle();
      }
      expect(size()).toBe(expected);
    },
    60_000,
  );
});

describe('a pool id the API does not know (e2e)', () => {
  it('is not healthy: the tick finds no pool and /health says so, naming the id and zone', async () => {
    const fake = await startFakeExoscale({ size: 1 });
    const t = await startApp(fake, { EXOSCALE_INSTANCEPOOL_ID: '0f0e0d0c-0b0a-4090-8070-605040302010' });
    try {
      const entry = await t.app.get(ScalingService).tick();
      expect(entry.code).toBe('PoolUnreadable');
      const health = await request(t.app.getHttpServer()).get('/health').expect(503);
      expect(health.body.details.scalingTick).toMatchObject({
        status: 'down',
        lastError: expect.stringContaining(
          'instance pool 0f0e0d0c-0b0a-4090-8070-605040302010 not found in at-vie-1',
        ),
      });
    } finally {
      await t.app.close();
      await fake.close();
    }
  });
});
