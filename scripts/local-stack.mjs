#!/usr/bin/env node
// The local stack (docs/architecture.md §6): an emulated Exoscale zone with its NLB, the control plane, Prometheus
// and Alertmanager, on loopback. `npm start` runs it until Ctrl-C; `--fast` compresses every timing.
// Exported as startStack() for the demo and the end-to-end tests.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export const PORTS = { api: 8086, nlb: 8000, controlPlane: 8090, prometheus: 9090, alertmanager: 9093 };
export const POOL_ID = '6f0b7a35-4f5e-4a53-9d3e-000000000001';

/** Every timing of the loop, normal and compressed (--fast: a scale-out and back in about a minute). */
export const TIMINGS = {
  normal: {
    scrape: '15s',
    evaluation: '15s',
    rateWindow: '1m',
    alertFor: '1m',
    sdRefresh: '30s',
    groupWait: '10s',
    groupInterval: '30s',
    repeatInterval: '1m',
    tickSeconds: 60,
    discoverySeconds: 10,
    bootDelayMs: 20000,
    loadSeconds: 10,
    healthIntervalMs: 5000,
    // Boot plus one rate window: until then a new member is capacity on its way, not yet in the measurement.
    warmupSeconds: 90,
    // Longer than a repeat (group_interval + repeat_interval), so only a lost "resolved" expires.
    alertTtlSeconds: 180,
  },
  fast: {
    scrape: '1s',
    evaluation: '1s',
    rateWindow: '5s',
    alertFor: '5s',
    sdRefresh: '1s',
    groupWait: '1s',
    groupInterval: '2s',
    repeatInterval: '2s',
    tickSeconds: 5,
    discoverySeconds: 1,
    bootDelayMs: 2000,
    loadSeconds: 1,
    healthIntervalMs: 500,
    warmupSeconds: 8,
    alertTtlSeconds: 30,
  },
};

const APPS = ['control-plane', 'exoscale-emulator', 'slow-web', 'load-test', 'scaling-sim'];

class StackError extends Error {}

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'test' || entry.endsWith('.spec.ts')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

/** Installs the dependencies if needed, and builds the apps when a build output is missing or older than the sources. */
export function ensureBuilt(log = console.log) {
  if (!existsSync(join(ROOT, 'node_modules/.bin/nest'))) {
    log('installing the dependencies (npm ci) ...');
    const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, stdio: [0, 2, 2] });
    if (install.status !== 0) throw new StackError('npm ci failed');
  }
  const mains = APPS.map((app) => join(ROOT, 'dist/apps', app, 'main.js'));
  const sources = Math.max(newestMtime(join(ROOT, 'apps')), newestMtime(join(ROOT, 'libs')));
  const stale = mains.some((m) => !existsSync(m) || statSync(m).mtimeMs < sources);
  if (!stale) return;
  log('building the apps (npm run build) ...');
  // Build output goes to stderr, so a command's own stdout (e.g. simulate --json) stays clean.
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: [0, 2, 2] });
  if (result.status !== 0) throw new StackError('the build failed: fix it and run npm start again');
}

function which(binary) {
  return spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).stdout.trim() || null;
}

/** Prometheus and Alertmanager come from Debian's packages: installed here when we can, else the exact command. */
export function ensureMonitoringBinaries(log = console.log) {
  const missing = () => ['prometheus', 'prometheus-alertmanager'].filter((b) => !which(b));
  if (missing().length === 0) return;
  const command = 'sudo apt-get update && sudo apt-get install -y prometheus prometheus-alertmanager';
  const canInstall = process.getuid?.() === 0 && which('apt-get');
  if (!canInstall)
    throw new StackError(`missing ${missing().join(' and ')}; install them with:\n  ${command}`);
  log(`installing ${missing().join(', ')} from Debian's packages ...`);
  const result = spawnSync('bash', [join(ROOT, 'scripts/setup.sh')], { stdio: 'inherit' });
  if (result.status !== 0 || missing().length > 0)
    throw new StackError(`could not install them; run:\n  ${command}`);
}

function portFree(port) {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
  });
}

/** Writes the Prometheus and Alertmanager configs into .local/ from monitoring/, with this stack's paths and timings. */
export function generateConfigs(dir, timing, sdDir) {
  const rules = readFileSync(join(ROOT, 'monitoring/prometheus/rules/autoscaling.rules.yml'), 'utf8')
    .replaceAll('[1m]', `[${timing.rateWindow}]`)
    .replaceAll('rate1m', `rate${timing.rateWindow}`)
    .replaceAll('for: 1m', `for: ${timing.alertFor}`);
  mkdirSync(join(dir, 'prometheus'), { recursive: true });
  mkdirSync(join(dir, 'alertmanager'), { recursive: true });
  const rulesFile = join(dir, 'prometheus', 'autoscaling.rules.yml');
  writeFileSync(rulesFile, rules);
  const prometheus = `# Generated by scripts/local-stack.mjs from monitoring/prometheus; edit those, not this.
global:
  scrape_interval: ${timing.scrape}
  evaluation_interval: ${timing.evaluation}
rule_files:
  - ${rulesFile}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:${PORTS.alertmanager}']
scrape_configs:
  - job_name: pool
    file_sd_configs:
      - files: ['${sdDir}/*.json']
        refresh_interval: ${timing.sdRefresh}
  - job_name: control-plane
    static_configs:
      - targets: ['127.0.0.1:${PORTS.controlPlane}']
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:${PORTS.prometheus}']
`;
  const prometheusFile = join(dir, 'prometheus', 'prometheus.yml');
  writeFileSync(prometheusFile, prometheus);
  const alertmanager = readFileSync(join(ROOT, 'monitoring/alertmanager/alertmanager.yml'), 'utf8')
    .replace('url: CONTROL_PLANE_URL', `url: http://127.0.0.1:${PORTS.controlPlane}`)
    .replace(/group_wait: .*/, `group_wait: ${timing.groupWait}`)
    .replace(/group_interval: .*/, `group_interval: ${timing.groupInterval}`)
    .replace(/repeat_interval: .*/, `repeat_interval: ${timing.repeatInterval}`);
  const alertmanagerFile = join(dir, 'alertmanager', 'alertmanager.yml');
  writeFileSync(alertmanagerFile, alertmanager);
  return { prometheusFile, rulesFile, alertmanagerFile };
}

async function waitFor(what, probe, child, signal, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new StackError('interrupted during start-up');
    if (child.exitCode !== null || child.signalCode !== null)
      throw new StackError(`${what} exited during start-up; see its log`);
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new StackError(`${what} did not become ready within ${timeoutMs / 1000} s; see its log`);
}

const httpOk = (url) => async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;

/**
 * Starts the whole stack and resolves once every part answers. Returns the URLs and stop(), which ends every
 * child (each runs in its own process group, so grandchildren such as pool members go too).
 */
export async function startStack({
  signal,
  fast = false,
  dir = join(ROOT, '.local'),
  log = console.log,
  poolSize = 2,
  minSize = 1,
  maxSize = 5,
} = {}) {
  const timing = fast ? TIMINGS.fast : TIMINGS.normal;
  ensureMonitoringBinaries(log);
  ensureBuilt(log);
  if (signal?.aborted) throw new StackError('interrupted during start-up');
  for (const [name, port] of Object.entries(PORTS)) {
    if (!(await portFree(port)))
      throw new StackError(`port ${port} (${name}) is in use: is another stack running?`);
  }
  rmSync(join(dir, 'prometheus-data'), { recursive: true, force: true });
  rmSync(join(dir, 'alertmanager-data'), { recursive: true, force: true });
  const sdDir = join(dir, 'service-discovery');
  rmSync(sdDir, { recursive: true, force: true });
  const logDir = join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(sdDir, { recursive: true });
  const configs = generateConfigs(dir, timing, sdDir);

  // A fresh credential per run: the emulator accepts only requests signed with it.
  const credentials = {
    EXOSCALE_KEY: `EXO${randomBytes(12).toString('hex')}`,
    EXOSCALE_SECRET: randomBytes(32).toString('base64url'),
  };
  const children = [];
  const start = (name, command, args, env = {}) => {
    const out = createWriteStream(join(logDir, `${name}.log`), { flags: 'w' });
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    child.name = name;
    children.push(child);
    return child;
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        continue;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 10000);
      await exited;
      clearTimeout(timer);
      // Members of the pool run in the emulator's process group: make sure none outlives it.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is empty
      }
    }
  };

  try {
    const emulator = start(
      'exoscale-emulator',
      process.execPath,
      [
        'dist/apps/exoscale-emulator/main.js',
        '--api-port',
        String(PORTS.api),
        '--nlb-port',
        String(PORTS.nlb),
        '--pool-id',
        POOL_ID,
        '--size',
        String(poolSize),
        '--boot-delay-ms',
        String(timing.bootDelayMs),
        '--load-seconds',
        String(timing.loadSeconds),
        '--health-interval-ms',
        String(timing.healthIntervalMs),
      ],
      credentials,
    );
    await waitFor('the emulator', httpOk(`http://127.0.0.1:${PORTS.api}/_emulator/state`), emulator, signal);

    const controlPlane = start('control-plane', process.execPath, ['dist/apps/control-plane/main.js'], {
      ...credentials,
      EXOSCALE_ZONE: 'at-vie-1',
      EXOSCALE_INSTANCEPOOL_ID: POOL_ID,
      EXOSCALE_API_ENDPOINT: `http://127.0.0.1:${PORTS.api}/v2`,
      LISTEN_HOST: '127.0.0.1',
      LISTEN_PORT: String(PORTS.controlPlane),
      SD_FILE: join(sdDir, 'config.json'),
      STATE_DIR: join(dir, 'state'),
      TARGET_PORT: '9100',
      SCALING_INTERVAL_SECONDS: String(timing.tickSeconds),
      DISCOVERY_INTERVAL_SECONDS: String(timing.discoverySeconds),
      WARMUP_SECONDS: String(timing.warmupSeconds),
      ALERT_TTL_SECONDS: String(timing.alertTtlSeconds),
      // The utilisation is read fresh at each tick, as on the monitoring VM.
      PROMETHEUS_URL: `http://127.0.0.1:${PORTS.prometheus}`,
      POOL_MIN_SIZE: String(minSize),
      POOL_MAX_SIZE: String(maxSize),
    });
    await waitFor(
      'the control plane',
      httpOk(`http://127.0.0.1:${PORTS.controlPlane}/health`),
      controlPlane,
      signal,
    );

    const prometheus = start('prometheus', 'prometheus', [
      `--config.file=${configs.prometheusFile}`,
      `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${PORTS.prometheus}`,
      '--storage.tsdb.retention.time=1d',
    ]);
    const alertmanager = start('alertmanager', 'prometheus-alertmanager', [
      `--config.file=${configs.alertmanagerFile}`,
      `--storage.path=${join(dir, 'alertmanager-data')}`,
      `--web.listen-address=127.0.0.1:${PORTS.alertmanager}`,
      '--cluster.listen-address=',
    ]);
    await waitFor('Prometheus', httpOk(`http://127.0.0.1:${PORTS.prometheus}/-/ready`), prometheus, signal);
    await waitFor(
      'Alertmanager',
      httpOk(`http://127.0.0.1:${PORTS.alertmanager}/-/ready`),
      alertmanager,
      signal,
    );
  } catch (error) {
    await stop();
    throw error;
  }

  const urls = {
    'load balancer (NLB)': `http://127.0.0.1:${PORTS.nlb}/  (try /health and /load)`,
    'control plane': `http://127.0.0.1:${PORTS.controlPlane}/pool`,
    'Swagger UI': `http://127.0.0.1:${PORTS.controlPlane}/docs`,
    'decision log': `http://127.0.0.1:${PORTS.controlPlane}/pool/events`,
    'emulated Exoscale API': `http://127.0.0.1:${PORTS.api}/v2  (state: /_emulator/state)`,
    Prometheus: `http://127.0.0.1:${PORTS.prometheus}/  (targets: /targets, alerts: /alerts)`,
    Alertmanager: `http://127.0.0.1:${PORTS.alertmanager}/`,
    logs: logDir,
  };
  const exited = new Promise((resolveExit) => {
    for (const child of children)
      child.once('exit', (code, signal) => !stopped && resolveExit({ name: child.name, code, signal }));
  });
  return { urls, stop, exited, children, timing, dir };
}

async function main() {
  const args = process.argv.slice(2);
  const dirAt = args.indexOf('--dir');
  const dir = dirAt >= 0 ? resolve(args[dirAt + 1] ?? '') : undefined;
  if (dirAt >= 0) args.splice(dirAt, 2);
  const unknown = args.filter((a) => !['--fast', '--help'].includes(a));
  if (args.includes('--help') || unknown.length > 0) {
    if (unknown.length) console.error(`local-stack: unknown option ${unknown.join(' ')}`);
    console.log(
      'usage: npm start [-- --fast] [--dir DIR]\n' +
        '  --fast     compress every timing (tick 5 s, scrape 1 s, alerts after 5 s, boot 2 s)\n' +
        '  --dir DIR  where generated configs, data and logs go (default .local/)',
    );
    process.exit(unknown.length ? 2 : 0);
  }
  const fast = args.includes('--fast');
  // Signals during start-up stop what has started so far; afterwards they stop the whole stack.
  const interrupted = new AbortController();
  let onSignal = () => interrupted.abort();
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  let stack;
  try {
    stack = await startStack({ fast, signal: interrupted.signal, ...(dir ? { dir } : {}) });
  } catch (error) {
    console.error(`local-stack: ${error instanceof StackError ? error.message : (error?.stack ?? error)}`);
    process.exit(interrupted.signal.aborted ? 130 : 1);
  }
  const width = Math.max(...Object.keys(stack.urls).map((k) => k.length));
  console.log(`\nLocal autoscaling stack is up${fast ? ' (--fast)' : ''}:`);
  for (const [name, url] of Object.entries(stack.urls)) console.log(`  ${name.padEnd(width)}  ${url}`);
  console.log(
    `\nPut load on it:  npm run load -- --url http://127.0.0.1:${PORTS.nlb}/load --clients 8 --duration 300 --control-plane http://127.0.0.1:${PORTS.controlPlane}`,
  );
  console.log('Stop with Ctrl-C.\n');
  const shutdown = async (signal) => {
    console.log(`\n${signal}: stopping every process ...`);
    await stack.stop();
    console.log('stopped.');
    process.exit(0);
  };
  onSignal = (signal) => void shutdown(signal);
  const died = await stack.exited;
  console.error(
    `local-stack: ${died.name} exited unexpectedly (${died.code ?? died.signal}); see ${join(stack.dir, 'logs', `${died.name}.log`)}`,
  );
  await stack.stop();
  process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
