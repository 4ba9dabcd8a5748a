import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { DEFAULT_POLICY_SETTINGS, parseSchedules, ScheduleWindow } from '@app/scaling-policy';

import { renderSimulationChart } from './chart';
import { FRONTIER_BUDGET, frontierAt, reactiveFrontier, reactiveTimeline } from './frontier';
import { measure, RunMetrics } from './metrics';
import { ModelSettings, simulate, SimPolicy, Timeline } from './model';
import { SettingsFileError, shippedCloudSettings } from './shipped-settings';
import { suiteWithPublic } from './suite';
import { parseTraceCsv, PUBLIC_TRACES, Trace, TraceError } from './traces';

/** The wall-clock time of a trace's second 0 with --schedule: a Monday, 08:00 in Vienna. */
const DEFAULT_START = '2026-11-30T07:00:00Z';

const USAGE = `usage: npm run simulate -- [--trace step|ramp|spike|diurnal|FILE] [--policy target|step|reference|frontier|all]
                         [--duration S] [--boot S] [--noise SIGMA] [--seed N] [--min N] [--max N]
                         [--up-for S] [--set NAME=VALUE] [--schedule YAML [--start ISO]] [--json] [--chart FILE.svg]
       npm run simulate -- --suite [--seed N] [--count N] [--noise SIGMA] [--noise-seed N] [--boot S] [--up-for S]

  Replays a load trace through a model of the shipped cloud pipeline (Grafana rules and notification policy,
  Prometheus scrape and rate window, the control plane's settings on the monitoring VM, all read from this
  project's files) and the real scaling policy of libs/scaling-policy, beside the course's reference policy.

  --trace     a public trace or a CSV file of "seconds,clients" rows (default: every public trace)
  --policy    target (ours), step (one step per signal), reference (the course's), frontier (the best any
              reactive policy can do with the same detection delay at a cost of at most ${FRONTIER_BUDGET}x the
              oracle's), all (default)
  --duration  seconds to simulate (default: the trace's, 3600 for the public ones)
  --boot      seconds from a scale-up call until the member serves (default 120)
  --noise     multiply every scraped CPU sample by 1 + N(0, SIGMA), clamped to [0, 1] (default 0)
  --seed      seed of the noise (default 1); with --suite, the seed of the suite's trace parameters
  --noise-seed  with --suite: seed of the noise (default: --seed)
  --suite     run the trace suite (8 families of seeded random load shapes, then the four public traces) with
              the target and reference policies and the frontier; one line per trace, then a summary of the goal:
              cost <= 1.15 (1.20 with noise), under-provisioned <= frontier + 5 points and <= the reference's; exit status 3 when a trace misses it
  --count     with --suite: how many generated traces (default 48)
  --set       NAME=VALUE: override a policy setting (e.g. --set trendSeconds=120), repeatable
  --timeline  S: print every run's timeline (clients, demand, requested, serving, utilisation, calls) every S s
  --up-for    override the \`for\` of the up rules (seconds), to measure a change of the monitoring rules
  --min/--max pool bounds (default 1..20)
  --schedule  scheduled capacity, the control plane's SCHEDULES syntax (YAML or JSON list of windows
              {name, start: CRON, end: CRON | duration: 10h, timezone, min, max}); applied at every tick
  --start     the wall-clock time of the trace's second 0, for --schedule (default ${DEFAULT_START})
  --json      a JSON array on stdout, one object per (trace, policy), nothing else
  --chart     write an SVG chart (load, demand, requested and serving size, utilisation, scale calls);
              with several traces or policies, one file per trace and policy next to FILE`;

export type RunPolicy = SimPolicy | 'frontier';
export const RUN_POLICIES: readonly RunPolicy[] = ['target', 'step', 'reference', 'frontier'];

export interface SimOptions {
  traces: Trace[];
  policies: RunPolicy[];
  suite: boolean;
  noiseSeed: number;
  upFor?: number;
  /** Policy settings to override (`--set name=value`), e.g. to try a tuning before shipping it. */
  policyOverrides?: Record<string, number | boolean>;
  /** Print each run's timeline every this many seconds (the chart as text). */
  timelineStep?: number;
  duration?: number;
  boot: number;
  noise: number;
  seed: number;
  bounds: { min: number; max: number };
  /** `--schedule`: windows applied at every tick from the wall-clock time `startAt` (Unix seconds) + t. */
  schedules?: ScheduleWindow[];
  startAt?: number;
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

function policyOverrides(items: string[]): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const item of items) {
    const m = /^(\w+)=(.+)$/.exec(item);
    const known = m && m[1] in DEFAULT_POLICY_SETTINGS && m[1] !== 'policy';
    const value = m ? (m[2] === 'true' ? true : m[2] === 'false' ? false : Number(m[2])) : NaN;
    if (!m || !known || (typeof value === 'number' && !Number.isFinite(value)))
      throw new UsageError(
        `--set must be NAME=VALUE with a numeric or boolean policy setting (${Object.keys(
          DEFAULT_POLICY_SETTINGS,
        )
          .filter((k) => k !== 'policy')
          .join(', ')}), got ${JSON.stringify(item)}`,
      );
    out[m[1]] = value;
  }
  return out;
}

export function parseOptions(argv: string[]): SimOptions | 'help' {
  let values: Record<string, string | boolean | string[] | undefined>;
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
        'noise-seed': { type: 'string' },
        suite: { type: 'boolean', default: false },
        count: { type: 'string' },
        'up-for': { type: 'string' },
        set: { type: 'string', multiple: true },
        timeline: { type: 'string' },
        min: { type: 'string' },
        max: { type: 'string' },
        json: { type: 'boolean', default: false },
        chart: { type: 'string' },
        schedule: { type: 'string' },
        start: { type: 'string' },
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
  const suite = values.suite === true;
  const seed = number('seed', str('seed'), 1, 0, true);
  let traces: Trace[];
  if (suite) {
    if (traceArg !== undefined) throw new UsageError('--suite and --trace exclude each other');
    traces = suiteWithPublic(seed, number('count', str('count'), 48, 1, true));
  } else if (str('count') !== undefined) throw new UsageError('--count needs --suite');
  else if (traceArg === undefined) traces = Object.values(PUBLIC_TRACES);
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
  const policies: RunPolicy[] = suite
    ? ['target', 'reference', 'frontier']
    : policyArg === 'all'
      ? [...RUN_POLICIES]
      : (policyArg.split(',') as RunPolicy[]);
  for (const p of policies)
    if (!RUN_POLICIES.includes(p))
      throw new UsageError(
        `--policy must be target, step, reference, frontier or all, got ${JSON.stringify(policyArg)}`,
      );
  const min = number('min', str('min'), 1, 1, true);
  const max = number('max', str('max'), 20, 1, true);
  if (min > max) throw new UsageError(`--min (${min}) must not exceed --max (${max})`);
  const noise = number('noise', str('noise'), 0, 0);
  if (noise > 1) throw new UsageError('--noise must be between 0 and 1');
  const scheduled =
    str('schedule') === undefined
      ? undefined
      : parseSchedules(str('schedule'), '--schedule', {
          minSize: min,
          maxSize: max,
          minName: '--min',
          maxName: '--max',
        });
  if (scheduled && scheduled.problems.length > 0) throw new UsageError(scheduled.problems.join('; '));
  if (str('start') !== undefined && !scheduled) throw new UsageError('--start needs --schedule');
  const startAt = Date.parse(str('start') ?? DEFAULT_START) / 1000;
  if (!Number.isFinite(startAt))
    throw new UsageError(
      `--start must be an ISO date and time such as ${DEFAULT_START}, got ${JSON.stringify(str('start'))}`,
    );
  return {
    traces,
    policies,
    suite,
    noiseSeed: number('noise-seed', str('noise-seed'), seed, 0, true),
    timelineStep: str('timeline') === undefined ? undefined : number('timeline', str('timeline'), 0, 1, true),
    policyOverrides: policyOverrides((values.set as string[] | undefined) ?? []),
    upFor: str('up-for') === undefined ? undefined : number('up-for', str('up-for'), 0, 0, true),
    duration: str('duration') === undefined ? undefined : number('duration', str('duration'), 0, 1, true),
    boot: number('boot', str('boot'), 120, 0, true),
    noise,
    seed,
    bounds: { min, max },
    ...(scheduled ? { schedules: scheduled.windows, startAt } : {}),
    json: values.json as boolean,
    chart: str('chart'),
  };
}

/** The reactive frontier of a trace at the budget (`frontier.ts`): least under-provisioned % within the cost. */
export interface FrontierSummary {
  budget: number;
  /** Detection delay used, seconds. */
  delay: number;
  headroom: number;
  underProvisionedPct: number;
  costRatio: number;
  /** False when no headroom fits the budget (then the cheapest point is given). */
  withinBudget: boolean;
}

export interface SimResult {
  trace: string;
  description?: string;
  policy: RunPolicy;
  settings: ModelSettings;
  metrics: RunMetrics;
  timeline: Timeline;
  frontier: FrontierSummary;
}

export function modelSettings(
  options: Pick<SimOptions, 'boot' | 'noise' | 'seed' | 'bounds'> &
    Partial<Pick<SimOptions, 'upFor' | 'policyOverrides' | 'schedules' | 'startAt'>>,
): ModelSettings {
  const shipped = shippedCloudSettings(ROOT);
  const rules =
    options.upFor === undefined
      ? shipped.rules
      : shipped.rules.map((r) => (r.direction === 'up' ? { ...r, forSeconds: options.upFor! } : r));
  return {
    ...shipped,
    rules,
    policy: { ...shipped.policy, ...options.policyOverrides, bounds: options.bounds },
    bounds: options.bounds,
    boot: options.boot,
    noise: options.noise,
    seed: options.seed,
    ...(options.schedules ? { schedules: options.schedules, startAt: options.startAt ?? 0 } : {}),
  };
}

export function run(options: Omit<SimOptions, 'suite' | 'noiseSeed'> & Partial<SimOptions>): SimResult[] {
  const settings = modelSettings({
    ...options,
    seed: options.suite ? (options.noiseSeed ?? options.seed) : options.seed,
  });
  const results: SimResult[] = [];
  for (const base of options.traces) {
    const trace = options.duration ? { ...base, duration: options.duration } : base;
    const all = reactiveFrontier(trace, settings);
    const best = frontierAt(all, FRONTIER_BUDGET);
    const frontier: FrontierSummary = {
      budget: FRONTIER_BUDGET,
      delay: all.delay,
      headroom: Math.round(best.headroom * 100) / 100,
      underProvisionedPct: best.metrics.underProvisionedPct,
      costRatio: best.metrics.costRatio,
      withinBudget: best.withinBudget,
    };
    for (const policy of options.policies) {
      const timeline =
        policy === 'frontier'
          ? reactiveTimeline(trace, settings, all.delay, best.headroom)
          : simulate(trace, policy, settings);
      results.push({
        trace: trace.name,
        description: trace.description,
        policy,
        settings,
        metrics: measure(timeline),
        timeline,
        frontier,
      });
    }
  }
  return results;
}

/** The goal of issue 14 for one trace, from its target and reference runs. */
export interface GoalVerdict {
  trace: string;
  description?: string;
  met: boolean;
  under: number;
  cost: number;
  referenceUnder: number;
  frontierUnder: number;
  /** Target's under-provisioned % minus the frontier's, in points. */
  distance: number;
  failures: string[];
}

/**
 * Issue 14's goal on one trace: cost ratio <= 1.15 (1.20 with noise), under-provisioned % <= the reactive
 * frontier at 1.15 plus 5 points, and never above the reference policy's.
 */
export function judge(results: SimResult[], noise: number): GoalVerdict[] {
  const budget = noise > 0 ? 1.2 : 1.15;
  const verdicts: GoalVerdict[] = [];
  for (const trace of [...new Set(results.map((r) => r.trace))]) {
    const ours = results.find((r) => r.trace === trace && r.policy === 'target');
    const ref = results.find((r) => r.trace === trace && r.policy === 'reference');
    if (!ours || !ref) continue;
    const m = ours.metrics;
    const failures: string[] = [];
    if (m.costRatio > budget) failures.push(`cost ${fixed(m.costRatio, 2)} > ${budget}`);
    if (m.underProvisionedPct > ours.frontier.underProvisionedPct + 5)
      failures.push(
        `under ${fixed(m.underProvisionedPct, 1)} > frontier ${ours.frontier.underProvisionedPct} + 5`,
      );
    if (m.underProvisionedPct > ref.metrics.underProvisionedPct)
      failures.push(
        `under ${fixed(m.underProvisionedPct, 1)} > reference ${ref.metrics.underProvisionedPct}`,
      );
    verdicts.push({
      trace,
      description: ours.description,
      met: failures.length === 0,
      under: m.underProvisionedPct,
      cost: m.costRatio,
      referenceUnder: ref.metrics.underProvisionedPct,
      frontierUnder: ours.frontier.underProvisionedPct,
      distance: Math.round((m.underProvisionedPct - ours.frontier.underProvisionedPct) * 10) / 10,
      failures,
    });
  }
  return verdicts;
}

/** One line per trace of the suite, then the summary. */
export function formatSuite(results: SimResult[], noise: number): string {
  const verdicts = judge(results, noise);
  const w = Math.max(...verdicts.map((v) => v.trace.length));
  const lines = verdicts.map(
    (v) =>
      `${v.met ? 'ok  ' : 'FAIL'} ${v.trace.padEnd(w)}  under ${fixed(v.under, 1).padStart(5)} %  cost ${fixed(v.cost, 2)}` +
      `  reference ${fixed(v.referenceUnder, 1).padStart(5)} %  frontier ${fixed(v.frontierUnder, 1).padStart(5)} %` +
      `  distance ${(v.distance >= 0 ? '+' : '') + fixed(v.distance, 1)}` +
      `${v.description ? `  (${v.description})` : ''}${v.failures.length ? `  <- ${v.failures.join('; ')}` : ''}`,
  );
  const worstDistance = verdicts.reduce((a, b) => (b.distance > a.distance ? b : a));
  const worstCost = verdicts.reduce((a, b) => (b.cost > a.cost ? b : a));
  const met = verdicts.filter((v) => v.met).length;
  lines.push(
    '',
    `goal met on ${met} of ${verdicts.length} traces; worst distance to the frontier ${fixed(worstDistance.distance, 1)} points (${worstDistance.trace}); ` +
      `worst cost ${fixed(worstCost.cost, 2)} (${worstCost.trace})`,
  );
  return lines.join('\n') + '\n';
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
    out.push(fmt(header), ...lines.map(fmt));
    const f = rows[0].frontier;
    const ours = rows.find((r) => r.policy === 'target')?.metrics;
    out.push(
      `  frontier at cost ${f.budget}: ${fixed(f.underProvisionedPct, 1)} % under (headroom ${fixed(f.headroom, 2)}, cost ${fixed(f.costRatio, 2)}, detection delay ${f.delay} s${f.withinBudget ? '' : '; no headroom within the budget: the cheapest'})` +
        (ours
          ? `; target policy ${fixed(Math.abs(ours.underProvisionedPct - f.underProvisionedPct), 1)} points ${ours.underProvisionedPct >= f.underProvisionedPct ? 'above' : 'below'} it`
          : ''),
      '',
    );
  }
  return out.join('\n');
}

/** The chart as text: one row every `step` seconds, and every scale call. */
export function formatTimelines(results: SimResult[], step: number): string {
  const out: string[] = [];
  for (const r of results) {
    const tl = r.timeline;
    out.push(`timeline ${r.trace} ${r.policy}:   t  clients demand requested serving util  call`);
    for (let t = 0; t < tl.clients.length; t++) {
      const calls = tl.calls.filter((c) => c.t === t);
      if (t % step !== 0 && calls.length === 0) continue;
      const u = tl.utilisation[t];
      out.push(
        `  ${String(t).padStart(5)} ${tl.clients[t].toFixed(1).padStart(7)} ${String(tl.demand[t]).padStart(6)} ` +
          `${String(tl.requested[t]).padStart(9)} ${String(tl.serving[t]).padStart(7)} ${u === null ? '    -' : u.toFixed(2).padStart(5)}` +
          calls.map((c) => `  ${c.from}->${c.to} ${c.code}`).join(''),
      );
    }
    out.push('');
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
      frontier: r.frontier,
    }));
    process.stdout.write(
      `${JSON.stringify(options.suite ? { runs: out, goal: judge(results, options.noise) } : out, null, 2)}\n`,
    );
  } else {
    const s = results[0].settings;
    process.stdout.write(
      `model: scrape ${s.scrapeInterval} s, rate window ${s.rateWindow} s, rules every ${s.evaluationInterval} s ` +
        `(${s.rules.map((r) => `${r.name} ${r.op} ${r.threshold} for ${r.forSeconds} s`).join(', ')}), ` +
        `notifications group_wait ${s.notification.groupWait} s / group_interval ${s.notification.groupInterval} s / repeat ${s.notification.repeatInterval} s, ` +
        `tick ${s.tickInterval} s, boot ${s.boot} s, value from ${s.valueSource}, bounds ${s.bounds.min}..${s.bounds.max}, ` +
        `noise ${options.noise}${options.noise > 0 ? ` (seed ${options.noiseSeed})` : ''}` +
        `${options.suite ? `, suite seed ${options.seed}` : ''}\n` +
        `target policy: target ${s.policy.targetUtilisation}, scale-in limit ${s.policy.scaleInUtilisation}, warm-up ${s.policy.warmupSeconds} s\n\n`,
    );
    if (options.timelineStep) process.stdout.write(formatTimelines(results, options.timelineStep));
    process.stdout.write(options.suite ? formatSuite(results, options.noise) : formatTable(results));
  }
  if (options.suite && judge(results, options.noise).some((v) => !v.met)) return 3;
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
