import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import {
  DAY_SECONDS,
  DEFAULT_FORECAST_SETTINGS,
  DEFAULT_POLICY_SETTINGS,
  ForecastCombine,
  ForecastMode,
  FORECAST_MODES,
  ForecastSettings,
  parseSchedules,
  ScheduleWindow,
} from '@app/scaling-policy';

import { renderSimulationChart } from './chart';
import { FRONTIER_BUDGET, frontierAt, reactiveFrontier, reactiveTimeline } from './frontier';
import { measure, RunMetrics } from './metrics';
import { InFlightError, ModelSettings, simulate, SimPolicy, Timeline } from './model';
import { PERIODIC_FAMILIES, PeriodicFamily, periodicTrace, periodicTraces } from './periodic';
import { SettingsFileError, shippedCloudSettings } from './shipped-settings';
import { suiteWithPublic } from './suite';
import { cachedTrace, parseTraceCsv, PUBLIC_TRACES, Trace, TraceError } from './traces';

/** The wall-clock time of a trace's second 0 with --schedule: a Monday, 08:00 in Vienna. */
const DEFAULT_START = '2026-11-30T07:00:00Z';

const USAGE = `usage: npm run simulate -- [--trace step|ramp|spike|diurnal|business|daily|weekly|FILE]
                         [--policy target|step|reference|frontier|all] [--duration S|36h|3d] [--boot S]
                         [--noise SIGMA] [--seed N] [--min N] [--max N] [--up-for S] [--in-flight on|off]
                         [--set NAME=VALUE]
                         [--predict off|forecast-only|on [--margin M] [--lead S] [--combine max|week-first]]
                         [--schedule YAML [--start ISO]] [--json] [--chart FILE.svg]
       npm run simulate -- --suite [--seed N] [--count N] [--noise SIGMA] [--noise-seed N] [--boot S] [--up-for S]
                         [--in-flight on|off]
                         [--predict ...]
       npm run simulate -- --suite periodic [--seed N] [--count N] [--noise SIGMA] [--margin M] [--lead S] ...

  Replays a load trace through a model of the shipped cloud pipeline (Grafana rules and notification policy,
  Prometheus scrape and rate window, the control plane's settings on the monitoring VM, all read from this
  project's files) and the real scaling policy of libs/scaling-policy, beside the course's reference policy.

  --trace     a public trace, a multi-day periodic trace (business: office hours, daily: a daily sine, both 3 days;
              weekly: office hours and a quiet weekend, 9 days from a Monday; parameters and load noise drawn from
              --seed), or a CSV file of "seconds,clients" rows (default: every public trace)
  --policy    target (ours), step (one step per signal), reference (the course's), frontier (the best any
              reactive policy can do with the same detection delay at a cost of at most ${FRONTIER_BUDGET}x the
              oracle's), all (default)
  --duration  time to simulate: seconds, or with units (90m, 36h, 3d, 1d12h) (default: the trace's, 3600 for the
              public ones)
  --boot      seconds from a scale-up call until the member serves (default 120)
  --noise     multiply every scraped CPU sample by 1 + N(0, SIGMA), clamped to [0, 1] (default 0)
  --seed      seed of the noise (default 1); with --suite, the seed of the suite's trace parameters
  --noise-seed  with --suite: seed of the noise (default: --seed)
  --suite     run the trace suite (8 families of seeded random load shapes, then the four public traces) with
              the target and reference policies and the frontier; one line per trace, then a summary of the goal:
              cost <= 1.15 (1.20 with noise), under-provisioned <= frontier + 5 points and <= the reference's; exit status 3 when a trace misses it
  --count     with --suite: how many generated traces (default 48); with --suite periodic: traces per family
              (default 2)
  --predict   predictive pre-scaling (libs/scaling-policy forecast.ts): off (default here), forecast-only (the
              control plane's default: forecast recorded and charted, not acted on) or on (the size is the larger
              of the reactive and the forecast size, scale-out only). The model's own recorded load, a day and a
              week back, is the history
  --margin    the forecast's safety margin (default ${DEFAULT_FORECAST_SETTINGS.margin})
  --lead      seconds the forecast looks ahead (default ${DEFAULT_FORECAST_SETTINGS.leadSeconds})
  --combine   day and week peaks: max (default) or week-first
  --forecast-target  the utilisation the forecast sizes for (default ${DEFAULT_FORECAST_SETTINGS.targetUtilisation})
  --peak-quantile  the quantile of the look-ahead window's readings taken as its peak, 0.5..1 (1: the highest;
              default ${DEFAULT_FORECAST_SETTINGS.peakQuantile})
  --agreement  a day (week) is left out when the last ${DEFAULT_FORECAST_SETTINGS.checkSeconds / 60} min were below this share of it (default
              ${DEFAULT_FORECAST_SETTINGS.agreement}; 0: never)
  --suite periodic  the periodic multi-day traces (business, daily, weekly) with the reactive (target) policy, the
              frontier at ${FRONTIER_BUDGET} and the target policy with --predict on (default on); the goal: under-provisioned
              below the frontier at cost <= ${FRONTIER_BUDGET} (1.20 with noise); exit status 3 when a trace misses it
  --set       NAME=VALUE: override a policy setting (e.g. --set trendSeconds=120), repeatable
  --timeline  S: print every run's timeline (clients, demand, requested, serving, utilisation, calls) every S s
  --up-for    override the \`for\` of the up rules (seconds), to measure a change of the monitoring rules
  --in-flight whether each scrape carries the member's requests in flight (node_netstat_Tcp_CurrEstab), which the
              policy reads when the pool is saturated (default: on when the shipped rules record them; off: the
              utilisation alone, which stops at 100 %)
  --in-flight-error  how the counts are wrong, comma-separated: stray=N (N idle connections a member), scale=X
              (the count times X), poisson (whole requests about the count), e.g. stray=1,poisson
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
  /**
   * `--in-flight on|off`: whether the tick's reading carries the requests in flight (absent: as the shipped rules
   * say, `shippedCloudSettings`).
   */
  inFlight?: boolean;
  /** `--in-flight-error`: how the counts of requests in flight are wrong (absent: exact). */
  inFlightError?: InFlightError;
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
  /** `--predict`, `--margin`, `--lead`, `--combine`: predictive pre-scaling (absent or mode off: none). */
  prediction?: ForecastSettings;
  /** `--suite periodic`: the multi-day periodic suite. */
  periodic?: boolean;
  /** Measure from this second on (the periodic suite: from the second day, when the forecast has history). */
  scoreFrom?: number;
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

const share = { holds: (v: number) => v > 0 && v <= 1, text: 'in (0, 1]' };
const seconds = { holds: (v: number) => v >= 0, text: 'a number of seconds >= 0' };
const atLeast = (min: number) => ({ holds: (v: number) => v >= min, text: `>= ${min}` });
/** What each numeric policy setting may be: a value outside it is a typo, never a tuning. */
const SETTING_RANGES: Record<string, { holds: (v: number) => boolean; text: string }> = {
  targetUtilisation: share,
  scaleInUtilisation: share,
  saturationThreshold: share,
  trackingUtilisation: share,
  trackingScaleInBelow: share,
  stepEvidence: share,
  saturationFactor: atLeast(1),
  saturatedAfterGrowth: atLeast(1),
  saturationMinStep: { holds: (v) => Number.isInteger(v) && v >= 0, text: 'a whole number of members >= 0' },
  upTolerance: { holds: (v) => v >= 0 && v < 1, text: 'in [0, 1) of a member' },
  trendCoverShare: atLeast(0),
  trendCoverShareUncounted: atLeast(0),
  trendSignificance: atLeast(0),
  upDeadBand: { holds: (v) => v >= 0 && v < 1, text: 'in [0, 1)' },
  upDeadBandCeiling: share,
  saturationGrowth: atLeast(0),
  scaleInNoiseMargin: atLeast(0),
  inFlightLoad: atLeast(0),
  warmupSeconds: seconds,
  upCooldownSeconds: seconds,
  downCooldownSeconds: seconds,
  trendSeconds: seconds,
  trendWindowSeconds: seconds,
  scaleInWindowSeconds: seconds,
};

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
    const expected = typeof DEFAULT_POLICY_SETTINGS[m[1] as keyof typeof DEFAULT_POLICY_SETTINGS];
    if (typeof value !== expected)
      throw new UsageError(`--set ${m[1]} takes a ${expected}, got ${JSON.stringify(m[2])}`);
    const range = SETTING_RANGES[m[1]];
    if (range && typeof value === 'number' && !range.holds(value))
      throw new UsageError(`--set ${m[1]} must be ${range.text}, got ${m[2]}`);
    out[m[1]] = value;
  }
  return out;
}

/** `--in-flight-error`: `stray=N`, `scale=X` and `poisson`, comma-separated, each at most once. */
export function inFlightErrorOption(raw: string): InFlightError {
  const error: InFlightError = {};
  const fail = (why: string) =>
    new UsageError(
      `--in-flight-error ${why}: expected e.g. stray=1, scale=1.3, poisson, got ${JSON.stringify(raw)}`,
    );
  for (const part of raw.split(',').map((p) => p.trim())) {
    const [key, value, ...rest] = part.split('=');
    if (rest.length > 0 || !['stray', 'scale', 'poisson'].includes(key))
      throw fail(`has an unknown part ${JSON.stringify(part)}`);
    if (key in error) throw fail(`names ${key} twice`);
    if (key === 'poisson') {
      if (value !== undefined) throw fail('takes no value for poisson');
      error.poisson = true;
      continue;
    }
    const n = value !== undefined && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
    if (!Number.isFinite(n) || n < 0) throw fail(`needs a number >= 0 for ${key}`);
    error[key as 'stray' | 'scale'] = n;
  }
  return error;
}

/** `--duration`: whole seconds, or a duration with units d, h, m, s (`3d`, `36h`, `1d12h`, `90m`). */
export function durationOption(raw: string): number {
  const text = raw.trim();
  if (/^\d+$/.test(text) && Number(text) >= 1) return Number(text);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(d|h|m|s)/g)];
  const unit = { d: DAY_SECONDS, h: 3600, m: 60, s: 1 } as const;
  const seconds = Math.round(parts.reduce((a, p) => a + Number(p[1]) * unit[p[2] as keyof typeof unit], 0));
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text || seconds < 1)
    throw new UsageError(
      `--duration must be seconds (e.g. 3600) or a duration such as 90m, 36h, 3d or 1d12h, got ${JSON.stringify(raw)}`,
    );
  return seconds;
}

export function parseOptions(argv: string[]): SimOptions | 'help' {
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
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
        'in-flight': { type: 'string' },
        'in-flight-error': { type: 'string' },
        set: { type: 'string', multiple: true },
        timeline: { type: 'string' },
        min: { type: 'string' },
        max: { type: 'string' },
        json: { type: 'boolean', default: false },
        chart: { type: 'string' },
        schedule: { type: 'string' },
        start: { type: 'string' },
        predict: { type: 'string' },
        margin: { type: 'string' },
        lead: { type: 'string' },
        combine: { type: 'string' },
        'forecast-target': { type: 'string' },
        'peak-quantile': { type: 'string' },
        agreement: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const str = (k: string) => values[k] as string | undefined;
  const traceArg = str('trace');
  const suite = values.suite === true;
  const periodic = suite && positionals.length === 1 && positionals[0] === 'periodic';
  if (positionals.length > 0 && !periodic)
    throw new UsageError(
      `unexpected argument ${JSON.stringify(positionals.join(' '))} (only --suite takes one: periodic)`,
    );
  const seed = number('seed', str('seed'), 1, 0, true);
  const duration = str('duration') === undefined ? undefined : durationOption(str('duration')!);
  let traces: Trace[];
  if (periodic) {
    if (traceArg !== undefined) throw new UsageError('--suite and --trace exclude each other');
    if (duration !== undefined) throw new UsageError('--suite periodic sets its own durations');
    traces = periodicTraces(seed, number('count', str('count'), 2, 1, true));
  } else if (suite) {
    if (traceArg !== undefined) throw new UsageError('--suite and --trace exclude each other');
    traces = suiteWithPublic(seed, number('count', str('count'), 48, 1, true));
  } else if (str('count') !== undefined) throw new UsageError('--count needs --suite');
  else if (traceArg === undefined) traces = Object.values(PUBLIC_TRACES);
  else if (traceArg in PUBLIC_TRACES) traces = [PUBLIC_TRACES[traceArg as keyof typeof PUBLIC_TRACES]];
  else if ((PERIODIC_FAMILIES as readonly string[]).includes(traceArg))
    traces = [
      periodicTrace(
        traceArg as PeriodicFamily,
        seed,
        1,
        duration === undefined ? undefined : Math.ceil(duration / DAY_SECONDS),
      ),
    ];
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
  const policies: RunPolicy[] = periodic
    ? ['target', 'frontier']
    : suite
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
  const inFlight = str('in-flight');
  if (inFlight !== undefined && inFlight !== 'on' && inFlight !== 'off')
    throw new UsageError(`--in-flight must be on or off, got ${JSON.stringify(inFlight)}`);
  const inFlightError =
    str('in-flight-error') === undefined ? undefined : inFlightErrorOption(str('in-flight-error')!);
  if (inFlightError && inFlight === 'off')
    throw new UsageError('--in-flight-error needs the counts: not --in-flight off');
  const predict = str('predict') ?? (periodic ? 'on' : 'off');
  if (!(FORECAST_MODES as readonly string[]).includes(predict))
    throw new UsageError(`--predict must be off, forecast-only or on, got ${JSON.stringify(predict)}`);
  const combine = str('combine') ?? DEFAULT_FORECAST_SETTINGS.combine;
  if (combine !== 'max' && combine !== 'week-first')
    throw new UsageError(`--combine must be max or week-first, got ${JSON.stringify(combine)}`);
  if (
    predict === 'off' &&
    ['margin', 'lead', 'combine', 'forecast-target', 'peak-quantile', 'agreement'].some(
      (k) => str(k) !== undefined,
    )
  )
    throw new UsageError(
      '--margin, --lead, --combine, --forecast-target, --peak-quantile and --agreement need --predict forecast-only or on',
    );
  const peakQuantile = number(
    'peak-quantile',
    str('peak-quantile'),
    DEFAULT_FORECAST_SETTINGS.peakQuantile,
    0.5,
  );
  if (peakQuantile > 1) throw new UsageError('--peak-quantile must be between 0.5 and 1');
  const forecastTarget = number(
    'forecast-target',
    str('forecast-target'),
    DEFAULT_FORECAST_SETTINGS.targetUtilisation,
    0.05,
  );
  if (forecastTarget > 1) throw new UsageError('--forecast-target must be between 0.05 and 1');
  const prediction =
    predict === 'off'
      ? undefined
      : {
          mode: predict as ForecastMode,
          margin: number('margin', str('margin'), DEFAULT_FORECAST_SETTINGS.margin, 0),
          leadSeconds: number('lead', str('lead'), DEFAULT_FORECAST_SETTINGS.leadSeconds, 1, true),
          combine: combine as ForecastCombine,
          targetUtilisation: forecastTarget,
          peakQuantile,
          agreement: number('agreement', str('agreement'), DEFAULT_FORECAST_SETTINGS.agreement, 0),
          checkSeconds: DEFAULT_FORECAST_SETTINGS.checkSeconds,
          daySeconds: DAY_SECONDS,
        };
  return {
    traces,
    policies,
    suite,
    ...(periodic ? { periodic } : {}),
    ...(prediction ? { prediction } : {}),
    noiseSeed: number('noise-seed', str('noise-seed'), seed, 0, true),
    timelineStep: str('timeline') === undefined ? undefined : number('timeline', str('timeline'), 0, 1, true),
    policyOverrides: policyOverrides((values.set as string[] | undefined) ?? []),
    upFor: str('up-for') === undefined ? undefined : number('up-for', str('up-for'), 0, 0, true),
    ...(inFlight !== undefined ? { inFlight: inFlight === 'on' } : {}),
    ...(inFlightError ? { inFlightError } : {}),
    duration,
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
  /** The prediction mode of the run, when not off (`--predict`). */
  prediction?: ForecastMode;
  /** With `scoreFrom`: the metrics of the whole run (`metrics` are from `scoreFrom` on). */
  wholeMetrics?: RunMetrics;
}

export function modelSettings(
  options: Pick<SimOptions, 'boot' | 'noise' | 'seed' | 'bounds'> &
    Partial<
      Pick<
        SimOptions,
        'upFor' | 'inFlight' | 'inFlightError' | 'policyOverrides' | 'schedules' | 'startAt' | 'prediction'
      >
    >,
): ModelSettings {
  const shipped = shippedCloudSettings(ROOT);
  const rules =
    options.upFor === undefined
      ? shipped.rules
      : shipped.rules.map((r) => (r.direction === 'up' ? { ...r, forSeconds: options.upFor! } : r));
  const policy = { ...shipped.policy, ...options.policyOverrides, bounds: options.bounds };
  return {
    ...shipped,
    rules,
    policy,
    ...(options.prediction ? { prediction: options.prediction } : {}),
    bounds: options.bounds,
    boot: options.boot,
    noise: options.noise,
    seed: options.seed,
    ...(options.inFlight !== undefined ? { inFlight: options.inFlight } : {}),
    ...(options.inFlightError ? { inFlightError: options.inFlightError } : {}),
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
    const trace = cachedTrace(options.duration ? { ...base, duration: options.duration } : base);
    const from = options.scoreFrom ?? 0;
    const all = reactiveFrontier(trace, settings, undefined, from);
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
        metrics: measure(timeline, from),
        ...(from > 0 ? { wholeMetrics: measure(timeline) } : {}),
        timeline,
        frontier,
        ...(settings.prediction && policy !== 'frontier' && policy !== 'reference'
          ? { prediction: settings.prediction.mode }
          : {}),
      });
    }
  }
  return results;
}

/** One trace of the periodic suite: the reactive policy, the frontier at the budget, and the predictive run. */
export interface PeriodicVerdict {
  trace: string;
  description?: string;
  reactive: RunMetrics;
  frontier: FrontierSummary;
  predictive: RunMetrics;
  /** The predictive run over the whole trace, its first day (no history yet: reactive) included. */
  predictiveWhole?: RunMetrics;
  met: boolean;
  failures: string[];
}

/**
 * The periodic suite (`--suite periodic`): every trace with the target policy as shipped (reactive), the frontier,
 * and the target policy with prediction (`options.prediction`, mode on unless told otherwise).
 */
export function runPeriodic(options: SimOptions): SimResult[] {
  const prediction = options.prediction ?? { ...DEFAULT_FORECAST_SETTINGS, mode: 'on' as const };
  const scoreFrom = options.scoreFrom ?? DAY_SECONDS;
  const reactive = run({ ...options, scoreFrom, prediction: undefined, policies: ['target', 'frontier'] });
  const predictive = run({ ...options, scoreFrom, prediction, policies: ['target'] });
  return options.traces.flatMap((t) => [
    ...reactive.filter((r) => r.trace === t.name),
    ...predictive.filter((r) => r.trace === t.name),
  ]);
}

/**
 * The goal of predictive pre-scaling (issue 14, part 4) on one periodic trace: under-provisioned below the reactive
 * frontier at cost <= 1.15 (1.20 with noise), the frontier being the least under-provisioned any reactive policy
 * can be within 1.15.
 */
export function judgePeriodic(results: SimResult[], noise: number): PeriodicVerdict[] {
  const budget = noise > 0 ? 1.2 : FRONTIER_BUDGET;
  const verdicts: PeriodicVerdict[] = [];
  for (const trace of [...new Set(results.map((r) => r.trace))]) {
    const reactive = results.find((r) => r.trace === trace && r.policy === 'target' && !r.prediction);
    const predictive = results.find((r) => r.trace === trace && r.policy === 'target' && r.prediction);
    if (!reactive || !predictive) continue;
    const m = predictive.metrics;
    const f = reactive.frontier;
    const failures: string[] = [];
    if (m.costRatio > budget) failures.push(`cost ${fixed(m.costRatio, 2)} > ${budget}`);
    if (m.underProvisionedPct >= f.underProvisionedPct)
      failures.push(
        `under ${fixed(m.underProvisionedPct, 1)} >= frontier ${fixed(f.underProvisionedPct, 1)}`,
      );
    verdicts.push({
      trace,
      description: reactive.description,
      reactive: reactive.metrics,
      frontier: f,
      predictive: m,
      ...(predictive.wholeMetrics ? { predictiveWhole: predictive.wholeMetrics } : {}),
      met: failures.length === 0,
      failures,
    });
  }
  return verdicts;
}

/** One line per periodic trace (reactive, frontier, predictive: under-provisioned % and cost), then the summary. */
export function formatPeriodic(results: SimResult[], noise: number): string {
  const verdicts = judgePeriodic(results, noise);
  const w = Math.max(...verdicts.map((v) => v.trace.length));
  const cell = (under: number, cost: number) => `${fixed(under, 1).padStart(5)} % ${fixed(cost, 2)}`;
  const lines = [
    `from day 2 on (the forecast's first day has no history): under-provisioned % and cost ratio`,
    `${''.padEnd(5 + w)}  reactive       frontier(${FRONTIER_BUDGET})         predictive     predictive, whole trace`,
    ...verdicts.map(
      (v) =>
        `${v.met ? 'ok  ' : 'FAIL'} ${v.trace.padEnd(w)}  ${cell(v.reactive.underProvisionedPct, v.reactive.costRatio)}` +
        `   ${cell(v.frontier.underProvisionedPct, v.frontier.costRatio)} k ${fixed(v.frontier.headroom, 2)}` +
        `   ${cell(v.predictive.underProvisionedPct, v.predictive.costRatio)}` +
        `   ${v.predictiveWhole ? cell(v.predictiveWhole.underProvisionedPct, v.predictiveWhole.costRatio) : '-'.padEnd(12)}` +
        `  (${v.description ?? ''})${v.failures.length ? `  <- ${v.failures.join('; ')}` : ''}`,
    ),
  ];
  const met = verdicts.filter((v) => v.met).length;
  const worst = verdicts.reduce((a, b) =>
    b.predictive.underProvisionedPct - b.frontier.underProvisionedPct >
    a.predictive.underProvisionedPct - a.frontier.underProvisionedPct
      ? b
      : a,
  );
  const worstCost = verdicts.reduce((a, b) => (b.predictive.costRatio > a.predictive.costRatio ? b : a));
  const d = worst.predictive.underProvisionedPct - worst.frontier.underProvisionedPct;
  lines.push(
    '',
    `predictive below the frontier at its cost budget on ${met} of ${verdicts.length} traces; ` +
      `closest to the frontier ${d >= 0 ? '+' : ''}${fixed(d, 1)} points (${worst.trace}); ` +
      `worst cost ${fixed(worstCost.predictive.costRatio, 2)} (${worstCost.trace})`,
  );
  return lines.join('\n') + '\n';
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
        r.prediction ? `${r.policy}, predict ${r.prediction}` : r.policy,
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
  return `${stem}-${result.trace}-${result.policy}${result.prediction ? `-predict-${result.prediction}` : ''}.svg`;
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
    results = options.periodic ? runPeriodic(options) : run(options);
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
      ...(r.prediction ? { prediction: r.prediction } : {}),
      settings: { ...r.settings, policy: { ...r.settings.policy, policy: r.policy } },
      metrics: r.metrics,
      frontier: r.frontier,
    }));
    const goal = options.periodic ? judgePeriodic(results, options.noise) : judge(results, options.noise);
    process.stdout.write(`${JSON.stringify(options.suite ? { runs: out, goal } : out, null, 2)}\n`);
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
    process.stdout.write(
      options.periodic
        ? formatPeriodic(results, options.noise)
        : options.suite
          ? formatSuite(results, options.noise)
          : formatTable(results),
    );
  }
  if (options.periodic) return judgePeriodic(results, options.noise).some((v) => !v.met) ? 3 : 0;
  if (options.suite && judge(results, options.noise).some((v) => !v.met)) return 3;
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
