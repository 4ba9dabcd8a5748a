import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { runLoad, Sample, Summary } from './load-runner';
import { ControlPlaneView, renderRunReport } from './report';
import { constantProfile, LoadProfile, ProfileError, rampProfile, stepProfile } from './profile';

const USAGE = `usage: npm run load -- --url URL [--clients N] [--duration S] [--steps "0x30,8x60,0x30" | --ramp 1-20]
                     [--control-plane URL [--pool NAME]] [--timeout-ms MS] [--keep-alive] [--json]

  --url            what to load, e.g. http://127.0.0.1:8000/load (the local NLB) or http://<nlb-ip>/load
  --clients        concurrent clients for a constant load (default 10)
  --duration       seconds (default 60; with --ramp, the ramp's length)
  --steps          CLIENTSxSECONDS segments, e.g. "0x30,8x60,0x30" (idle, load, idle)
  --ramp           FROM-TO clients, linear over --duration
  --control-plane  control-plane URL, e.g. http://127.0.0.1:8090: shows the pool size over time
  --pool NAME      with --control-plane managing several pools: follow pool NAME (/pools/NAME) instead of /pool;
                   --url is that pool's NLB. (npm run load -- --pool NAME alone: the local stack's pool NAME)
  --keep-alive     reuse connections (an L4 load balancer then pins each client to one member)
  --json           print the summary (with the per-second timeline) as JSON instead of tables
  --report FILE    write a self-contained HTML report (charts of load, latency and, with --control-plane, pool
                   size, utilisation and decisions) to FILE`;

function fail(message: string): never {
  process.stderr.write(`load-test: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parse(): {
  url: string;
  profile: LoadProfile;
  controlPlane?: string;
  /** The control plane's pool to follow (several pools); unset: its one pool (/pool). */
  pool?: string;
  timeoutMs: number;
  json: boolean;
  keepAlive: boolean;
  report?: string;
} {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string' },
        clients: { type: 'string', default: '10' },
        duration: { type: 'string' },
        steps: { type: 'string' },
        ramp: { type: 'string' },
        'control-plane': { type: 'string' },
        pool: { type: 'string' },
        'timeout-ms': { type: 'string', default: '60000' },
        json: { type: 'boolean', default: false },
        'keep-alive': { type: 'boolean', default: false },
        report: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!values.url) fail('--url is required');
  try {
    new URL(values.url);
  } catch {
    fail(`--url ${JSON.stringify(values.url)} is not a URL`);
  }
  if (values.steps && values.ramp) fail('give --steps or --ramp, not both');
  if (values.pool !== undefined && !values['control-plane']) fail('--pool needs --control-plane');
  if (values.pool !== undefined && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(values.pool))
    fail(`--pool ${JSON.stringify(values.pool)} is not a pool name (lowercase letters, digits and dashes)`);
  const duration = values.duration === undefined ? 60 : Number(values.duration);
  if (!Number.isFinite(duration)) fail('--duration must be a number of seconds');
  const timeoutMs = Number(values['timeout-ms']);
  if (!(timeoutMs > 0)) fail('--timeout-ms must be a positive number');
  try {
    const profile = values.steps
      ? stepProfile(values.steps)
      : values.ramp
        ? rampProfile(values.ramp, duration)
        : constantProfile(Number(values.clients), duration);
    return {
      url: values.url,
      profile,
      controlPlane: values['control-plane'],
      pool: values.pool,
      timeoutMs,
      json: values.json,
      keepAlive: values['keep-alive'],
      report: values.report,
    };
  } catch (error) {
    if (error instanceof ProfileError) fail(error.message);
    throw error;
  }
}

function progressLine(s: Sample): string {
  const pool = s.poolSize === null ? '' : `  pool ${s.poolSize}`;
  return (
    `t=${String(s.t).padStart(4)}s  clients ${String(s.clients).padStart(3)}  in flight ${String(s.inFlight).padStart(3)}  ` +
    `${s.requestsPerSecond.toFixed(1).padStart(6)} req/s  p50 ${s.p50Ms}ms  p95 ${s.p95Ms}ms  p99 ${s.p99Ms}ms  errors ${s.errors}${pool}`
  );
}

function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

function printSummary(s: Summary): void {
  const errors = Object.entries(s.errors);
  process.stdout.write(
    `\nSummary: ${s.profile} against ${s.url}\n` +
      table([
        ['duration', `${s.durationSeconds} s`],
        ['requests', `${s.requests} (${s.ok} ok, ${s.requests - s.ok} failed)`],
        ['throughput', `${s.requestsPerSecond} req/s`],
        [
          'latency',
          `min ${s.latencyMs.min}  p50 ${s.latencyMs.p50}  p90 ${s.latencyMs.p90}  p95 ${s.latencyMs.p95}  p99 ${s.latencyMs.p99}  max ${s.latencyMs.max} ms`,
        ],
        ['errors', errors.length ? errors.map(([k, n]) => `${k}: ${n}`).join(', ') : 'none'],
        ...(s.poolSize.start !== null
          ? ([['pool size', `start ${s.poolSize.start}, max ${s.poolSize.max}, end ${s.poolSize.end}`]] as [
              string,
              string,
            ][])
          : []),
      ]) +
      '\n',
  );
}

async function main(): Promise<void> {
  const options = parse();
  const tty = process.stdout.isTTY && !options.json;
  const poolSize = options.controlPlane
    ? async () => {
        const res = await fetch(new URL(poolPaths(options.pool).status, options.controlPlane), {
          signal: AbortSignal.timeout(2000),
        });
        if (!res.ok) return null;
        return ((await res.json()) as { size?: number }).size ?? null;
      }
    : undefined;
  if (!options.json)
    process.stdout.write(`load-test: ${options.profile.description} against ${options.url}\n`);
  const summary = await runLoad({
    url: options.url,
    profile: options.profile,
    timeoutMs: options.timeoutMs,
    keepAlive: options.keepAlive,
    poolSize,
    onSample: (s) => {
      if (options.json) return;
      if (tty) process.stdout.write(`\r\x1b[2K${progressLine(s)}`);
      else if (s.t % 5 === 0) process.stdout.write(`${progressLine(s)}\n`);
    },
  });
  if (tty) process.stdout.write('\n');
  if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else printSummary(summary);
  if (options.report) {
    const view = options.controlPlane ? await controlPlaneView(options.controlPlane, options.pool) : null;
    writeFileSync(options.report, renderRunReport(summary, view));
    // On stderr with --json, so stdout stays one JSON document.
    (options.json ? process.stderr : process.stdout).write(`report: ${resolve(options.report)}\n`);
  }
}

/** Where the control plane shows its one pool, or one of several pools by name. */
function poolPaths(pool: string | undefined): { status: string; history: string; events: string } {
  if (pool === undefined) return { status: '/pool', history: '/pool/history', events: '/pool/events' };
  return { status: `/pools/${pool}`, history: `/pool/history?pool=${pool}`, events: `/pools/${pool}/events` };
}

async function controlPlaneView(base: string, pool: string | undefined): Promise<ControlPlaneView | null> {
  try {
    const get = async <T>(path: string) => {
      const res = await fetch(new URL(path, base), { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
      return (await res.json()) as T;
    };
    const paths = poolPaths(pool);
    const [history, events] = await Promise.all([
      get<ControlPlaneView['history']>(paths.history),
      get<ControlPlaneView['events']>(paths.events),
    ]);
    return { history, events };
  } catch (error) {
    process.stderr.write(`load-test: the report has no control-plane view: ${(error as Error).message}\n`);
    return null;
  }
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  process.stderr.write('\nload-test: interrupted\n');
  process.exit(130);
});
main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
