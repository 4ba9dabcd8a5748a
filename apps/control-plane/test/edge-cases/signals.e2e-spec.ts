import { mkdtemp } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import request from 'supertest';

import { ScalingService } from '../../src/scaling/scaling.service';
import { startApp, TestApp } from '../support/app';
import { FakeExoscale, startFakeExoscale } from '../support/fake-exoscale';

/**
 * Adversarial probes (signals): payload variants and duplicates the authors' tests do not send. The real app runs
 * in-process against the fake API; ticks are driven by the test (SCALING_INTERVAL_SECONDS=3600).
 */
type Body = Record<string, unknown> & { alerts: Record<string, unknown>[] };
const load = (name: string): Body =>
  JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'real-world', name), 'utf8')) as Body;

type Policy = 'step' | 'target';

describe('edge cases: signals that mean what they say', () => {
  let fake: FakeExoscale;
  let t: TestApp;
  const size = () => fake.zone.getPool(fake.poolId).size;

  async function boot(policy: Policy, poolSize = 2, env: Record<string, string> = {}) {
    fake = await startFakeExoscale({ size: poolSize, timings: { bootDelayMs: 10, stopDelayMs: 10 } });
    await fake.zone.settle();
    t = await startApp(fake, { SCALING_POLICY: policy, POOL_MAX_SIZE: '10', WARMUP_SECONDS: '0', ...env });
  }
  afterEach(async () => {
    await t?.app.close();
    await fake?.close();
  });
  const tick = async () => {
    const entry = await t.app.get(ScalingService).tick();
    await fake.zone.settle();
    return entry;
  };
  const post = (path: string, body: unknown) =>
    request(t.app.getHttpServer())
      .post(path)
      .send(body as object);

  /** Two instances of one rule, both firing, in one Alertmanager group. */
  function twoFiring(): Body {
    const body = load('alertmanager-repeat-with-resolved.json');
    body.alerts[1].status = 'firing';
    body.alerts[1].endsAt = '0001-01-01T00:00:00Z';
    return body;
  }

  describe.each(['step', 'target'] as Policy[])('under the %s policy', (policy) => {
    // The fixture's alert carries 0.91: the target policy sizes 2 -> ceil(0.91 x 2 / 0.6) = 4 in one step.
    const oneStep = policy === 'step' ? 3 : 4;
    it('a duplicate delivery whose alerts come in another order is still a duplicate (no second step)', async () => {
      await boot(policy, 2, { WARMUP_SECONDS: '0' });
      const body = twoFiring();
      await post('/webhooks/alertmanager', body).expect(202);
      expect((await tick()).outcome).toBe('scaled');
      const after = size();
      // The same notification again (an HA peer / a retry), alerts listed in the other order.
      const peer = await post('/webhooks/alertmanager', {
        ...body,
        alerts: [...body.alerts].reverse(),
        externalURL: 'http://alertmanager-2.example',
      });
      if (policy === 'step') {
        // The step policy: the copy is one more step.
        await tick();
        expect(size()).toBe(after);
      }
      expect(peer.body.duplicateOf).toEqual(expect.any(String));
    });

    it('a rule that fired on a query error (Grafana annotation "Error", no grafana_state_reason) is not load', async () => {
      // Grafana sets the annotation Error on an alert whose rule is "Alerting" on execution error; before the
      // grafana_state_reason annotation existed that is the only mark (as the DatasourceError fixture shows).
      await boot(policy);
      const body = load('grafana-threshold-B.json');
      body.alerts[0].annotations = {
        Error: 'Post "http://prometheus:9090/api/v1/query": dial tcp: connect: connection refused',
      };
      body.alerts[0].values = null;
      body.alerts[0].valueString = '';
      const res = await post('/webhooks/grafana', body);
      expect(res.status).toBe(200);
      expect(res.body.inForce).toEqual([]);
      await tick();
      expect(size()).toBe(2);
    });

    it.each([['NoData, KeepLast'], ['Error, KeepLast'], ['nodata'], ['Error'], ['NoData,Updated']])(
      'grafana_state_reason %p on a firing alert is not load',
      async (reason) => {
        await boot(policy);
        const body = load('grafana-threshold-B.json');
        body.alerts[0].annotations = { grafana_state_reason: reason };
        const res = await post('/webhooks/grafana', body);
        expect(res.status).toBe(200);
        expect(res.body.inForce).toEqual([]);
        await tick();
        expect(size()).toBe(2);
      },
    );

    it('an unrelated resolved alert does not clear a pending bare /up (a resolved alert clears only itself)', async () => {
      await boot(policy);
      await request(t.app.getHttpServer()).post('/up').expect(202);
      // An alert of the up direction this control plane never saw firing resolves (another group / after TTL).
      const body = load('alertmanager-repeat-with-resolved.json');
      const resolved = { ...body, status: 'resolved', alerts: [body.alerts[1]], groupKey: 'other-group' };
      await post('/webhooks/alertmanager', resolved).expect(200);
      const entry = await tick();
      expect(entry.outcome).toBe('scaled');
      expect(size()).toBe(3);
    });

    it('a duplicate delivery across a restart records nothing', async () => {
      const state = await mkdtemp(join(tmpdir(), 'adv-state-'));
      await boot(policy, 2, { STATE_DIR: state });
      const body = load('grafana-threshold-B.json');
      await post('/webhooks/grafana', body).expect(202);
      expect((await tick()).outcome).toBe('scaled');
      await t.app.close();
      t = await startApp(fake, {
        SCALING_POLICY: policy,
        POOL_MAX_SIZE: '10',
        WARMUP_SECONDS: '0',
        STATE_DIR: state,
      });
      const res = await post('/webhooks/grafana', { ...body, externalURL: 'http://grafana-2.example/' });
      expect(res.status).toBe(200);
      expect(res.body.duplicateOf).toEqual(expect.any(String));
      if (policy === 'step') expect((await tick()).outcome).not.toBe('scaled');
      expect(size()).toBe(3);
    });

    it('firing and resolved of the same identity in one notification: one step at most, in either order', async () => {
      const sizes: number[] = [];
      for (const reversed of [false, true]) {
        await boot(policy);
        const body = load('alertmanager-repeat-with-resolved.json');
        body.alerts[1] = { ...body.alerts[0], status: 'resolved', endsAt: '2026-11-30T10:03:00Z' };
        if (reversed) body.alerts.reverse();
        await post('/webhooks/alertmanager', body);
        await tick();
        if (policy === 'step') await tick();
        sizes.push(size());
        await t.app.close();
        await fake.close();
      }
      expect(sizes[0]).toBe(sizes[1]);
      expect(sizes[0]).toBeLessThanOrEqual(oneStep);
    });

    it('duplicate fingerprints firing in one notification are one step', async () => {
      await boot(policy);
      const body = load('alertmanager-repeat-with-resolved.json');
      body.alerts = [body.alerts[0], { ...body.alerts[0] }, { ...body.alerts[0] }];
      await post('/webhooks/alertmanager', body).expect(202);
      await tick();
      if (policy === 'step') await tick();
      expect(size()).toBe(oneStep);
    });

    it('alerts without alertname and without fingerprint are tracked by label set', async () => {
      await boot(policy);
      const body = load('alertmanager-repeat-with-resolved.json');
      const strip = (a: Record<string, unknown>) => {
        const labels = { ...(a.labels as Record<string, string>) };
        delete labels.alertname;
        return { ...a, labels, fingerprint: undefined };
      };
      body.alerts = body.alerts.map(strip);
      body.commonLabels = { autoscale: 'up' };
      const res = await post('/webhooks/alertmanager', body).expect(202);
      expect(res.body.inForce).toHaveLength(1);
      await tick();
      if (policy === 'step') expect((await tick()).outcome).not.toBe('scaled');
      expect(size()).toBe(oneStep);
    });
  });

  describe('the measured value', () => {
    it.each([
      // [values, valueString, expected target size from 2]
      [{ B: 0.62, C: 1 }, '', 3],
      [{ A: '0.62', B: 1 }, '', 3],
      [{ A: 0.62, B: 1, C: 0 }, '', 3],
      [{ A: null, B: 1 }, '', 3],
      [{ B0: 0.62 }, "[ var='B0' metric='pool' labels={} value=0.62 ]", 3],
      [
        { A: 0.62, B: 0.62, C: 1 },
        "[ var='A' labels={} type='query' value=0.62 ], [ var='B' labels={} type='reduce' value=0.62 ], [ var='C' labels={} type='threshold' value=1 ]",
        3,
      ],
      [
        { A: 0.62, C: 1 },
        "[ var='A' labels={instance=198.51.100.10:9100, job=pool} value=0.62 ], [ var='C' labels={instance=198.51.100.10:9100, job=pool} value=1 ]",
        3,
      ],
      // percentages cannot be told apart from a fraction: one step
      [{ A: 62, B: 1 }, '', 3],
    ])('values %j (%s) size 2 -> %d, never from a condition', async (values, valueString, expected) => {
      await boot('target');
      const body = load('grafana-threshold-B.json');
      body.alerts[0].values = values as never;
      body.alerts[0].valueString = valueString;
      const res = await post('/webhooks/grafana', body);
      expect(res.status).toBe(202);
      const entry = await tick();
      expect(entry.targetSize).toBe(expected);
    });

    it('an up alert carrying a low value never lowers the pool; a down alert with a high value never raises it', async () => {
      await boot('target', 4);
      const up = load('grafana-threshold-B.json');
      up.alerts[0].annotations = { value: '0.05' };
      await post('/webhooks/grafana', up).expect(202);
      await tick();
      expect(size()).toBe(4);
      await t.app.close();
      await fake.close();

      await boot('target', 2);
      const down = load('grafana-threshold-B.json');
      (down.alerts[0].labels as Record<string, string>).autoscale = 'down';
      down.commonLabels = { ...(down.commonLabels as object), autoscale: 'down' };
      down.alerts[0].annotations = { value: '0.99' };
      await post('/webhooks/grafana', down).expect(202);
      await tick();
      expect(size()).toBe(2);
    });

    it('legacy evalMatches with nulls: only the non-null values count', async () => {
      await boot('target');
      const body = {
        title: '[Alerting] Pool CPU high',
        ruleId: 7,
        ruleName: 'Pool CPU high',
        state: 'alerting',
        evalMatches: [
          { metric: 'a', value: null, tags: null },
          { metric: 'b', value: 0.62, tags: {} },
        ],
        tags: { autoscale: 'up' },
      };
      const res = await post('/webhooks/grafana', body).expect(202);
      expect(res.body.changes[0].value).toBe(0.62);
      expect((await tick()).targetSize).toBe(3);
    });
  });
});
