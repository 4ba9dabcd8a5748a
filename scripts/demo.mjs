#!/usr/bin/env node
// `npm run demo`: the local stack in --fast mode under an idle -> load -> idle profile, with a timeline of
// load, pool-average CPU, pool size and each scaling decision. Ends when the pool is back at its minimum.
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

const cp = `http://127.0.0.1:${PORTS.controlPlane}`;
const json = async (url) => (await fetch(url, { signal: AbortSignal.timeout(3000) })).json();

async function cpu() {
  const q = encodeURIComponent('pool:node_cpu_utilisation:avg');
  const body = await json(`http://127.0.0.1:${PORTS.prometheus}/api/v1/query?query=${q}`);
  const v = body.data?.result?.[0]?.value?.[1];
  return v === undefined ? null : Number(v);
}

function clientsAt(t) {
  let end = 0;
  for (const s of STEPS) {
    end += s.seconds;
    if (t < end) return s.clients;
  }
  return 0;
}

async function main() {
  console.log('starting the local stack (--fast) ...');
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
    `profile: ${STEPS.map((s) => `${s.seconds} s at ${s.clients} clients`).join(', ')}, then idle until the pool is back at ${MIN_SIZE}`,
  );
  console.log(
    `status page ${cp}/   NLB http://127.0.0.1:${PORTS.nlb}/   Prometheus http://127.0.0.1:${PORTS.prometheus}\n`,
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

  console.log('   time  load  need  pool CPU  size  serving  state          decision');
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
    const [usage, pool, events] = await Promise.all([
      cpu().catch(() => null),
      json(`${cp}/pool`).catch(() => null),
      json(`${cp}/pool/events?limit=20`).catch(() => []),
    ]);
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
    const decision = fresh
      .map((e) => `${e.outcome}${e.direction ? ` ${e.direction}` : ''} -> ${e.targetSize} (${e.code})`)
      .join('; ');
    if (fresh.some(upCall)) sawScaleOut = true;
    if (Math.floor(t / 3) !== lastPrinted || decision) {
      lastPrinted = Math.floor(t / 3);
      console.log(
        `${String(Math.round(t)).padStart(6)}s  ${String(clients).padStart(4)}  ${String(needed).padStart(4)}  ${usage === null ? '     -' : `${(usage * 100).toFixed(0).padStart(5)}%`}  ${String(pool?.size ?? '-').padStart(4)}  ${String(serving).padStart(7)}  ${String(pool?.state ?? '-').padEnd(13)}  ${decision}`,
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
