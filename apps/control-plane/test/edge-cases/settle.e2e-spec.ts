import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import request from 'supertest';

import { ScalingService } from '../../src/scaling/scaling.service';
import { eventually, startApp, TestApp } from '../support/app';
import { FakeExoscale, startFakeExoscale } from '../support/fake-exoscale';

/**
 * Adversarial probes (API answers, in-process): operation failures, a slow API, a pool changed by someone else, a
 * manual size while a record is pending, a state file from an older version. Exactly one step per signal.
 */
describe('edge cases: exactly one step whatever the API answers', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  const size = () => fake.zone.getPool(fake.poolId).size;

  async function boot(poolSize = 2, env: Record<string, string> = {}) {
    fake = await startFakeExoscale({ size: poolSize, timings: { bootDelayMs: 10, stopDelayMs: 10 } });
    await fake.zone.settle();
    t = await startApp(fake, { SCALING_POLICY: 'step', POOL_MAX_SIZE: '10', WARMUP_SECONDS: '0', ...env });
    return t.app.get(ScalingService);
  }
  afterEach(async () => {
    await t?.app.close();
    await fake?.close();
  });
  const http = () => request(t.app.getHttpServer());

  it('the last retry of the scale call is applied after the client gave up on it: one step, not two', async () => {
    const scaling = await boot(2);
    // Four quick 503s (not applied), then an attempt the API applies only after the client's 15 s timeout.
    fake.api.injectFault({ operation: 'scale-instance-pool', status: 503, times: 4 });
    let applied!: () => void;
    const arrived = new Promise<void>((r) => (applied = r));
    fake.api.injectFault({ operation: 'scale-instance-pool', delayMs: 17_000, arrived: applied });
    await http().post('/up').expect(202);
    const first = await scaling.tick();
    await arrived;
    // The late request lands on the API: the pool runs at 3 (the step was made).
    await eventually(
      () => fake.zone.getPool(fake.poolId),
      (p) => p.size === 3 && p.state === 'running',
      30_000,
    );
    const second = await scaling.tick();
    await fake.zone.settle();
    expect({ first: first.code, second: second.code, size: size() }).toEqual(
      expect.objectContaining({ size: 3 }),
    );
  }, 90_000);

  it('the operation fails but the pool ends at the target: settled as applied, one step', async () => {
    const scaling = await boot(2);
    fake.api.injectFault({
      operation: 'get-operation',
      status: 200,
      body: JSON.stringify({ id: 'op-x', state: 'failure', reason: 'fault', message: 'injected' }),
    });
    await http().post('/up').expect(202);
    const first = await scaling.tick();
    await fake.zone.settle();
    expect(size()).toBe(3);
    expect(first.outcome).toBe('scaled');
    expect((await scaling.tick()).code).toBe('NoSignal');
    expect(size()).toBe(3);
  }, 90_000);

  it('the scale call answers an already failed operation and the pool stays at the old size: not applied, then one step', async () => {
    const scaling = await boot(2);
    fake.api.injectFault({
      operation: 'scale-instance-pool',
      status: 200,
      body: JSON.stringify({ id: 'op-y', state: 'failure', reason: 'quota', message: 'injected' }),
    });
    await http().post('/up').expect(202);
    const first = await scaling.tick();
    expect(first).toMatchObject({ outcome: 'error', code: 'NotApplied' });
    expect(size()).toBe(2);
    expect((await scaling.tick()).outcome).toBe('scaled');
    await fake.zone.settle();
    expect((await scaling.tick()).code).toBe('NoSignal');
    expect(size()).toBe(3);
  }, 90_000);

  it('scale-in: the answer is lost (applied) and the retry meets 409 while the pool is scaling-down at the old size: one step', async () => {
    fake = await startFakeExoscale({
      size: 4,
      timings: { bootDelayMs: 10, stopDelayMs: 10, sizeShownWhenSettled: true },
    });
    await fake.zone.settle();
    t = await startApp(fake, { SCALING_POLICY: 'step', POOL_MAX_SIZE: '10', WARMUP_SECONDS: '0' });
    const scaling = t.app.get(ScalingService);
    const release = fake.zone.holdTransitions();
    // Scale-in evicts a chosen member.
    fake.api.injectFault({ operation: 'evict-instance-pool-members', afterApply: true, status: 504 });
    await http().post('/down').expect(202);
    const ticking = scaling.tick();
    await eventually(
      () => fake.api.count('evict-instance-pool-members'),
      (n) => n >= 2,
      20_000,
    );
    release();
    const first = await ticking;
    await fake.zone.settle();
    expect(first.outcome).toBe('scaled');
    expect((await scaling.tick()).code).toBe('NoSignal');
    expect(size()).toBe(3);
  }, 90_000);

  it('a manual size while a tick call is being settled waits for it, then applies from the settled size', async () => {
    const scaling = await boot(2);
    const release = fake.zone.holdTransitions();
    fake.api.injectFault({ operation: 'scale-instance-pool', afterApply: true, status: 504 });
    await http().post('/up').expect(202);
    const ticking = scaling.tick();
    await eventually(
      () => fake.api.count('scale-instance-pool'),
      (n) => n >= 2,
      20_000,
    );
    const manual = http().post('/pool/scale').send({ size: 5 });
    setTimeout(release, 500);
    await ticking;
    const res = await manual;
    await fake.zone.settle();
    expect(res.status).toBe(200);
    expect(size()).toBe(5);
    // The up signal was used up by the settled tick call: nothing more.
    expect((await scaling.tick()).outcome).not.toBe('scaled');
    expect(size()).toBe(5);
  }, 90_000);

  it('a state.json from an older version (unverified call, pool already at the target) is settled once', async () => {
    fake = await startFakeExoscale({ size: 3, timings: { bootDelayMs: 10, stopDelayMs: 10 } });
    await fake.zone.settle();
    const state = await mkdtemp(join(tmpdir(), 'adv-legacy-'));
    await mkdir(state, { recursive: true });
    const now = Date.now() / 1000;
    await writeFile(
      join(state, 'state.json'),
      JSON.stringify({
        version: 1,
        savedAt: new Date().toISOString(),
        signals: {
          alerts: [],
          steps: [
            {
              direction: 'up',
              source: 'bare',
              firstReceivedAt: now - 30,
              lastReceivedAt: now - 30,
              count: 1,
              generation: 1,
            },
          ],
          generation: 1,
        },
        scaling: {
          lastScaledAt: null,
          unverified: {
            target: 3,
            from: 2,
            calledAt: now - 20,
            consumes: ['up'],
            steps: { up: { generation: 1 } },
          },
        },
        decisions: [],
      }),
    );
    t = await startApp(fake, { SCALING_POLICY: 'step', POOL_MAX_SIZE: '10', STATE_DIR: state });
    const scaling = t.app.get(ScalingService);
    const first = await scaling.tick();
    await fake.zone.settle();
    expect(first.outcome).not.toBe('scaled');
    expect((await scaling.tick()).outcome).not.toBe('scaled');
    expect(size()).toBe(3);
  });

  it('a state.json from the version before alert identities: the held alert resolves, and its step with it', async () => {
    fake = await startFakeExoscale({ size: 2, timings: { bootDelayMs: 10, stopDelayMs: 10 } });
    await fake.zone.settle();
    const state = await mkdtemp(join(tmpdir(), 'adv-legacy2-'));
    const now = Date.now() / 1000;
    await writeFile(
      join(state, 'state.json'),
      JSON.stringify({
        version: 1,
        savedAt: new Date().toISOString(),
        signals: {
          alerts: [
            {
              direction: 'up',
              alert: 'PoolCpuHigh',
              source: 'alertmanager',
              firingSince: now - 60,
              lastReceivedAt: now - 60,
              value: null,
            },
          ],
          steps: [
            {
              direction: 'up',
              source: 'alertmanager',
              firstReceivedAt: now - 60,
              lastReceivedAt: now - 60,
              count: 1,
            },
          ],
          generation: 3,
        },
        scaling: { lastScaledAt: null },
        decisions: [],
      }),
    );
    t = await startApp(fake, { SCALING_POLICY: 'step', POOL_MAX_SIZE: '10', STATE_DIR: state });
    // The old alert resolves by its name (the fingerprint is new to this state).
    const res = await http()
      .post('/webhooks/alertmanager')
      .send({
        status: 'resolved',
        receiver: 'x',
        groupKey: 'g',
        alerts: [
          {
            status: 'resolved',
            labels: { alertname: 'PoolCpuHigh', autoscale: 'up' },
            fingerprint: 'abcdef0123456789',
            startsAt: '2026-11-30T10:00:00Z',
            endsAt: '2026-11-30T10:05:00Z',
          },
        ],
      });
    expect(res.status).toBe(200);
    const tick = await t.app.get(ScalingService).tick();
    await fake.zone.settle();
    // Resolved: nothing is in force and the step the alert recorded is gone (the step policy's rule).
    expect({ inForce: res.body.inForce, tick: tick.code, size: size() }).toEqual({
      inForce: [],
      tick: 'NoSignal',
      size: 2,
    });
  });
});
