import { mkdtemp } from 'node:fs/promises';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import request from 'supertest';

import { DOCUMENTED_PATHS, eventually } from './support/app';
import { FakeExoscale, startFakeExoscale, TEST_KEY, TEST_SECRET } from './support/fake-exoscale';
import { assertBuilt, freePort, runControlPlane as run, waitHealthy } from './support/process';

describe('compiled control plane (e2e)', () => {
  let fake: FakeExoscale;
  let env: Record<string, string>;
  let base: string;

  beforeAll(assertBuilt);
  beforeEach(async () => {
    fake = await startFakeExoscale({ size: 1 });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      EXOSCALE_KEY: TEST_KEY,
      EXOSCALE_SECRET: TEST_SECRET,
      EXOSCALE_ZONE: 'at-vie-1',
      EXOSCALE_ZONE_ID: '4da1b188-dcd6-4ff5-b7fd-bde984055548',
      EXOSCALE_INSTANCEPOOL_ID: fake.poolId,
      EXOSCALE_API_ENDPOINT: fake.endpoint,
      LISTEN_PORT: String(port),
      LISTEN_HOST: '127.0.0.1',
      SD_FILE: join(await mkdtemp(join(tmpdir(), 'cp-bin-')), 'config.json'),
      STATE_DIR: join(await mkdtemp(join(tmpdir(), 'cp-state-')), 'state'),
      SCALING_INTERVAL_SECONDS: '1',
      DISCOVERY_INTERVAL_SECONDS: '1',
    };
  });
  afterEach(async () => {
    await fake.close();
  });
  const healthy = () => waitHealthy(base, 20000);

  it.each([
    [{ EXOSCALE_INSTANCEPOOL_ID: '' }, /EXOSCALE_INSTANCEPOOL_ID must be the UUID/],
    [{ EXOSCALE_SECRET: '' }, /EXOSCALE_SECRET is required/],
    [{ POOL_MIN_SIZE: '4', POOL_MAX_SIZE: '2' }, /POOL_MIN_SIZE \(4\) must not exceed POOL_MAX_SIZE \(2\)/],
    [{ LISTEN_PORT: 'http' }, /LISTEN_PORT must be an integer port number/],
  ])('exits 1 naming the bad setting %#', async (override, message) => {
    const app = run({ ...env, ...override });
    const { code } = await app.exited;
    expect(code).toBe(1);
    expect(app.output()).toMatch(message);
    expect(app.output()).not.toMatch(/\n\s+at /); // no stack trace
    expect(app.output()).not.toContain(TEST_SECRET);
  });

  it('closes idle and slow connections within the configured limits', async () => {
    const app = run({ ...env, HTTP_HEADERS_TIMEOUT_SECONDS: '2', HTTP_REQUEST_TIMEOUT_SECONDS: '3' });
    try {
      await healthy();
      const { port } = new URL(base);
      const open = (): Promise<Socket> =>
        new Promise((res, rej) => {
          const socket = connect(Number(port), '127.0.0.1', () => res(socket));
          socket.on('error', rej);
        });
      const closed = (socket: Socket) =>
        new Promise<number>((res) => {
          const started = Date.now();
          socket.on('error', () => undefined);
          socket.once('close', () => res(Date.now() - started));
        });
      // 50 connections that never send a byte, and one slowloris that trickles a header line every 500 ms.
      const idle = await Promise.all(Array.from({ length: 50 }, open));
      const slow = await open();
      slow.write('GET /health HTTP/1.1\r\nHost: x\r\n');
      const trickle = setInterval(() => slow.writable && slow.write('X-Slow: 1\r\n'), 500);
      const times = await Promise.all([...idle, slow].map(closed));
      clearInterval(trickle);
      // Closed after the 2 s headers timeout (Node checks every second), long before any default would.
      for (const ms of times) expect(ms).toBeLessThan(6000);
      // The server still serves.
      await request(base).get('/health').expect(200);
    } finally {
      app.child.kill('SIGTERM');
      await app.exited;
    }
  });

  it('loses nothing on SIGKILL: a signal recorded before the kill is one step after the restart, never two', async () => {
    await fake.zone.settle();
    // No tick before the kill.
    const first = run({ ...env, SCALING_INTERVAL_SECONDS: '3600' });
    await healthy();
    await request(base).post('/pool/scale').send({ size: 1 }).expect(200); // an entry in the decision log
    await request(base).get('/up').expect(202);
    first.child.kill('SIGKILL');
    await first.exited;

    const second = run({ ...env, SCALING_INTERVAL_SECONDS: '1' });
    try {
      await healthy();
      await eventually(
        () => fake.zone.getPool(fake.poolId).size,
        (n) => n === 2,
        20000,
      );
      type Entry = { trigger: string; outcome: string };
      const events = await eventually(
        async () => (await request(base).get('/pool/events').expect(200)).body as Entry[],
        (e) => e.some((x) => x.outcome === 'scaled' && x.trigger === 'tick'),
      );
      expect(events.some((e) => e.trigger === 'manual')).toBe(true); // the log survived
      expect(events.filter((e) => e.outcome === 'scaled' && e.trigger === 'tick')).toHaveLength(1);
    } finally {
      second.child.kill('SIGKILL');
      await second.exited;
    }
    // A third run after the step: the signal was consumed and saved, so nothing is repeated.
    await fake.zone.settle();
    const third = run({ ...env, SCALING_INTERVAL_SECONDS: '1' });
    try {
      await healthy();
      await new Promise((r) => setTimeout(r, 3000));
      expect(fake.zone.getPool(fake.poolId).size).toBe(2);
      const health = await request(base).get('/health').expect(200);
      expect(health.body.info.stateFile).toMatchObject({ status: 'up' });
    } finally {
      third.child.kill('SIGTERM');
      await third.exited;
    }
  });

  it('passes the course grader scenario and exits 0 on SIGTERM', async () => {
    const app = run(env);
    try {
      await healthy();
      await request(base).get('/up').expect(202);
      await eventually(
        () => fake.zone.members(fake.poolId).filter((m) => m.state === 'running').length,
        (n) => n === 2,
        20000,
      );
      await request(base).get('/down').expect(202);
      await eventually(
        () => fake.zone.members(fake.poolId).length,
        (n) => n === 1,
        20000,
      );
      const down = await request(base).get('/down');
      expect(down.status).toBeGreaterThanOrEqual(200);
      expect(down.status).toBeLessThan(300);
      await new Promise((r) => setTimeout(r, 2500));
      expect(fake.zone.getPool(fake.poolId).size).toBe(1);

      const docs = await request(base).get('/docs-json').expect(200);
      for (const path of DOCUMENTED_PATHS) {
        expect(docs.body.paths).toHaveProperty([path]);
      }
      expect(Object.keys(docs.body.paths['/up'])).toEqual(expect.arrayContaining(['get', 'post']));
      expect(docs.body.components.schemas).toHaveProperty('AlertGroupPayloadDto');
      expect(docs.body.components.schemas).toHaveProperty('GrafanaLegacyPayloadDto');
      expect(docs.body.components.schemas).toHaveProperty('PoolStatusDto');
      await request(base).get('/docs').expect(200).expect('Content-Type', /html/);
    } finally {
      const started = Date.now();
      app.child.kill('SIGTERM');
      const { code } = await app.exited;
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(30000);
    }
    const lines = app.output().trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(app.output()).toContain('scaling decision');
    expect(app.output()).not.toContain(TEST_SECRET);
  });

  it('gives up an in-flight scale cleanly and exits 0 on SIGTERM', async () => {
    fake.zone.timings.bootDelayMs = 60_000;
    const app = run(env);
    await healthy();
    await request(base).get('/up').expect(202);
    await eventually(
      () => fake.zone.getPool(fake.poolId).state,
      (s) => s === 'scaling-up',
      20000,
    );
    const started = Date.now();
    app.child.kill('SIGTERM');
    const { code } = await app.exited;
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30000);
  });
});
