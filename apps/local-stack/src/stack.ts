import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { generateConfigs, localPoolsFile } from './configs';
import { StackOptions } from './options';
import { LocalPostgres, postgresBinaries, postgresLayout, PostgresLayout } from './postgres';
import { httpOk, portFree, StackError, waitFor } from './readiness';
import { Supervisor } from './supervisor';
import {
  PORTS,
  POOL_ID,
  REPLICA_PORTS,
  StackControlPlane,
  stackControlPlanes,
  StackPool,
  stackPools,
  Timing,
  timingFor,
} from './timings';

/** The control plane's exit code when it loses its lease (EX_TEMPFAIL): its supervisor starts it again, clean. */
export const LEASE_LOST_EXIT_CODE = 75;

export interface RunningStack {
  urls: Record<string, string>;
  timing: Timing;
  dir: string;
  /** With --pools: every pool (name, id, NLB port); the pools file is `<dir>/pools.yml`. */
  pools?: StackPool[];
  /** One, or with --replicas 2 the two replicas (cp-1, cp-2). */
  controlPlanes: StackControlPlane[];
  /** With --replicas 2: the stack's PostgreSQL. */
  postgres?: PostgresLayout;
  stop(): Promise<void>;
  /** Resolves when a process of the stack exits on its own. */
  exited: Promise<{ name: string; code: number | null; signal: NodeJS.Signals | null }>;
}

const which = (binary: string) =>
  spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).stdout.trim() || null;

/**
 * Prometheus and Alertmanager (and, for --replicas 2, PostgreSQL's server) come from Debian's packages: installed
 * here when we can, else the exact command.
 */
export function ensureMonitoringBinaries(root: string, log: (line: string) => void, postgres = false): void {
  const missing = () => [
    ...['prometheus', 'prometheus-alertmanager'].filter((b) => !which(b)),
    ...(postgres && !postgresBinaries() ? ['postgresql'] : []),
  ];
  if (missing().length === 0) return;
  const command = `sudo apt-get update && sudo apt-get install -y ${['prometheus', 'prometheus-alertmanager', ...(postgres ? ['postgresql'] : [])].join(' ')}`;
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
  const replicas = options.replicas ?? 1;
  ensureMonitoringBinaries(root, log, replicas > 1);
  if (signal?.aborted) throw new StackError('interrupted during start-up');
  const pools = options.pools === undefined ? undefined : stackPools(options.pools);
  const controlPlanes = stackControlPlanes(replicas);
  const ports: [string, number][] = [
    ...Object.entries(PORTS),
    ...(pools ?? []).slice(1).map((p): [string, number] => [`NLB of ${p.name}`, p.nlbPort]),
    ...controlPlanes.slice(1).map((c): [string, number] => [`control plane ${c.replicaId}`, c.port]),
    ...(replicas > 1 ? [['PostgreSQL', REPLICA_PORTS.postgres] as [string, number]] : []),
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
  const configs = generateConfigs(root, dir, timing, sdDir, controlPlanes);
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
  const supervisor = new Supervisor(root, logDir, (line) => log(`local-stack: ${line}`));
  let postgres: LocalPostgres | undefined;
  const stop = async () => {
    await supervisor.stopAll();
    await postgres?.stop();
  };
  try {
    if (replicas > 1) postgres = await LocalPostgres.start(postgresLayout(dir), log);
    if (signal?.aborted) throw new StackError('interrupted during start-up');
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

    const settings = controlPlaneSettings({
      credentials,
      poolSettings,
      sdFile: join(sdDir, 'config.json'),
      stateDir: join(dir, 'state'),
      timing,
      policy: options.policy,
    });
    // One by one: the first replica to answer takes the lease (cp-1: the database is new, no lease lingers).
    for (const cp of controlPlanes) {
      supervisor.start(
        cp.name,
        process.execPath,
        ['dist/apps/control-plane/main.js'],
        { ...settings, ...replicaSettings(cp, timing, postgres?.url, join(dir, 'state')) },
        // A replica that lost its lease comes back at once, as a follower; one killed (as a failover test does) once
        // its lease has run out, so that the other takes over first; any other exit is fatal, as with one.
        postgres
          ? {
              restartOn: [LEASE_LOST_EXIT_CODE],
              restartAfterSignalMs: (timing.lease.durationSeconds + timing.lease.retryPeriodSeconds) * 1000,
            }
          : {},
      );
      await waitFor(
        cp.replicaId ? `the control plane ${cp.replicaId}` : 'the control plane',
        httpOk(`${cp.url}${cp.replicaId ? '/leadership' : '/health'}`),
        () => supervisor.current(cp.name),
        signal,
      );
    }

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
    await stop();
    throw error;
  }

  const cp = controlPlanes[0].url;
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
      ...(postgres
        ? {
            ...Object.fromEntries(
              controlPlanes.map((c) => [
                `control plane ${c.replicaId}`,
                `${c.url}/  (leadership: /leadership)`,
              ]),
            ),
            PostgreSQL: `postgres://${postgres.layout.role}@127.0.0.1:${postgres.layout.port}/${postgres.layout.database}  (cluster ${postgres.layout.dataDir}, log ${postgres.layout.logFile})`,
          }
        : {}),
      'emulated Exoscale API': `http://127.0.0.1:${PORTS.api}/v2  (state: /_emulator/state, calls: /_emulator/requests)`,
      Prometheus: `http://127.0.0.1:${PORTS.prometheus}/  (targets: /targets, alerts: /alerts)`,
      Alertmanager: `http://127.0.0.1:${PORTS.alertmanager}/`,
      logs: logDir,
    },
    timing,
    dir,
    ...(pools ? { pools } : {}),
    controlPlanes,
    ...(postgres ? { postgres: postgres.layout } : {}),
    stop,
    exited: supervisor.firstExit(),
  };
}

/** What every control plane of the stack is given, whatever its replica. */
export function controlPlaneSettings(o: {
  credentials: Record<string, string>;
  poolSettings: Record<string, string>;
  sdFile: string;
  stateDir: string;
  timing: Timing;
  policy: string;
}): Record<string, string> {
  return {
    ...o.credentials,
    EXOSCALE_ZONE: 'at-vie-1',
    ...o.poolSettings,
    EXOSCALE_API_ENDPOINT: `http://127.0.0.1:${PORTS.api}/v2`,
    LISTEN_HOST: '127.0.0.1',
    LISTEN_PORT: String(PORTS.controlPlane),
    SD_FILE: o.sdFile,
    STATE_DIR: o.stateDir,
    TARGET_PORT: '9100',
    SCALING_INTERVAL_SECONDS: String(o.timing.tickSeconds),
    DISCOVERY_INTERVAL_SECONDS: String(o.timing.discoverySeconds),
    WARMUP_SECONDS: String(o.timing.warmupSeconds),
    ALERT_TTL_SECONDS: String(o.timing.alertTtlSeconds),
    WEBHOOK_DEDUP_SECONDS: String(o.timing.dedupSeconds),
    SCALING_POLICY: o.policy,
    // The utilisation is read fresh at each tick, as on the monitoring VM.
    PROMETHEUS_URL: `http://127.0.0.1:${PORTS.prometheus}`,
    ...(o.timing.forecast
      ? {
          FORECAST_DAY_SECONDS: String(o.timing.forecast.daySeconds),
          FORECAST_LEAD_SECONDS: String(o.timing.forecast.leadSeconds),
        }
      : {}),
    ...(o.timing.trend
      ? {
          TREND_SECONDS: String(o.timing.trend.seconds),
          TREND_WINDOW_SECONDS: String(o.timing.trend.windowSeconds),
        }
      : {}),
  };
}

/**
 * What makes a control plane one replica of several: its port, its name in the lease, the shared database and the
 * lease timings. Every replica writes the same SD file (the leader keeps it current); each keeps its own STATE_DIR.
 * One control plane (no replica id): nothing, exactly as before.
 */
export function replicaSettings(
  cp: StackControlPlane,
  timing: Timing,
  databaseUrl: string | undefined,
  stateDir: string,
): Record<string, string> {
  if (!cp.replicaId || databaseUrl === undefined) return {};
  return {
    LISTEN_PORT: String(cp.port),
    STATE_DIR: join(stateDir, cp.replicaId),
    DATABASE_URL: databaseUrl,
    REPLICA_ID: cp.replicaId,
    LEASE_DURATION_SECONDS: String(timing.lease.durationSeconds),
    LEASE_RENEW_DEADLINE_SECONDS: String(timing.lease.renewDeadlineSeconds),
    LEASE_RETRY_PERIOD_SECONDS: String(timing.lease.retryPeriodSeconds),
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
