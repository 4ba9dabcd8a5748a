import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';

import { ExoscaleClient } from '@app/exoscale-client';

// The built emulator with several pools: two process-backed pools, each behind its own NLB, and virtual pools
// (API objects only) created at start and through the admin API, as a benchmark would.
const MAIN = resolve(__dirname, '../../../dist/apps/exoscale-emulator/main.js');
const KEY = 'EXOemulatorpools000000000';
const SECRET = 'emulator-pools-e2e-secret';
const API_PORT = 18286;
const NLB_PORTS = [18200, 18201];
const ADMIN = `http://127.0.0.1:${API_PORT}/_emulator`;
const FIRST_ID = '6f0b7a35-4f5e-4a53-9d3e-000000000001';
const SECOND_ID = '6f0b7a35-4f5e-4a53-9d3e-000000000002';

interface PoolState {
  id: string;
  name: string;
  size: number;
  state: string;
  virtual: boolean;
  nlb?: string;
  members: {
    id: string;
    ip: string;
    state: string;
    pid: number | null;
    health: string;
    utilisation?: number;
  }[];
}

interface Ready {
  endpoint: string;
  poolId: string;
  loadBalancerId: string;
  nlb: string;
  pools: { id: string; name: string; size: number; virtual: boolean; nlb?: string }[];
}

const json = async <T>(url: string, init?: RequestInit): Promise<T> =>
  (await (await fetch(url, init)).json()) as T;
const post = (path: string, body: unknown) =>
  fetch(`${ADMIN}${path}`, { method: 'POST', body: JSON.stringify(body) });
const state = async () => (await json<{ pools: PoolState[] }>(`${ADMIN}/state`)).pools;
const pool = async (id: string) => (await state()).find((p) => p.id === id)!;

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined as T);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One request on a new connection to `base`. */
function get(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request(`${base}${path}`, { agent: false }, (r) => {
      let body = '';
      r.on('data', (d) => (body += d));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

async function loadCount(ip: string): Promise<number> {
  const text = await (await fetch(`http://${ip}:9100/metrics`)).text();
  return Number(/slowweb_http_requests_total\{path="\/load",status="200"\} (\d+)/.exec(text)?.[1] ?? 0);
}

/** Starts the built emulator; resolves with its ready line (read up to its newline: it can be long). */
function startEmulator(args: string[]): {
  child: ChildProcess;
  ready: Promise<Ready>;
  exited: Promise<string>;
} {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', EXOSCALE_KEY: KEY, EXOSCALE_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<string>((res) => child.once('exit', (code) => res(`exit ${code}: ${err}`)));
  const ready = new Promise<Ready>((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l, i, all) => i < all.length - 1 && l.includes('emulator ready'));
      if (line) res(JSON.parse(line) as Ready);
    });
    void exited.then((why) => rej(new Error(`emulator ${why}${out}`)));
  });
  return { child, ready, exited };
}

async function stopEmulator(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('exoscale-emulator with several pools (e2e, built)', () => {
  let emulator: ChildProcess;
  let ready: Ready;
  let client: ExoscaleClient;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    const started = startEmulator([
      '--api-port',
      String(API_PORT),
      '--nlb-port',
      String(NLB_PORTS[0]),
      '--pools',
      '2',
      '--pool-names',
      'web,worker',
      '--size',
      '1',
      '--virtual-pools',
      '3',
      '--virtual-size',
      '2',
      '--boot-delay-ms',
      '200',
      '--load-seconds',
      '0.05',
      '--health-interval-ms',
      '200',
    ]);
    emulator = started.child;
    ready = await started.ready;
    client = new ExoscaleClient({
      apiKey: KEY,
      apiSecret: SECRET,
      zone: 'at-vie-1',
      endpoint: ready.endpoint,
    });
    await until(state, (pools) =>
      pools.filter((p) => !p.virtual).every((p) => p.members.every((m) => m.health === 'success')),
    );
  });

  afterAll(() => stopEmulator(emulator));

  it('prints the first pool as before and every pool, with deterministic ids and one NLB per process pool', () => {
    expect(ready).toMatchObject({
      poolId: FIRST_ID,
      nlb: `http://127.0.0.1:${NLB_PORTS[0]}`,
      loadBalancerId: expect.any(String),
    });
    expect(ready.pools.map((p) => [p.id, p.name, p.size, p.virtual, p.nlb])).toEqual([
      [FIRST_ID, 'web', 1, false, `http://127.0.0.1:${NLB_PORTS[0]}`],
      [SECOND_ID, 'worker', 1, false, `http://127.0.0.1:${NLB_PORTS[1]}`],
      ['6f0b7a35-4f5e-4a53-9d3e-000000000003', 'virtual-1', 2, true, undefined],
      ['6f0b7a35-4f5e-4a53-9d3e-000000000004', 'virtual-2', 2, true, undefined],
      ['6f0b7a35-4f5e-4a53-9d3e-000000000005', 'virtual-3', 2, true, undefined],
    ]);
  });

  it('serves each pool through its own NLB, in the API as two load balancers', async () => {
    const lbs = await client.listLoadBalancers();
    expect(lbs.map((lb) => [lb.services[0].port, lb.services[0].instancePoolId]).sort()).toEqual([
      [NLB_PORTS[0], FIRST_ID],
      [NLB_PORTS[1], SECOND_ID],
    ]);
    const [web, worker] = [await pool(FIRST_ID), await pool(SECOND_ID)];
    const before = [await loadCount(web.members[0].ip), await loadCount(worker.members[0].ip)];
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => get(`http://127.0.0.1:${NLB_PORTS[1]}`, '/load').then((r) => r.status)),
    );
    expect(answers).toEqual(Array(6).fill(200));
    expect(await loadCount(worker.members[0].ip)).toBe(before[1] + 6);
    expect(await loadCount(web.members[0].ip)).toBe(before[0]);
  });

  it('scales one pool without touching the other', async () => {
    await client.waitForOperation(await client.scaleInstancePool(FIRST_ID, 3), { pollIntervalMs: 100 });
    const web = await until(
      () => pool(FIRST_ID),
      (p) => p.members.length === 3 && p.members.every((m) => m.health === 'success' && m.pid),
    );
    const worker = await pool(SECOND_ID);
    expect(worker.size).toBe(1);
    expect(worker.members).toHaveLength(1);
    expect((await client.listInstances({ managerId: SECOND_ID })).map((i) => i.id)).toEqual([
      worker.members[0].id,
    ]);
    expect((await client.listInstances({ managerId: FIRST_ID })).map((i) => i.id).sort()).toEqual(
      web.members.map((m) => m.id).sort(),
    );
    // The grown pool's NLB routes to its three members, the other's still to its one.
    const lb = (await client.listLoadBalancers()).find((l) => l.services[0].instancePoolId === FIRST_ID)!;
    await until(
      () => client.getLoadBalancer(lb.id),
      (l) => l.services[0].healthcheckStatus.filter((h) => h.status === 'success').length === 3,
    );
    await client.waitForOperation(await client.scaleInstancePool(FIRST_ID, 1), { pollIntervalMs: 100 });
    expect((await pool(SECOND_ID)).members.map((m) => m.id)).toEqual(worker.members.map((m) => m.id));
  });

  it('runs virtual pools through the signed API, without processes, in 10.0.0.0/8', async () => {
    const id = '6f0b7a35-4f5e-4a53-9d3e-000000000003';
    expect(await client.getInstancePool(id)).toMatchObject({ id, size: 2, state: 'running' });
    await client.waitForOperation(await client.scaleInstancePool(id, 4), { pollIntervalMs: 50 });
    const members = await client.listInstances({ managerId: id });
    expect(members).toHaveLength(4);
    expect(members.every((m) => /^10\.\d+\.\d+\.\d+$/.test(m.publicIp!) && m.state === 'running')).toBe(true);
    const virtual = await pool(id);
    expect(virtual.members.every((m) => m.pid === null && m.health === 'success')).toBe(true);
  });

  it('sets a virtual pool and member utilisation and health, and exports their CPU counters', async () => {
    const id = '6f0b7a35-4f5e-4a53-9d3e-000000000004';
    expect((await post(`/pools/${id}/utilisation`, { utilisation: 1.5 })).status).toBe(400);
    expect((await post(`/pools/${FIRST_ID}/utilisation`, { utilisation: 0.5 })).status).toBe(409);
    expect((await post(`/pools/${id}/utilisation`, { utilisation: 0.9 })).status).toBe(200);
    const [a, b] = (await pool(id)).members;
    expect([a.utilisation, b.utilisation]).toEqual([0.9, 0.9]);
    expect((await post(`/members/${b.id}/utilisation`, { utilisation: 0.1 })).status).toBe(200);
    expect((await pool(id)).members.map((m) => m.utilisation)).toEqual([0.9, 0.1]);
    const counters = async (member: string) => {
      const text = await (await fetch(`${ADMIN}/members/${member}/metrics`)).text();
      const mode = (m: string) => Number(new RegExp(`mode="${m}"\\} ([0-9.]+)`).exec(text)![1]);
      return { busy: mode('user'), idle: mode('idle') };
    };
    const first = await counters(a.id);
    await new Promise((r) => setTimeout(r, 500));
    const second = await counters(a.id);
    const busy = second.busy - first.busy;
    const idle = second.idle - first.idle;
    expect(busy / (busy + idle)).toBeCloseTo(0.9, 2);
    // New members follow the pool's utilisation.
    await client.waitForOperation(await client.scaleInstancePool(id, 3), { pollIntervalMs: 50 });
    expect((await pool(id)).members.map((m) => m.utilisation)).toEqual([0.9, 0.1, 0.9]);
    // Health as the API shows it; a crash replaces the member.
    await post(`/members/${a.id}/health`, { healthy: false });
    expect((await pool(id)).members.find((m) => m.id === a.id)!.health).toBe('failure');
    expect((await post(`/members/${a.id}/crash`, {})).status).toBe(202);
    const replaced = await until(
      () => pool(id),
      (p) =>
        p.members.length === 3 &&
        !p.members.some((m) => m.id === a.id) &&
        p.members.every((m) => m.health === 'success'),
    );
    expect(replaced.members.map((m) => m.utilisation)).toEqual([0.1, 0.9, 0.9]);
    expect((await fetch(`${ADMIN}/members/${a.id}/metrics`)).status).toBe(404);
  });

  it('creates 1,000 virtual pools of 2 members in one admin call and lists them', async () => {
    const bad = await post('/pools', { count: 0 });
    expect(bad.status).toBe(400);
    const started = Date.now();
    const res = await post('/pools', { count: 1000, size: 2, prefix: 'bench' });
    expect(res.status).toBe(201);
    const { pools } = (await res.json()) as {
      pools: { id: string; name: string; size: number; virtual: boolean }[];
    };
    expect(Date.now() - started).toBeLessThan(10000);
    expect(pools).toHaveLength(1000);
    expect(pools[0]).toEqual({
      id: '6f0b7a35-4f5e-4a53-9d3e-000000000006',
      name: 'bench-1',
      size: 2,
      state: 'running',
      virtual: true,
    });
    expect(pools[999]).toMatchObject({ id: '6f0b7a35-4f5e-4a53-9d3e-0000000003ed', name: 'bench-1000' });
    const listed = (await json<{ pools: { id: string }[] }>(`${ADMIN}/pools`)).pools;
    expect(listed).toHaveLength(1005);
    expect(new Set(listed.map((p) => p.id)).size).toBe(1005);
    // The API serves them, signed, and lists 2,000 of their members.
    expect(await client.getInstancePool(pools[500].id)).toMatchObject({ size: 2, state: 'running' });
    expect((await client.listInstances({ managerId: pools[999].id })).length).toBe(2);
    expect((await client.listInstances()).length).toBeGreaterThanOrEqual(2000 + 2 + 4 + 3 + 2);
  });
});

describe('exoscale-emulator options (e2e, built)', () => {
  it.each([
    [['--pools', '9', '--size', '30'], /--pools x --size \(270\) exceeds the 254 member addresses/],
    [['--pools', '2', '--pool-names', 'a'], /--pool-names must list 2 name\(s\)/],
  ])('refuses %j with exit 1 and the reason', async (args, message) => {
    const { ready, exited } = startEmulator(['--api-port', String(API_PORT + 2), ...args]);
    ready.catch(() => undefined);
    const why = await exited;
    expect(why).toMatch(/^exit 1: exoscale-emulator: /);
    expect(why).toMatch(message);
  });

  it('--virtual makes the --pools pools virtual: no process, no NLB listener', async () => {
    const { child, ready } = startEmulator([
      '--api-port',
      String(API_PORT + 1),
      '--nlb-port',
      String(NLB_PORTS[0] + 10),
      '--virtual',
      '--pools',
      '2',
      '--size',
      '3',
    ]);
    try {
      const line = await ready;
      expect(line.poolId).toBe(FIRST_ID);
      expect(line).not.toHaveProperty('nlb');
      expect(line.pools.map((p) => [p.id, p.virtual, p.size])).toEqual([
        [FIRST_ID, true, 3],
        [SECOND_ID, true, 3],
      ]);
      const pools = (await json<{ pools: PoolState[] }>(`http://127.0.0.1:${API_PORT + 1}/_emulator/state`))
        .pools;
      expect(pools.flatMap((p) => p.members).every((m) => m.pid === null && m.state === 'running')).toBe(
        true,
      );
      await expect(fetch(`http://127.0.0.1:${NLB_PORTS[0] + 10}/health`)).rejects.toThrow();
    } finally {
      await stopEmulator(child);
    }
  });
});
