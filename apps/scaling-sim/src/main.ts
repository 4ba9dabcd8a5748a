import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { renderSimulationChart } from './chart';
import { measure, RunMetrics } from './metrics';
import { ModelSettings, simulate, SimPolicy, Timeline } from './model';
import { SettingsFileError, shippedCloudSettings } from './shipped-settings';
import { parseTraceCsv, PUBLIC_TRACES, Trace, TraceError } from './traces';

const USAGE = `usage: npm run simulate -- [--trace step|ramp|spike|diurnal|FILE] [--policy target|step|reference|all]
                         [--duration S] [--boot S] [--noise SIGMA] [--seed N] [--min N] [--max N]
                         [--json] [--chart FILE.svg]

  Replays a load trace through a model of the shipped cloud pipeline (Grafana rules and notification policy,
  Prometheus scrape and rate window, the control plane's settings on the monitoring VM, all read from this
  project's files) and the real scaling policy of libs/scaling-policy, beside the course's reference policy.

  --trace     a public trace or a CSV file of "seconds,clients" rows (default: every public trace)
  --policy    target (ours), step (one step per signal), reference (the course's), all (default)
  --duration  seconds to simulate (default: the trace's, 3600 for the public ones)
  --boot      seconds from a scale-up call until the member serves (default 120)
  --noise     multiply every scraped CPU sample by 1 + N(0, SIGMA), clamped to [0, 1] (default 0)
  --seed      seed of the noise (default 1)
  --min/--max pool bounds (default 1..20)
  --json      a JSON array on stdout, one object per (trace, policy), nothing else
  --chart     write an SVG chart (load, demand, requested and serving size, utilisation, scale calls);
              with several traces or policies, one file per trace and policy next to FILE`;

export interface SimOptions {
  traces: Trace[];
  policies: SimPolicy[];
  duration?: number;
  boot: number;
  noise: number;
  seed: number;
  bounds: { min: number; max: number };
  json: boolean;
  chart?: string;
}

export class UsageError extends Error {}

const ROOT = resolve(__dirname, '../../..');

function number(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  integer = false,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value)))
    throw new UsageError(
      `--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${JSON.stringify(raw)}`,
    );
  return value;
}

export function parseOptions(argv: string[]): SimOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        trace: { type: 'string' },
        policy: { type: 'string', default: 'all' },
        duration: { type: 'string' },
        boot: { type: 'string' },
        noise: { type: 'string' },
        seed: { type: 'string' },
        min: { type: 'string' },
        max: { type: 'string' },
        json: { type: 'boolean', default: false },
        chart: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const str = (k: string) => values[k] as string | undefined;
  const traceArg = str('trace');
  let traces: Trace[];
  if (traceArg === undefined) traces = Object.values(PUBLIC_TRACES);
  else if (traceArg in PUBLIC_TRACES) traces = [PUBLIC_TRACES[traceArg as keyof typeof PUBLIC_TRACES]];
  else {
    let text: string;
    try {
      text = readFileSync(traceArg, 'utf8');
    } catch (error) {
      throw new UsageError(
        `--trace ${JSON.stringify(traceArg)} is neither a public trace (step, ramp, spike, diurnal) nor a readable file: ${(error as Error).message}`,
      );
    }
    traces = [parseTraceCsv(basename(traceArg), text)];
  }
  const policyArg = str('policy')!;
  const policies: SimPolicy[] =
    policyArg === 'all' ? ['target', 'step', 'reference'] : (policyArg.split(',') as SimPolicy[]);
  for (const p of policies)
    if (!['target', 'step', 'reference'].includes(p))
      throw new UsageError(
        `--policy must be target, step, reference or all, got ${JSON.stringify(policyArg)}`,
      );
  const min = number('min', str('min'), 1, 1, true);
  const max = number('max', str('max'), 20, 1, true);
  if (min > max) throw new UsageError(`--min (${min}) must not exceed --max (${max})`);
  const noise = number('noise', str('noise'), 0, 0);
  if (noise > 1) throw new UsageError('--noise must be between 0 and 1');
  return {
    traces,
    policies,
    duration: str('duration') === undefined ? undefined : number('duration', str('duration'), 0, 1, true),
    boot: number('boot', str('boot'), 120, 0, true),
    noise,
    seed: number('seed', str('seed'), 1, 0, true),
    bounds: { min, max },
    json: values.json as boolean,
    chart: str('chart'),
  };
}

export interface SimResult {
  trace: string;
  policy: SimPolicy;
  settings: ModelSettings;
  metrics: RunMetrics;
  timeline: Timeline;
}

export function modelSettings(
  options: Pick<SimOptions, 'boot' | 'noise' | 'seed' | 'bounds'>,
): ModelSettings {
  const shipped = shippedCloudSettings(ROOT);
  return {
    ...shipped,
    policy: { ...shipped.policy, bounds: options.bounds },
    bounds: options.bounds,
    boot: options.boot,
    noise: options.noise,
    seed: options.seed,
  };
}

export function run(options: SimOptions): SimResult[] {
  const settings = modelSettings(options);
  const results: SimResult[] = [];
  for (const base of options.traces) {
    const trace = options.duration ? { ...base, duration: options.duration } : base;
    for (const policy of options.policies) {
      const timeline = simulate(trace, policy, settings);
      results.push({ trace: trace.name, policy, settings, metrics: measure(timeline), timeline });
    }
  }
  return results;
}

const fixed = (x: number, d: number) => x.toFixed(d);

export function formatTable(results: SimResult[]): string {
  const out: string[] = [];
  for (const trace of [...new Set(results.map((r) => r.trace))]) {
    const rows = results.filter((r) => r.trace === trace);
    const ref = rows.find((r) => r.policy === 'reference')?.metrics;
    out.push(`trace ${trace}`);
    const header = [
      'policy',
      'under %',
      'cost ratio',
      'calls',
      'reversals',
      'peak',
      'to demand s (mean/max)',
    ];
    if (ref) header.push('under vs ref', 'cost vs ref');
    const lines = rows.map((r) => {
      const m = r.metrics;
      const cells = [
        r.policy,
        fixed(m.underProvisionedPct, 1),
        fixed(m.costRatio, 2),
        String(m.scaleCalls),
        String(m.directionChanges),
        String(m.peakSize),
        m.timeToDemand ? `${m.timeToDemand.mean}/${m.timeToDemand.max}` : '-',
      ];
      if (ref)
        cells.push(
          ref.underProvisionedPct > 0 ? `${fixed(m.underProvisionedPct / ref.underProvisionedPct, 2)}x` : '-',
          `${fixed(m.costRatio / ref.costRatio, 2)}x`,
        );
      return cells;
    });
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    const fmt = (cells: string[]) =>
      '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
    out.push(fmt(header), ...lines.map(fmt), '');
  }
  return out.join('\n');
}

function chartPath(base: string, result: SimResult, many: boolean): string {
  if (!many) return base;
  const stem = base.replace(/\.svg$/i, '');
  return `${stem}-${result.trace}-${result.policy}.svg`;
}

export function main(argv: string[]): number {
  let options: SimOptions | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (error instanceof UsageError || error instanceof TraceError) {
      process.stderr.write(`simulate: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let results: SimResult[];
  try {
    results = run(options);
  } catch (error) {
    if (error instanceof SettingsFileError) {
      process.stderr.write(`simulate: the shipped settings cannot be read: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (options.chart) {
    for (const r of results) {
      const path = chartPath(options.chart, r, results.length > 1);
      writeFileSync(path, renderSimulationChart(r));
      if (!options.json) process.stdout.write(`chart: ${path}\n`);
    }
  }
  if (options.json) {
    const out = results.map((r) => ({
      trace: r.trace,
      policy: r.policy,
      settings: { ...r.settings, policy: { ...r.settings.policy, policy: r.policy } },
      metrics: r.metrics,
    }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const s = results[0].settings;
    process.stdout.write(
      `model: scrape ${s.scrapeInterval} s, rate window ${s.rateWindow} s, rules every ${s.evaluationInterval} s ` +
        `(${s.rules.map((r) => `${r.name} ${r.op} ${r.threshold} for ${r.forSeconds} s`).join(', ')}), ` +
        `notifications group_wait ${s.notification.groupWait} s / group_interval ${s.notification.groupInterval} s / repeat ${s.notification.repeatInterval} s, ` +
        `tick ${s.tickInterval} s, boot ${s.boot} s, value from ${s.valueSource}, bounds ${s.bounds.min}..${s.bounds.max}, ` +
        `noise ${options.noise}${options.noise > 0 ? ` (seed ${options.seed})` : ''}\n` +
        `target policy: target ${s.policy.targetUtilisation}, scale-in limit ${s.policy.scaleInUtilisation}, warm-up ${s.policy.warmupSeconds} s\n\n`,
    );
    process.stdout.write(formatTable(results));
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
