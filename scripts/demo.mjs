#!/usr/bin/env node
// `npm run demo`: the local stack in --fast mode under an idle -> load -> idle profile, with a timeline of
// load, pool-average CPU, pool size and each scaling decision. Ends when the pool is back at its minimum.
// `npm run demo -- --pools 2`: two pools (the stack's --pools 2), the load on pool-1 only, pool-2 idle beside it;
// the timeline shows both, and the end says whether pool-2 kept its size.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { ensureBuilt, ROOT } from './bootstrap.mjs';

const PORTS = { nlb: 8000, controlPlane: 8090, prometheus: 9090 };
const DIR = join(ROOT, '.local');
const TICK_SECONDS = 5; // the --fast tick
const CLIENTS = 5;
const STEPS = [
  { clients: 0, seconds: 15 },
  { clients: CLIENTS, seconds: 60 },
];
const MIN_SIZE = 1;
const MAX_SIZE = 8;
const LOAD_START_S = STEPS[0].seconds;
const LOAD_END_S = STEPS[0].seconds + STEPS[1].seconds;

/** The size the load needs (elasticity.md): the smallest n with clients / n < 0.8, within the bounds. */
function neededSize(clients) {
  const n = clients > 0 ? Math.floor(clients / 0.8 + 1e-9) + 1 : MIN_SIZE;
  return Math.min(MAX_SIZE, Math.max(MIN_SIZE, n));
}
const GIVE_UP_AFTER_S = 300;

/** `--pools 2` (the only option): the loaded pool and the idle one, by their names in the stack's pools file. */
function parseArgs(argv) {
  if (argv.length === 0) return null;
  const value =
    argv[0] === '--pools' ? argv[1] : argv[0].startsWith('--pools=') ? argv[0].slice(8) : undefined;
  const rest = argv.slice(argv[0] === '--pools' ? 2 : 1);
  if (value === undefined || rest.length > 0) {
    console.error(
      `demo: unknown option ${JSON.stringify(argv.join(' '))}; usage: npm run demo [-- --pools 2]`,
    );
    process.exit(2);
  }
  if (value !== '2') {
    console.error(`demo: --pools must be 2 (one pool loaded, one idle), got ${JSON.stringify(value)}`);
    process.exit(2);
  }
  return { loaded: 'pool-1', idle: 'pool-2' };
}
const TWO = parseArgs(process.argv.slice(2));

const cp = `http://127.0.0.1:${PORTS.controlPlane}`;
const json = async (url) => (await fetch(url, { signal: AbortSignal.timeout(3000) })).json();
/** The control plane's view of one pool: its only one, or one of several by name. */
const poolUrl = (name) => (name ? `${cp}/pools/${name}` : `${cp}/pool`);
const eventsUrl = (name) => `${poolUrl(name)}/events?limit=20`;

async function cpu(name) {
  const q = encodeURIComponent(`pool:node_cpu_utilisation:avg${name ? `{pool="${name}"}` : ''}`);
  const body = await json(`http://127.0.0.1:${PORTS.prometheus}/api/v1/query?query=${q}`);
  const v = body.data?.result?.[0]?.value?.[1];
  return v === undefined ? null : Number(v);
}
const percent = (usage) => (usage === null ? '     -' : `${(usage * 100).toFixed(0).padStart(5)}%`);

function clientsAt(t) {
  let end = 0;
  for (const s of STEPS) {
    end += s.seconds;
    if (t < end) return s.clients;
  }
  return 0;
}

async function main() {
  console.log(`starting the local stack (--fast${TWO ? ' --pools 2' : ''}) ...`);
  const interrupted = new AbortController();
  let onSignal = () => interrupted.abort();
  process.on('SIGINT', () => onSignal(130));
  process.on('SIGTERM', () => onSignal(143));
  try {
    ensureBuilt();
  } catch (error) {
    console.error(`demo: ${error.message}`);
    process.exit(1);
  }
  // The stack is the launcher's own process (apps/local-stack); it prints a line once every part answers.
  const stack = spawn(
    process.execPath,
    [
      join(ROOT, 'dist/apps/local-stack/main.js'),
      '--fast',
      '--min',
      String(MIN_SIZE),
      '--max',
      String(MAX_SIZE),
      '--dir',
      DIR,
      ...(TWO ? ['--pools', '2', '--size', String(MIN_SIZE)] : []),
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let stackOutput = '';
  const stackExited = new Promise((r) => stack.once('exit', (code) => r(code)));
  const up = await new Promise((resolveUp) => {
    stack.stdout.on('data', (d) => {
      stackOutput += d;
      if (stackOutput.includes('Local autoscaling stack is up')) resolveUp(true);
    });
    stack.once('exit', () => resolveUp(false));
    onSignal = () => {
      interrupted.abort();
      stack.kill('SIGINT');
    };
  });
  if (!up) {
    console.error(`demo: the local stack did not start:\n${stackOutput}`);
    process.exit(interrupted.signal.aborted ? 130 : 1);
  }
  let stopping = false;
  let load;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    load?.kill('SIGINT');
    stack.kill('SIGINT');
    await stackExited;
    process.exit(code);
  };
  onSignal = (code) => void stop(code);

  const REPORT = join(DIR, 'demo-report.html');
  const steps = STEPS.map((s) => `${s.clients}x${s.seconds}`).join(',');
  console.log(
    `profile: ${STEPS.map((s) => `${s.seconds} s at ${s.clients} clients`).join(', ')}${TWO ? ` on ${TWO.loaded} (${TWO.idle} idle)` : ''}, then idle until the pool is back at ${MIN_SIZE}`,
  );
  console.log(
    `status page ${cp}/   NLB http://127.0.0.1:${PORTS.nlb}/${TWO ? ` (${TWO.loaded}), http://127.0.0.1:${PORTS.nlb + 1}/ (${TWO.idle})` : ''}   Prometheus http://127.0.0.1:${PORTS.prometheus}\n`,
  );
  load = spawn(
    process.execPath,
    [
      join(ROOT, 'dist/apps/load-test/main.js'),
      '--url',
      `http://127.0.0.1:${PORTS.nlb}/load`,
      '--steps',
      steps,
      '--json',
      '--control-plane',
      cp,
      ...(TWO ? ['--pool', TWO.loaded] : []),
      '--report',
      REPORT,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let report = '';
  load.stdout.on('data', (d) => (report += d));

  if (TWO)
    console.log(
      `   time  load  need  ${TWO.loaded}: CPU  size  serving  state          ${TWO.idle}: CPU  size  decisions`,
    );
  else console.log('   time  load  need  pool CPU  size  serving  state          decision');
  // With two pools: the idle pool's sizes and decisions that changed it, to show that it was left alone.
  const idleSizes = new Set();
  const idleCalls = [];
  let lastIdleEvent = 0;
  const started = Date.now();
  let lastEvent = 0;
  let sawScaleOut = false;
  let lastPrinted = -1;
  // Elasticity during the load phase, on the samples taken about once a second.
  let underSeconds = 0;
  let neededReachedAt = null;
  let previous = null;
  const upCalls = [];
  let firstAlertAt = null;
  for (;;) {
    const now = Date.now();
    const t = (now - started) / 1000;
    const clients = clientsAt(t);
    const needed = neededSize(clients);
    const [usage, pool, events, idleUsage, idlePool, idleEvents] = await Promise.all([
      cpu(TWO?.loaded).catch(() => null),
      json(poolUrl(TWO?.loaded)).catch(() => null),
      json(eventsUrl(TWO?.loaded)).catch(() => []),
      TWO ? cpu(TWO.idle).catch(() => null) : null,
      TWO ? json(poolUrl(TWO.idle)).catch(() => null) : null,
      TWO ? json(eventsUrl(TWO.idle)).catch(() => []) : [],
    ]);
    if (idlePool?.size !== undefined) idleSizes.add(idlePool.size);
    const idleFresh = idleEvents.filter((e) => e.id > lastIdleEvent && e.outcome !== 'none').reverse();
    if (idleEvents[0]) lastIdleEvent = Math.max(lastIdleEvent, idleEvents[0].id);
    for (const e of idleFresh) if (e.outcome === 'scaled' || e.outcome === 'pending') idleCalls.push(e);
    const serving = pool?.members?.filter((m) => m.state === 'running' && m.health === 'success').length ?? 0;
    if (previous && t > LOAD_START_S && previous.t < LOAD_END_S) {
      const span = Math.min(t, LOAD_END_S) - Math.max(previous.t, LOAD_START_S);
      if (span > 0 && previous.serving < previous.needed) underSeconds += span;
    }
    if (
      neededReachedAt === null &&
      t >= LOAD_START_S &&
      t < LOAD_END_S &&
      serving >= needed &&
      needed > MIN_SIZE
    )
      neededReachedAt = now;
    previous = { t, serving, needed };
    const fresh = events.filter((e) => e.id > lastEvent && e.outcome !== 'none').reverse();
    if (events[0]) lastEvent = Math.max(lastEvent, events[0].id);
    for (const e of events) {
      if (e.alerts?.up && firstAlertAt === null && Date.parse(e.time) / 1000 > started / 1000 + LOAD_START_S)
        firstAlertAt = Date.parse(e.alerts.up.firingSince);
    }
    // A scale call is logged as `pending` when it is made and settled in place later: both count as made.
    const upCall = (e) => e.direction === 'up' && (e.outcome === 'scaled' || e.outcome === 'pending');
    for (const e of fresh) if (upCall(e)) upCalls.push(e);
    const describe = (e) =>
      `${e.outcome}${e.direction ? ` ${e.direction}` : ''} -> ${e.targetSize} (${e.code})`;
    const decision = [
      ...fresh.map((e) => (TWO ? `${TWO.loaded}: ${describe(e)}` : describe(e))),
      ...idleFresh.map((e) => `${TWO.idle}: ${describe(e)}`),
    ].join('; ');
    if (fresh.some(upCall)) sawScaleOut = true;
    if (Math.floor(t / 3) !== lastPrinted || decision) {
      lastPrinted = Math.floor(t / 3);
      const idle = TWO
        ? `${' '.repeat(TWO.idle.length - 2)}${percent(idleUsage)}  ${String(idlePool?.size ?? '-').padStart(4)}  `
        : '';
      console.log(
        `${String(Math.round(t)).padStart(6)}s  ${String(clients).padStart(4)}  ${String(needed).padStart(4)}  ${TWO ? ' '.repeat(TWO.loaded.length - 3) : ''}${percent(usage)}  ${String(pool?.size ?? '-').padStart(4)}  ${String(serving).padStart(7)}  ${String(pool?.state ?? '-').padEnd(13)}  ${idle}${decision}`,
      );
    }
    if (t > LOAD_END_S && sawScaleOut && pool?.size === MIN_SIZE && pool?.state === 'running') break;
    if (t > GIVE_UP_AFTER_S) {
      console.error('\ndemo: the pool did not return to its minimum in time; see .local/logs/');
      await stop(1);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  const loadEndAt = started + LOAD_END_S * 1000;
  const lateScaleOuts = upCalls.filter((e) => Date.parse(e.time) > loadEndAt);
  const tick = TICK_SECONDS;
  console.log(
    `\nelasticity during the ${STEPS[1].seconds} s load phase (${CLIENTS} clients need ${neededSize(CLIENTS)} members):`,
  );
  console.log(`  under-provisioned:                 ${underSeconds.toFixed(0)} s of ${STEPS[1].seconds} s`);
  console.log(
    `  first alert -> needed size serving: ${firstAlertAt && neededReachedAt ? `${((neededReachedAt - firstAlertAt) / 1000).toFixed(0)} s` : 'not reached'}`,
  );
  if (upCalls.length > 0) {
    const first = Date.parse(upCalls[0].time);
    const reaching = upCalls.find((e) => e.targetSize >= neededSize(CLIENTS));
    console.log(
      `  needed size requested:             ${reaching ? `${((Date.parse(reaching.time) - first) / 1000 / tick).toFixed(0)} tick(s) after the first scale call (${upCalls.length} scale-out call(s))` : 'never'}`,
    );
  }
  console.log(
    `  scale-out after the load stopped:  ${lateScaleOuts.length === 0 ? 'none' : `${lateScaleOuts.length} call(s)`}`,
  );
  if (TWO) {
    const sizes = [...idleSizes].sort((a, b) => a - b);
    console.log(
      `${`  ${TWO.idle} (idle) beside it:`.padEnd(37)}${sizes.length === 1 && idleCalls.length === 0 ? `kept its size ${sizes[0]}, no scale call` : `sizes ${sizes.join(', ')}, ${idleCalls.length} scale call(s)`}`,
    );
  }
  try {
    const summary = JSON.parse(report);
    console.log(
      `\nload: ${summary.requests} requests (${summary.ok} ok), p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms`,
    );
  } catch {
    // the load generator printed no summary
  }
  if (existsSync(REPORT))
    console.log(`report: ${REPORT}  (open it in a browser: load, latency, pool size, decisions)`);
  console.log(`scaled out under load and back in to ${MIN_SIZE}: the loop works. Stopping the stack ...`);
  await stop(0);
}

main().catch((error) => {
  console.error(`demo: ${error?.message ?? error}`);
  process.exit(1);
});
