import { EmulatorApiServer } from '../../../apps/exoscale-emulator/src/api-server';
import { EmulatedZone, MemberRuntime } from '../../../apps/exoscale-emulator/src/zone';
import { ExoscaleClient, ExoscaleClientOptions } from './client';
import { ExoscaleApiError } from './errors';

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
    expect(server.count('get-instance-pool')).toBe(1);
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
});
