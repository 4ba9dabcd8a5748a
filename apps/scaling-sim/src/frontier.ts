import { measureArrays, RunMetrics } from './metrics';
import { ModelSettings, RuleModel, Timeline } from './model';
import { demandFor, Trace } from './traces';

/** Headroom factors the frontier tries: 1 to 3 in steps of 0.02 (issue 14, part 1). */
export const FRONTIER_HEADROOMS: readonly number[] = Array.from({ length: 101 }, (_, i) => 1 + i * 0.02);

/** The cost budget the frontier is quoted at beside every trace. */
export const FRONTIER_BUDGET = 1.15;

/**
 * The detection delay of the alert path, in seconds: how long after a step of the load the first scale call can
 * come at best. The rate window's samples must all show the new load (window - scrape interval: 45 s for a 1-minute
 * window of 15 s scrapes), then the up rule's `for` must pass (60 s): 105 s for the shipped path
 * (`elasticity.md` §2, "best 105 s").
 */
export function detectionDelay(
  settings: Pick<ModelSettings, 'rateWindow' | 'scrapeInterval' | 'rules'>,
): number {
  const up: RuleModel[] = settings.rules.filter((r) => r.direction === 'up' && !r.targetOnly);
  const forSeconds = up.length > 0 ? Math.min(...up.map((r) => r.forSeconds)) : 0;
  return Math.max(0, settings.rateWindow - settings.scrapeInterval) + forSeconds;
}

export interface FrontierPoint {
  headroom: number;
  metrics: RunMetrics;
}

export interface Frontier {
  /** The detection delay used (seconds). */
  delay: number;
  points: FrontierPoint[];
}

/**
 * One reactive policy with perfect knowledge of the load `delay` seconds ago: at every tick it asks for the
 * smallest n with headroom x C(t - delay) / n < 0.8 (within the bounds); new members serve `boot` seconds after
 * the call, removals are immediate and take booting members first. Starts at the minimum size, like the pipeline.
 * @param headroom the factor k on the delayed load (1 = exactly the delayed demand)
 */
export function reactiveTimeline(
  trace: Trace,
  settings: Pick<ModelSettings, 'bounds' | 'boot' | 'tickInterval'>,
  delay: number,
  headroom: number,
): Timeline {
  const { bounds, boot, tickInterval } = settings;
  // Ready times of the members, kept sorted ascending (booting members last).
  let ready: number[] = Array.from({ length: bounds.min }, () => -Infinity);
  let serving = 0;
  const timeline: Timeline = {
    measured: [],
    clients: [],
    demand: [],
    requested: [],
    serving: [],
    utilisation: [],
    calls: [],
    notifications: [],
  };
  for (let t = 0; t < trace.duration; t++) {
    const clients = trace.clientsAt(t);
    if (t % tickInterval === 0 && t >= delay) {
      const wanted = demandFor(headroom * trace.clientsAt(t - delay), bounds);
      const from = ready.length;
      if (wanted > from) for (let i = from; i < wanted; i++) ready.push(t + boot);
      else if (wanted < from) ready = ready.slice(0, wanted);
      if (wanted !== from) timeline.calls.push({ t, from, to: wanted, code: 'Frontier' });
    }
    // `ready` is sorted (members are added in call order, removed from the end): count the ones serving by t.
    if (serving > ready.length) serving = ready.length;
    while (serving < ready.length && ready[serving] <= t) serving++;
    timeline.clients.push(clients);
    timeline.demand.push(demandFor(clients, bounds));
    timeline.requested.push(ready.length);
    timeline.serving.push(serving);
    timeline.utilisation.push(serving > 0 ? Math.min(1, clients / serving) : null);
  }
  return timeline;
}

/**
 * `reactiveTimeline`'s run measured as it goes (`measure`'s metrics), on the trace's load and demand per second.
 * @param buffers the load and demand of every second, and a buffer as long for the serving members
 */
export function reactiveMetrics(
  buffers: { clients: Float64Array; demand: Int32Array; serving: Int32Array },
  settings: Pick<ModelSettings, 'bounds' | 'boot' | 'tickInterval'>,
  delay: number,
  headroom: number,
  from = 0,
): RunMetrics {
  const { bounds, boot, tickInterval } = settings;
  const { clients, demand, serving } = buffers;
  const n = clients.length;
  let ready: number[] = Array.from({ length: bounds.min }, () => -Infinity);
  let count = 0;
  const requested = new Int32Array(n);
  const calls: { t: number; from: number; to: number }[] = [];
  for (let t = 0; t < n; t++) {
    if (t % tickInterval === 0 && t >= delay) {
      const wanted = demandFor(headroom * clients[t - delay], bounds);
      const size = ready.length;
      if (wanted > size) for (let i = size; i < wanted; i++) ready.push(t + boot);
      else if (wanted < size) ready = ready.slice(0, wanted);
      if (wanted !== size) calls.push({ t, from: size, to: wanted });
    }
    if (count > ready.length) count = ready.length;
    while (count < ready.length && ready[count] <= t) count++;
    serving[t] = count;
    requested[t] = ready.length;
  }
  return measureArrays({ demand, serving, requested, calls }, from);
}

/**
 * Every headroom's under-provisioning and cost on a trace (`FRONTIER_HEADROOMS`).
 * @param from measure from this second on (the runs start at 0)
 */
export function reactiveFrontier(
  trace: Trace,
  settings: Pick<
    ModelSettings,
    'bounds' | 'boot' | 'tickInterval' | 'rateWindow' | 'scrapeInterval' | 'rules'
  >,
  delay = detectionDelay(settings),
  from = 0,
): Frontier {
  // 101 runs of the same trace: its load and demand are read once, and each run is measured as it goes, without
  // a timeline (a multi-day trace has hundreds of thousands of seconds). `reactiveMetrics` gives what
  // measure(reactiveTimeline(...)) gives (a unit test checks it).
  const n = Math.max(0, Math.ceil(trace.duration));
  const clients = new Float64Array(n);
  const demand = new Int32Array(n);
  for (let t = 0; t < n; t++) {
    clients[t] = trace.clientsAt(t);
    demand[t] = demandFor(clients[t], settings.bounds);
  }
  const serving = new Int32Array(n);
  return {
    delay,
    points: FRONTIER_HEADROOMS.map((headroom) => ({
      headroom,
      metrics: reactiveMetrics({ clients, demand, serving }, settings, delay, headroom, from),
    })),
  };
}

/**
 * The frontier at a cost budget: the least under-provisioned % among the headrooms whose cost ratio is within it.
 * When no headroom fits the budget, the cheapest point is given with `withinBudget: false`.
 */
export function frontierAt(
  frontier: Frontier,
  budget = FRONTIER_BUDGET,
): FrontierPoint & { withinBudget: boolean } {
  const within = frontier.points.filter((p) => p.metrics.costRatio <= budget);
  if (within.length === 0) {
    const cheapest = frontier.points.reduce((a, b) => (b.metrics.costRatio < a.metrics.costRatio ? b : a));
    return { ...cheapest, withinBudget: false };
  }
  const best = within.reduce((a, b) =>
    b.metrics.underProvisionedPct < a.metrics.underProvisionedPct ? b : a,
  );
  return { ...best, withinBudget: true };
}
