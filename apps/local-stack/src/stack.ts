import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { generateConfigs } from './configs';
import { StackOptions } from './options';
import { httpOk, portFree, StackError, waitFor } from './readiness';
import { Supervisor } from './supervisor';
import { PORTS, POOL_ID, Timing, timingFor } from './timings';

export interface RunningStack {
  urls: Record<string, string>;
  timing: Timing;
  dir: string;
  stop(): Promise<void>;
  /** Resolves when a process of the stack exits on its own. */
  exited: Promise<{ name: string; code: number | null; signal: NodeJS.Signals | null }>;
}

const which = (binary: string) =>
  spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).stdout.trim() || null;

/** Prometheus and Alertmanager come from Debian's packages: installed here when we can, else the exact command. */
export function ensureMonitoringBinaries(root: string, log: (line: string) => void): void {
  const missing = () => ['prometheus', 'prometheus-alertmanager'].filter((b) => !which(b));
  if (missing().length === 0) return;
  const command = 'sudo apt-get update && sudo apt-get install -y prometheus prometheus-alertmanager';
  if (process.getuid?.() !== 0 || !which('apt-get'))
    throw new StackError(`missing ${missing().join(' and ')}; install them with:\n  ${command}`);
  log(`installing ${missing().join(', ')} from Debian's packages ...`);
  const result = spawnSync('bash', [join(root, 'scripts/setup.sh')], { stdio: 'inherit' });
  if (result.status !== 0 || missing().length > 0)
    throw new StackError(`could not install them; run:\n  ${command}`);
}

/**
 * Starts the whole stack on loopback and resolves once every part answers: the emulated zone (API, NLB, pool
 * members), the control plane, Prometheus and Alertmanager. A signal during start-up stops what has started.
 */
export async function startStack(
  root: string,
  options: StackOptions,
  { signal, log = console.log }: { signal?: AbortSignal; log?: (line: string) => void } = {},
): Promise<RunningStack> {
  const timing = timingFor(options.fast, options.boot);
  ensureMonitoringBinaries(root, log);
  if (signal?.aborted) throw new StackError('interrupted during start-up');
  for (const [name, port] of Object.entries(PORTS)) {
    if (!(await portFree(port)))
      throw new StackError(`port ${port} (${name}) is in use: is another stack running?`);
  }
  const dir = options.dir;
  for (const stale of ['prometheus-data', 'alertmanager-data', 'service-discovery', 'state'])
    rmSync(join(dir, stale), { recursive: true, force: true });
  const sdDir = join(dir, 'service-discovery');
  const logDir = join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(sdDir, { recursive: true });
  const configs = generateConfigs(root, dir, timing, sdDir);

  // A fresh credential per run: the emulator accepts only requests signed with it.
  const credentials = {
    EXOSCALE_KEY: `EXO${randomBytes(12).toString('hex')}`,
    EXOSCALE_SECRET: randomBytes(32).toString('base64url'),
  };
  const supervisor = new Supervisor(root, logDir);
  try {
    const emulator = supervisor.start(
      'exoscale-emulator',
      process.execPath,
      [
        'dist/apps/exoscale-emulator/main.js',
        ...['--api-port', String(PORTS.api), '--nlb-port', String(PORTS.nlb), '--pool-id', POOL_ID],
        ...['--size', String(options.size), '--boot-delay-ms', String(timing.bootDelayMs)],
        ...[
          '--load-seconds',
          String(timing.loadSeconds),
          '--health-interval-ms',
          String(timing.healthIntervalMs),
        ],
      ],
      credentials,
    );
    await waitFor('the emulator', httpOk(`http://127.0.0.1:${PORTS.api}/_emulator/state`), emulator, signal);

    const controlPlane = supervisor.start(
      'control-plane',
      process.execPath,
      ['dist/apps/control-plane/main.js'],
      {
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
        WEBHOOK_DEDUP_SECONDS: String(timing.dedupSeconds),
        SCALING_POLICY: options.policy,
        // The utilisation is read fresh at each tick, as on the monitoring VM.
        PROMETHEUS_URL: `http://127.0.0.1:${PORTS.prometheus}`,
        POOL_MIN_SIZE: String(options.min),
        POOL_MAX_SIZE: String(options.max),
        ...(options.schedule !== undefined ? { SCHEDULES: options.schedule } : {}),
      },
    );
    await waitFor(
      'the control plane',
      httpOk(`http://127.0.0.1:${PORTS.controlPlane}/health`),
      controlPlane,
      signal,
    );

    const prometheus = supervisor.start('prometheus', 'prometheus', [
      `--config.file=${configs.prometheusFile}`,
      `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
      `--web.listen-address=127.0.0.1:${PORTS.prometheus}`,
      '--storage.tsdb.retention.time=1d',
    ]);
    const alertmanager = supervisor.start('alertmanager', 'prometheus-alertmanager', [
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
    await supervisor.stopAll();
    throw error;
  }

  const cp = `http://127.0.0.1:${PORTS.controlPlane}`;
  return {
    urls: {
      'status page': `${cp}/`,
      'load balancer (NLB)': `http://127.0.0.1:${PORTS.nlb}/  (try /health and /load)`,
      'control plane': `${cp}/pool`,
      'Swagger UI': `${cp}/docs`,
      'decision log': `${cp}/pool/events`,
      'emulated Exoscale API': `http://127.0.0.1:${PORTS.api}/v2  (state: /_emulator/state)`,
      Prometheus: `http://127.0.0.1:${PORTS.prometheus}/  (targets: /targets, alerts: /alerts)`,
      Alertmanager: `http://127.0.0.1:${PORTS.alertmanager}/`,
      logs: logDir,
    },
    timing,
    dir,
    stop: () => supervisor.stopAll(),
    exited: supervisor.firstExit(),
  };
}
