import { Timeline } from './model';

/** The elasticity metrics of the reference (`elasticity.md` §3), on the timeline's 1 s grid. */
export interface RunMetrics {
  underProvisionedPct: number;
  instanceMinutes: number;
  oracleInstanceMinutes: number;
  costRatio: number;
  scaleCalls: number;
  directionChanges: number;
  peakSize: number;
  /** Mean and worst seconds from a rise of demand until serving members reach it (null: demand never rose). */
  timeToDemand: { mean: number; max: number } | null;
}

export function measure(timeline: Timeline, from = 0): RunMetrics {
  return measureArrays(timeline, from);
}

/**
 * `measure` on any arrays: demand, serving and requested members per second, and the scale calls in order.
 * @param from measure from this second on (calls with a time before it are left out)
 */
export function measureArrays(
  timeline: {
    demand: ArrayLike<number>;
    serving: ArrayLike<number>;
    requested: ArrayLike<number>;
    calls: readonly { t?: number; from: number; to: number }[];
  },
  from = 0,
): RunMetrics {
  const n = timeline.demand.length;
  const start = Math.min(Math.max(0, from), n);
  let under = 0;
  let requested = 0;
  let oracle = 0;
  for (let t = start; t < n; t++) {
    if (timeline.serving[t] < timeline.demand[t]) under++;
    requested += timeline.requested[t];
    oracle += timeline.demand[t];
  }
  const calls = start > 0 ? timeline.calls.filter((c) => (c.t ?? 0) >= start) : timeline.calls;
  let directionChanges = 0;
  for (let i = 1; i < calls.length; i++) {
    const up = (c: { from: number; to: number }) => c.to > c.from;
    if (up(calls[i]) !== up(calls[i - 1])) directionChanges++;
  }
  const waits: number[] = [];
  for (let t = start + 1; t < n; t++) {
    if (timeline.demand[t] <= timeline.demand[t - 1]) continue;
    let s = t;
    while (s < n && timeline.serving[s] < timeline.demand[s]) s++;
    waits.push(s - t);
  }
  let peakSize = -Infinity;
  for (let t = start; t < n; t++) if (timeline.requested[t] > peakSize) peakSize = timeline.requested[t];
  return {
    underProvisionedPct: round((100 * under) / (n - start), 1),
    instanceMinutes: round(requested / 60, 1),
    oracleInstanceMinutes: round(oracle / 60, 1),
    costRatio: round(requested / oracle, 3),
    scaleCalls: calls.length,
    directionChanges,
    // A loop, not Math.max(...): a multi-day timeline has more values than a call takes arguments.
    peakSize,
    timeToDemand:
      waits.length === 0
        ? null
        : {
            mean: round(waits.reduce((a, b) => a + b, 0) / waits.length, 0),
            max: waits.reduce((a, b) => (b > a ? b : a), 0),
          },
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
