import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';

import { ExoscaleClient, signRequest } from '@app/exoscale-client';

// The built emulator as the local stack runs it: real member processes on 127.0.1.N, the NLB, the signed API.
const MAIN = resolve(__dirname, '../../../dist/apps/exoscale-emulator/main.js');
const KEY = 'EXOemulatortest0000000000';
const SECRET = 'emulator-e2e-secret';
const API_PORT = 18086;
const NLB_PORT = 18000;
const NLB = `http://127.0.0.1:${NLB_PORT}`;
const ADMIN = `http://127.0.0.1:${API_PORT}/_emulator`;

interface MemberState {
  id: string;
  ip: string;
  state: string;
  pid: number | null;
  health: string;
}

const state = async (): Promise<{ size: number; state: string; members: MemberState[] }> =>
  (
    (await (await fetch(`${ADMIN}/state`)).json()) as {
      pools: { size: number; state: string; members: MemberState[] }[];
    }
  ).pools[0];

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined as T);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One request on a new connection, as a new visitor would make it. */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request(`${NLB}${path}`, { agent: false }, (r) => {
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

describe('exoscale-emulator (e2e, built)', () => {
  let emulator: ChildProcess;
  let client: ExoscaleClient;
  let poolId: string;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    emulator = spawn(
      process.execPath,
      [
        MAIN,
        '--api-port',
        String(API_PORT),
        '--nlb-port',
        String(NLB_PORT),
        '--size',
        '2',
        '--boot-delay-ms',
        '300',
        '--load-seconds',
        '0.05',
        '--health-interval-ms',
        '200',
      ],
      {
        env: { PATH: process.env.PATH ?? '', EXOSCALE_KEY: KEY, EXOSCALE_SECRET: SECRET },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const ready = await new Promise<{ poolId: string; endpoint: string }>((res, rej) => {
      let out = '';
      emulator.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.includes('emulator ready'));
        if (line) res(JSON.parse(line));
      });
      emulator.once('exit', (code) => rej(new Error(`emulator exited ${code}: ${out}`)));
    });
    poolId = ready.poolId;
    client = new ExoscaleClient({
      apiKey: KEY,
      apiSecret: SECRET,
      zone: 'at-vie-1',
      endpoint: ready.endpoint,
    });
    await until(state, (s) => s.members.filter((m) => m.health === 'success').length === 2);
  });

  afterAll(async () => {
    const exited = new Promise((r) => emulator.once('exit', r));
    emulator.kill('SIGTERM');
    await exited;
  });

  it('honours the API contract the client expects, signatures included', async () => {
    const pool = await client.getInstancePool(poolId);
    expect(pool).toMatchObject({ id: poolId, size: 2, state: 'running' });
    const members = await client.listInstances({ managerId: poolId });
    expect(members.map((m) => m.publicIp).sort()).toEqual((await state()).members.map((m) => m.ip).sort());
    const [lb] = await client.listLoadBalancers();
    const service = (await client.getLoadBalancer(lb.id)).services[0];
    expect(service).toMatchObject({
      port: NLB_PORT,
      targetPort: 8080,
      instancePoolId: poolId,
      healthcheck: { mode: 'http', uri: '/health' },
    });
    expect(service.healthcheckStatus.map((h) => h.status)).toEqual(['success', 'success']);
    const bad = new ExoscaleClient({
      apiKey: KEY,
      apiSecret: 'wrong',
      zone: 'at-vie-1',
      endpoint: client.endpoint,
    });
    await expect(bad.getInstancePool(poolId)).rejects.toMatchObject({ status: 403 });
    const unsigned = await fetch(`${client.endpoint}/instance-pool/${poolId}`);
    expect(unsigned.status).toBe(403);
  });

  it('serves the slow web app through the NLB', async () => {
    expect(await get('/health')).toEqual({ status: 200, body: 'OK' });
    expect(await get('/load')).toEqual({ status: 200, body: 'Load generation done.' });
  });

  it('sends no request to an unhealthy member', async () => {
    const [sick, well] = (await state()).members;
    await fetch(`${ADMIN}/members/${sick.id}/health`, {
      method: 'POST',
      body: JSON.stringify({ healthy: false }),
    });
    await until(
      () => client.listLoadBalancers().then((lbs) => lbs[0].services[0].healthcheckStatus),
      (hs) => hs.some((h) => h.publicIp === sick.ip && h.status === 'failure'),
    );
    const sickBefore = await loadCount(sick.ip);
    const wellBefore = await loadCount(well.ip);
    const answers = await Promise.all(Array.from({ length: 30 }, () => get('/load').then((r) => r.status)));
    expect(answers.every((s) => s === 200)).toBe(true);
    expect(await loadCount(sick.ip)).toBe(sickBefore);
    expect(await loadCount(well.ip)).toBe(wellBefore + 30);
    await fetch(`${ADMIN}/members/${sick.id}/health`, {
      method: 'POST',
      body: JSON.stringify({ healthy: true }),
    });
    await until(state, (s) => s.members.every((m) => m.health === 'success'));
  });

  it('a hung member (its process lives, answers nothing) fails the health check, and recovers when resumed', async () => {
    const [hung] = (await state()).members;
    const hang = await fetch(`${ADMIN}/members/${hung.id}/hang`, { method: 'POST' });
    expect(hang.status).toBe(202);
    const lbId = (await client.listLoadBalancers())[0].id;
    await until(
      () => client.getLoadBalancer(lbId).then((lb) => lb.services[0].healthcheckStatus),
      (hs) => hs.some((h) => h.publicIp === hung.ip && h.status === 'failure'),
    );
    // Still a running instance in the API: only the load balancer sees the hang.
    expect((await client.listInstances()).find((i) => i.id === hung.id)?.state).toBe('running');
    await fetch(`${ADMIN}/members/${hung.id}/resume`, { method: 'POST' });
    await until(state, (s) => s.members.every((m) => m.health === 'success'));
  });

  it("sets a member's instance state and the instance quota for tests (admin)", async () => {
    const [member] = (await state()).members;
    const bad = await fetch(`${ADMIN}/members/${member.id}/state`, {
      method: 'POST',
      body: JSON.stringify({ state: 'broken' }),
    });
    expect(bad.status).toBe(400);
    await fetch(`${ADMIN}/members/${member.id}/state`, {
      method: 'POST',
      body: JSON.stringify({ state: 'error' }),
    });
    expect((await client.listInstances()).find((i) => i.id === member.id)?.state).toBe('error');
    await fetch(`${ADMIN}/members/${member.id}/state`, {
      method: 'POST',
      body: JSON.stringify({ state: 'running' }),
    });
    const quota = await fetch(`${ADMIN}/quota`, { method: 'POST', body: JSON.stringify({ instance: 5 }) });
    expect(await quota.json()).toMatchObject({ resource: 'instance', limit: 5 });
    expect(await client.getQuota('instance')).toEqual({ resource: 'instance', usage: 2, limit: 5 });
    await fetch(`${ADMIN}/quota`, { method: 'POST', body: JSON.stringify({ instance: -1 }) });
  });

  it('routes around a killed member and replaces it', async () => {
    const before = await state();
    const victim = before.members[0];
    await fetch(`${ADMIN}/members/${victim.id}/crash`, { method: 'POST' });
    // Once the process is gone (SIGKILL is asynchronous: a connection accepted while it dies is reset, which no
    // proxy can retry safely), and before a health check notices: a refused connection is retried on a healthy member.
    await until(
      async () => {
        try {
          process.kill(victim.pid!, 0);
          return false;
        } catch {
          return true;
        }
      },
      (gone) => gone,
    );
    const answers = await Promise.all(Array.from({ length: 20 }, () => get('/health').then((r) => r.status)));
    expect(answers).toEqual(Array(20).fill(200));
    const after = await until(
      state,
      (s) =>
        s.members.length === 2 &&
        !s.members.some((m) => m.id === victim.id) &&
        s.members.every((m) => m.state === 'running' && m.health === 'success'),
    );
    expect(after.size).toBe(2);
    const replacement = after.members.find((m) => !before.members.some((b) => b.id === m.id))!;
    expect(replacement.pid).not.toBe(victim.pid);
    expect(() => process.kill(victim.pid!, 0)).toThrow();
  });

  it('scales with real member processes and stops them on scale-down', async () => {
    await client.waitForOperation(await client.scaleInstancePool(poolId, 3), { pollIntervalMs: 100 });
    const three = await until(
      state,
      (s) => s.members.length === 3 && s.members.every((m) => m.health === 'success'),
    );
    expect(new Set(three.members.map((m) => m.ip)).size).toBe(3);
    await client.waitForOperation(await client.scaleInstancePool(poolId, 1), { pollIntervalMs: 100 });
    const one = await state();
    expect(one.members).toHaveLength(1);
    for (const gone of three.members.filter((m) => m.id !== one.members[0].id)) {
      expect(() => process.kill(gone.pid!, 0)).toThrow();
    }
  });

  it("logs every API call with its User-Agent, so a test can tell which leader's epoch made it (admin)", async () => {
    type Call = {
      operation: string;
      method: string;
      path: string;
      status: number;
      at: number;
      userAgent: string;
    };
    const since = Date.now();
    const path = `/v2/instance-pool/${poolId}:scale`;
    const body = JSON.stringify({ size: 2 });
    const expires = Math.floor(Date.now() / 1000) + 60;
    const res = await fetch(`http://127.0.0.1:${API_PORT}${path}`, {
      method: 'PUT',
      body,
      headers: {
        Authorization: signRequest(
          { method: 'PUT', path, body },
          { apiKey: KEY, apiSecret: SECRET },
          expires,
        ),
        'Content-Type': 'application/json',
        'User-Agent': 'exoscale-autoscaler epoch/7',
      },
    });
    expect(res.status).toBe(200);
    await client.getInstancePool(poolId);
    const unsigned = await fetch(`http://127.0.0.1:${API_PORT}${path}`, {
      method: 'PUT',
      body,
      headers: { 'User-Agent': 'intruder' },
    });
    expect(unsigned.status).toBe(403);

    const log = async (query: string) => {
      const answer = await fetch(`${ADMIN}/requests?${query}`);
      expect(answer.status).toBe(200);
      return (await answer.json()) as Call[];
    };
    const scales = await log(`operation=scale-instance-pool&since=${since}`);
    expect(
      scales.map(({ method, path: p, status, userAgent }) => ({ method, path: p, status, userAgent })),
    ).toEqual([
      { method: 'PUT', path, status: 200, userAgent: 'exoscale-autoscaler epoch/7' },
      { method: 'PUT', path, status: 403, userAgent: 'intruder' },
    ]);
    expect(scales[0].at).toBeGreaterThanOrEqual(since);
    const both = await log(`operation=scale-instance-pool&operation=get-instance-pool&since=${since}`);
    expect(both.map((c) => [c.operation, c.userAgent])).toEqual([
      ['scale-instance-pool', 'exoscale-autoscaler epoch/7'],
      ['get-instance-pool', 'exoscale-autoscaler'],
      ['scale-instance-pool', 'intruder'],
    ]);
    // Admin calls (this log's own reads included) are not API calls.
    expect((await log(`since=${since}`)).every((c) => !c.path.startsWith('/_emulator/'))).toBe(true);
    expect((await fetch(`${ADMIN}/requests?since=soon`)).status).toBe(400);
  });

  it('injects API faults on request', async () => {
    const res = await fetch(`${ADMIN}/faults`, {
      method: 'POST',
      body: JSON.stringify({ operation: 'get-instance-pool', status: 500, times: 1 }),
    });
    expect(res.status).toBe(201);
    const flaky = new ExoscaleClient({
      apiKey: KEY,
      apiSecret: SECRET,
      zone: 'at-vie-1',
      endpoint: client.endpoint,
      retry: { maxAttempts: 1 },
    });
    await expect(flaky.getInstancePool(poolId)).rejects.toMatchObject({ status: 500 });
    await expect(flaky.getInstancePool(poolId)).resolves.toMatchObject({ id: poolId });
  });
});
