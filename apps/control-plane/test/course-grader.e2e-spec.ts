import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

import request from 'supertest';

import { loadSettings } from '../src/config/settings';
import { eventually } from './support/app';
import { FakeExoscale, startFakeExoscale, TEST_KEY, TEST_SECRET } from './support/fake-exoscale';
import {
  assertBuilt,
  bindMountPrefix,
  freePort,
  runControlPlane,
  Running,
  stopAndMeasure,
  waitHealthy,
} from './support/process';

// The course's grader (FH-Cloud-Computing/hand-in-automation; ../shared/reference/course-grader.md), walked where
// it touches this code: the compiled control plane as its container runs it, with exactly the environment the
// grader passes, against a signature-checking fake Exoscale API. The grader's `docker stop` gives 10 s before
// SIGKILL (exit 137, a failed scenario), so every stop here must end with exit 0 well within that.
const DOCKER_STOP_TIMEOUT_MS = 10_000;
const DEFAULT_SD_FILE = '/srv/service-discovery/config.json';

type Entry = { trigger: string; outcome: string; code: string; targetSize: number | null };

/**
 * What the grader's container gets (steps.go:850-858): the restricted key, the zone name and its v1 id, the pool,
 * TARGET_PORT and LISTEN_PORT drawn from 1024-65533. Only what a test cannot reproduce is added: the API endpoint
 * (the fake), the SD file and state directory (in the container: the bind-mounted /srv/service-discovery and the
 * image's /var/lib/exoscale-autoscaler), and, where a test says so, shorter intervals.
 */
async function graderEnv(
  fake: FakeExoscale,
  listenPort: number,
  extra: Record<string, string> = {},
): Promise<{ env: Record<string, string>; sdFile: string; targetPort: number }> {
  const targetPort = 1024 + Math.floor(Math.random() * 64510);
  // The grader creates the folder (0755) before it starts the container.
  const sdFile = join(await mkdtemp(join(tmpdir(), 'grader-sd-')), 'service-discovery', 'config.json');
  await mkdir(dirname(sdFile), { mode: 0o755 });
  const env = {
    EXOSCALE_KEY: TEST_KEY,
    EXOSCALE_SECRET: TEST_SECRET,
    EXOSCALE_ZONE: 'at-vie-1',
    EXOSCALE_ZONE_ID: '4da1b188-dcd6-4ff5-b7fd-bde984055548',
    EXOSCALE_INSTANCEPOOL_ID: fake.poolId,
    TARGET_PORT: String(targetPort),
    LISTEN_PORT: String(listenPort),
    EXOSCALE_API_ENDPOINT: fake.endpoint,
    SD_FILE: sdFile,
    STATE_DIR: join(await mkdtemp(join(tmpdir(), 'grader-state-')), 'state'),
    ...extra,
  };
  return { env, sdFile, targetPort };
}

describe("the course grader's scenarios, against the compiled control plane (e2e)", () => {
  let fake: FakeExoscale;
  let base: string;
  let listenPort: number;
  let app: Running | undefined;

  beforeAll(() => assertBuilt());
  beforeEach(async () => {
    listenPort = await freePort();
    base = `http://127.0.0.1:${listenPort}`;
  });
  afterEach(async () => {
    if (app && app.child.exitCode === null && app.child.signalCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    app = undefined;
    await fake?.close().catch(() => undefined); // the load test closes its own
  });

  const healthy = () => waitHealthy(base, 20000);
  const events = async (): Promise<Entry[]> =>
    (await request(base).get('/pool/events').expect(200)).body as Entry[];
  const ticks = async () => (await events()).filter((e) => e.trigger === 'tick');
  /** Waits until `n` more ticks have decided (a controlled event, not a fixed sleep). */
  const moreTicks = async (n: number) => {
    const seen = (await ticks()).length;
    await eventually(ticks, (t) => t.length >= seen + n, 20000);
  };
  const running = () => fake.zone.members(fake.poolId).filter((m) => m.state === 'running').length;
  /** The grader's "docker stop": SIGTERM, exit code 0, within Docker's default 10 s. */
  const dockerStop = async () => {
    const exit = await stopAndMeasure(app!);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.ms).toBeLessThan(DOCKER_STOP_TIMEOUT_MS);
    return exit.ms;
  };

  it('relies only on defaults the grader meets: the SD file path, the intervals within its timeouts, the image', () => {
    const settings = loadSettings({
      EXOSCALE_KEY: TEST_KEY,
      EXOSCALE_SECRET: TEST_SECRET,
      EXOSCALE_ZONE: 'ch-dk-2',
      EXOSCALE_ZONE_ID: '91e5e9e4-c9ed-4b76-bee4-427004b3baf9',
      EXOSCALE_INSTANCEPOOL_ID: '6f0b7a35-4f5e-4a53-9d3e-000000000001',
      TARGET_PORT: '65533',
      LISTEN_PORT: '1024',
    });
    // The grader bind-mounts its folder at /srv/service-discovery and reads config.json there.
    expect(settings.SD_FILE).toBe(DEFAULT_SD_FILE);
    // SD within 300 s of the pool change (two discovery periods are enough), a step within 900 s of /up.
    expect(settings.DISCOVERY_INTERVAL_SECONDS * 2).toBeLessThan(300);
    expect(settings.SCALING_INTERVAL_SECONDS * 2).toBeLessThan(900);
    // At size 1, /down is answered and ignored; /up is the course's one step.
    expect(settings.POOL_MIN_SIZE).toBe(1);
    expect(settings.POOL_MAX_SIZE).toBeGreaterThanOrEqual(2);
    expect(settings.EXOSCALE_ZONE).toBe('ch-dk-2');
    expect(settings.apiEndpoint).toBe('https://api-ch-dk-2.exoscale.com/v2');
    // The image: the same path, SIGTERM as the stop signal, node as PID 1 (exec form) so the signal reaches it.
    const dockerfile = readFileSync(resolve(__dirname, '../../../Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/SD_FILE=\/srv\/service-discovery\/config\.json/);
    expect(dockerfile).toMatch(/^VOLUME \["\/srv\/service-discovery"\]$/m);
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(dockerfile).toMatch(/^CMD \["node", /m);
  });

  it('service discovery [optional]: every pool member as <ip>:TARGET_PORT, following the pool; docker stop exits 0', async () => {
    fake = await startFakeExoscale({ size: 2 });
    // A zone name the old check refused; the grader passes the pool's zone.
    const { env, sdFile, targetPort } = await graderEnv(fake, listenPort, {
      EXOSCALE_ZONE: 'ch-dk-2',
      DISCOVERY_INTERVAL_SECONDS: '1',
    });
    // The grader bind-mounts a host folder at /srv/service-discovery and reads config.json there: here a temporary
    // folder over /srv in the process's own mount namespace, with SD_FILE left to its default. Where this machine
    // does not allow that, the same folder is named with SD_FILE (the default is asserted in the test above).
    const srv = resolve(sdFile, '../..');
    const prefix = bindMountPrefix(srv, '/srv');
    if (prefix) delete env.SD_FILE;
    else
      console.warn('no private mount namespace here: SD_FILE names the folder instead of the default path');
    app = runControlPlane(env, prefix ?? []);
    await healthy();

    // The grader's check (steps.go:927-1034): an array of {targets: [string], labels: {string: string}}, and the
    // set of targets exactly the pool members' IPs with TARGET_PORT.
    const targetsInFile = async (): Promise<string[] | null> => {
      let groups: unknown;
      try {
        groups = JSON.parse(await readFile(sdFile, 'utf8'));
      } catch {
        return null;
      }
      expect(Array.isArray(groups)).toBe(true);
      const targets = new Set<string>();
      for (const group of groups as { targets: unknown; labels: unknown }[]) {
        expect(Array.isArray(group.targets)).toBe(true);
        for (const target of group.targets as unknown[]) {
          expect(typeof target).toBe('string');
          targets.add(target as string);
        }
        for (const value of Object.values(group.labels as Record<string, unknown>))
          expect(typeof value).toBe('string');
      }
      return [...targets].sort();
    };
    const expected = () =>
      fake.zone
        .members(fake.poolId)
        .map((m) => `${m.publicIp}:${targetPort}`)
        .sort();

    await fake.zone.settle();
    expect(expected()).toHaveLength(2);
    await eventually(targetsInFile, (t) => JSON.stringify(t) === JSON.stringify(expected()), 20000);

    // The grader sets the size and destroys every member; the file follows the new members.
    fake.zone.scale(fake.poolId, 3);
    await fake.zone.settle();
    await eventually(targetsInFile, (t) => JSON.stringify(t) === JSON.stringify(expected()), 20000);
    expect(await targetsInFile()).toHaveLength(3);

    const ms = await dockerStop();
    console.log(`service discovery: exit 0 ${Math.round(ms)} ms after SIGTERM`);
    expect(app.output()).not.toContain(TEST_SECRET);
  });

  it.each([
    ["the default policy (the grader's container sets none)", {}],
    ['SCALING_POLICY=step', { SCALING_POLICY: 'step' }],
  ])(
    'autoscaler [optional], %s: bare GET /up at 1 -> exactly 2; /down -> 1; /down at 1 -> 2xx, no change; docker stop exits 0',
    async (_name, policy: Record<string, string>) => {
      fake = await startFakeExoscale({ size: 1 });
      const { env } = await graderEnv(fake, listenPort, { ...policy, SCALING_INTERVAL_SECONDS: '1' });
      app = runControlPlane(env);
      await healthy();
      await fake.zone.settle();
      expect(running()).toBe(1);

      // Every size the pool takes, sampled far more often than the grader's 10 s polls.
      let largest = 0;
      const sampler = setInterval(
        () => (largest = Math.max(largest, fake.zone.getPool(fake.poolId).size)),
        20,
      );
      try {
        // The grader: a GET without a body, Go's default client; any 2xx passes.
        const up = await request(base).get('/up');
        expect(up.status).toBeGreaterThanOrEqual(200);
        expect(up.status).toBeLessThan(300);
        await eventually(running, (n) => n === 2, 20000);
        // And it stays exactly 2: the next ticks find nothing to do.
        await moreTicks(3);
        expect(fake.zone.getPool(fake.poolId).size).toBe(2);
        expect(largest).toBe(2);
        expect((await ticks()).filter((e) => e.outcome === 'scaled').map((e) => e.targetSize)).toEqual([2]);

        const down = await request(base).get('/down');
        expect(down.status).toBeGreaterThanOrEqual(200);
        expect(down.status).toBeLessThan(300);
        await eventually(
          () => fake.zone.members(fake.poolId).length,
          (n) => n === 1,
          20000,
        );
        await fake.zone.settle();
        expect(running()).toBe(1);

        // At the minimum, /down is answered with a 2xx and changes nothing.
        const again = await request(base).get('/down');
        expect(again.status).toBeGreaterThanOrEqual(200);
        expect(again.status).toBeLessThan(300);
        await moreTicks(3);
        expect(fake.zone.getPool(fake.poolId).size).toBe(1);
        expect(running()).toBe(1);
        expect((await ticks()).filter((e) => e.outcome === 'scaled').map((e) => e.targetSize)).toEqual([
          1, 2,
        ]);
      } finally {
        clearInterval(sampler);
      }

      const ms = await dockerStop();
      console.log(
        `autoscaler (${policy.SCALING_POLICY ?? 'default'}): exit 0 ${Math.round(ms)} ms after SIGTERM`,
      );
      expect(app.output()).not.toContain(TEST_SECRET);
    },
  );

  it('load: a saturated PoolCpuHigh at 1 member gives exactly 2 with the step policy (the root module), more with target', async () => {
    // The monitoring VM's control plane as the root module deploys it (SCALING_POLICY=step, basic auth on the
    // webhooks), fed the notification Grafana sends while 10 clients keep the single member at 100 %.
    const notification = {
      receiver: 'control-plane',
      status: 'firing',
      orgId: 1,
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'PoolCpuHigh', autoscale: 'up', grafana_folder: 'Autoscaling' },
          annotations: { summary: 'Pool-average CPU above 80% for 1 minute', value: '1' },
          startsAt: new Date().toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          fingerprint: 'a1b2c3d4e5f60718',
          values: { A: 1, B: 1, C: 1 },
        },
      ],
      groupLabels: { alertname: 'PoolCpuHigh' },
      commonLabels: { alertname: 'PoolCpuHigh', autoscale: 'up' },
      commonAnnotations: {},
      externalURL: 'http://grafana:3000/',
      version: '1',
      groupKey: '{}:{alertname="PoolCpuHigh"}',
      truncatedAlerts: 0,
      title: '[FIRING:1] PoolCpuHigh',
      state: 'alerting',
      message: 'Pool-average CPU above 80% for 1 minute',
    };
    const sizes: Record<string, number> = {};
    for (const policy of ['step', 'target']) {
      fake = await startFakeExoscale({ size: 1 });
      const { env } = await graderEnv(fake, listenPort, {
        SCALING_POLICY: policy,
        SCALING_INTERVAL_SECONDS: '1',
        // In the grader the single member has run for minutes when the alert fires (the grader waits for it to be
        // healthy, then the alert needs a minute of load): past the warm-up. The fake's member is brand new.
        WARMUP_SECONDS: '0',
        WEBHOOK_USERNAME: 'grafana',
        WEBHOOK_PASSWORD: 'webhook-password',
      });
      app = runControlPlane(env);
      try {
        await healthy();
        await fake.zone.settle();
        await request(base)
          .post('/webhooks/grafana')
          .auth('grafana', 'webhook-password')
          .send(notification)
          .expect(202);
        await eventually(ticks, (t) => t.some((e) => e.outcome === 'scaled'), 20000);
        await fake.zone.settle();
        // One notification, one step: the following ticks, with the alert still firing, add nothing.
        await moreTicks(3);
        expect((await ticks()).filter((e) => e.outcome === 'scaled')).toHaveLength(1);
        sizes[policy] = running();
      } finally {
        await dockerStop();
        await fake.close();
      }
      listenPort = await freePort();
      base = `http://127.0.0.1:${listenPort}`;
    }
    // The course's load check wants exactly 2 running members within 300 s: the step policy gives that; the target
    // policy's saturated step goes past 2 in one call (1 -> 5 with the shipped settings).
    console.log(`one saturated notification at 1 member: ${JSON.stringify(sizes)}`);
    expect(sizes.step).toBe(2);
    expect(sizes.target).toBeGreaterThan(2);
  });

  describe('docker stop while a scale operation is in flight', () => {
    it('from a tick: gives the wait up and exits 0 within 10 s', async () => {
      fake = await startFakeExoscale({ size: 1 });
      fake.zone.timings.bootDelayMs = 120_000;
      const { env } = await graderEnv(fake, listenPort, { SCALING_INTERVAL_SECONDS: '1' });
      app = runControlPlane(env);
      await healthy();
      await request(base).get('/up').expect(202);
      await eventually(
        () => fake.zone.getPool(fake.poolId).state,
        (s) => s === 'scaling-up',
        20000,
      );
      const ms = await dockerStop();
      console.log(`tick in flight: exit 0 ${Math.round(ms)} ms after SIGTERM`);
    });

    it('from a manual POST /pool/scale still waiting for its answer: exits 0 within 10 s', async () => {
      fake = await startFakeExoscale({ size: 1 });
      fake.zone.timings.bootDelayMs = 120_000;
      const { env } = await graderEnv(fake, listenPort, { SCALING_INTERVAL_SECONDS: '3600' });
      app = runControlPlane(env);
      await healthy();
      const manual = request(base)
        .post('/pool/scale')
        .send({ direction: 'up' })
        .then(
          (r) => r.status,
          () => 0,
        );
      await eventually(
        () => fake.zone.getPool(fake.poolId).state,
        (s) => s === 'scaling-up',
        20000,
      );
      const ms = await dockerStop();
      console.log(`manual scale in flight: exit 0 ${Math.round(ms)} ms after SIGTERM`);
      // Answered before the exit, not cut off: 200 when the re-read pool already shows the target size (a
      // reconciled step), 502 when the outcome stays unknown (the next decision re-reads the pool).
      expect([200, 502]).toContain(await manual);
    });
  });
});
