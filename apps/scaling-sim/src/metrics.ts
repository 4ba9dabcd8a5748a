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

export function measure(timeline: Timeline): RunMetrics {
  const n = timeline.demand.length;
  let under = 0;
  let requested = 0;
  let oracle = 0;
  for (let t = 0; t < n; t++) {
    if (timeline.serving[t] < timeline.demand[t]) under++;
    requested += timeline.requested[t];
    oracle += timeline.demand[t];
  }
  let directionChanges = 0;
  for (let i = 1; i < timeline.calls.length; i++) {
    const up = (c: { from: number; to: number }) => c.to > c.from;
    if (up(timeline.calls[i]) !== up(timeline.calls[i - 1])) directionChanges++;
  }
  const waits: number[] = [];
  for (let t = 1; t < n; t++) {
    if (timeline.demand[t] <= timeline.demand[t - 1]) continue;
    let s = t;
    while (s < n && timeline.serving[s] < timeline.demand[s]) s++;
    waits.push(s - t);
  }
  return {
    underProvisionedPct: round((100 * under) / n, 1),
    instanceMinutes: round(requested / 60, 1),
    oracleInstanceMinutes: round(oracle / 60, 1),
    costRatio: round(requested / oracle, 3),
    scaleCalls: timeline.calls.length,
    directionChanges,
    peakSize: Math.max(...timeline.requested),
    timeToDemand:
      waits.length === 0
        ? null
        : { mean: round(waits.reduce((a, b) => a + b, 0) / waits.length, 0), max: Math.max(...waits) },
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
