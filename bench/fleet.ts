import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { stringify } from 'yaml';

import { EmulatorApiServer } from '../apps/exoscale-emulator/src/api-server';
import { EmulatedZone } from '../apps/exoscale-emulator/src/zone';

/**
 * The cost of scale (issue "Many pools"): one compiled control plane managing 1, 10, 100 and 1,000 pools of two
 * virtual members each in one emulated zone (signed API, no processes), measured from outside: tick duration
 * (its own histogram), API requests per tick interval, the most requests in flight, RSS, and the webhook intake rate.
 */

const ROOT = resolve(__dirname, '..', '..', '..');
const KEY = 'EXObench00000000000000000000';
const SECRET = 'bench-secret-never-printed-0123456789abcdef';
const INTERVAL_SECONDS = 5;
const TICKS = 3;
const WEBHOOKS = 1500;
const WEBHOOK_CONCURRENCY = 32;

interface Row {
  pools: number;
  tickMs: number;
  requestsPerTick: number;
  peakInFlight: number;
  rssMiB: number;
  webhooksPerSecond: number;
  overruns: number;
}

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });

function metric(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && (l[name.length] === ' ' || l[name.length] === '{'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 180_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`bench: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function measureFleet(pools: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
  const zone = new EmulatedZone('at-vie-1', undefined, { bootDelayMs: 0, stopDelayMs: 0 });
  const api = new EmulatorApiServer({ zone, credentials: { [KEY]: SECRET } });
  const endpoint = await api.listen(0);
  const ids: string[] = [];
  for (let i = 0; i < pools; i++)
    ids.push((await zone.createPool({ name: `p${i}`, size: 2, virtual: true })).id);
  writeFileSync(
    join(dir, 'pools.yaml'),
    stringify({ pools: ids.map((id, i) => ({ name: `p${i}`, id, zone: 'at-vie-1', min: 1, max: 5 })) }),
  );
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ['dist/apps/control-plane/main.js'], {
    cwd: ROOT,
    stdio: 'ignore',
    env: {
      PATH: process.env.PATH,
      EXOSCALE_KEY: KEY,
      EXOSCALE_SECRET: SECRET,
      EXOSCALE_API_ENDPOINT: endpoint,
      POOLS_FILE: join(dir, 'pools.yaml'),
      SD_FILE: join(dir, 'sd', 'config.json'),
      STATE_DIR: join(dir, 'state'),
      LISTEN_HOST: '127.0.0.1',
      LISTEN_PORT: String(port),
      SCALING_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
      DISCOVERY_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
      SCALING_POLICY: 'step',
    },
  });
  try {
    const scrape = async () => (await fetch(`${base}/metrics`)).text();
    await waitFor(
      async () => ((await fetch(`${base}/pools`)).ok ? true : undefined),
      'the control plane start',
    );
    // Measured from the second tick on: the first meets every pool cold.
    const first = await waitFor(async () => {
      const text = await scrape();
      return metric(text, 'autoscaler_tick_duration_seconds_count') >= 1 ? text : undefined;
    }, 'the first tick');
    const requestsAtFirst = api.requests.length;
    const last = await waitFor(async () => {
      const text = await scrape();
      return metric(text, 'autoscaler_tick_duration_seconds_count') >= 1 + TICKS ? text : undefined;
    }, `${TICKS} ticks`);
    const ticks =
      metric(last, 'autoscaler_tick_duration_seconds_count') -
      metric(first, 'autoscaler_tick_duration_seconds_count');
    const tickSeconds =
      metric(last, 'autoscaler_tick_duration_seconds_sum') -
      metric(first, 'autoscaler_tick_duration_seconds_sum');

    // Webhook intake: Alertmanager notifications, each for one pool (its `pool` label), firing then resolved.
    let sent = 0;
    const started = Date.now();
    const worker = async () => {
      while (sent < WEBHOOKS) {
        const i = sent++;
        const pool = `p${i % pools}`;
        const status = Math.floor(i / pools) % 2 === 0 ? 'firing' : 'resolved';
        const res = await fetch(`${base}/webhooks/alertmanager`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            version: '4',
            status,
            receiver: 'autoscaler',
            groupKey: `{}:{alertname="PoolCpuHigh",pool="${pool}"}`,
            alerts: [
              {
                status,
                labels: { alertname: 'PoolCpuHigh', autoscale: 'up', pool },
                annotations: { value: '0.93' },
                startsAt: new Date(started).toISOString(),
                fingerprint: `fp-${pool}`,
              },
            ],
          }),
        });
        if (res.status >= 400) throw new Error(`bench: webhook answered ${res.status}: ${await res.text()}`);
      }
    };
    await Promise.all(Array.from({ length: WEBHOOK_CONCURRENCY }, worker));
    const webhookSeconds = (Date.now() - started) / 1000;
    const after = await scrape();
    return {
      pools,
      tickMs: (tickSeconds / ticks) * 1000,
      requestsPerTick: (api.requests.length - requestsAtFirst) / ticks,
      peakInFlight: metric(after, 'autoscaler_exoscale_api_requests_in_flight_peak'),
      rssMiB: metric(after, 'process_resident_memory_bytes') / 1024 / 1024,
      webhooksPerSecond: WEBHOOKS / webhookSeconds,
      overruns: metric(after, 'autoscaler_tick_overruns_total'),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await zone.shutdown();
    await api.close();
  }
}

/** Prints the scale table, with ratios to one pool measured in the same run. */
export async function benchFleet(counts = [1, 10, 100, 1000]): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/apps/control-plane/main.js'))) {
    const built = spawnSync('npx', ['nest', 'build', 'control-plane'], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('bench: cannot build the control plane');
  }
  console.log(
    `\none control plane, N pools of 2 virtual members (tick every ${INTERVAL_SECONDS} s, discovery every ${INTERVAL_SECONDS} s; API_CONCURRENCY_PER_ZONE 8, POOL_CONCURRENCY 32)`,
  );
  console.log(
    `  ${'pools'.padStart(6)} ${'tick ms'.padStart(9)} ${'x 1 pool'.padStart(9)} ${'API req/interval'.padStart(17)} ${'per pool'.padStart(9)} ${'peak in flight'.padStart(15)} ${'RSS MiB'.padStart(8)} ${'webhooks/s'.padStart(11)} ${'overruns'.padStart(9)}`,
  );
  let baseline: Row | undefined;
  for (const pools of counts) {
    const row = await measureFleet(pools);
    baseline ??= row;
    console.log(
      `  ${String(row.pools).padStart(6)} ${row.tickMs.toFixed(1).padStart(9)} ${(row.tickMs / baseline.tickMs).toFixed(1).padStart(8)}x ${row.requestsPerTick.toFixed(0).padStart(17)} ${(row.requestsPerTick / row.pools).toFixed(2).padStart(9)} ${String(row.peakInFlight).padStart(15)} ${row.rssMiB.toFixed(0).padStart(8)} ${row.webhooksPerSecond.toFixed(0).padStart(11)} ${String(row.overruns).padStart(9)}`,
    );
  }
}
