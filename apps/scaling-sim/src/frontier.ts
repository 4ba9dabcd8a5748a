import { measure, RunMetrics } from './metrics';
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
  const timeline: Timeline = {
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
    let serving = 0;
    for (const r of ready) if (r <= t) serving++;
    timeline.clients.push(clients);
    timeline.demand.push(demandFor(clients, bounds));
    timeline.requested.push(ready.length);
    timeline.serving.push(serving);
    timeline.utilisation.push(serving > 0 ? Math.min(1, clients / serving) : null);
  }
  return timeline;
}

/** Every headroom's under-provisioning and cost on a trace (`FRONTIER_HEADROOMS`). */
export function reactiveFrontier(
  trace: Trace,
  settings: Pick<
    ModelSettings,
    'bounds' | 'boot' | 'tickInterval' | 'rateWindow' | 'scrapeInterval' | 'rules'
  >,
  delay = detectionDelay(settings),
): Frontier {
  return {
    delay,
    points: FRONTIER_HEADROOMS.map((headroom) => ({
      headroom,
      metrics: measure(reactiveTimeline(trace, settings, delay, headroom)),
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
