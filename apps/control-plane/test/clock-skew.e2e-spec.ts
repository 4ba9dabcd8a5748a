import request from 'supertest';

import { eventually, startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale, TEST_KEY, TEST_SECRET } from './support/fake-exoscale';

// The API server's clock 20 minutes ahead of the control plane's: every signature (valid 600 s) arrives expired
// and the fake API refuses it with 403 as the signature-checking API does. /health and the API errors must name
// the clock and its skew (from the API's Date header), not the key.
const TWENTY_MINUTES = 20 * 60_000;
const SKEW =
  /clock skew: this host's clock is (19 min 5\d|20 min [0-2]) s behind the API server's \(its Date header\)/;

describe('a skewed clock (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  const server = () => t.app.getHttpServer();

  beforeEach(async () => {
    fake = await startFakeExoscale({ size: 2, clockOffsetMs: TWENTY_MINUTES });
    t = await startApp(fake);
  });
  afterEach(async () => {
    await t.app.close();
    await fake.close();
  });

  it('is named, with its size, in /health and in a refused API call; the key is not blamed; fixing the clock heals', async () => {
    const health = await eventually(
      () => request(server()).get('/health'),
      (res) => res.status === 503 && Boolean(res.body.error?.exoscale?.lastError),
    );
    const exoscale = health.body.error.exoscale;
    expect(exoscale).toMatchObject({
      status: 'down',
      lastError: expect.stringMatching(SKEW),
      hint: "this host's clock is off: fix it (NTP); the API key is not at fault",
    });
    expect(exoscale.lastError).toMatch(/^list-instances failed \(HTTP 403\): /);
    expect(exoscale.lastError).toContain('the API key is not at fault');
    expect(exoscale.lastError).toContain('(API: "signature expired")');
    // The API really refused the calls for their time: 403s on the wire.
    expect(
      fake.api.requests.filter((r) => r.operation === 'list-instances').every((r) => r.status === 403),
    ).toBe(true);

    // A call made on demand says the same.
    const pool = await request(server()).get('/pool').expect(502);
    expect(pool.body.message).toMatch(SKEW);

    const text = JSON.stringify([health.body, pool.body]);
    expect(text).not.toContain(TEST_SECRET);
    expect(text).not.toContain(TEST_KEY);

    // The clocks agree again: the next discovery succeeds and the part is up without an error.
    fake.api.clockOffsetMs = 0;
    const healed = await eventually(
      () => request(server()).get('/health'),
      (res) => res.status === 200,
    );
    expect(healed.body.info.exoscale).toMatchObject({ status: 'up', lastError: null });
    expect(healed.body.info.exoscale.hint).toBeUndefined();
  });

  it('a clock off by less than a signature lifetime still works (5 minutes)', async () => {
    fake.api.clockOffsetMs = 5 * 60_000;
    const health = await eventually(
      () => request(server()).get('/health'),
      (res) => res.status === 200,
    );
    expect(health.body.info.exoscale).toMatchObject({ status: 'up', lastError: null });
  });
});
