/**
 * Benchmarks with figures and ratios against a baseline measured in the same run (never asserted: machines are
 * noisy). `npm run bench`.
 */
import 'reflect-metadata';

import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Logger } from '@nestjs/common';

import { mapPayloadToSignals } from '../apps/control-plane/src/webhooks/alert-signals';
import { parseWebhookBody } from '../apps/control-plane/src/webhooks/webhook-payload';
import { DecisionLogService } from '../apps/control-plane/src/scaling/decision-log.service';
import { signRequest } from '../libs/exoscale-client/src/signing';
import { FileSdWriter, renderTargetGroups, TargetGroup } from '../libs/prometheus-sd/src';
import { benchFailover } from './failover';
import { benchFleet } from './fleet';

interface Result {
  name: string;
  opsPerSecond: number;
}

async function measure(name: string, fn: (i: number) => unknown, minMs = 1500): Promise<Result> {
  for (let i = 0; i < 50; i++) await fn(i); // warm-up
  let ops = 0;
  const started = performance.now();
  while (performance.now() - started < minMs) {
    await fn(ops);
    ops++;
  }
  return { name, opsPerSecond: ops / ((performance.now() - started) / 1000) };
}

function report(title: string, baseline: Result, others: Result[]): void {
  console.log(`\n${title}`);
  for (const r of [baseline, ...others]) {
    const ratio =
      r === baseline ? 'baseline' : `${(r.opsPerSecond / baseline.opsPerSecond).toFixed(2)}x baseline`;
    console.log(`  ${r.name.padEnd(48)} ${r.opsPerSecond.toFixed(0).padStart(10)} ops/s   ${ratio}`);
  }
}

function groups(n: number, seed: number): TargetGroup[] {
  return Array.from({ length: n }, (_, i) => ({
    targets: [`10.${seed % 250}.${Math.floor(i / 250)}.${(i % 250) + 1}:9100`],
    labels: { instance_id: `id-${i}`, instance_name: `pool-${i}`, pool_id: 'p', zone: 'at-vie-1' },
  }));
}

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const dir = mkdtempSync(join(tmpdir(), 'bench-'));

  // 1. Service discovery file, 200 members: atomic write (temp file, fsync, rename) against a plain overwrite.
  const plainPath = join(dir, 'plain.json');
  const writer = new FileSdWriter(join(dir, 'sd', 'config.json'));
  const contents = [renderTargetGroups(groups(200, 1)), renderTargetGroups(groups(200, 2))];
  report(
    'file_sd write, 200 targets',
    await measure('plain writeFile (not atomic)', (i) => writeFileSync(plainPath, contents[i % 2])),
    [
      await measure('FileSdWriter, content changes every time', (i) =>
        writer.write(groups(200, i % 2 ? 1 : 2)),
      ),
      await measure('FileSdWriter, content unchanged (no write)', () => writer.write(groups(200, 1))),
    ],
  );

  // 2. Request signing against the bare HMAC it is built on.
  const credentials = { apiKey: 'EXOxxxxxxxxxxxxxxxxxxxxxxxx', apiSecret: 'X'.repeat(43) };
  const request = {
    method: 'PUT',
    path: '/v2/instance-pool/6f0b7a35-4f5e-4a53-9d3e-000000000001:scale',
    body: '{"size":3}',
  };
  report(
    'EXO2-HMAC-SHA256 signing',
    await measure('bare HMAC-SHA256 of the same message', () =>
      createHmac('sha256', credentials.apiSecret).update(request.body).digest('base64'),
    ),
    [await measure('signRequest (message + header)', () => signRequest(request, credentials, 3376684800))],
  );

  // 3. Webhook intake: validating and mapping a Grafana notification against parsing its JSON.
  const body = readFileSync(
    join(
      __dirname,
      '../../../apps/control-plane/test/fixtures/grafana/grafana-unified-firing-v11-values.json',
    ),
    'utf8',
  );
  report(
    'webhook payload (Grafana unified, 1 alert)',
    await measure('JSON.parse only', () => JSON.parse(body)),
    [
      await measure('JSON.parse + validate (class-validator) + map', () => {
        const parsed = parseWebhookBody(JSON.parse(body), 'grafana');
        if ('errors' in parsed) throw new Error(parsed.errors.join('; '));
        return mapPayloadToSignals(parsed, 'up');
      }),
    ],
  );

  // 4. Memory: the decision log stays bounded however long the control plane runs.
  const entry = {
    time: new Date().toISOString(),
    trigger: 'tick' as const,
    policy: 'target' as const,
    pending: { up: true, down: false },
    alerts: { up: null, down: null },
    basis: null,
    code: 'TargetSize' as const,
    pool: { size: 3, state: 'running' },
    decision: 'scale' as const,
    outcome: 'scaled' as const,
    direction: 'up' as const,
    targetSize: 4,
    reasons: [
      { code: 'AlertFiring' as const, text: 'up alert firing (PoolCpuHigh)' },
      { code: 'Scale' as const, text: 'size 3 -> 4' },
    ],
    bounds: { min: 1, max: 10 },
    boundApplied: null,
    operation: { id: '6a3c0000-0000-4000-8000-000000000001', outcome: 'success' as const },
    durationMs: 5000,
  };
  const heap = () => {
    global.gc?.();
    return process.memoryUsage().heapUsed;
  };
  const n = 100_000;
  let before = heap();
  const unbounded: unknown[] = [];
  for (let i = 0; i < n; i++) unbounded.push({ id: i, ...entry, reasons: [...entry.reasons] });
  const unboundedBytes = heap() - before;
  before = heap();
  const log = new DecisionLogService();
  for (let i = 0; i < n; i++) log.append({ ...entry, reasons: [...entry.reasons] });
  const boundedBytes = heap() - before;
  console.log(
    `\ndecision log memory after ${n} decisions${global.gc ? '' : ' (run with --expose-gc for exact figures)'}`,
  );
  console.log(
    `  ${'unbounded array (baseline)'.padEnd(48)} ${(unboundedBytes / 1024 / 1024).toFixed(1).padStart(8)} MiB`,
  );
  console.log(
    `  ${`DecisionLogService (keeps ${log.list().length})`.padEnd(48)} ${(boundedBytes / 1024 / 1024).toFixed(1).padStart(8)} MiB   ${(boundedBytes / unboundedBytes).toFixed(3)}x baseline`,
  );
  unbounded.length = 0;
}

/** `npm run bench [-- --only micro|fleet|failover]`: every part by default. */
async function run(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  if (only !== undefined && !['micro', 'fleet', 'failover'].includes(only))
    throw new Error(`--only must be micro, fleet or failover, got ${JSON.stringify(only)}`);
  if (!only || only === 'micro') await main();
  if (!only || only === 'fleet') await benchFleet();
  if (!only || only === 'failover') await benchFailover();
}

run().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
