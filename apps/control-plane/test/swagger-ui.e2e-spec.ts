import { Browser } from 'playwright-core';

import { DOCUMENTED_PATHS, launchChromium, startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';

// The Swagger UI in a real browser (Debian's Chromium): a user inspects the pool and triggers scaling from it.

describe('Swagger UI in a browser (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    fake = await startFakeExoscale({ size: 1 });
    t = await startApp(fake, { API_TOKEN: 'ui-token' });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.app.close();
    await fake?.close();
  });

  it('lists every endpoint and scales the pool from "Try it out" with the API token', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    await page.goto(`${base}/docs`);
    await page.waitForSelector('.opblock', { timeout: 30000 });
    const paths = await page.$$eval('.opblock-summary-path', (nodes) =>
      nodes.map((n) => n.getAttribute('data-path')),
    );
    expect(paths).toEqual(expect.arrayContaining(DOCUMENTED_PATHS));

    // Authorize with the API token, then POST /pool/scale {"size": 2}.
    await page.click('button.authorize');
    await page
      .locator('.modal-ux .auth-container')
      .filter({ hasText: 'api-token' })
      .locator('input')
      .fill('ui-token');
    await page
      .locator('.modal-ux .auth-container')
      .filter({ hasText: 'api-token' })
      .locator('button.authorize')
      .click();
    await page.click('.modal-ux button.close-modal');

    const scale = page.locator('#operations-pool-PoolController_scale');
    await scale.locator('.opblock-summary').click();
    await scale.locator('button.try-out__btn').click();
    await scale.locator('textarea.body-param__text').fill('{"size": 2}');
    await scale.locator('button.execute').click();
    await scale
      .locator('.live-responses-table tbody .response-col_status')
      .first()
      .waitFor({ timeout: 30000 });
    expect(
      (await scale.locator('.live-responses-table tbody .response-col_status').first().textContent())?.trim(),
    ).toBe('200');
    expect(fake.zone.getPool(fake.poolId).size).toBe(2);
    expect(failed).toEqual([]);
    await page.close();
  });
});
