import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { Browser, Page } from 'playwright-core';
import request from 'supertest';

import { DiscoveryService } from '../src/discovery/discovery.service';
import { MemberHealthService } from '../src/discovery/member-health.service';
import { ScalingService } from '../src/scaling/scaling.service';
import { launchChromium, startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';

// The status page in a real browser (Debian's Chromium): what a user sees at http://<control plane>/.
const OUTPUT = resolve(__dirname, '../../../.local/test-output');

describe('status page in a browser (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let base: string;

  beforeAll(async () => {
    fake = await startFakeExoscale({ size: 2 });
    await fake.zone.settle();
    t = await startApp(fake, { API_TOKEN: 'ui-token', POOL_MAX_SIZE: '6' });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 1500 } });
    page.on('pageerror', (error) => {
      throw error;
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.app.close();
    await fake?.close();
  });

  it('shows the pool, its members, the chart and the links', async () => {
    const response = await page.goto(`${base}/`);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.waitForFunction(() => document.querySelectorAll('#members tbody tr').length === 2);
    expect(await page.locator('#cards').textContent()).toContain('size');
    expect(await page.locator('#cards .card').first().locator('.v').textContent()).toBe('2');
    expect(await page.locator('#cards').textContent()).toContain('target');
    await page.waitForSelector('#chart svg');
    for (const href of ['/docs', '/pool/events', '/metrics', '/health']) {
      expect(await page.locator(`nav a[href="${href}"]`).count()).toBe(1);
    }
  });

  it('follows a manual scale without a reload: size, decision and chart marker', async () => {
    await request(t.app.getHttpServer())
      .post('/pool/scale')
      .set('Authorization', 'Bearer ui-token')
      .send({ size: 4 })
      .expect(200);
    await page.waitForFunction(
      () => document.querySelector('#cards .card .v')?.textContent === '4',
      undefined,
      { timeout: 15000 },
    );
    expect(await page.locator('#decisions tbody tr').first().textContent()).toContain('manual');
    expect(await page.locator('#decisions tbody tr').first().textContent()).toContain('scaled');
    await page.waitForFunction(() => document.querySelectorAll('#chart svg circle title').length >= 1);
    expect(await page.locator('#chart svg circle title').first().textContent()).toMatch(
      /manual scaled -> 4 \(Manual\)/,
    );
  });

  it('shows a member the load balancer marks unhealthy as unhealthy', async () => {
    const [first] = fake.zone.getPool(fake.poolId).instanceIds.map((id) => fake.zone.instances.get(id)!);
    fake.zone.healthOf = (ip) => (ip === first.publicIp ? 'failure' : 'success');
    await page.waitForFunction(
      (ip) =>
        [...document.querySelectorAll('#members tbody tr')].some(
          (tr) => tr.children[1]?.textContent === ip && tr.children[4]?.textContent === 'unhealthy',
        ),
      first.publicIp,
      { timeout: 15000 },
    );
  });

  it('shows an alert label containing <script> as text, never running it', async () => {
    const name = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';
    await request(t.app.getHttpServer())
      .post('/webhooks/alertmanager')
      .send({
        status: 'firing',
        alerts: [
          { status: 'firing', labels: { alertname: name, autoscale: 'up' }, annotations: { value: '0.9' } },
        ],
      })
      .expect(202);
    await page.waitForFunction(
      (text) => [...document.querySelectorAll('#alerts tbody td')].some((td) => td.textContent === text),
      name,
      { timeout: 15000 },
    );
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('#alerts script, #alerts img').count()).toBe(0);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'status-page.png'), fullPage: true });
  });
});

describe('status page: members judged health, replacements and guards (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  const failing = new Set<string>();

  beforeAll(async () => {
    fake = await startFakeExoscale({ size: 4, timings: { bootDelayMs: 10, stopDelayMs: 10 } });
    await fake.zone.settle();
    fake.zone.healthOf = (ip) => {
      const m = [...fake.zone.instances.values()].find((i) => i.publicIp === ip);
      return m && m.state === 'running' && !failing.has(m.id) ? 'success' : 'failure';
    };
    t = await startApp(fake, {
      POOL_MAX_SIZE: '6',
      SCALING_POLICY: 'step',
      WARMUP_SECONDS: '0',
      HEALTH_GRACE_SECONDS: '0',
      HEALTH_FAILURE_SECONDS: '0',
    });
    await t.app.listen(0, '127.0.0.1');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 1800 } });
    page.on('pageerror', (error) => {
      throw error;
    });
    await page.goto(`${await t.app.getUrl()}/`);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.app.close();
    await fake?.close();
  });
  const read = async (times: number) => {
    for (let i = 0; i < times; i++) {
      await t.app.get(DiscoveryService).refresh();
      await t.app.get(MemberHealthService).observe(t.app.get(DiscoveryService).status.members);
    }
  };

  it('shows the guard when half the pool fails, then the replacement of the one left failing', async () => {
    const [a, b] = fake.zone.getPool(fake.poolId).instanceIds;
    failing.add(a);
    failing.add(b);
    await read(3);
    await t.app.get(ScalingService).tick();
    await page.waitForFunction(
      () => document.querySelector('#health tbody')?.textContent?.includes('HealthGuard'),
      undefined,
      {
        timeout: 15000,
      },
    );
    expect(await page.locator('#members tbody').textContent()).toContain('unhealthy: the load balancer');
    failing.delete(b);
    await read(1);
    await t.app.get(ScalingService).tick();
    await fake.zone.settle();
    await read(1);
    await t.app.get(ScalingService).tick();
    await fake.zone.settle();
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('#health tbody tr')].some(
          (tr) => /Replace/.test(tr.textContent ?? '') && /scaled/.test(tr.textContent ?? ''),
        ),
      undefined,
      { timeout: 15000 },
    );
    expect(await page.locator('#health tbody').textContent()).toMatch(/evicted: replacement done/);
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'status-page-health.png'), fullPage: true });
  });
});
