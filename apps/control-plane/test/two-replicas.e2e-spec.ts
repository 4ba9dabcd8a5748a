import { Client } from 'pg';

import { TcpProxy } from '../../../libs/state-store/test/tcp-proxy';
import { ThrowawayPostgres } from '../../../libs/state-store/test/throwaway-postgres';
import request from 'supertest';

import { LeadershipService } from '../src/ha/leadership.service';
import { ScalingService } from '../src/scaling/scaling.service';
import { eventually, startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';
import { assertBuilt, compiledEnv, freePort, runControlPlane, Running, stopAndMeasure } from './support/process';

/** Short leases so that a takeover takes seconds: duration 4, renew deadline 2, retry 1 (the call timeout is 1 s). */
const LEASE = {
  LEASE_DURATION_SECONDS: '4',
  LEASE_RENEW_DEADLINE_SECONDS: '2',
  LEASE_RETRY_PERIOD_SECONDS: '1',
};
const LOST_LEASE = 75;

interface Leadership {
  role: 'leader' | 'follower';
  holder: string | null;
  epoch: number | null;
  acting: boolean;
}

/**
 * A replica under a supervisor, as `restart: always` runs it: started again whenever it exits with 75 (a lost
 * lease); any other exit ends it. `exits` lists every exit.
 */
class Replica {
  process!: Running;
  readonly exits: { code: number | null; signal: NodeJS.Signals | null }[] = [];
  private stopped = false;

  constructor(
    readonly name: string,
    readonly base: string,
    private readonly env: Record<string, string>,
  ) {
    this.start();
  }

  private start(): void {
    this.process = runControlPlane({ ...this.env, REPLICA_ID: this.name });
    void this.process.exited.then((exit) => {
      this.exits.push(exit);
      if (this.stopped) return;
      // A killed replica comes back after lease + retry (as the local stack's supervisor does): restarted at once,
      // it would retake its own lease (a new epoch) before the other replica could.
      if (exit.code === LOST_LEASE) this.start();
      else if (exit.signal === 'SIGKILL') setTimeout(() => !this.stopped && this.start(), 5000);
    });
  }

  /** SIGKILLs the process (the supervisor starts it again). */
  kill(): void {
    this.process.child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const p = this.process;
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }

  async leadership(): Promise<Leadership | null> {
    return fetch(`${this.base}/leadership`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.json() as Promise<Leadership>)
      .catch(() => null);
  }

  up(): Promise<number> {
    return fetch(`${this.base}/up`, { method: 'POST', signal: AbortSignal.timeout(5000) })
      .then((r) => r.status)
      .catch(() => 0);
  }
}

describe('two replicas on PostgreSQL (e2e, compiled app)', () => {
  let pg: ThrowawayPostgres;
  let fake: FakeExoscale;
  let replicas: Replica[] = [];
  let databases = 0;

  beforeAll(async () => {
    assertBuilt();
    pg = await ThrowawayPostgres.start();
  }, 120_000);
  afterAll(async () => {
    await pg?.stop();
  });
  beforeEach(async () => {
    fake = await startFakeExoscale({ size: 1, timings: { bootDelayMs: 50, stopDelayMs: 20 } });
    await fake.zone.settle();
  });
  afterEach(async () => {
    for (const r of replicas) await r.stop();
    replicas = [];
    await fake.close();
  });

  /** A fresh database per test, reached directly or through `port` (a proxy). */
  async function database(): Promise<{ name: string; url: (port?: number) => string }> {
    const name = `ha${++databases}`;
    const admin = new Client(pg.config());
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return { name, url: (port = pg.port) => `postgres://postgres@127.0.0.1:${port}/${name}` };
  }

  async function replica(
    name: string,
    databaseUrl: string,
    extra: Record<string, string> = {},
  ): Promise<Replica> {
    const { env, base } = await compiledEnv(fake, {
      SCALING_POLICY: 'step',
      POOL_MAX_SIZE: '30',
      SCALING_INTERVAL_SECONDS: '1',
      DISCOVERY_INTERVAL_SECONDS: '1',
      DATABASE_URL: databaseUrl,
      ...LEASE,
      ...extra,
    });
    const r = new Replica(name, base, env);
    replicas.push(r);
    return r;
  }

  /** The acting leader among the replicas (waits for one). */
  async function actingLeader(timeoutMs = 30_000): Promise<{ replica: Replica; epoch: number }> {
    return eventually(
      async () => {
        for (const r of replicas) {
          const l = await r.leadership();
          if (l?.role === 'leader' && l.acting) return { replica: r, epoch: l.epoch! };
        }
        return null;
      },
      (found): found is { replica: Replica; epoch: number } => found !== null,
      timeoutMs,
    ) as Promise<{ replica: Replica; epoch: number }>;
  }

  const size = () => fake.zone.getPool(fake.poolId).size;
  const scaleCalls = () => fake.api.requests.filter((r) => r.operation === 'scale-instance-pool');
  const epochOf = (userAgent: string) => Number(/epoch\/(\d+)/.exec(userAgent)?.[1] ?? NaN);

  it('one leader: a webhook on the follower is applied by the leader; every scale call carries its epoch', async () => {
    const url = (await database()).url();
    await replica('cp-1', url);
    await replica('cp-2', url);
    const { replica: leader, epoch } = await actingLeader();
    const follower = replicas.find((r) => r !== leader)!;
    expect(await follower.leadership()).toMatchObject({ role: 'follower', holder: leader.name, epoch });
    expect(await follower.up()).toBe(202);
    await eventually(size, (s) => s === 2, 15_000);
    expect(scaleCalls().map((c) => epochOf(c.userAgent))).toEqual([epoch]);
    // The follower's read API shows the leader's decision (read from the store).
    const events = await eventually(
      () =>
        fetch(`${follower.base}/pool/events`).then(
          (r) => r.json() as Promise<{ outcome: string; epoch?: number }[]>,
        ),
      (e) => e.some((x) => x.outcome === 'scaled'),
      10_000,
    );
    expect(events.filter((x) => x.outcome === 'scaled')).toEqual([expect.objectContaining({ epoch })]);
  }, 90_000);

  it('SIGKILL of the leader, again and again: the other takes over, exactly one step per signal', async () => {
    const url = (await database()).url();
    await replica('cp-1', url);
    await replica('cp-2', url);
    let expected = 1;
    const takeovers: number[] = [];
    for (let round = 0; round < 3; round++) {
      const { replica: leader, epoch } = await actingLeader(60_000);
      const follower = replicas.find((r) => r !== leader)!;
      // A signal queued, then the leader killed before or while it acts on it.
      expect(await follower.up()).toBe(202);
      expected++;
      const killedAt = Date.now();
      leader.kill();
      const next = await actingLeader(60_000);
      takeovers.push(Date.now() - killedAt);
      expect(next.replica).not.toBe(leader);
      expect(next.epoch).toBeGreaterThan(epoch);
      await eventually(size, (s) => s === expected, 30_000);
    }
    // Settled: no further step, and never more than one call per signal.
    await actingLeader();
    await new Promise((r) => setTimeout(r, 3000));
    expect(size()).toBe(expected);
    expect(scaleCalls().length).toBeLessThanOrEqual(expected - 1);
    // lease (4 s) + retry (1 s) + the new leader's wait of one lease period (4 s) + a tick (1 s), with slack.
    for (const ms of takeovers) expect(ms).toBeLessThan(4_000 + 1_000 + 4_000 + 1_000 + 8_000);
  }, 240_000);

  it('a leader paused past its lease makes no call when it wakes: the new epoch has taken over', async () => {
    const url = (await database()).url();
    // cp-1 never ticks on its own (interval 1 h): it acts only when asked, so its attempt below is deliberate.
    await replica('cp-1', url, { SCALING_INTERVAL_SECONDS: '3600' });
    const old = await actingLeader();
    expect(old.replica.name).toBe('cp-1');
    await replica('cp-2', url);
    expect(await old.replica.up()).toBe(202);
    // Applied by cp-1 into its memory and the store (pending), not acted on: no tick.
    await eventually(
      () => fetch(`${old.replica.base}/pool`).then((r) => r.json() as Promise<{ pending: { up: boolean } }>),
      (p) => p.pending.up,
      10_000,
    );
    old.replica.process.child.kill('SIGSTOP');
    const next = await actingLeader(30_000);
    expect(next.replica.name).toBe('cp-2');
    await eventually(size, (s) => s === 2, 20_000);
    const firstNew = scaleCalls().findIndex((c) => epochOf(c.userAgent) === next.epoch);
    expect(firstNew).toBeGreaterThanOrEqual(0);
    old.replica.process.child.kill('SIGCONT');
    // Woken, cp-1 still believes in its step: asked to act, it is fenced (or already gone with 75).
    const manual = await fetch(`${old.replica.base}/pool/scale`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ direction: 'up' }),
    })
      .then(async (r) => ({ status: r.status, body: (await r.json()) as { code?: string } }))
      .catch(() => null);
    if (manual) expect(manual.body.code).toBe('Fenced');
    await eventually(
      () => old.replica.exits.filter((e) => e.code === LOST_LEASE).length,
      (n) => n >= 1,
      15_000,
    );
    const after = scaleCalls().slice(firstNew);
    expect(after.filter((c) => epochOf(c.userAgent) === old.epoch)).toEqual([]);
    expect(size()).toBe(2);
  }, 120_000);

  it('cut off from the database, the leader steps down (exit 75) and the other takes over', async () => {
    const db = await database();
    const proxy = await TcpProxy.start(pg.port);
    try {
      await replica('cp-1', db.url(proxy.port));
      const first = await actingLeader();
      expect(first.replica.name).toBe('cp-1');
      await replica('cp-2', db.url());
      const cut = Date.now();
      proxy.blackhole();
      await eventually(
        () => first.replica.exits.filter((e) => e.code === LOST_LEASE).length,
        (n) => n >= 1,
        15_000,
      );
      // Within the renew deadline (2 s) and a retry period, with slack for a loaded machine.
      expect(Date.now() - cut).toBeLessThan(8_000);
      const next = await actingLeader(30_000);
      expect(next.replica.name).toBe('cp-2');
      expect(next.epoch).toBeGreaterThan(first.epoch);
      expect(await next.replica.up()).toBe(202);
      await eventually(size, (s) => s === 2, 15_000);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('PostgreSQL restarted: both replicas recover without anyone touching them', async () => {
    const url = (await database()).url();
    await replica('cp-1', url);
    await replica('cp-2', url);
    await actingLeader();
    await pg.restart();
    const { replica: leader } = await actingLeader(60_000);
    const follower = replicas.find((r) => r !== leader)!;
    await eventually(
      () => follower.leadership(),
      (l) => l?.role === 'follower',
      30_000,
    );
    expect(await follower.up()).toBe(202);
    await eventually(size, (s) => s === 2, 20_000);
  }, 150_000);

  it('refuses a bad DATABASE_URL at boot, naming the setting and never the password', async () => {
    const port = await freePort();
    const { env } = await compiledEnv(fake, {
      DATABASE_URL: `postgres://u:s3cr3t-pw@127.0.0.1:${port}/x`,
      ...LEASE,
    });
    // Nothing listens there: retried for two lease periods, then 75 (its supervisor starts it again), one clear line.
    const r = runControlPlane(env);
    const exit = await r.exited;
    expect(exit.code).toBe(75);
    expect(r.output()).toMatch(/DATABASE_URL: the state store cannot be reached: connect ECONNREFUSED/);
    expect(r.output()).not.toContain('s3cr3t-pw');
    const bad = runControlPlane({ ...env, DATABASE_URL: 'mysql://x' });
    expect((await bad.exited).code).toBe(1);
    expect(bad.output()).toContain('DATABASE_URL must be a postgres:// connection URL');
    // A URL that turns the idle-transaction timeout off (or past the lease) would let a paused leader block every
    // takeover: refused at boot (exit 1).
    const base = `postgres://postgres@127.0.0.1:${pg.port}/postgres`;
    // "5s" is read by pg as 5 ms: every write pausing 5 ms would be ended.
    for (const [query, shown] of [
      ['idle_in_transaction_session_timeout=0', '0 (never)'],
      ['idle_in_transaction_session_timeout=600000', '600000 ms'],
      ['idle_in_transaction_session_timeout=5s', '5 ms'],
    ]) {
      const off = runControlPlane({ ...env, DATABASE_URL: `${base}?${query}` });
      expect((await off.exited).code).toBe(1);
      expect(off.output()).toContain(`DATABASE_URL: the server applies idle_in_transaction_session_timeout = ${shown}`);
    }
    // One below the lease is the user's to choose.
    const lower = runControlPlane({ ...env, DATABASE_URL: `${base}?idle_in_transaction_session_timeout=700` });
    await eventually(() => lower.output(), (o) => o.includes('Nest application successfully started'), 30_000);
    expect((await stopAndMeasure(lower)).code).toBe(0);
  }, 90_000);
});

/** The fence itself, in process: a leader whose lease was taken behind its back makes no call. */
describe('the fence (e2e, in process, real PostgreSQL)', () => {
  let pg: ThrowawayPostgres;
  let fake: FakeExoscale;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    pg = await ThrowawayPostgres.start();
  }, 120_000);
  afterAll(async () => {
    for (const t of apps) await t.app.close();
    await fake?.close();
    await pg?.stop();
  });

  it("refuses the scale call of a replica that lost its lease, and a follower's manual scaling names the leader", async () => {
    fake = await startFakeExoscale({ size: 1, timings: { bootDelayMs: 50, stopDelayMs: 20 } });
    const env = {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pg.port}/postgres`,
      ...LEASE,
      SCALING_POLICY: 'step',
      SCALING_INTERVAL_SECONDS: '3600',
      REPLICA_ID: 'cp-a',
    };
    const a = await startApp(fake, env);
    apps.push(a);
    const lost: string[] = [];
    a.app.get(LeadershipService).onLost = (reason) => lost.push(reason);
    await eventually(
      () => request(a.app.getHttpServer()).get('/leadership'),
      (r) => r.body.acting === true,
      20_000,
    );
    const b = await startApp(fake, { ...env, REPLICA_ID: 'cp-b' });
    apps.push(b);
    b.app.get(LeadershipService).onLost = () => undefined;
    await eventually(
      () => request(b.app.getHttpServer()).get('/leadership'),
      (r) => r.body.role === 'follower' && r.body.holder === 'cp-a',
      10_000,
    );
    const refused = await request(b.app.getHttpServer())
      .post('/pool/scale')
      .send({ direction: 'up' })
      .expect(409);
    expect(refused.body).toMatchObject({ code: 'Fenced' });
    expect(JSON.stringify(refused.body)).toContain('the leader is cp-a');

    await request(b.app.getHttpServer()).get('/up').expect(202);
    await eventually(
      () => request(a.app.getHttpServer()).get('/pool'),
      (r) => r.body.pending?.up === true,
      10_000,
    );
    // Taken behind cp-a's back (as if it had been paused past its lease): a new holder and epoch.
    const admin = new Client(pg.config());
    await admin.connect();
    await admin.query(
      "UPDATE leases SET holder = 'usurper', epoch = epoch + 1, expires_at = now() + interval '60 seconds'",
    );
    await admin.end();
    const entry = await a.app.get(ScalingService).tick();
    expect(entry.code).toBe('Fenced');
    expect(fake.api.requests.filter((r) => r.operation === 'scale-instance-pool')).toEqual([]);
    expect(fake.zone.getPool(fake.poolId).size).toBe(1);
    await eventually(
      () => lost,
      (l) => l.includes('lost'),
      10_000,
    );
  }, 90_000);

  it('drops a queued entry the leader cannot apply, with the reason, and applies the signals after it', async () => {
    const db = new Client(pg.config());
    await db.connect();
    await db.query('CREATE DATABASE poison');
    await db.end();
    const f = await startFakeExoscale({ size: 1 });
    const t = await startApp(f, {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pg.port}/poison`,
      ...LEASE,
      SCALING_POLICY: 'step',
      SCALING_INTERVAL_SECONDS: '3600',
      REPLICA_ID: 'cp-p',
    });
    try {
      t.app.get(LeadershipService).onLost = () => undefined;
      await eventually(
        () => request(t.app.getHttpServer()).get('/leadership'),
        (r) => r.body.acting === true,
        20_000,
      );
      const admin = new Client({ ...pg.config(), database: 'poison' });
      await admin.connect();
      await admin.query('INSERT INTO state_inbox (key, payload) VALUES ($1, $2::jsonb)', [
        `pool:${f.poolId}`,
        JSON.stringify({
          kind: 'webhook',
          source: 'alertmanager',
          body: { nonsense: true },
          receivedAt: 'x',
        }),
      ]);
      await admin.end();
      await request(t.app.getHttpServer()).get('/up').expect(202);
      await eventually(
        () => request(t.app.getHttpServer()).get('/pool'),
        (r) => r.body.pending?.up === true,
        10_000,
      );
    } finally {
      await t.app.close();
      await f.close();
    }
  }, 60_000);
});
