import request from 'supertest';

import { ScalingService } from '../src/scaling/scaling.service';
import { launchChromium, startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';

// SCHEDULES on the real app against the fake API; the ticks are driven by the test. The window opened at the minute
// before now (UTC) and lasts an hour, so it is active at once, and "after the window" is the clock two hours on.
describe('scheduled capacity (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  const size = () => fake.zone.getPool(fake.poolId).size;
  const tick = async () => {
    const entry = await t.app.get(ScalingService).tick();
    await fake.zone.settle();
    return entry;
  };
  afterEach(async () => {
    jest.restoreAllMocks();
    await t?.app.close();
    await fake?.close();
  });

  it('a window active now raises the pool to its min (Scheduled); after it, the normal bounds are back', async () => {
    const opened = new Date(Date.now() - 60_000);
    const start = `${opened.getUTCMinutes()} ${opened.getUTCHours()} * * *`;
    fake = await startFakeExoscale({ size: 2, timings: { bootDelayMs: 10, stopDelayMs: 10 } });
    await fake.zone.settle();
    t = await startApp(fake, {
      SCALING_POLICY: 'step',
      POOL_MIN_SIZE: '1',
      POOL_MAX_SIZE: '10',
      WARMUP_SECONDS: '0',
      WEBHOOK_DEDUP_SECONDS: '0',
      SCHEDULES: JSON.stringify([{ name: 'launch', start, duration: '1h', timezone: 'UTC', min: 4 }]),
    });
    const server = t.app.getHttpServer();

    const raised = await tick();
    expect(raised).toMatchObject({ outcome: 'scaled', code: 'BelowMin', targetSize: 4 });
    expect(raised.reasons).toContainEqual({
      code: 'Scheduled',
      text: 'scheduled capacity: bounds 4..10 (configured 1..10) by launch min 4',
    });
    expect(size()).toBe(4);
    const during = await request(server).get('/pool').expect(200);
    expect(during.body.bounds).toEqual({ min: 4, max: 10 });
    expect(during.body.schedules).toMatchObject({
      active: [{ name: 'launch', start, durationSeconds: 3600, timezone: 'UTC', min: 4 }],
      configured: { min: 1, max: 10 },
      next: null,
    });

    // The status page (in a browser) shows the active window.
    await t.app.listen(0, '127.0.0.1');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${await t.app.getUrl()}/`);
      await page.waitForFunction(() =>
        document.querySelector('#cards')?.textContent?.includes('launch min 4'),
      );
      expect(await page.locator('#cards').textContent()).toContain('next window');
    } finally {
      await browser.close();
    }

    // While the window is active a down signal stops at its min.
    await request(server).post('/down').expect(202);
    expect(await tick()).toMatchObject({ outcome: 'none', code: 'AtMin' });
    expect(size()).toBe(4);

    // Two hours later the window has closed: the configured bounds again, and a down signal scales in.
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 2 * 3600_000);
    const after = await request(server).get('/pool').expect(200);
    expect(after.body.bounds).toEqual({ min: 1, max: 10 });
    expect(after.body.schedules.active).toEqual([]);
    expect(after.body.schedules.next.name).toBe('launch');
    await request(server).post('/down').expect(202);
    const down = await tick();
    expect(down).toMatchObject({ outcome: 'scaled', code: 'StepSignal', targetSize: 3 });
    expect(down.reasons.map((r) => r.code)).not.toContain('Scheduled');
    expect(size()).toBe(3);
  });

  it('a bad window stops the boot naming SCHEDULES, the window and the field', async () => {
    fake = await startFakeExoscale({ size: 2 });
    await expect(
      startApp(fake, {
        SCHEDULES:
          '[{name: office, start: "0 8 * * 1-5", end: "0 18 * * 1-5", timezone: Europe/Vienne, min: 3}]',
      }),
    ).rejects.toThrow(/SCHEDULES\[0\] \(office\)\.timezone "Europe\/Vienne" is not an IANA time zone/);
  });
});
