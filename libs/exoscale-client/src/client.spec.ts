import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';

import { EmulatorApiServer } from '../../../apps/exoscale-emulator/src/api-server';
import { EmulatedZone, MemberRuntime } from '../../../apps/exoscale-emulator/src/zone';
import { ExoscaleClient, ExoscaleClientOptions } from './client';
import { clockSkewOf, ExoscaleApiError } from './errors';

// The client against a real HTTP server that checks EXO2-HMAC-SHA256 the way the API does and injects faults.
const apiKey = 'EXOtest0000000000000000000000';
const apiSecret = 'client-spec-secret-do-not-leak-0123456789abc';

describe('ExoscaleClient', () => {
  let zone: EmulatedZone;
  let server: EmulatorApiServer;
  let endpoint: string;
  let poolId: string;
  let failStarts = false;
  let delays: number[];
  let logLines: string[];

  const runtime: MemberRuntime = {
    start: async () => {
      if (failStarts) throw new Error('hypervisor out of capacity');
    },
    stop: async () => undefined,
  };

  const client = (overrides: Partial<ExoscaleClientOptions> = {}) =>
    new ExoscaleClient({
      apiKey,
      apiSecret,
      zone: 'at-vie-1',
      endpoint,
      timeoutMs: 500,
      retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 5000 },
      sleep: async (ms) => {
        delays.push(ms);
      },
      logger: { warn: (line) => logLines.push(line) },
      ...overrides,
    });

  beforeEach(async () => {
    failStarts = false;
    delays = [];
    logLines = [];
    zone = new EmulatedZone('at-vie-1', runtime, { bootDelayMs: 20, stopDelayMs: 5 });
    server = new EmulatorApiServer({ zone, credentials: { [apiKey]: apiSecret } });
    endpoint = await server.listen();
    poolId = (await zone.createPool({ name: 'web', size: 2 })).id;
    zone.createLoadBalancer({ name: 'lb', poolId, port: 80, targetPort: 8080 });
  });

  afterEach(async () => {
    await zone.shutdown();
    await server.close();
  });

  it('defaults the endpoint to the zone API', () => {
    expect(new ExoscaleClient({ apiKey, apiSecret, zone: 'ch-gva-2' }).endpoint).toBe(
      'https://api-ch-gva-2.exoscale.com/v2',
    );
  });

  it('reads instance pools in camelCase', async () => {
    const pool = await client().getInstancePool(poolId);
    expect(pool).toMatchObject({
      id: poolId,
      name: 'web',
      size: 2,
      state: 'running',
      instancePrefix: 'pool',
    });
    expect(pool.instanceIds).toHaveLength(2);
    const pools = await client().listInstancePools();
    expect(pools.map((p) => p.id)).toEqual([poolId]);
  });

  it("lists a pool's members with their public IPs, signing the manager-id query", async () => {
    const members = await client().listInstances({ managerId: poolId });
    expect(members).toHaveLength(2);
    for (const member of members) {
      expect(member.publicIp).toMatch(/^127\.0\.1\.\d+$/);
      expect(member.manager).toEqual({ id: poolId, type: 'instance-pool' });
      expect(member.instanceType).toMatchObject({ family: 'standard', size: 'micro', cpus: 1 });
    }
    expect(await client().listInstances({ managerId: 'another-pool' })).toEqual([]);
    const one = await client().getInstance(members[0].id);
    expect(one).toMatchObject({ id: members[0].id, state: 'running', publicIp: members[0].publicIp });
  });

  it('scales a pool and waits for the async operation', async () => {
    const operation = await client().scaleInstancePool(poolId, 3);
    expect(operation.state).toBe('pending');
    expect(operation.reference?.id).toBe(poolId);
    const done = await client({ sleep: (ms) => new Promise((r) => setTimeout(r, ms)) }).waitForOperation(
      operation,
      {
        pollIntervalMs: 10,
      },
    );
    expect(done.state).toBe('success');
    expect((await client().getOperation(operation.id)).state).toBe('success');
    const pool = await client().getInstancePool(poolId);
    expect(pool).toMatchObject({ size: 3, state: 'running' });
    expect(pool.instanceIds).toHaveLength(3);
  });

  it('evicts named members', async () => {
    const [victim] = await client().listInstances({ managerId: poolId });
    const operation = await client().evictInstancePoolMembers(poolId, [victim.id]);
    await client({ sleep: (ms) => new Promise((r) => setTimeout(r, ms)) }).waitForOperation(operation.id, {
      pollIntervalMs: 10,
    });
    const pool = await client().getInstancePool(poolId);
    expect(pool.size).toBe(1);
    expect(pool.instanceIds).not.toContain(victim.id);
  });

  it('reads load balancers with their health-check status per member', async () => {
    const [lb] = await client().listLoadBalancers();
    const full = await client().getLoadBalancer(lb.id);
    expect(full.services[0]).toMatchObject({
      port: 80,
      targetPort: 8080,
      instancePoolId: poolId,
      strategy: 'round-robin',
    });
    expect(full.services[0].healthcheck).toMatchObject({ mode: 'http', uri: '/health' });
    expect(full.services[0].healthcheckStatus).toHaveLength(2);
    expect(full.services[0].healthcheckStatus.every((s) => s.status === 'success')).toBe(true);
  });

  it('turns a failed async operation into an error', async () => {
    failStarts = true;
    const operation = await client().scaleInstancePool(poolId, 3);
    const error = await client({ sleep: (ms) => new Promise((r) => setTimeout(r, ms)) })
      .waitForOperation(operation, { pollIntervalMs: 10 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExoscaleApiError);
    expect((error as ExoscaleApiError).message).toMatch(
      /ended in state failure \(fault: hypervisor out of capacity\)/,
    );
    expect((error as ExoscaleApiError).retryable).toBe(false);
  });

  it('gives up waiting after the timeout', async () => {
    zone.timings.bootDelayMs = 5000;
    const operation = await client().scaleInstancePool(poolId, 3);
    const error = await client({ sleep: (ms) => new Promise((r) => setTimeout(r, ms)) })
      .waitForOperation(operation, { pollIntervalMs: 10, timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect((error as ExoscaleApiError).message).toMatch(/still pending after 100 ms/);
  });

  it('is refused with 403 on a wrong secret, and does not retry it', async () => {
    const error = await client({ apiSecret: 'wrong-secret-value-xyz' })
      .getInstancePool(poolId)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExoscaleApiError);
    expect(error).toMatchObject({
      status: 403,
      retryable: false,
      operation: 'get-instance-pool',
      attempts: 1,
    });
    expect((error as Error).message).toContain('Invalid request signature');
    // The clocks agree: nothing is blamed on the clock.
    expect((error as Error).message).not.toMatch(/clock/);
    expect((error as ExoscaleApiError).clockSkew).toBeUndefined();
    expect(server.count('get-instance-pool')).toBe(1);
  });

  describe('a request refused because of the clock says so, not the key', () => {
    it('the API server is 20 minutes ahead: every signature arrives expired (403), told with the skew', async () => {
      server.clockOffsetMs = 20 * 60_000;
      const error = (await client()
        .getInstancePool(poolId)
        .catch((e: unknown) => e)) as ExoscaleApiError;
      expect(error).toBeInstanceOf(ExoscaleApiError);
      expect(error).toMatchObject({
        status: 403,
        retryable: false,
        attempts: 1,
        apiMessage: 'signature expired',
      });
      expect(error.clockSkew?.refused).toBe(true);
      expect(Math.abs(error.clockSkew!.skewSeconds! + 1200)).toBeLessThanOrEqual(2);
      expect(error.message).toMatch(
        /^get-instance-pool failed \(HTTP 403\): clock skew: this host's clock is (19 min 5\d|20 min [0-2]) s behind the API server's \(its Date header\), more than a signature's 600 s lifetime, so every request arrives already expired: fix this host's clock \(NTP\), the API key is not at fault \(API: "signature expired"\)$/,
      );
      expect(error.message).not.toContain(apiSecret);
      expect(error.message).not.toContain(apiKey);
      // Once the clocks agree again, the same client works.
      server.clockOffsetMs = 0;
      await expect(client().getInstancePool(poolId)).resolves.toMatchObject({ id: poolId });
    });

    it('within the signature lifetime the emulated API accepts the request (5 minutes behind or ahead)', async () => {
      for (const offset of [-5 * 60_000, 5 * 60_000]) {
        server.clockOffsetMs = offset;
        await expect(client().getInstancePool(poolId)).resolves.toMatchObject({ id: poolId });
      }
    });

    describe('against an API whose refusal does not name the time', () => {
      let raw: Server;
      let answer: { status: number; body: string; date?: string | null };
      beforeEach(async () => {
        raw = createServer((req, res) => {
          req.resume();
          if (answer.date === null) res.sendDate = false;
          res.writeHead(answer.status, {
            'Content-Type': 'application/json',
            ...(answer.date ? { Date: answer.date } : {}),
          });
          res.end(answer.body);
        });
        await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
      });
      afterEach(async () => {
        await new Promise((resolve) => raw.close(resolve));
      });
      const rawClient = () =>
        client({ endpoint: `http://127.0.0.1:${(raw.address() as AddressInfo).port}/v2` });
      const dateIn = (seconds: number) => new Date(Date.now() + seconds * 1000).toUTCString();

      it('"Invalid request signature" with a Date header 15 minutes behind this host: clock skew, this host ahead', async () => {
        answer = { status: 403, body: '{"message":"Invalid request signature"}', date: dateIn(-900) };
        const error = (await rawClient()
          .listInstances()
          .catch((e: unknown) => e)) as ExoscaleApiError;
        expect(error.message).toMatch(
          /^list-instances failed \(HTTP 403\): clock skew: this host's clock is 1[45] min \d+ s ahead of the API server's \(its Date header\), more than a signature's 600 s lifetime, so every request is dated far ahead: fix this host's clock \(NTP\), the API key is not at fault \(API: "Invalid request signature"\)$/,
        );
        expect(error.clockSkew).toMatchObject({ refused: true });
      });

      it('an expiry message without a Date header: clock skew, by an unknown amount', async () => {
        answer = { status: 401, body: '{"message":"Request has expired"}', date: null };
        const error = (await rawClient()
          .listInstances()
          .catch((e: unknown) => e)) as ExoscaleApiError;
        expect(error.clockSkew).toEqual({ skewSeconds: null, refused: true, signatureLifetimeSeconds: 600 });
        expect(error.message).toBe(
          'list-instances failed (HTTP 401): clock skew: the API refused the request for its time (a signature is valid 600 s from its signing): check this host\'s clock (NTP), the API key is not at fault (API: "Request has expired")',
        );
      });

      it('a signature refusal with a clock 2 minutes off: the API message first, then a note on the clock', async () => {
        answer = { status: 403, body: '{"message":"Invalid request signature"}', date: dateIn(125) };
        const error = (await rawClient()
          .listInstances()
          .catch((e: unknown) => e)) as ExoscaleApiError;
        expect(error.clockSkew?.refused).toBe(false);
        expect(error.message).toMatch(
          /^list-instances failed \(HTTP 403\): Invalid request signature \(note: this host's clock is 2 min \d+ s behind the API server's \(its Date header\); if the API key is right, check this host's clock \(NTP\)\)$/,
        );
      });
    });

    it.each([
      ['a 500 with a far-off Date header', 500, 'internal error', -3600],
      ['a 404 with a far-off Date header', 404, 'no such pool', 3600],
      ['a 400 validation error, clock 2 minutes off', 400, 'invalid size', 120],
      ['a 403 naming an expired API key', 403, 'API key expired', 0],
      ['a 403 from IAM, clocks in sync', 403, 'Forbidden: operation not allowed by the IAM role', 2],
    ])('blames nothing on the clock for %s', (_name, status, message, skew) => {
      const now = Date.now();
      expect(
        clockSkewOf(status, message, new Date(now - skew * 1000).toUTCString(), now, 600),
      ).toBeUndefined();
    });
  });

  it.each([
    ['503', { status: 503 }],
    ['500', { status: 500 }],
    ['502 with a plain-text body', { status: 502, body: 'bad gateway' }],
    ['429', { status: 429 }],
    ['a dropped connection', { dropConnection: true }],
    ['a slow answer (timeout)', { delayMs: 800 }],
  ])('retries %s with backoff and then succeeds', async (_name, fault) => {
    server.injectFault({ operation: 'get-instance-pool', times: 2, ...fault });
    const pool = await client().getInstancePool(poolId);
    expect(pool.id).toBe(poolId);
    expect(server.requests.filter((r) => r.operation === 'get-instance-pool')).toHaveLength(3);
    expect(delays).toHaveLength(2);
    expect(delays[1]).toBeGreaterThanOrEqual(10); // 2nd retry: between 10 and 20 ms with jitter
    expect(logLines).toHaveLength(2);
  });

  it('honours Retry-After on 429', async () => {
    server.injectFault({
      operation: 'scale-instance-pool',
      status: 429,
      retryAfter: '2',
      body: '{"error":"rate limited"}',
    });
    await client().scaleInstancePool(poolId, 2);
    expect(delays).toEqual([2000]);
    expect(logLines[0]).toContain('429: rate limited');
  });

  it('stops after the bounded number of attempts with a retryable error', async () => {
    server.injectFault({
      operation: 'scale-instance-pool',
      status: 503,
      times: 10,
      body: 'service unavailable',
    });
    const error = (await client()
      .scaleInstancePool(poolId, 3)
      .catch((e: unknown) => e)) as ExoscaleApiError;
    expect(error).toMatchObject({
      status: 503,
      retryable: true,
      attempts: 4,
      apiMessage: 'service unavailable',
    });
    expect(server.count('scale-instance-pool')).toBe(4);
    expect((await client().getInstancePool(poolId)).size).toBe(2);
  });

  it.each([
    [501, 'method unsupported by this endpoint'],
    [404, 'gone'],
    [400, 'bad size'],
  ])('does not retry %s', async (status, message) => {
    server.injectFault({ operation: 'get-instance-pool', status, body: JSON.stringify({ message }) });
    const error = (await client()
      .getInstancePool(poolId)
      .catch((e: unknown) => e)) as ExoscaleApiError;
    expect(error).toMatchObject({ status, retryable: false, apiMessage: message });
    expect(server.count('get-instance-pool')).toBe(1);
  });

  it('answers a pool that does not exist with a 404 error', async () => {
    const error = (await client()
      .getInstancePool('00000000-0000-4000-8000-000000000000')
      .catch((e: unknown) => e)) as ExoscaleApiError;
    expect(error).toMatchObject({ status: 404, retryable: false });
  });

  it('rejects a 200 answer that is not the documented shape', async () => {
    server.injectFault({ operation: 'get-instance-pool', status: 200, body: '{"id":"x"}' });
    const error = (await client()
      .getInstancePool(poolId)
      .catch((e: unknown) => e)) as ExoscaleApiError;
    expect(error.message).toMatch(/malformed response: instance-pool.size/);
  });

  it('never puts the secret or a signature in errors or log lines', async () => {
    server.injectFault({ operation: 'get-instance-pool', status: 503, times: 10, body: `echo ${apiSecret}` });
    const errors: unknown[] = [];
    errors.push(
      await client()
        .getInstancePool(poolId)
        .catch((e: unknown) => e),
    );
    errors.push(
      await client({ apiSecret: `${apiSecret}-bad` })
        .listInstancePools()
        .catch((e: unknown) => e),
    );
    server.injectFault({ operation: 'list-instances', dropConnection: true, times: 10 });
    errors.push(
      await client()
        .listInstances({ managerId: poolId })
        .catch((e: unknown) => e),
    );
    const text = [
      ...logLines,
      ...errors.map((e) => `${String(e)} ${JSON.stringify(e)} ${(e as Error).stack}`),
    ].join('\n');
    expect(errors.every((e) => e instanceof ExoscaleApiError)).toBe(true);
    expect(text).not.toContain(apiSecret);
    expect(text).not.toMatch(/signature=/);
    expect(text).toContain('[redacted]');
  });
  it('keeps at most maxConcurrentRequests requests in flight; the others wait their turn in order', async () => {
    const held: { respond: () => void }[] = [];
    let arrived = 0;
    let waiter: (() => void) | null = null;
    const plain: Server = createServer((_req, res) => {
      arrived++;
      held.push({
        respond: () => res.setHeader('Content-Type', 'application/json').end('{"instance-pools":[]}'),
      });
      waiter?.();
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const until = (count: number) =>
      new Promise<void>((resolve) => {
        waiter = () => arrived >= count && resolve();
        waiter();
      });
    try {
      const limited = client({
        endpoint: `http://127.0.0.1:${(plain.address() as AddressInfo).port}/v2`,
        timeoutMs: 10_000,
        maxConcurrentRequests: 3,
      });
      const all = Promise.all(Array.from({ length: 10 }, () => limited.listInstancePools()));
      await until(3);
      expect(held).toHaveLength(3);
      expect(limited.concurrency).toEqual({ inFlight: 3, peak: 3, queued: 7 });
      for (let served = 0; served < 10; served++) {
        held[served].respond();
        if (served + 3 < 10) await until(served + 4);
        expect(arrived - (served + 1)).toBeLessThanOrEqual(3);
      }
      expect(await all).toHaveLength(10);
      expect(limited.concurrency).toEqual({ inFlight: 0, peak: 3, queued: 0 });
      expect(() => client({ maxConcurrentRequests: 0 })).toThrow(
        'maxConcurrentRequests must be a positive integer',
      );
    } finally {
      await new Promise((resolve) => plain.close(resolve));
    }
  });
});
