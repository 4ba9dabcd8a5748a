import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { generateConfigs, localPoolsFile } from './configs';
import { StackOptions } from './options';
import { httpOk, portFree, StackError, waitFor } from './readiness';
import { Supervisor } from './supervisor';
import { PORTS, POOL_ID, StackPool, stackPools, Timing, timingFor } from './timings';

export interface RunningStack {
  urls: Record<string, string>;
  timing: Timing;
  dir: string;
  /** With --pools: every pool (name, id, NLB port); the pools file is `<dir>/pools.yml`. */
  pools?: StackPool[];
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
  const pools = options.pools === undefined ? undefined : stackPools(options.pools);
  const ports: [string, number][] = [
    ...Object.entries(PORTS),
    ...(pools ?? []).slice(1).map((p): [string, number] => [`NLB of ${p.name}`, p.nlbPort]),
  ];
  for (const [name, port] of ports) {
    if (!(await portFree(port)))
      throw new StackError(`port ${port} (${name}) is in use: is another stack running?`);
  }
  const dir = options.dir;
  for (const stale of ['prometheus-data', 'alertmanager-data', 'service-discovery', 'state', 'pools.yml'])
    rmSync(join(dir, stale), { recursive: true, force: true });
  const sdDir = join(dir, 'service-discovery');
  const logDir = join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(sdDir, { recursive: true });
  const configs = generateConfigs(root, dir, timing, sdDir);
  const poolsFile = join(dir, 'pools.yml');
  if (pools) writeFileSync(poolsFile, localPoolsFile(pools, options));
  // One pool: the control plane's environment shorthand, exactly as before. Several: the pools file, whose entries
  // carry what the shorthand gave (the pool, its bounds, its schedule).
  const poolSettings: Record<string, string> = pools
    ? { POOLS_FILE: poolsFile }
    : {
        EXOSCALE_INSTANCEPOOL_ID: POOL_ID,
        POOL_MIN_SIZE: String(options.min),
        POOL_MAX_SIZE: String(options.max),
        ...(options.schedule !== undefined ? { SCHEDULES: options.schedule } : {}),
      };

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
        ...(pools
          ? ['--pools', String(pools.length), '--pool-names', pools.map((p) => p.name).join(',')]
          : []),
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
    if (pools) await checkEmulatedPools(pools);

    const controlPlane = supervisor.start(
      'control-plane',
      process.execPath,
      ['dist/apps/control-plane/main.js'],
      {
        ...credentials,
        EXOSCALE_ZONE: 'at-vie-1',
        ...poolSettings,
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
  const perPool: Record<string, string> = pools
    ? {
        ...Object.fromEntries(
          pools.map((p) => [`NLB of ${p.name}`, `http://127.0.0.1:${p.nlbPort}/  (try /health and /load)`]),
        ),
        'control plane': `${cp}/pools  (each: /pools/<name>)`,
        'Swagger UI': `${cp}/docs`,
        ...Object.fromEntries(pools.map((p) => [`decisions of ${p.name}`, `${cp}/pools/${p.name}/events`])),
        'pools file': poolsFile,
      }
    : {
        'load balancer (NLB)': `http://127.0.0.1:${PORTS.nlb}/  (try /health and /load)`,
        'control plane': `${cp}/pool`,
        'Swagger UI': `${cp}/docs`,
        'decision log': `${cp}/pool/events`,
      };
  return {
    urls: {
      'status page': `${cp}/`,
      ...perPool,
      'emulated Exoscale API': `http://127.0.0.1:${PORTS.api}/v2  (state: /_emulator/state)`,
      Prometheus: `http://127.0.0.1:${PORTS.prometheus}/  (targets: /targets, alerts: /alerts)`,
      Alertmanager: `http://127.0.0.1:${PORTS.alertmanager}/`,
      logs: logDir,
    },
    timing,
    dir,
    ...(pools ? { pools } : {}),
    stop: () => supervisor.stopAll(),
    exited: supervisor.firstExit(),
  };
}

/** The emulator runs the pools the pools file names, with the same ids (they are derived, so check once). */
async function checkEmulatedPools(pools: StackPool[]): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${PORTS.api}/_emulator/pools`, {
    signal: AbortSignal.timeout(5000),
  });
  const emulated = ((await res.json()) as { pools: { id: string; name: string; nlb?: string }[] }).pools;
  for (const pool of pools) {
    const found = emulated.find((e) => e.id === pool.id);
    if (found?.name !== pool.name || found.nlb !== `http://127.0.0.1:${pool.nlbPort}`)
      throw new StackError(
        `the emulator's pools (${JSON.stringify(emulated)}) are not those of the pools file (${JSON.stringify(pools)})`,
      );
  }
}
