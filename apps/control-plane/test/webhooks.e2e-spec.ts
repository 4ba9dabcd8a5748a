import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import request from 'supertest';

import { SignalStore } from '../src/scaling/signal-store';
import { startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale, TEST_SECRET } from './support/fake-exoscale';

const fixtureDir = join(__dirname, 'fixtures');
const fixture = (name: string) => readFileSync(join(fixtureDir, name), 'utf8');
const allFixtures = ['alertmanager', 'grafana'].flatMap((d) =>
  readdirSync(join(fixtureDir, d)).map((f) => `${d}/${f}`),
);

describe('webhook intake (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  let signals: SignalStore;

  beforeAll(async () => {
    fake = await startFakeExoscale();
    t = await startApp(fake);
    signals = t.app.get(SignalStore);
  });
  afterAll(async () => {
    await t.app.close();
    await fake.close();
  });
  beforeEach(() => {
    signals.clear('up');
    signals.clear('down');
  });
  const pending = () => {
    const s = signals.snapshot();
    return { up: Boolean(s.up), down: Boolean(s.down) };
  };
  const server = () => t.app.getHttpServer();

  it.each(['get', 'post'] as const)('records a bare %s /up and /down (the course grader)', async (method) => {
    const up = await request(server())[method]('/up');
    expect(up.status).toBe(202);
    expect(up.body).toMatchObject({ status: 'accepted', changes: [{ direction: 'up', action: 'record' }] });
    await request(server())[method]('/down').expect(202);
    expect(pending()).toEqual({ up: true, down: true });
  });

  it('records a bare POST with an empty JSON content type', async () => {
    await request(server()).post('/down').set('Content-Type', 'application/json').expect(202);
    expect(pending()).toEqual({ up: false, down: true });
  });

  describe.each(allFixtures)('fixture %s', (name) => {
    it('is accepted on /webhooks/grafana?direction=up and on /up', async () => {
      const body = fixture(name);
      const parsed = JSON.parse(body);
      // A test notification, or a legacy rule that fired on no data (evalMatches empty): nothing to scale on.
      const isTest = /test-notification|nodata/.test(name);
      const resolved = parsed.status === 'resolved' || parsed.state === 'ok';
      const res = await request(server())
        .post(
          name.startsWith('alertmanager')
            ? '/webhooks/alertmanager?direction=up'
            : '/webhooks/grafana?direction=up',
        )
        .set('Content-Type', 'application/json')
        .send(body);
      expect(res.status).toBe(isTest || resolved ? 200 : 202);
      expect(pending().up).toBe(!isTest && !resolved);
      const viaPath = await request(server()).post('/up').set('Content-Type', 'application/json').send(body);
      expect([200, 202]).toContain(viaPath.status);
      expect(viaPath.body.reasons.length).toBeGreaterThan(0);
    });
  });

  it('clears a pending signal when the alert resolves', async () => {
    await request(server())
      .post('/webhooks/grafana?direction=down')
      .send(JSON.parse(fixture('grafana/grafana-unified-firing-v9.json')))
      .expect(202);
    expect(pending().down).toBe(true);
    const res = await request(server())
      .post('/webhooks/grafana?direction=down')
      .send(JSON.parse(fixture('grafana/grafana-unified-resolved.json')))
      .expect(200);
    expect(res.body.reasons).toEqual([
      expect.stringMatching(/^down signal cleared: "Test alert" \(\w+\) resolved$/),
    ]);
    expect(res.body.inForce).toEqual([]);
    expect(pending().down).toBe(false);
  });

  it('takes the direction from the autoscale label', async () => {
    const body = JSON.parse(fixture('alertmanager/firing.json'));
    body.alerts.forEach((a: { labels: Record<string, string> }) => (a.labels.autoscale = 'down'));
    await request(server()).post('/webhooks/alertmanager').send(body).expect(202);
    expect(pending()).toEqual({ up: false, down: true });
  });

  it('ignores legacy no_data, paused and pending states with the reason', async () => {
    for (const state of ['no_data', 'paused', 'pending']) {
      const res = await request(server())
        .post('/webhooks/grafana?direction=up')
        .send({ ...JSON.parse(fixture('grafana/grafana-legacy-alerting.json')), state })
        .expect(200);
      expect(res.body.ignored[0].reason).toBe(`state ${state} is not a scaling signal`);
    }
    expect(pending()).toEqual({ up: false, down: false });
  });

  const firing = () => JSON.parse(fixture('alertmanager/firing.json'));
  const malformed: [string, string, () => request.Test, RegExp | number][] = [
    [
      'no direction anywhere',
      '/webhooks/alertmanager',
      () => request(server()).post('/webhooks/alertmanager').send(firing()),
      /cannot determine the scaling direction/,
    ],
    [
      'an unknown ?direction=',
      '',
      () => request(server()).post('/webhooks/grafana?direction=sideways').send(firing()),
      /direction must be up or down/,
    ],
    [
      'non-JSON with a JSON content type',
      '',
      () => request(server()).post('/up').set('Content-Type', 'application/json').send('{"status": firing'),
      400,
    ],
    ['a JSON array', '', () => request(server()).post('/up').send([1, 2]), /must be a JSON object/],
    [
      'a JSON string',
      '',
      () => request(server()).post('/up').set('Content-Type', 'application/json').send('"firing"'),
      400,
    ],
    ['an empty object', '', () => request(server()).post('/up').send({}), /neither a Grafana/],
    [
      'alerts that is not an array',
      '',
      () =>
        request(server())
          .post('/up')
          .send({ ...firing(), alerts: 'x' }),
      /alerts must be an array/,
    ],
    [
      'an alert with a bad status',
      '',
      () =>
        request(server())
          .post('/up')
          .send({ ...firing(), alerts: [{ status: 'burning', labels: {} }] }),
      /status must be one of/,
    ],
    [
      'labels with a number',
      '',
      () =>
        request(server())
          .post('/up')
          .send({ ...firing(), alerts: [{ status: 'firing', labels: { a: 1 } }] }),
      /labels must be an object of string values/,
    ],
    [
      'a missing status',
      '',
      () => request(server()).post('/up').send({ alerts: [] }),
      /status must be one of/,
    ],
    [
      'a legacy payload with an unknown state',
      '',
      () => request(server()).post('/up').send({ state: 'exploding', ruleName: 'x' }),
      /state must be one of/,
    ],
    [
      'legacy evalMatches not an array',
      '',
      () => request(server()).post('/up').send({ state: 'alerting', evalMatches: {} }),
      /evalMatches must be an array/,
    ],
    [
      'wrong value types (ruleId as string)',
      '',
      () => request(server()).post('/up').send({ state: 'alerting', ruleId: 'one' }),
      /ruleId must be an integer/,
    ],
    [
      'no body on /webhooks/grafana',
      '',
      () => request(server()).post('/webhooks/grafana?direction=up'),
      /body is required/,
    ],
    [
      'a text/plain body',
      '',
      () => request(server()).post('/up').set('Content-Type', 'text/plain').send('scale up please'),
      415,
    ],
    ['a form body', '', () => request(server()).post('/up').type('form').send({ status: 'firing' }), 415],
    [
      'a body over 1 MiB',
      '',
      () =>
        request(server())
          .post('/up')
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ ...firing(), padding: 'x'.repeat(1.2 * 1024 * 1024) })),
      413,
    ],
  ];

  it.each(malformed)('answers %s with a 4xx and records nothing', async (_name, _path, send, expected) => {
    const res = await send();
    if (typeof expected === 'number') expect(res.status).toBe(expected);
    else {
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toMatch(expected);
    }
    expect(pending()).toEqual({ up: false, down: false });
  });

  it('counts webhooks by source, direction and outcome in /metrics', async () => {
    await request(server()).get('/up').expect(202);
    await request(server()).post('/up').send({}).expect(400);
    const metrics = await request(server()).get('/metrics').expect(200);
    expect(metrics.text).toMatch(
      /autoscaler_webhooks_received_total\{source="bare",direction="up",outcome="accepted"\} \d+/,
    );
    expect(metrics.text).toMatch(
      /autoscaler_webhooks_received_total\{source="bare",direction="up",outcome="invalid"\} \d+/,
    );
  });
});

describe('webhook authentication (e2e)', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  beforeAll(async () => {
    fake = await startFakeExoscale();
    t = await startApp(fake, {
      WEBHOOK_USERNAME: 'grafana',
      WEBHOOK_PASSWORD: 'pw-123',
      WEBHOOK_TOKEN: 'token-abc',
      WEBHOOK_HMAC_SECRET: 'hmac-secret',
      // The same notification is sent again and again here on purpose: no duplicate detection.
      WEBHOOK_DEDUP_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await t.app.close();
    await fake.close();
  });
  const body = fixture('grafana/grafana-unified-firing.json');
  const sign = (payload: string, ts?: string) =>
    createHmac('sha256', 'hmac-secret')
      .update(ts ? `${ts}:${payload}` : payload)
      .digest('hex');
  const post = () =>
    request(t.app.getHttpServer())
      .post('/webhooks/grafana?direction=up')
      .set('Content-Type', 'application/json');

  it('accepts basic auth or a bearer token with a valid HMAC signature', async () => {
    await post()
      .auth('grafana', 'pw-123')
      .set('X-Grafana-Alerting-Signature', sign(body))
      .send(body)
      .expect(202);
    await post()
      .set('Authorization', 'Bearer token-abc')
      .set('X-Grafana-Alerting-Signature', sign(body))
      .send(body)
      .expect(202);
    const ts = String(Math.floor(Date.now() / 1000));
    await post()
      .set('Authorization', 'Bearer token-abc')
      .set('X-Grafana-Alerting-Timestamp', ts)
      .set('X-Grafana-Alerting-Signature', sign(body, ts))
      .send(body)
      .expect(202);
  });

  it.each([
    [
      'no credentials',
      (r: request.Test) => r.set('X-Grafana-Alerting-Signature', sign(body)),
      /credentials required/,
    ],
    [
      'a wrong password',
      (r: request.Test) => r.auth('grafana', 'nope').set('X-Grafana-Alerting-Signature', sign(body)),
      /invalid webhook credentials/,
    ],
    [
      'a wrong token',
      (r: request.Test) =>
        r.set('Authorization', 'Bearer nope').set('X-Grafana-Alerting-Signature', sign(body)),
      /invalid webhook credentials/,
    ],
    [
      'no signature',
      (r: request.Test) => r.set('Authorization', 'Bearer token-abc'),
      /missing x-grafana-alerting-signature/,
    ],
    [
      'a signature of another body',
      (r: request.Test) =>
        r.set('Authorization', 'Bearer token-abc').set('X-Grafana-Alerting-Signature', sign(`${body} `)),
      /invalid webhook signature/,
    ],
    [
      'an old timestamp',
      (r: request.Test) =>
        r
          .set('Authorization', 'Bearer token-abc')
          .set('X-Grafana-Alerting-Timestamp', '1000')
          .set('X-Grafana-Alerting-Signature', sign(body, '1000')),
      /outside the allowed window/,
    ],
  ])('rejects %s with 401', async (_name, decorate, message) => {
    const res = await decorate(post()).send(body);
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(message);
    expect(JSON.stringify(res.body)).not.toContain(TEST_SECRET);
  });
});
