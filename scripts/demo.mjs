#!/usr/bin/env node
// `npm run demo`: the local stack in --fast mode under an idle -> load -> idle profile, with a timeline of
// load, pool-average CPU, pool size and each scaling decision. Ends when the pool is back at its minimum.
import { spawn } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { PORTS, startStack } from './local-stack.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENTS = 4;
const STEPS = [
  { clients: 0, seconds: 15 },
  { clients: CLIENTS, seconds: 60 },
];
const MIN_SIZE = 1;
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
  let stack;
  try {
    stack = await startStack({ fast: true, minSize: MIN_SIZE, maxSize: 6, signal: interrupted.signal });
  } catch (error) {
    console.error(`demo: ${error.message}`);
    process.exit(interrupted.signal.aborted ? 130 : 1);
  }
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    load?.kill('SIGINT');
    await stack.stop();
    process.exit(code);
  };
  onSignal = (code) => void stop(code);

  const steps = STEPS.map((s) => `${s.clients}x${s.seconds}`).join(',');
  console.log(
    `profile: ${STEPS.map((s) => `${s.seconds} s at ${s.clients} clients`).join(', ')}, then idle until the pool is back at ${MIN_SIZE}`,
  );
  console.log(
    `NLB ${stack.urls['load balancer (NLB)']}   control plane ${cp}/pool   Prometheus http://127.0.0.1:${PORTS.prometheus}\n`,
  );
  const load = spawn(
    process.execPath,
    [
      join(ROOT, 'dist/apps/load-test/main.js'),
      '--url',
      `http://127.0.0.1:${PORTS.nlb}/load`,
      '--steps',
      steps,
      '--json',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let report = '';
  load.stdout.on('data', (d) => (report += d));
  let loadEnded = false;
  load.once('exit', () => (loadEnded = true));

  console.log('   time  load  pool CPU  size  state          decision');
  const started = Date.now();
  let lastEvent = 0;
  let sawScaleOut = false;
  for (;;) {
    const t = Math.round((Date.now() - started) / 1000);
    const [usage, pool, events] = await Promise.all([
      cpu().catch(() => null),
      json(`${cp}/pool`).catch(() => null),
      json(`${cp}/pool/events?limit=20`).catch(() => []),
    ]);
    const fresh = events.filter((e) => e.id > lastEvent && e.outcome !== 'none').reverse();
    if (events[0]) lastEvent = Math.max(lastEvent, events[0].id);
    const decision = fresh
      .map((e) => `${e.outcome}${e.direction ? ` ${e.direction}` : ''} -> ${e.targetSize}`)
      .join('; ');
    if (fresh.some((e) => e.outcome === 'scaled' && e.direction === 'up')) sawScaleOut = true;
    console.log(
      `${String(t).padStart(6)}s  ${String(clientsAt(t)).padStart(4)}  ${usage === null ? '     -' : `${(usage * 100).toFixed(0).padStart(5)}%`}  ${String(pool?.size ?? '-').padStart(4)}  ${String(pool?.state ?? '-').padEnd(13)}  ${decision}`,
    );
    if (loadEnded && sawScaleOut && pool?.size === MIN_SIZE && pool?.state === 'running') break;
    if (t > GIVE_UP_AFTER_S) {
      console.error('\ndemo: the pool did not return to its minimum in time; see .local/logs/');
      await stop(1);
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
  try {
    const summary = JSON.parse(report);
    console.log(
      `\nload: ${summary.requests} requests (${summary.ok} ok), p50 ${summary.latencyMs.p50} ms, p99 ${summary.latencyMs.p99} ms`,
    );
  } catch {
    // the load generator printed no summary
  }
  console.log(`scaled out under load and back in to ${MIN_SIZE}: the loop works. Stopping the stack ...`);
  await stop(0);
}

main().catch((error) => {
  console.error(`demo: ${error?.message ?? error}`);
  process.exit(1);
});
