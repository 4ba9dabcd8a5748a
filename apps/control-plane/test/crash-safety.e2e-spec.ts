import request from 'supertest';

import { eventually } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';
import { assertBuilt, compiledEnv, killAll, runControlPlane, Running, waitHealthy } from './support/process';

type Entry = { id: number; trigger: string; outcome: string; code: string; reasons: { code: string }[] };

/**
 * Exactly one step per signal wherever the process dies: the compiled app is killed at each point of the sequence
 * (webhook answered, write-ahead record saved, call answered, operation running, operation complete but not saved),
 * chosen by failpoints or by a held API call, never by timing; the restarted app must end one step up.
 */
describe('crash safety of the compiled control plane (e2e)', () => {
  let fake: FakeExoscale;
  let env: Record<string, string>;
  let base: string;
  const running: Running[] = [];

  beforeAll(assertBuilt);
  beforeEach(async () => {
    fake = await startFakeExoscale({ size: 2, timings: { bootDelayMs: 50, stopDelayMs: 20 } });
    await fake.zone.settle();
    ({ env, base } = await compiledEnv(fake, {
      SCALING_POLICY: 'step',
      POOL_MAX_SIZE: '6',
      SCALING_INTERVAL_SECONDS: '1',
      DISCOVERY_INTERVAL_SECONDS: '1',
    }));
  });
  afterEach(async () => {
    await killAll(running);
    await fake.close();
  });

  const start = (extra: Record<string, string> = {}) => {
    const r = runControlPlane({ ...env, ...extra });
    running.push(r);
    return r;
  };
  const healthy = () => waitHealthy(base);
  const events = async () => (await request(base).get('/pool/events').expect(200)).body as Entry[];

  /** Restarts on the same STATE_DIR and waits for the step and three quiet ticks after it; returns the log. */
  async function restartAndSettle(): Promise<Entry[]> {
    start();
    await healthy();
    await eventually(
      () => fake.zone.getPool(fake.poolId),
      (p) => p.size === 3 && p.state === 'running',
      40000,
    );
    const log = await eventually(
      events,
      (e) => {
        const scaled = e.findIndex((x) => x.outcome === 'scaled');
        return scaled >= 3 && e.slice(0, 3).every((x) => x.code === 'NoSignal');
      },
      40000,
    );
    await fake.zone.settle();
    expect(fake.zone.getPool(fake.poolId).size).toBe(3);
    expect(fake.zone.members(fake.poolId)).toHaveLength(3);
    expect(log.filter((e) => e.outcome === 'scaled')).toHaveLength(1);
    expect(log.filter((e) => e.outcome === 'pending')).toHaveLength(0);
    return log;
  }

  it('killed after the webhook was answered (before any tick): one step after the restart', async () => {
    const first = start({ SCALING_INTERVAL_SECONDS: '3600' });
    await healthy();
    await request(base).get('/up').expect(202);
    first.child.kill('SIGKILL');
    await first.exited;
    await restartAndSettle();
    expect(fake.api.count('scale-instance-pool')).toBe(1);
  });

  it.each([
    [
      'after-intent-saved',
      'the call was never made: not applied, made once by the restarted app',
      'NotApplied',
    ],
    ['after-scale-answered', 'the call was answered: applied, settled as such', 'Reconciled'],
    ['during-operation', 'the operation was running: settled once it completed', 'Reconciled'],
    ['after-operation-complete', 'the outcome was not saved: settled from the pool', 'Reconciled'],
  ])('killed at failpoint %s (%s): exactly one step', async (point, _, settledAs) => {
    // While the operation runs, its members wait for the test: the kill happens with the operation pending.
    const release = point === 'during-operation' ? fake.zone.holdTransitions() : null;
    const first = start({ FAILPOINTS: point });
    await healthy();
    await request(base).get('/up').expect(202);
    const exit = await first.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(first.output()).toContain(`failpoint ${point}: SIGKILL`);
    release?.();
    await fake.zone.settle();

    const log = await restartAndSettle();
    // The killed decision is still in the log, settled in place.
    const killed = log.find((e) => e.reasons.some((r) => r.code === settledAs));
    expect(killed).toBeDefined();
    expect(fake.api.count('scale-instance-pool')).toBe(1);
  });

  it.each([
    [true, 'the API applied the call but the answer was still held'],
    [false, 'the call was held before the API applied it (and is dropped with the connection)'],
  ])('SIGKILLed while its scale call is in the API (applied: %s, %s): exactly one step', async (applied) => {
    let arrived!: () => void;
    const inApi = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    fake.api.injectFault({ operation: 'scale-instance-pool', afterApply: applied, arrived, hold, closed });
    const first = start();
    await healthy();
    await request(base).get('/up').expect(202);
    await inApi;
    first.child.kill('SIGKILL');
    await first.exited;
    // The API has seen the caller's connection go before it goes on (under load the exit was seen first).
    await connectionClosed;
    release();
    await fake.zone.settle();
    expect(fake.zone.getPool(fake.poolId).size).toBe(applied ? 3 : 2);

    await restartAndSettle();
    expect(fake.api.count('scale-instance-pool')).toBe(applied ? 1 : 2);
  });
});
