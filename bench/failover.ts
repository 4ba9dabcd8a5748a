import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { EmulatorApiServer } from '../apps/exoscale-emulator/src/api-server';
import { EmulatedZone } from '../apps/exoscale-emulator/src/zone';
import { ThrowawayPostgres } from '../libs/state-store/test/throwaway-postgres';

/**
 * Failover (issue "Two replicas"): two compiled control planes on one PostgreSQL, the leader SIGKILLed 20 times, each
 * time right after a bare /up was queued on the follower; a supervisor restarts every killed or exited replica.
 * Prints the takeover times (kill -> the other replica acting), and counts double steps, lost signals, calls refused
 * by the fence and stale calls (a call of an older epoch after the first call of a newer one: must be 0).
 */

const ROOT = resolve(__dirname, '..', '..', '..');
const KEY = 'EXObench00000000000000000000';
const SECRET = 'bench-secret-never-printed-0123456789abcdef';
const LEASE = {
  LEASE_DURATION_SECONDS: '4',
  LEASE_RENEW_DEADLINE_SECONDS: '2',
  LEASE_RETRY_PERIOD_SECONDS: '1',
};
const KILLS = 20;

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

async function until<T>(probe: () => Promise<T | null>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`bench: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

class Replica {
  child!: ChildProcess;
  private stopped = false;
  constructor(
    readonly name: string,
    readonly base: string,
    private readonly env: Record<string, string>,
  ) {
    this.start();
  }
  private start(): void {
    this.child = spawn(process.execPath, ['dist/apps/control-plane/main.js'], {
      cwd: ROOT,
      stdio: 'ignore',
      env: { PATH: process.env.PATH, ...this.env, REPLICA_ID: this.name },
    });
    this.child.once('exit', (code) => {
      if (this.stopped) return;
      // Like the local stack's supervisor: a killed replica comes back after lease + retry, so that the takeover
      // measured is the other replica's (restarted at once, it would retake its own lease with a new epoch).
      setTimeout(() => this.start(), code === 75 ? 1000 : 5000);
    });
  }
  async leadership(): Promise<{ role: string; acting: boolean; epoch: number } | null> {
    const r = await fetch(`${this.base}/leadership`, { signal: AbortSignal.timeout(1000) });
    return (await r.json()) as { role: string; acting: boolean; epoch: number };
  }
  stop(): void {
    this.stopped = true;
    this.child.kill('SIGKILL');
  }
}

export async function benchFailover(): Promise<void> {
  const pg = await ThrowawayPostgres.start();
  const zone = new EmulatedZone('at-vie-1', undefined, { bootDelayMs: 50, stopDelayMs: 20 });
  const api = new EmulatorApiServer({ zone, credentials: { [KEY]: SECRET } });
  const endpoint = await api.listen(0);
  const pool = await zone.createPool({ name: 'bench', size: 1, virtual: true });
  const replicas: Replica[] = [];
  try {
    for (const name of ['cp-1', 'cp-2']) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'bench-ha-'));
      replicas.push(
        new Replica(name, `http://127.0.0.1:${port}`, {
          EXOSCALE_KEY: KEY,
          EXOSCALE_SECRET: SECRET,
          EXOSCALE_API_ENDPOINT: endpoint,
          EXOSCALE_INSTANCEPOOL_ID: pool.id,
          LISTEN_HOST: '127.0.0.1',
          LISTEN_PORT: String(port),
          SD_FILE: join(dir, 'config.json'),
          STATE_DIR: dir,
          SCALING_POLICY: 'step',
          POOL_MAX_SIZE: String(KILLS + 5),
          SCALING_INTERVAL_SECONDS: '1',
          DISCOVERY_INTERVAL_SECONDS: '1',
          DATABASE_URL: `postgres://postgres@127.0.0.1:${pg.port}/postgres`,
          ...LEASE,
        }),
      );
    }
    const acting = () =>
      until(async () => {
        for (const r of replicas) {
          const l = await r.leadership().catch(() => null);
          if (l?.role === 'leader' && l.acting) return { replica: r, epoch: l.epoch };
        }
        return null;
      }, 'an acting leader');
    const takeovers: number[] = [];
    let expected = 1;
    for (let kill = 0; kill < KILLS; kill++) {
      const { replica: leader } = await acting();
      const follower = replicas.find((r) => r !== leader)!;
      const queued = await fetch(`${follower.base}/up`, { method: 'POST' });
      if (queued.status !== 202) throw new Error(`bench: /up answered ${queued.status}`);
      expected++;
      const killedAt = Date.now();
      leader.child.kill('SIGKILL');
      await until(async () => {
        const next = await acting();
        return next.replica !== leader ? next : null;
      }, 'a takeover by the other replica');
      takeovers.push(Date.now() - killedAt);
      await until(async () => (zone.getPool(pool.id).size >= expected ? true : null), `size ${expected}`);
    }
    await acting();
    await new Promise((r) => setTimeout(r, 3000));
    const size = zone.getPool(pool.id).size;
    const calls = api.requests.filter((r) => r.operation === 'scale-instance-pool');
    let newest = 0;
    let stale = 0;
    for (const c of calls) {
      const epoch = Number(/epoch\/(\d+)/.exec(c.userAgent)?.[1] ?? 0);
      if (epoch < newest) stale++;
      newest = Math.max(newest, epoch);
    }
    const leader = (await acting()).replica;
    const events = (await (await fetch(`${leader.base}/pool/events`)).json()) as { code: string }[];
    const fenced = events.filter((e) => e.code === 'Fenced').length;
    const sorted = [...takeovers].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    console.log(
      `\nfailover: two replicas on PostgreSQL, the leader SIGKILLed ${KILLS} times (lease ${LEASE.LEASE_DURATION_SECONDS} s, renew deadline ${LEASE.LEASE_RENEW_DEADLINE_SECONDS} s, retry ${LEASE.LEASE_RETRY_PERIOD_SECONDS} s; tick 1 s)`,
    );
    console.log(
      `  takeover (kill -> the other replica acting): median ${(median / 1000).toFixed(1)} s, max ${(sorted[sorted.length - 1] / 1000).toFixed(1)} s; bound lease + retry + lease (the new leader's wait) + tick = ${4 + 1 + 4 + 1} s`,
    );
    console.log(
      `  signals ${KILLS}, steps applied ${size - 1}: double steps ${Math.max(0, size - expected)}, lost signals ${Math.max(0, expected - size)}; scale calls ${calls.length}, fenced ${fenced}, stale ${stale}`,
    );
  } finally {
    for (const r of replicas) r.stop();
    await zone.shutdown();
    await api.close();
    await pg.stop();
  }
}
