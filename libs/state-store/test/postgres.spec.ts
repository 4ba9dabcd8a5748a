import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

import { Client, Pool } from 'pg';

import {
  fence,
  FencedError,
  InboxEntry,
  LeaseEvents,
  migrate,
  MIGRATIONS,
  PostgresLease,
  PostgresLeaseOptions,
  PostgresStateStore,
  saveDocument,
  StopReason,
  VersionConflictError,
} from '@app/state-store';

import { TcpProxy } from './tcp-proxy';
import { ThrowawayPostgres } from './throwaway-postgres';

/** Short lease settings: every wait below is bounded by these, never by a long sleep. */
const FAST = { durationSeconds: 2, renewDeadlineSeconds: 1.5, retryPeriodSeconds: 0.2 };
const SLACK_MS = 600;

let pg: ThrowawayPostgres;
let store: PostgresStateStore;
const leases: PostgresLease[] = [];
const proxies: TcpProxy[] = [];
const measured: Record<string, number> = {};

/** The next `event` of `emitter` (its arguments and when it came), or a failure after `timeoutMs`. */
function next<E extends keyof LeaseEvents>(
  emitter: EventEmitter<LeaseEvents>,
  event: E,
  timeoutMs: number,
): Promise<{ args: LeaseEvents[E]; at: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener as never);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: LeaseEvents[E]) => {
      clearTimeout(timer);
      resolve({ args, at: performance.now() });
    };
    emitter.once(event, listener as never);
  });
}

function lease(name: string, options: Partial<PostgresLeaseOptions> = {}): PostgresLease {
  const created = new PostgresLease({ client: pg.config(), name, ...FAST, ...options });
  leases.push(created);
  return created;
}

beforeAll(async () => {
  pg = await ThrowawayPostgres.start();
  store = new PostgresStateStore({ pool: { ...pg.config(), max: 4 } });
  await store.start();
});

afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.stop({ release: false })));
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await store?.close();
  await pg?.stop();
  if (Object.keys(measured).length) console.log('measured (ms):', JSON.stringify(measured));
});

describe('schema', () => {
  it('migrates once when two replicas start at once, and again is a no-op', async () => {
    const db = pg.config();
    const pools = [new Pool(db), new Pool(db)];
    try {
      const extra = [
        ...MIGRATIONS,
        { version: 1000, name: 'test only', sql: 'CREATE TABLE test_extra (x int)' },
      ];
      const results = await Promise.all(pools.map((p) => migrate(p, extra)));
      expect(results.map((r) => r.applied).sort()).toEqual([[], [1000]]);
      expect(results.map((r) => r.current)).toEqual([1000, 1000]);
      expect((await migrate(pools[0])).applied).toEqual([]);
      const { rows } = await pools[0].query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY 1',
      );
      expect(rows.map((r) => r.version)).toEqual([...MIGRATIONS.map((m) => m.version), 1000]);
      await pools[0].query('DROP TABLE test_extra; DELETE FROM schema_migrations WHERE version = 1000');
      // Two fresh stores starting at once on the migrated database: nothing to apply, no error.
      const twins = [0, 1].map(() => new PostgresStateStore({ pool: db }));
      await Promise.all(twins.map((t) => t.start()));
      expect(twins.map((t) => t.migration?.applied)).toEqual([[], []]);
      await Promise.all(twins.map((t) => t.close()));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });
});

describe('PostgresStateStore', () => {
  it('saves and loads a JSON document with its version', async () => {
    expect(await store.load('round-trip')).toBeNull();
    const document = { signals: { steps: ['up'], alerts: [{ f: 'x', v: 0.93 }] }, text: 'é ✓', none: null };
    expect(await store.save('round-trip', document)).toBe(1);
    expect(await store.load('round-trip')).toEqual({ document, version: 1 });
    expect(await store.save('round-trip', { ...document, text: 'two' }, { expectedVersion: 1 })).toBe(2);
    expect(await store.load('round-trip')).toEqual({ document: { ...document, text: 'two' }, version: 2 });
    await expect(store.save('no/slash', {})).rejects.toThrow(/invalid state key/);
  });

  it('refuses a stale expected version (a typed conflict) and lets exactly one of concurrent savers win', async () => {
    await store.save('conflict', { a: 0 }, { expectedVersion: 0 });
    await expect(store.save('conflict', { a: 1 }, { expectedVersion: 0 })).rejects.toMatchObject({
      name: 'VersionConflictError',
      key: 'conflict',
      expected: 0,
      actual: 1,
    });
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((a) => store.save('conflict', { a }, { expectedVersion: 1 })),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i + 1] : []));
    expect(won).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected' && r.reason instanceof VersionConflictError),
    ).toHaveLength(3);
    expect(await store.load('conflict')).toEqual({ document: { a: won[0] }, version: 2 });
  });

  it('applies inbox entries exactly once, whatever fails between apply and commit', async () => {
    type Doc = { applied: string[] };
    const apply = (entries: InboxEntry<{ n: number }>[], current: { document: Doc } | null): Doc => ({
      applied: [...(current?.document.applied ?? []), ...entries.map((e) => String(e.payload.n))],
    });
    // Two replicas take webhooks; any of them appends.
    const replica = new PostgresStateStore({ pool: pg.config() });
    await replica.start();
    await store.save('inbox', { applied: [] });
    await store.append('inbox', { n: 1 });
    await replica.append('inbox', { n: 2 });

    // A crash between apply and commit: the handler throws after applying.
    await expect(
      store.consume<Doc, { n: number }>('inbox', (entries, current) => {
        apply(entries, current);
        throw new Error('crash before commit');
      }),
    ).rejects.toThrow('crash before commit');
    expect((await store.pending('inbox')).map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await store.load('inbox')).toEqual({ document: { applied: [] }, version: 1 });

    // The connection dies mid-transaction (the server ends the session): the same.
    const admin = new Client(pg.config());
    await admin.connect();
    await expect(
      store.consume<Doc, { n: number }>('inbox', async (entries, current) => {
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE state = 'idle in transaction' AND pid <> pg_backend_pid()`,
        );
        return apply(entries, current);
      }),
    ).rejects.toThrow();
    await admin.end();
    expect(await store.pending('inbox')).toHaveLength(2);
    expect((await store.load('inbox'))?.version).toBe(1);

    expect(await store.consume('inbox', apply)).toEqual({ consumed: 2, version: 2 });
    const handler = jest.fn(apply);
    expect(await store.consume('inbox', handler)).toEqual({ consumed: 0, version: 2 });
    expect(handler).not.toHaveBeenCalled();

    // Two consumers at once over 20 entries: each entry applied once, none lost.
    for (let n = 3; n <= 22; n++) await (n % 2 ? store : replica).append('inbox', { n });
    const consumed = await Promise.all(
      [store, replica].map((s) => s.consume<Doc, { n: number }>('inbox', apply, { limit: 7 })),
    );
    // The second waited for the first's document lock, then took the next entries: none twice.
    expect(consumed.map((r) => r.consumed)).toEqual([7, 7]);
    expect((await store.consume<Doc, { n: number }>('inbox', apply)).consumed).toBe(6);
    const applied = (await store.load<Doc>('inbox'))!.document.applied;
    expect(applied.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    expect(await store.pending('inbox')).toEqual([]);
    await replica.close();
  });
});

describe('PostgresLease and fence', () => {
  it('lets exactly one of two contenders lead; the other takes over after expiry with the next epoch', async () => {
    const a = lease('compete', { holder: 'a' });
    const b = lease('compete', { holder: 'b' });
    const bothLeading = jest.fn();
    for (const [self, other] of [
      [a, b],
      [b, a],
    ])
      self.on('startedLeading', () => other.isLeader() && bothLeading());
    await Promise.all([a.start(), b.start()]);
    expect([a, b].filter((l) => l.isLeader())).toHaveLength(1);
    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    const epoch = leader.state().epoch!;
    expect(follower.state()).toMatchObject({ role: 'follower', holder: leader.holder, epoch });
    expect(leader.state().leaseExpiresAt!.getTime()).toBeGreaterThan(Date.now() - 5000);

    // Several renew periods: the leader keeps it, the follower keeps waiting.
    await next(leader, 'renewed', 1000);
    await next(leader, 'renewed', 1000);
    expect(follower.isLeader()).toBe(false);

    // The leader dies (stops renewing, keeps the lease): the follower leads once it expires, epoch + 1.
    const takeover = next(follower, 'startedLeading', 4000);
    const died = performance.now();
    await leader.stop({ release: false });
    const { args, at } = await takeover;
    expect(args[0]).toBe(epoch + 1);
    measured.takeoverAfterCrash = Math.round(at - died);
    expect(at - died).toBeLessThan((FAST.durationSeconds + FAST.retryPeriodSeconds) * 1000 + SLACK_MS);

    // A clean stop releases the lease: the other takes it within a retry period.
    const back = lease('compete', { holder: 'c' });
    await back.start();
    const handover = next(back, 'startedLeading', 3000);
    const released = performance.now();
    await follower.stop();
    const handed = await handover;
    expect(handed.args[0]).toBe(epoch + 2);
    measured.takeoverAfterRelease = Math.round(handed.at - released);
    expect(handed.at - released).toBeLessThan(FAST.retryPeriodSeconds * 1000 + SLACK_MS);
    expect(bothLeading).not.toHaveBeenCalled();
  });

  it('refuses the fence of a holder paused past its lease, and lets the new leader write through it', async () => {
    const a = lease('paused', { holder: 'a' });
    const b = lease('paused', { holder: 'b' });
    await a.start();
    await b.start();
    expect(a.isLeader()).toBe(true);
    const recordOf = (epoch: number) => ({ record: { from: 2, to: 3, epoch } });

    // While leading, A's fenced write of its scale record commits.
    const specA = a.fenceSpec(0.5);
    await fence(store.pool, specA, (tx) => saveDocument(tx, 'fenced', recordOf(specA.epoch)));
    expect((await store.load('fenced'))?.document).toEqual(recordOf(specA.epoch));

    // A pauses (no renews; it still holds its epoch in hand), B takes over after the expiry.
    const takeover = next(b, 'startedLeading', 4000);
    await a.stop({ release: false });
    const [epochB] = (await takeover).args;
    expect(epochB).toBe(specA.epoch + 1);

    // A wakes and tries to write before its scale call: refused, nothing written.
    const write = jest.fn((tx) => saveDocument(tx, 'fenced', { stale: true }));
    const refused = await fence(store.pool, specA, write).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FencedError);
    expect(refused).toMatchObject({ reason: 'holder', observed: { holder: 'b', epoch: epochB } });
    expect(write).not.toHaveBeenCalled();
    // The same through the store's own fenced save.
    await expect(store.save('fenced', { stale: true }, { fence: specA })).rejects.toMatchObject({
      reason: 'holder',
    });
    expect((await store.load('fenced'))?.document).toEqual(recordOf(specA.epoch));

    // B writes through the fence; asking for more time than the lease has left is refused.
    const version = await fence(store.pool, b.fenceSpec(0.5), (tx) =>
      saveDocument(tx, 'fenced', recordOf(epochB), 1),
    );
    expect(version).toBe(2);
    expect((await store.load('fenced'))?.document).toEqual(recordOf(epochB));
    await expect(fence(store.pool, b.fenceSpec(FAST.durationSeconds + 1), write)).rejects.toMatchObject({
      reason: 'expiring',
    });
    expect(write).not.toHaveBeenCalled();

    // The same holder coming back as a new term (once the lease is free): its older epoch is refused too.
    await b.stop({ release: true });
    const again = lease('paused', { holder: 'b' });
    await again.start();
    expect(again.state()).toMatchObject({ role: 'leader', epoch: epochB + 1 });
    await expect(
      fence(store.pool, { name: 'paused', holder: 'b', epoch: epochB, minRemainingSeconds: 0 }, write),
    ).rejects.toMatchObject({
      reason: 'epoch',
    });
    await expect(
      fence(store.pool, { name: 'nothing', holder: 'b', epoch: 1, minRemainingSeconds: 0 }, write),
    ).rejects.toMatchObject({
      reason: 'no-lease',
    });
    expect(() => b.fenceSpec(1)).toThrow(FencedError);
  });

  it('takes over from a holder paused inside a fenced write: the server ends its idle transaction and its lock', async () => {
    // A pauses inside its fenced write (the lease row locked by `SELECT ... FOR UPDATE`), as a SIGSTOPped process
    // would, and stops renewing. Returns the write (settles once A wakes) and B.
    const pauseInWrite = async (name: string, idleMs: number) => {
      const paused = new PostgresStateStore({
        pool: { ...pg.config(), max: 2, idle_in_transaction_session_timeout: idleMs },
      });
      const a = lease(name, { holder: 'a' });
      const b = lease(name, { holder: 'b' });
      await a.start();
      await b.start();
      expect(a.isLeader()).toBe(true);
      let wake!: () => void;
      const asleep = new Promise<void>((r) => (wake = r));
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const write = fence(paused.pool, a.fenceSpec(0.5), async (tx) => {
        await saveDocument(tx, name, { by: 'a' });
        entered();
        await asleep;
      }).then(
        () => 'committed',
        (e: Error) => e,
      );
      await inside;
      await a.stop({ release: false });
      return { b, wake, write, pausedAt: performance.now(), close: () => paused.close() };
    };
    const takeoverMs = (FAST.durationSeconds + FAST.retryPeriodSeconds) * 1000 + SLACK_MS;

    // Without the timeout (0: the server's default, never): B cannot take the lease while A sleeps in its write.
    const blocked = await pauseInWrite('paused-no-timeout', 0);
    await expect(next(blocked.b, 'startedLeading', takeoverMs)).rejects.toThrow(/no startedLeading/);
    expect(blocked.b.isLeader()).toBe(false);
    const late = next(blocked.b, 'startedLeading', takeoverMs);
    blocked.wake();
    // Its write commits (nobody could take the lease while it held the lock), then B leads.
    expect(await blocked.write).toBe('committed');
    await late;
    await blocked.close();

    // With it (1 s, below the 2 s lease): the server ends A's transaction, B leads once the lease expires.
    const ended = await pauseInWrite('paused-timeout', 1000);
    const { at } = await next(ended.b, 'startedLeading', takeoverMs);
    measured.takeoverAfterPauseInWrite = Math.round(at - ended.pausedAt);
    ended.wake();
    // A wakes to a closed session: its write fails, nothing of it is stored.
    // ... with the server's reason (25P03), not pg's generic "not queryable".
    const woke = await ended.write;
    expect(woke).toBeInstanceOf(Error);
    expect(woke).toMatchObject({ code: '25P03', message: expect.stringMatching(/idle-in-transaction timeout/) });
    expect(await store.load('paused-timeout')).toBeNull();
    await ended.close();
  });

  it('stops leading within the renew deadline when its database connection is cut, and the other takes over', async () => {
    for (const cut of ['sever', 'blackhole'] as const) {
      const proxy = await TcpProxy.start(pg.port);
      proxies.push(proxy);
      const name = `cut-${cut}`;
      const a = lease(name, { holder: 'a', client: pg.config(proxy.port) });
      const b = lease(name, { holder: 'b' });
      await a.start();
      await b.start();
      expect(a.isLeader()).toBe(true);
      const signal = a.signal!;
      const renewed = await next(a, 'renewed', 1000);
      const stopped = next(a, 'stoppedLeading', 3000);
      const takeover = next(b, 'startedLeading', 5000);
      const cutAt = performance.now();
      proxy[cut]();
      const { args, at } = await stopped;
      expect(args[0] satisfies StopReason).toBe('renew-deadline');
      expect(signal.aborted).toBe(true);
      // Within the renew deadline of the last good renew (it may have been sent a little before the event).
      expect(at - renewed.at).toBeLessThanOrEqual(FAST.renewDeadlineSeconds * 1000 + 100);
      expect(at - cutAt).toBeLessThanOrEqual(FAST.renewDeadlineSeconds * 1000 + 100);
      measured[`stepDownAfter-${cut}`] = Math.round(at - cutAt);
      const taken = await takeover;
      expect(taken.at).toBeGreaterThan(at);
      measured[`takeoverAfter-${cut}`] = Math.round(taken.at - cutAt);
      expect(a.isLeader()).toBe(false);
    }
  });

  it('recovers from a PostgreSQL restart without manual action: one contender leads again', async () => {
    const a = lease('restart', { holder: 'a' });
    const b = lease('restart', { holder: 'b' });
    await a.start();
    await b.start();
    expect(a.isLeader()).toBe(true);
    const restartedAt = performance.now();
    await pg.restart();
    // Within a lease period or so, exactly one leads, and it can write through the fence.
    const deadline = performance.now() + 6000;
    let leaders: PostgresLease[] = [];
    for (;;) {
      leaders = [a, b].filter((l) => l.isLeader());
      if (leaders.length === 1) {
        try {
          await fence(store.pool, leaders[0].fenceSpec(0.2), (tx) =>
            saveDocument(tx, 'after-restart', { by: leaders[0].holder }),
          );
          break;
        } catch {
          // a term that ends right now, or a pooled connection the restart killed: try again
        }
      }
      if (performance.now() > deadline)
        throw new Error(`no single leader after the restart: ${leaders.length}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    measured.leaderWritingAfterRestart = Math.round(performance.now() - restartedAt);
    expect((await store.load('after-restart'))?.document).toEqual({ by: leaders[0].holder });
    // Both contenders still run: the follower keeps trying, the leader keeps renewing.
    await next(leaders[0], 'renewed', 1000);
    expect([a, b].filter((l) => l.isLeader())).toHaveLength(1);
  });

  it('never lets a second replica under the same name take an unexpired lease', async () => {
    const first = lease('twins', { holder: 'same' });
    const second = lease('twins', { holder: 'same' });
    await first.start();
    expect(first.state()).toMatchObject({ role: 'leader', epoch: 1 });
    await second.start();
    expect(second.state()).toMatchObject({ role: 'follower', holder: 'same', epoch: 1 });
    expect(first.isLeader()).toBe(true);
  });
});
