import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { parse } from 'yaml';
import { portFree, stopLauncher, until } from './support';

// Two pools on one machine, as `npm start -- --fast --pools 2` runs them: pool-1 behind the NLB on 8000, pool-2 on
// 8001, one control plane given the generated pools file, Prometheus scraping both through the per-pool file_sd
// files, alerts by pool. Load on pool-1 only must scale pool-1 and leave pool-2 alone, alerts included.
const ROOT = resolve(__dirname, '../../..');
const LAUNCHER = join(ROOT, 'dist/apps/local-stack/main.js');
const LOAD = join(ROOT, 'dist/apps/load-test/main.js');
const CP = 'http://127.0.0.1:8090';
const PROM = 'http://127.0.0.1:9090';
const EMU = 'http://127.0.0.1:8086/_emulator';
const POOL_1 = { name: 'pool-1', id: '6f0b7a35-4f5e-4a53-9d3e-000000000001', nlb: 'http://127.0.0.1:8000' };
const POOL_2 = { name: 'pool-2', id: '6f0b7a35-4f5e-4a53-9d3e-000000000002', nlb: 'http://127.0.0.1:8001' };
const PORTS = [8000, 8001, 8086, 8090, 9090, 9093];

interface Decision {
  id: number;
  time: string;
  outcome: string;
  code: string;
  direction: string | null;
  trigger: string;
  targetSize: number | null;
  alerts?: { up?: unknown; down?: unknown };
}

const json = async <T>(url: string): Promise<T> =>
  (await (await fetch(url, { signal: AbortSignal.timeout(3000) })).json()) as T;
const promQuery = async (q: string) =>
  (
    await json<{ data: { result: { metric: Record<string, string>; value: [number, string] }[] } }>(
      `${PROM}/api/v1/query?query=${encodeURIComponent(q)}`,
    )
  ).data.result;
const poolTargets = async () =>
  (
    await json<{ data: { activeTargets: { labels: Record<string, string>; health: string }[] } }>(
      `${PROM}/api/v1/targets?state=active`,
    )
  ).data.activeTargets.filter((t) => t.labels.job === 'pool');
/** A pool as the emulator runs it: its size and members (the ground truth, whatever the control plane says). */
const emulated = async (id: string) =>
  (
    await json<{ pools: { id: string; size: number; members: { state: string; pid: number | null }[] }[] }>(
      `${EMU}/state`,
    )
  ).pools.find((p) => p.id === id)!;
const events = (pool: string) => json<Decision[]>(`${CP}/pools/${pool}/events`);

describe('two pools on the local stack (e2e)', () => {
  let launcher: ChildProcess;
  let output = '';
  const dir = mkdtempSync(join(tmpdir(), 'stack-two-pools-'));

  beforeAll(async () => {
    for (const main of [LAUNCHER, LOAD])
      if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
    // The built launcher, as `npm start` runs it once built.
    launcher = spawn(
      process.execPath,
      [LAUNCHER, '--fast', '--pools', '2', '--size', '1', '--min', '1', '--max', '5', '--dir', dir],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    launcher.stdout!.on('data', (d) => (output += d));
    launcher.stderr!.on('data', (d) => (output += d));
    await until(
      'the launcher to print its URLs',
      async () => output,
      // The banner's last line: the URLs before it may come in several chunks.
      (o) => o.includes('Stop with Ctrl-C.') || launcher.exitCode !== null,
      120000,
    );
    if (launcher.exitCode !== null) throw new Error(`launcher failed:\n${output}`);
  }, 150000);

  afterAll(() => stopLauncher(launcher), 40000);

  it('prints both NLBs and runs the control plane from the generated pools file', async () => {
    for (const url of [`${POOL_1.nlb}/`, `${POOL_2.nlb}/`, `${CP}/pools`, join(dir, 'pools.yml')])
      expect(output).toContain(url);
    expect(parse(readFileSync(join(dir, 'pools.yml'), 'utf8'))).toEqual({
      pools: [
        { name: POOL_1.name, id: POOL_1.id, zone: 'at-vie-1', min: 1, max: 5 },
        { name: POOL_2.name, id: POOL_2.id, zone: 'at-vie-1', min: 1, max: 5 },
      ],
    });
    const pools = await json<{ name: string; id: string }[]>(`${CP}/pools`);
    expect(pools.map((p) => [p.name, p.id])).toEqual([
      [POOL_1.name, POOL_1.id],
      [POOL_2.name, POOL_2.id],
    ]);
    for (const nlb of [POOL_1.nlb, POOL_2.nlb]) expect((await fetch(`${nlb}/health`)).status).toBe(200);
  });

  it('scales out the loaded pool only; no alert of the loaded pool reaches the other', async () => {
    // Both pools are scraped through their own file_sd files, each target labelled with its pool.
    await until(
      "both pools' members scraped, labelled by pool",
      poolTargets,
      (t) =>
        [POOL_1.name, POOL_2.name].every((name) =>
          t.some((x) => x.labels.pool === name && x.health === 'up'),
        ),
      60000,
    );
    const before = { [POOL_1.name]: 0, [POOL_2.name]: 0 };
    for (const name of [POOL_1.name, POOL_2.name]) before[name] = (await events(name))[0]?.id ?? 0;

    // Watch pool-2 throughout, in the emulator itself: its size must never move.
    const pool2Sizes = new Set<number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const pool = await emulated(POOL_2.id).catch(() => null);
        if (pool) pool2Sizes.add(pool.members.filter((m) => m.state !== 'stopping').length).add(pool.size);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();

    const load = spawn(
      process.execPath,
      [LOAD, ...['--url', `${POOL_1.nlb}/load`, '--clients', '3', '--duration', '40'], '--json'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let report = '';
    load.stdout!.on('data', (d) => (report += d));
    const loadDone = new Promise<number | null>((r) => load.once('exit', r));

    try {
      // The loaded pool's utilisation, then its alert, carry its name.
      await until(
        'pool-1 CPU above 80%',
        () => promQuery(`pool:node_cpu_utilisation:avg{pool="${POOL_1.name}"}`),
        (r) => r.length === 1 && Number(r[0].value[1]) > 0.8,
        60000,
      );
      // Pending or firing: target tracking (the default) may grow the pool before the alert's `for` has passed.
      await until(
        'PoolCpuHigh pending or firing for pool-1',
        () => promQuery('ALERTS{alertname="PoolCpuHigh"}'),
        (r) => r.some((a) => a.metric.pool === POOL_1.name),
        60000,
      );
      // The control plane scales pool-1 out, and the emulator starts its members.
      const up = await until(
        'a scale-out of pool-1',
        () => events(POOL_1.name),
        (e) => e.some((x) => x.id > before[POOL_1.name] && x.outcome === 'scaled' && x.direction === 'up'),
        60000,
      );
      expect(up.find((x) => x.outcome === 'scaled' && x.direction === 'up')!.trigger).toBe('tick');
      await until(
        'a second running member in pool-1',
        () => emulated(POOL_1.id),
        (p) => p.members.filter((m) => m.state === 'running' && m.pid).length >= 2,
        60000,
      );
      expect(await loadDone).toBe(0);
    } finally {
      load.kill('SIGINT');
      watching = false;
      await watcher;
    }
    expect(JSON.parse(report).ok).toBeGreaterThan(10);

    // pool-2 never moved, and nothing of pool-1's load reached it: no up alert, no scale-out decision.
    expect([...pool2Sizes]).toEqual([1]);
    expect((await emulated(POOL_2.id)).size).toBe(1);
    const pool2 = (await events(POOL_2.name)).filter((e) => e.id > before[POOL_2.name]);
    expect(pool2.filter((e) => e.direction === 'up')).toEqual([]);
    expect(pool2.filter((e) => e.alerts?.up)).toEqual([]);
    const highAlerts = await promQuery(
      'count by (pool) (max_over_time(ALERTS{alertname="PoolCpuHigh"}[10m]))',
    );
    expect(highAlerts.map((a) => a.metric.pool)).toEqual([POOL_1.name]);
  }, 300000);

  it('stops every process and frees every port, both NLBs included, on SIGINT', async () => {
    launcher.kill('SIGINT');
    const code = await new Promise<number | null>((r) =>
      launcher.exitCode !== null ? r(launcher.exitCode) : launcher.once('exit', r),
    );
    expect(code).toBe(0);
    for (const port of PORTS) expect(await portFree(port)).toBe(true);
  }, 60000);
});
