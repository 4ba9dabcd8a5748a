import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { portFree, stopLauncher, until } from '../../local-stack/test/support';
import { launchChromium } from './support/app';

// The whole loop on one machine, as `npm start -- --fast` runs it: load through the NLB -> members' simulated CPU
// -> Prometheus (members found through the control plane's file_sd) -> alert -> Alertmanager -> control plane
// webhook -> tick -> emulated Exoscale API -> new member processes -> discovery -> Prometheus targets. And back.
const ROOT = resolve(__dirname, '../../..');
const CP = 'http://127.0.0.1:8090';
const PROM = 'http://127.0.0.1:9090';
const EMU = 'http://127.0.0.1:8086/_emulator';

const json = async <T>(url: string): Promise<T> =>
  (await (await fetch(url, { signal: AbortSignal.timeout(3000) })).json()) as T;
const promQuery = async (q: string) =>
  (
    await json<{ data: { result: { value: [number, string] }[] } }>(
      `${PROM}/api/v1/query?query=${encodeURIComponent(q)}`,
    )
  ).data.result;
const poolTargets = async () =>
  (
    await json<{ data: { activeTargets: { labels: { job: string }; scrapeUrl: string; health: string }[] } }>(
      `${PROM}/api/v1/targets?state=active`,
    )
  ).data.activeTargets
    .filter((t) => t.labels.job === 'pool')
    .map((t) => ({ address: new URL(t.scrapeUrl).host, health: t.health }));
const members = async () =>
  (
    await json<{ pools: { members: { id: string; ip: string; state: string; pid: number | null }[] }[] }>(
      `${EMU}/state`,
    )
  ).pools[0].members;
const events = () =>
  json<
    {
      id: number;
      time: string;
      outcome: string;
      code: string;
      direction: string | null;
      trigger: string;
      targetSize: number | null;
      reasons: { code: string }[];
    }[]
  >(`${CP}/pool/events`);
const poolSize = async () => (await json<{ size: number }>(`${CP}/pool`)).size;

function stackProcesses(dir: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  // This checkout's own processes only (started from ROOT, by a relative or an absolute path): another checkout's,
  // a second run on the same machine, are not ours.
  const ours = (line: string) => {
    const pid = Number(line.trim().split(/\s+/)[0]);
    if (line.includes(ROOT)) return true;
    try {
      return readlinkSync(`/proc/${pid}/cwd`) === ROOT;
    } catch {
      return false;
    }
  };
  return ps
    .split('\n')
    .filter(
      (l) =>
        l.includes(dir) ||
        (/dist\/apps\/(exoscale-emulator|slow-web|control-plane)\/main\.js/.test(l) && ours(l)),
    );
}

describe('local stack launcher (e2e)', () => {
  it('stops what it started when interrupted during start-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stack-abort-'));
    const launcher = spawn(process.execPath, ['scripts/start.mjs', '--fast', '--dir', dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    launcher.stdout!.on('data', (d) => (output += d));
    launcher.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((r) => launcher.once('exit', r));
    // Interrupt once the emulator and its members run, before the stack is complete.
    await until(
      'the emulator to answer',
      () => members(),
      (m) => m.length === 2,
      120000,
    );
    launcher.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(output).toContain('interrupted during start-up');
    expect(stackProcesses(dir)).toEqual([]);
    for (const port of [8000, 8086, 8090, 9090, 9093]) expect(await portFree(port)).toBe(true);
  }, 180000);
});

describe('closed loop on the local stack (e2e)', () => {
  let launcher: ChildProcess;
  let output = '';
  const dir = mkdtempSync(join(tmpdir(), 'stack-e2e-'));

  beforeAll(async () => {
    launcher = spawn(process.execPath, ['scripts/start.mjs', '--fast', '--dir', dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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

  it('prints every URL', () => {
    for (const url of [
      `${CP}/`,
      'http://127.0.0.1:8000/',
      `${CP}/pool`,
      `${CP}/docs`,
      'http://127.0.0.1:8086/v2',
      `${PROM}/`,
      'http://127.0.0.1:9093/',
    ]) {
      expect(output).toContain(url);
    }
  });

  it('scales in while idle, out under load and back in when the load stops', async () => {
    // Idle: the 2 initial members are scraped through the SD file, the low-CPU alert takes the pool to its minimum.
    await until(
      'both initial members scraped',
      poolTargets,
      (t) => t.length === 2 && t.every((x) => x.health === 'up'),
      60000,
    );
    await until('idle scale-in to 1', poolSize, (n) => n === 1, 60000);
    const before = (await events())[0].id;

    const load = spawn(
      process.execPath,
      [
        'dist/apps/load-test/main.js',
        '--url',
        'http://127.0.0.1:8000/load',
        '--clients',
        '3',
        '--duration',
        '60',
        '--control-plane',
        CP,
        '--json',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let report = '';
    load.stdout!.on('data', (d) => (report += d));
    let loadEndedAt = Infinity;
    const loadDone = new Promise<number | null>((r) =>
      load.once('exit', (code) => {
        loadEndedAt = Date.now();
        r(code);
      }),
    );

    // Hop 1: the member's simulated CPU reaches Prometheus.
    await until(
      'pool-average CPU above 80%',
      () => promQuery('pool:node_cpu_utilisation:avg'),
      (r) => r.length === 1 && Number(r[0].value[1]) > 0.8,
      60000,
    );
    // Hop 2: the rule holds in Prometheus (pending, then firing unless the pool grew first).
    await until(
      'PoolCpuHigh pending or firing',
      () => promQuery('ALERTS{alertname="PoolCpuHigh"}'),
      (r) => r.length === 1,
      60000,
    );
    // Hop 3: the tick scales up through the API. Target tracking (the default) reads the fresh utilisation at every
    // tick, alert or not, so it may act before the alert fires or Alertmanager posts it (3 clients on the 4 members
    // it asks for run at 75 %: the up alert may never fire). The alert path's webhook is checked after the load.
    const up = await until(
      'a scale-up decision',
      events,
      (e) => e.some((x) => x.id > before && x.outcome === 'scaled' && x.direction === 'up'),
      60000,
    );
    expect(up.find((x) => x.direction === 'up' && x.outcome === 'scaled')!.reasons.map((r) => r.code)).toContain(
      'Tracking',
    );
    expect(up.find((x) => x.direction === 'up' && x.outcome === 'scaled')!.trigger).toBe('tick');
    // Hop 5: the emulator starts member processes.
    const grown = await until(
      'a second running member',
      members,
      (m) => m.filter((x) => x.state === 'running' && x.pid).length >= 2,
      60000,
    );
    // Hop 6: discovery puts the new members into Prometheus' targets.
    const expected = grown.filter((m) => m.state === 'running').map((m) => `${m.ip}:9100`);
    await until(
      'new members scraped',
      poolTargets,
      (t) => expected.every((a) => t.some((x) => x.address === a && x.health === 'up')),
      60000,
    );

    expect(await loadDone).toBe(0);
    // The size 3 clients need (the smallest n with 3 / n < 0.8) is requested within two ticks of the first scale call.
    const needed = 4;
    const log = (await events()).filter((x) => x.id > before).reverse();
    const firstUp = log.findIndex((x) => x.outcome === 'scaled' && x.direction === 'up');
    const reaching = log.findIndex(
      (x) => x.outcome === 'scaled' && x.direction === 'up' && x.targetSize! >= needed,
    );
    expect(reaching).toBeGreaterThanOrEqual(firstUp);
    const ticksBetween = log.slice(firstUp + 1, reaching + 1).filter((x) => x.trigger === 'tick').length;
    expect(ticksBetween).toBeLessThanOrEqual(2);
    const summary = JSON.parse(report) as { ok: number; poolSize: { max: number } };
    expect(summary.ok).toBeGreaterThan(20);
    expect(summary.poolSize.max).toBeGreaterThanOrEqual(3);

    // Load gone: the scale-in alerts take the pool back to its minimum (proportionally: one call may do it).
    await until('scale-in back to 1', poolSize, (n) => n === 1, 120000);
    // Nothing was added after the load stopped (allowing one tick of the load's own last second).
    const late = (await events()).filter(
      (x) => x.outcome === 'scaled' && x.direction === 'up' && Date.parse(x.time) > loadEndedAt + 1000,
    );
    expect(late).toEqual([]);
    // The pool is at 1 as soon as the emulator has removed the members; the decision's entry says `scaled` once the
    // control plane has seen its operation complete (it polls it), a moment later.
    await until(
      'the scale-in decision settled',
      events,
      (e) => e.some((x) => x.id > before && x.outcome === 'scaled' && x.direction === 'down'),
      30000,
    );
    await until('one member scraped', poolTargets, (t) => t.length === 1, 60000);
    // The course's alerts and the webhook path still work end to end: the idle pool's PoolCpuLow fires in Prometheus
    // and Alertmanager posts it to the control plane, which accepts it.
    await until(
      'PoolCpuLow firing',
      () => promQuery('ALERTS{alertname="PoolCpuLow",alertstate="firing"}'),
      (r) => r.length === 1,
      60000,
    );
    await until(
      'Alertmanager webhook accepted',
      async () => (await fetch(`${CP}/metrics`)).text(),
      (m) =>
        /autoscaler_webhooks_received_total\{source="alertmanager",direction="down",outcome="accepted"\} [1-9]/.test(
          m,
        ),
      60000,
    );
  }, 420000);

  it('shows on the status page a forecast from the compressed day of history (--fast: a 120 s day), never acting on it', async () => {
    // FORECAST_MODE is forecast-only (the default): every tick reads the pool's load 120 s back from Prometheus.
    const seen = await until(
      'a forecast from a day of history',
      () => json<{ forecast: { mode: string; size: number | null; source: string } | null }>(`${CP}/pool`),
      (p) => p.forecast !== null && p.forecast.size !== null && p.forecast.source !== 'none',
      150000,
    );
    expect(seen.forecast).toMatchObject({
      mode: 'forecast-only',
      source: expect.stringMatching(/^(day|both)$/),
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${CP}/`);
      await page.waitForFunction(
        () =>
          /forecast \(forecast-only\)\s*\d+ members \((day|both)\)/.test(
            document.querySelector('#cards')?.textContent ?? '',
          ),
        undefined,
        { timeout: 30000 },
      );
    } finally {
      await browser.close();
    }
    const log = await events();
    expect(log.filter((x) => x.outcome === 'scaled' && x.code === 'Forecast')).toEqual([]);
  }, 200000);

  it('stops every process and frees every port on SIGINT', async () => {
    const pids = (await members()).map((m) => m.pid!);
    expect(stackProcesses(dir).length).toBeGreaterThan(0);
    launcher.kill('SIGINT');
    const code = await new Promise<number | null>((r) => launcher.once('exit', r));
    expect(code).toBe(0);
    expect(stackProcesses(dir)).toEqual([]);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    for (const port of [8000, 8086, 8090, 9090, 9093]) expect(await portFree(port)).toBe(true);
  }, 60000);
});
