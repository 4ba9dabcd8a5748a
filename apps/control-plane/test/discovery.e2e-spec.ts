import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import request from 'supertest';

import { DiscoveryService } from '../src/discovery/discovery.service';
import { eventually, startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';

const readTargets = async (file: string): Promise<string[]> => {
  try {
    const groups = JSON.parse(await readFile(file, 'utf8')) as { targets: string[] }[];
    return groups.flatMap((g) => g.targets).sort();
  } catch {
    return [];
  }
};

describe('discovery (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  const server = () => t.app.getHttpServer();
  const runningTargets = (port: number) =>
    fake.zone
      .members(fake.poolId)
      .filter((m) => m.state === 'running')
      .map((m) => `${m.publicIp}:${port}`)
      .sort();

  beforeEach(async () => {
    fake = await startFakeExoscale({ size: 2, timings: { bootDelayMs: 300, stopDelayMs: 50 } });
    t = await startApp(fake, { TARGET_PORT: '19100' });
  });
  afterEach(async () => {
    await t.app.close();
    await fake.close();
  });

  it('writes exactly ip:TARGET_PORT for every running member, with labels', async () => {
    await eventually(
      () => readTargets(t.sdFile),
      (targets) => targets.length === 2,
    );
    expect(await readTargets(t.sdFile)).toEqual(runningTargets(19100));
    const groups = JSON.parse(await readFile(t.sdFile, 'utf8'));
    const member = fake.zone.members(fake.poolId)[0];
    expect(groups).toContainEqual({
      targets: [`${member.publicIp}:19100`],
      labels: { instance_id: member.id, instance_name: member.name, pool_id: fake.poolId, zone: 'at-vie-1' },
    });
  });

  it('follows pool changes within one period, leaving starting members out', async () => {
    await eventually(
      () => readTargets(t.sdFile),
      (targets) => targets.length === 2,
    );
    fake.zone.scale(fake.poolId, 4);
    await new Promise((r) => setTimeout(r, 100));
    await t.app.get(DiscoveryService).refresh();
    expect(await readTargets(t.sdFile)).toHaveLength(2); // the new members are still starting
    await fake.zone.settle();
    const started = Date.now();
    await eventually(
      () => readTargets(t.sdFile),
      (targets) => targets.length === 4,
      5000,
    );
    expect(Date.now() - started).toBeLessThan(2500); // one 1 s period, plus slack
    expect(await readTargets(t.sdFile)).toEqual(runningTargets(19100));

    const victim = fake.zone.members(fake.poolId)[0];
    fake.zone.evict(fake.poolId, [victim.id]);
    await eventually(
      () => readTargets(t.sdFile),
      (targets) => targets.length === 3,
      5000,
    );
    expect(await readTargets(t.sdFile)).not.toContain(`${victim.publicIp}:19100`);

    fake.zone.scale(fake.poolId, 0);
    await eventually(
      () => readFile(t.sdFile, 'utf8'),
      (text) => text === '[]\n',
      5000,
    );
  });

  it('keeps the last good file through an API outage and reports it in /health and /metrics', async () => {
    await eventually(
      () => readTargets(t.sdFile),
      (targets) => targets.length === 2,
    );
    await request(server()).get('/health').expect(200);
    const before = await readFile(t.sdFile, 'utf8');
    const mtime = (await stat(t.sdFile)).mtimeMs;

    fake.api.injectFault({ operation: 'list-instances', status: 503, times: 1000 });
    const discovery = t.app.get(DiscoveryService);
    await eventually(
      () => discovery.status.consecutiveFailures,
      (n) => n >= 1,
      20000,
    );
    expect(await readFile(t.sdFile, 'utf8')).toBe(before);
    expect((await stat(t.sdFile)).mtimeMs).toBe(mtime);

    const health = await request(server()).get('/health').expect(503);
    expect(health.body.error.exoscale).toMatchObject({
      status: 'down',
      lastError: expect.stringMatching(/HTTP 503/),
    });
    const metrics = await request(server()).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/autoscaler_discovery_failures_total [1-9]/);
    expect(metrics.text).toMatch(
      /autoscaler_exoscale_api_requests_total\{operation="list-instances",status="503"\} \d+/,
    );
    expect(metrics.text).toMatch(/autoscaler_discovery_targets 2/);

    fake.api.faults.clear();
    await eventually(
      () => discovery.status.consecutiveFailures,
      (n) => n === 0,
      20000,
    );
    await request(server()).get('/health').expect(200);
  });

  it('reports an unwritable service discovery file as sdFile, never as the Exoscale API', async () => {
    await eventually(
      () => readTargets(t.sdFile),
      (targets) => targets.length === 2,
    );
    // The directory becomes a plain file: every write fails (ENOTDIR), whoever runs the test.
    const dir = dirname(t.sdFile);
    await rm(dir, { recursive: true, force: true });
    await writeFile(dir, 'not a directory');
    fake.zone.scale(fake.poolId, 3);
    const discovery = t.app.get(DiscoveryService);
    await eventually(
      () => discovery.status.sdFile.consecutiveFailures,
      (n) => n >= 1,
      20000,
    );
    const health = await request(server()).get('/health').expect(503);
    expect(health.body.error.sdFile).toMatchObject({
      status: 'down',
      lastError: expect.stringMatching(/cannot write service discovery file/),
    });
    expect(health.body.info.exoscale).toMatchObject({ status: 'up', lastError: null });
    expect(health.body.info.scalingTick).toMatchObject({ status: 'up' });
    // Scaling still sees the members: the API part worked.
    await eventually(
      () => discovery.status.members.length,
      (n) => n === 3,
      20000,
    );
    await rm(dir, { force: true });
  });
});
