import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';

import { labelledPool } from '../src/config/fleet-config';
import { FleetScheduler } from '../src/fleet/fleet.scheduler';
import { Fleet } from '../src/fleet/fleet.service';
import { eventually, startFleetApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';

/** Label discovery: pools labelled autoscaler/enabled=true in the listed zones are managed beside the file's. */
describe('pools found by their labels (e2e)', () => {
  let fake: FakeExoscale;
  let dir: string;
  let app: NestExpressApplication;
  let labelled: string;
  let plain: string;

  beforeAll(async () => {
    fake = await startFakeExoscale({ size: 1 });
    const a = await fake.zone.createPool({ name: 'Batch_Workers', size: 1 });
    a.labels = { 'autoscaler/enabled': 'true', 'autoscaler/min': '1', 'autoscaler/max': '4' };
    labelled = a.id;
    const b = await fake.zone.createPool({ name: 'not-mine', size: 1 });
    b.labels = { team: 'x' };
    plain = b.id;
    const c = await fake.zone.createPool({ name: 'broken', size: 1 });
    c.labels = { 'autoscaler/enabled': 'true', 'autoscaler/min': '5', 'autoscaler/max': '2' };
    // The file's own pool carries the label too: the file wins.
    fake.zone.getPool(fake.poolId).labels = { 'autoscaler/enabled': 'true', 'autoscaler/max': '9' };
    dir = await mkdtemp(join(tmpdir(), 'cp-labels-'));
    await writeFile(
      join(dir, 'pools.yaml'),
      [
        'discovery: {zones: [at-vie-1], intervalSeconds: 10}',
        `pools: [{name: web, id: ${fake.poolId}, min: 1, max: 3}]`,
      ].join('\n'),
    );
    app = await startFleetApp(fake, dir);
  });
  afterAll(async () => {
    await app?.close();
    await fake.close();
  });
  const server = () => app.getHttpServer();

  it('manages a labelled pool from the start, named from its own name, bounded by its labels', async () => {
    const { body } = await request(server()).get('/pools').expect(200);
    expect(body.map((p: { name: string }) => p.name)).toEqual(['web', 'batch-workers']);
    expect(body[0]).toMatchObject({ id: fake.poolId, max: 3 });
    expect(body[1]).toMatchObject({ id: labelled, min: 1, max: 4 });
    expect(body.find((p: { id: string }) => p.id === plain)).toBeUndefined();
    const health = await eventually(
      () => request(server()).get('/health'),
      (r) => r.status === 200,
    );
    expect(health.body.details.poolDiscovery).toMatchObject({
      status: 'up',
      discovered: ['batch-workers'],
      problems: [expect.stringContaining('autoscaler/min (5) must not exceed autoscaler/max (2)')],
    });
  });

  it('routes alerts and scales the discovered pool like any other', async () => {
    await request(server()).get('/up?pool=batch-workers').expect(202);
    await app.get(FleetScheduler).tick();
    expect(fake.zone.getPool(labelled).size).toBe(2);
    expect(fake.zone.getPool(fake.poolId).size).toBe(1);
  });

  it('follows its labels: new bounds at the next listing, let go when the label goes', async () => {
    const fleet = app.get(Fleet);
    fake.zone.getPool(labelled).labels['autoscaler/max'] = '6';
    await fleet.discovery!.refresh();
    expect(fleet.find('batch-workers')!.scaling.bounds).toEqual({ min: 1, max: 6 });
    const sdFile = fleet.find('batch-workers')!.settings.SD_FILE;
    await fleet.find('batch-workers')!.discover();
    expect(existsSync(sdFile)).toBe(true);
    await new Promise((r) => setTimeout(r, 0));
    fake.zone.getPool(labelled).labels = {};
    await fleet.discovery!.refresh();
    expect(fleet.find('batch-workers')).toBeUndefined();
    expect(existsSync(sdFile)).toBe(false);
    await request(server()).get('/pools/batch-workers').expect(404);
  });

  it('reads labels strictly', () => {
    const pool = (labels: Record<string, string>, name = 'Web Pool #1') =>
      labelledPool({ id: 'ID', name, labels }, 'z');
    expect(pool({})).toEqual({ kind: 'unlabelled' });
    expect(pool({ 'autoscaler/enabled': 'false' })).toEqual({ kind: 'unlabelled' });
    expect(pool({ 'autoscaler/enabled': 'TRUE' })).toMatchObject({
      kind: 'pool',
      name: 'web-pool-1',
      min: 1,
      max: 10,
    });
    expect(pool({ 'autoscaler/enabled': 'true', 'autoscaler/name': 'api' })).toMatchObject({
      name: 'api',
      id: 'id',
    });
    expect(pool({ 'autoscaler/enabled': 'true', 'autoscaler/max': '1.5' })).toMatchObject({
      kind: 'invalid',
    });
    expect(pool({ 'autoscaler/enabled': 'true', 'autoscaler/name': 'Not OK' })).toMatchObject({
      kind: 'invalid',
    });
    expect(pool({ 'autoscaler/enabled': 'true' }, '___')).toMatchObject({ kind: 'invalid' });
  });
});
