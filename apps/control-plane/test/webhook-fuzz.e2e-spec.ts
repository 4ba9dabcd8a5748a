import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import fc from 'fast-check';
import request from 'supertest';

import { SignalStore } from '../src/scaling/signal-store';
import { startApp, TestApp } from './support/app';
import { FakeExoscale, startFakeExoscale } from './support/fake-exoscale';

// Property: whatever JSON a sender posts, every webhook endpoint answers 2xx or 4xx (never 5xx, which Grafana
// and Alertmanager would retry), and a 4xx records nothing.
const fixtureDir = join(__dirname, 'fixtures');
const fixtures = ['alertmanager', 'grafana'].flatMap((d) =>
  readdirSync(join(fixtureDir, d)).map(
    (f) => JSON.parse(readFileSync(join(fixtureDir, d, f), 'utf8')) as unknown,
  ),
);
const ENDPOINTS = ['/up', '/down', '/webhooks/grafana', '/webhooks/alertmanager'];

/** A fixture with one of its values (at any depth) replaced by an arbitrary JSON value, or removed. */
function mutated(): fc.Arbitrary<unknown> {
  return fc
    .tuple(fc.constantFrom(...fixtures), fc.nat(), fc.jsonValue({ maxDepth: 3 }), fc.boolean())
    .map(([base, pick, replacement, remove]) => {
      const copy = structuredClone(base) as Record<string, unknown>;
      const slots: [Record<string, unknown>, string][] = [];
      const walk = (v: unknown) => {
        if (typeof v !== 'object' || v === null) return;
        for (const [k, child] of Object.entries(v)) {
          slots.push([v as Record<string, unknown>, k]);
          walk(child);
        }
      };
      walk(copy);
      const [parent, key] = slots[pick % slots.length];
      if (remove) delete parent[key];
      else parent[key] = replacement;
      return copy;
    });
}

describe('webhook intake fuzzing (e2e)', () => {
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
  const recorded = () => {
    const s = signals.snapshot();
    return Boolean(s.up || s.down || signals.firing().length > 0);
  };

  async function check(endpoint: string, body: unknown): Promise<void> {
    signals.clear('up');
    signals.clear('down');
    const res = await request(t.app.getHttpServer())
      .post(endpoint)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));
    if (res.status >= 500 || res.status < 200)
      throw new Error(`${endpoint} answered ${res.status} to ${JSON.stringify(body)}`);
    if (res.status >= 400 && recorded())
      throw new Error(`${endpoint} answered ${res.status} but recorded a signal`);
    if (res.status === 202 && !recorded()) throw new Error(`${endpoint} answered 202 but recorded nothing`);
  }

  it.each(ENDPOINTS)('%s answers any JSON value with 2xx or 4xx', async (endpoint) => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), (body) => check(endpoint, body)),
      { numRuns: 150, seed: 42 },
    );
  });

  it.each(ENDPOINTS)('%s answers mutations of every fixture with 2xx or 4xx', async (endpoint) => {
    await fc.assert(
      fc.asyncProperty(mutated(), (body) => check(endpoint, body)),
      { numRuns: 300, seed: 7 },
    );
  });

  it('rejects the bodies that used to answer 500: non-object alerts and evalMatches, deep nesting', async () => {
    const server = t.app.getHttpServer();
    for (const body of [
      { status: 'firing', alerts: [[]] },
      { status: 'firing', alerts: [null] },
      { state: 'alerting', ruleName: 'x', evalMatches: [[]] },
    ]) {
      const res = await request(server).post('/webhooks/grafana?direction=up').send(body).expect(400);
      expect(JSON.stringify(res.body.message)).toMatch(/must be a JSON object/);
    }
    let deep: unknown = {};
    for (let i = 0; i < 1325; i++) deep = { a: deep };
    const res = await request(server)
      .post('/webhooks/alertmanager')
      .send({ status: 'firing', alerts: [], x: deep })
      .expect(400);
    expect(res.body.message).toEqual(['the body is nested deeper than 64 levels']);
    expect(recorded()).toBe(false);
  });
});
