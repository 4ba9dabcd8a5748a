import request from 'supertest';

import { eventually } from '../support/app';
import { FakeExoscale, startFakeExoscale } from '../support/fake-exoscale';
import { assertBuilt, compiledEnv, killAll, runControlPlane, Running, waitHealthy } from '../support/process';

type Entry = {
  id: number;
  trigger: string;
  outcome: string;
  code: string;
  settledAt?: string;
  reasons: { code: string; text: string }[];
};

/**
 * Adversarial probes (kill points the authors' crash tests do not use), against the compiled app: a manual scale
 * killed in the API, a kill during the settle watch, two kills in a row, scale-in, SIGTERM during the operation,
 * and settlement at start. Each must end exactly one step from where it began.
 */
describe('edge cases: crash safety of the compiled control plane', () => {
  let fake: FakeExoscale;
  let env: Record<string, string>;
  let base: string;
  const running: Running[] = [];

  beforeAll(assertBuilt);
  async function setup(size: number, timings: { sizeShownWhenSettled?: boolean } = {}) {
    fake = await startFakeExoscale({ size, timings: { bootDelayMs: 50, stopDelayMs: 20, ...timings } });
    await fake.zone.settle();
    ({ env, base } = await compiledEnv(fake, {
      SCALING_POLICY: 'step',
      POOL_MAX_SIZE: '6',
      SCALING_INTERVAL_SECONDS: '1',
      DISCOVERY_INTERVAL_SECONDS: '1',
    }));
  }
  afterEach(async () => {
    await killAll(running);
    await fake?.close();
  });

  const start = (extra: Record<string, string> = {}) => {
    const r = runControlPlane({ ...env, ...extra });
    running.push(r);
    return r;
  };
  const healthy = () => waitHealthy(base);
  const events = async () => (await request(base).get('/pool/events').expect(200)).body as Entry[];
  const kill = async (r: Running) => {
    r.child.kill('SIGKILL');
    await r.exited;
  };

  /** Restarts on the same STATE_DIR, waits for `expected` and three quiet ticks; returns the log. */
  async function restartAndSettle(expected: number, extra: Record<string, string> = {}): Promise<Entry[]> {
    start(extra);
    await healthy();
    await eventually(
      () => fake.zone.getPool(fake.poolId),
      (p) => p.size === expected && p.state === 'running',
      40000,
    );
    const log = await eventually(
      events,
      (e) => e.length >= 3 && e.slice(0, 3).every((x) => x.code === 'NoSignal'),
      40000,
    );
    await fake.zone.settle();
    expect(fake.zone.getPool(fake.poolId).size).toBe(expected);
    expect(log.filter((e) => e.outcome === 'pending')).toHaveLength(0);
    return log;
  }

  it('SIGKILL while a manual POST /pool/scale is in the API (applied): one step, the manual decision settled in the log', async () => {
    await setup(2);
    let arrived!: () => void;
    const inApi = new Promise<void>((r) => (arrived = r));
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    fake.api.injectFault({ operation: 'scale-instance-pool', afterApply: true, arrived, hold });
    const first = start({ SCALING_INTERVAL_SECONDS: '3600' });
    await healthy();
    const manual = request(base)
      .post('/pool/scale')
      .send({ direction: 'up' })
      .then(
        (r) => r.status,
        () => 0,
      );
    await inApi;
    await kill(first);
    release();
    await manual;
    await fake.zone.settle();
    const log = await restartAndSettle(3);
    const manualEntry = log.find((e) => e.trigger === 'manual');
    expect(manualEntry).toMatchObject({ outcome: 'scaled', code: 'Reconciled' });
    expect(fake.api.count('scale-instance-pool')).toBe(1);
  }, 120_000);

  it('SIGKILL during the settle watch (answer lost, retry 409, pool scaling-up at the old size): one step', async () => {
    await setup(2, { sizeShownWhenSettled: true });
    const releaseTransitions = fake.zone.holdTransitions();
    fake.api.injectFault({ operation: 'scale-instance-pool', afterApply: true, status: 504 });
    const first = start();
    await healthy();
    await request(base).get('/up').expect(202);
    // The retry met 409: the tick is now in its settle watch, reading a pool scaling-up that shows 2.
    await eventually(
      () => fake.api.count('scale-instance-pool'),
      (n) => n >= 2,
      20000,
    );
    await eventually(
      () => fake.api.count('get-instance-pool'),
      (n) => n >= 4,
      20000,
    );
    await kill(first);
    // Killed again right after the restart, before anything settled.
    const second = start();
    await healthy();
    await kill(second);
    releaseTransitions();
    await fake.zone.settle();
    await restartAndSettle(3);
    expect(fake.api.count('scale-instance-pool')).toBe(2);
  }, 120_000);

  it('killed at after-intent-saved twice in a row, then a clean start: exactly one step', async () => {
    await setup(2);
    const first = start({ FAILPOINTS: 'after-intent-saved' });
    await healthy();
    await request(base).get('/up').expect(202);
    expect((await first.exited).signal).toBe('SIGKILL');
    const second = start({ FAILPOINTS: 'after-intent-saved' });
    expect((await second.exited).signal).toBe('SIGKILL');
    const log = await restartAndSettle(3);
    expect(log.filter((e) => e.outcome === 'scaled')).toHaveLength(1);
    expect(fake.api.count('scale-instance-pool')).toBe(1);
  }, 120_000);

  it.each(['after-scale-answered', 'during-operation', 'after-operation-complete'])(
    'scale-in killed at %s: exactly one step down',
    async (point) => {
      await setup(3);
      const release = point === 'during-operation' ? fake.zone.holdTransitions() : null;
      const first = start({ FAILPOINTS: point });
      await healthy();
      await request(base).get('/down').expect(202);
      expect((await first.exited).signal).toBe('SIGKILL');
      release?.();
      await fake.zone.settle();
      await restartAndSettle(2);
      // Scale-in evicts a chosen member: one call, never repeated.
      expect(fake.api.count('evict-instance-pool-members')).toBe(1);
      expect(fake.api.count('scale-instance-pool')).toBe(0);
    },
    120_000,
  );

  it('SIGTERM while the operation runs: exit 0, then one step after the restart', async () => {
    await setup(2);
    const release = fake.zone.holdTransitions();
    const first = start();
    await healthy();
    await request(base).get('/up').expect(202);
    await eventually(
      () => fake.api.count('scale-instance-pool'),
      (n) => n >= 1,
      20000,
    );
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    expect(exit.code).toBe(0);
    release();
    await fake.zone.settle();
    await restartAndSettle(3);
    expect(fake.api.count('scale-instance-pool')).toBe(1);
  }, 120_000);

  it('a record found at start is settled at start, not only at the first tick (SCALING_INTERVAL_SECONDS=3600)', async () => {
    await setup(2);
    const first = start({ FAILPOINTS: 'after-scale-answered', SCALING_INTERVAL_SECONDS: '1' });
    await healthy();
    await request(base).get('/up').expect(202);
    await first.exited;
    await fake.zone.settle();
    start({ SCALING_INTERVAL_SECONDS: '3600' });
    await healthy();
    const log = await eventually(events, () => true);
    // Give the start a moment to settle the record it found.
    const settled = await eventually(events, (e) => e.every((x) => x.outcome !== 'pending'), 10000).catch(
      () => null,
    );
    expect({ before: log.map((e) => e.outcome), settled: settled !== null }).toEqual(
      expect.objectContaining({ settled: true }),
    );
  }, 120_000);
});
