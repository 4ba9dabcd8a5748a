import { ChildProcess } from 'node:child_process';

import request from 'supertest';

import { ScalingService } from '../src/scaling/scaling.service';
import { eventually, startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';
import { startBackfilledPrometheus } from './support/prometheus';

/**
 * Predictive pre-scaling against a real Prometheus whose TSDB holds the pool's load of yesterday (backfilled with
 * promtool from OpenMetrics, as `pool:node_cpu_utilisation:sum` would have been recorded): a peak of 4.2 members'
 * worth of CPU a day ago, a few minutes ahead of now, and nothing since.
 */
describe('predictive pre-scaling (e2e, real Prometheus)', () => {
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  let fake: FakeExoscale;
  let t: TestApp | undefined;

  beforeAll(async () => {
    const now = Math.floor(Date.now() / 1000);
    const day = 86_400;
    const lines = ['# TYPE pool:node_cpu_utilisation:sum gauge'];
    // From 25 h to 23 h ago, one sample a minute: 0.5, and 4.2 from a day ago to 10 minutes after it, with one
    // reading of 6 two minutes in (noise): the forecast's 85th percentile of the 7 readings is 4.2 + 0.1 x 1.8.
    for (let t = now - day - 3600; t <= now - day + 3600; t += 60) {
      const peak = t >= now - day - 60 && t <= now - day + 600;
      lines.push(`pool:node_cpu_utilisation:sum ${t === now - day + 120 ? 6 : peak ? 4.2 : 0.5} ${t}`);
    }
    const started = await startBackfilledPrometheus(
      lines,
      'quantile_over_time(0.85, pool:node_cpu_utilisation:sum[7m] offset 23h53m)',
    );
    prometheus = started.process;
    prometheusUrl = started.url;
  });
  afterAll(() => {
    prometheus?.kill('SIGTERM');
  });
  beforeEach(async () => {
    fake = await startFakeExoscale({ size: 1 });
  });
  afterEach(async () => {
    await t?.app.close();
    t = undefined;
    await fake.close();
  });

  const start = (mode: string) =>
    startApp(fake, {
      PROMETHEUS_URL: prometheusUrl,
      FORECAST_MODE: mode,
      POOL_MAX_SIZE: '8',
      SCALING_POLICY: 'target',
    });

  it('on: scales out ahead of the load to ceil(4.38 / 0.82) = 6 with the reason Forecast, no alert needed', async () => {
    t = await start('on');
    const entry = await t.app.get(ScalingService).tick();
    // The highest reading (6) would have asked for 8.
    expect(entry).toMatchObject({ decision: 'scale', code: 'Forecast', targetSize: 6 });
    expect(entry.reasons.find((r) => r.code === 'Forecast')?.text).toMatch(/p85 load .* 4\.38 members' worth/);
    expect(entry.reasons.map((r) => r.code)).toContain('Forecast');
    await eventually(
      () => fake.zone.getPool(fake.poolId).size,
      (size) => size === 6,
    );
    const pool = await request(t.app.getHttpServer()).get('/pool').expect(200);
    expect(pool.body.forecast).toMatchObject({ mode: 'on', size: 6, source: 'day' });
  });

  it('forecast-only (the default): logs and shows the forecast, changes nothing', async () => {
    t = await start('forecast-only');
    const entry = await t.app.get(ScalingService).tick();
    expect(entry).toMatchObject({ decision: 'none', code: 'NoSignal' });
    expect(entry.reasons.find((r) => r.code === 'Forecast')?.text).toMatch(/would ask for 6/);
    expect(fake.zone.getPool(fake.poolId).size).toBe(1);
    const pool = await request(t.app.getHttpServer()).get('/pool').expect(200);
    expect(pool.body.forecast).toMatchObject({ mode: 'forecast-only', size: 6, source: 'day' });
  });

  it('off: no forecast is read or shown', async () => {
    t = await start('off');
    const entry = await t.app.get(ScalingService).tick();
    expect(entry.reasons.map((r) => r.code)).not.toContain('Forecast');
    const pool = await request(t.app.getHttpServer()).get('/pool').expect(200);
    expect(pool.body.forecast).toBeUndefined();
  });
});
