import { detectionDelay, Frontier, frontierAt, reactiveFrontier, reactiveTimeline } from './frontier';
import { judge, modelSettings, run } from './main';
import { measure } from './metrics';
import { SUITE_FAMILIES, SUITE_MAX_CLIENTS, suiteTraces } from './suite';
import { PUBLIC_TRACES, Trace } from './traces';

const bounds = { min: 1, max: 20 };
const cloud = () => modelSettings({ boot: 120, noise: 0, seed: 1, bounds });

describe('reactive frontier', () => {
  it('derives the detection delay of the shipped alert path: 45 s of rate window + 60 s of `for`', () => {
    expect(detectionDelay(cloud())).toBe(105);
    expect(detectionDelay({ ...cloud(), rules: cloud().rules.map((r) => ({ ...r, forSeconds: 30 })) })).toBe(
      75,
    );
  });

  it('asks at the first tick that sees the delayed load, and the members serve a boot later', () => {
    const trace: Trace = { name: 'hand', duration: 900, clientsAt: (t) => (t >= 300 && t < 700 ? 8 : 0) };
    const timeline = reactiveTimeline(trace, cloud(), 105, 1);
    // t - 105 >= 300 first at the tick 420: 8 clients need 11 members (8 / 11 < 0.8 <= 8 / 10).
    expect(timeline.requested[419]).toBe(1);
    expect(timeline.requested[420]).toBe(11);
    expect(timeline.serving[539]).toBe(1);
    expect(timeline.serving[540]).toBe(11);
    // The load stops at 700; the tick 840 sees it (840 - 105 >= 700): removal is immediate.
    expect(timeline.requested[839]).toBe(11);
    expect(timeline.requested[840]).toBe(1);
    // Headroom 1.5 asks for 1.5 x 8 = 12 clients' worth: 16 members.
    expect(reactiveTimeline(trace, cloud(), 105, 1.5).requested[420]).toBe(16);
  });

  it('removes booting members first', () => {
    const trace: Trace = { name: 'blip', duration: 600, clientsAt: (t) => (t < 60 ? 4 : 0) };
    const timeline = reactiveTimeline(trace, { ...cloud(), boot: 300 }, 0, 1);
    expect(timeline.requested[0]).toBe(6);
    expect(timeline.requested[60]).toBe(1);
    // The one member left is the initial, serving one.
    expect(timeline.serving[60]).toBe(1);
  });

  it('trades cost for under-provisioning as the headroom grows, and picks the least under within the budget', () => {
    const frontier = reactiveFrontier(PUBLIC_TRACES.ramp, cloud());
    const first = frontier.points[0].metrics;
    const last = frontier.points[frontier.points.length - 1].metrics;
    expect(frontier.points).toHaveLength(101);
    expect(last.costRatio).toBeGreaterThan(first.costRatio);
    expect(last.underProvisionedPct).toBeLessThan(first.underProvisionedPct);
    const best = frontierAt(frontier, 1.15);
    expect(best.withinBudget).toBe(true);
    expect(best.metrics.costRatio).toBeLessThanOrEqual(1.15);
    for (const p of frontier.points)
      if (p.metrics.costRatio <= 1.15)
        expect(p.metrics.underProvisionedPct).toBeGreaterThanOrEqual(best.metrics.underProvisionedPct);
  });

  it('gives the cheapest point, flagged, when no headroom fits the budget', () => {
    const point = (headroom: number, under: number, cost: number) => ({
      headroom,
      metrics: {
        ...measure(reactiveTimeline(PUBLIC_TRACES.step, cloud(), 105, 1)),
        underProvisionedPct: under,
        costRatio: cost,
      },
    });
    const frontier: Frontier = { delay: 105, points: [point(1, 30, 1.3), point(2, 10, 1.6)] };
    expect(frontierAt(frontier, 1.15)).toMatchObject({ headroom: 1, withinBudget: false });
    expect(frontierAt(frontier, 2)).toMatchObject({ headroom: 2, withinBudget: true });
  });
});

describe('trace suite', () => {
  it('has at least 40 traces of 8 families, within 0..15 clients, the same for a seed and different between seeds', () => {
    const a = suiteTraces(1);
    const b = suiteTraces(1);
    const c = suiteTraces(2);
    expect(a.length).toBeGreaterThanOrEqual(40);
    expect(new Set(a.map((t) => t.name.replace(/-\d+$/, '')))).toEqual(new Set(SUITE_FAMILIES));
    const sample = (t: Trace) => Array.from({ length: 60 }, (_, k) => t.clientsAt(k * 60));
    for (const [i, trace] of a.entries()) {
      const values = sample(trace);
      expect(values.every((v) => v >= 0 && v <= SUITE_MAX_CLIENTS)).toBe(true);
      expect(values).toEqual(sample(b[i]));
    }
    expect(a.map(sample)).not.toEqual(c.map(sample));
  });
});

describe('the suite, a fixed slice (seed 1, one trace of each family), with target tracking on', () => {
  // Target tracking (SCALE_ON_EVERY_READING=true) is the default. Issue 14, part 3 is not met on every trace yet:
  // these miss the goal on cost (sawtooth-1 also runs above the reference, which keeps its members through the idle
  // gaps), and are held to a looser bound here so that they cannot get worse unnoticed.
  const KNOWN_MISSES = new Set(['sawtooth-1', 'flash-1', 'wave-bursts-1']);

  it('meets the goal on every trace but the known misses, which stay within 10 points and a cost of 1.3', () => {
    const results = run({
      traces: suiteTraces(1, SUITE_FAMILIES.length),
      policies: ['target', 'reference'],
      boot: 120,
      noise: 0,
      seed: 1,
      bounds,
      json: false,
      policyOverrides: { scaleOnEveryReading: true },
    });
    const verdicts = judge(results, 0);
    expect(verdicts).toHaveLength(SUITE_FAMILIES.length);
    for (const v of verdicts) {
      if (!KNOWN_MISSES.has(v.trace)) {
        expect({ trace: v.trace, failures: v.failures }).toEqual({ trace: v.trace, failures: [] });
        continue;
      }
      expect(v.cost).toBeLessThanOrEqual(1.3);
      expect(v.under).toBeLessThanOrEqual(v.frontierUnder + 10);
      expect(v.under).toBeLessThanOrEqual(v.referenceUnder + 10);
    }
  });
});
