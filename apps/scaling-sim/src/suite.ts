import { Random } from './random';
import { PUBLIC_TRACES, Trace } from './traces';

/** Load shapes of the suite (issue 14, part 2): each draws its parameters from a seeded generator. */
export const SUITE_FAMILIES = [
  'steps',
  'ramp',
  'sawtooth',
  'flash',
  'growth',
  'wave-bursts',
  'diurnal',
  'walk',
] as const;
export type SuiteFamily = (typeof SUITE_FAMILIES)[number];

/** Seconds every suite trace lasts. */
export const SUITE_DURATION = 3600;
/** The most clients a suite trace asks for: demand stays within the simulator's default maximum of 20. */
export const SUITE_MAX_CLIENTS = 15;

const clamp = (x: number) => Math.max(0, Math.min(SUITE_MAX_CLIENTS, x));
const r1 = (x: number) => Math.round(x * 10) / 10;

/** Piecewise-linear clients from (t, clients) knots; constant before the first and after the last. */
function linear(knots: [number, number][]): (t: number) => number {
  return (t) => {
    if (t <= knots[0][0]) return knots[0][1];
    for (let i = 1; i < knots.length; i++) {
      const [t1, c1] = knots[i];
      if (t < t1) {
        const [t0, c0] = knots[i - 1];
        return t1 === t0 ? c1 : c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
      }
    }
    return knots[knots.length - 1][1];
  };
}

type Built = { label: string; clientsAt: (t: number) => number };

/** One trace of a family, its parameters drawn from `rnd` (uniform in [a, b): `u(a, b)`). */
function build(family: SuiteFamily, rnd: Random): Built {
  const u = (a: number, b: number) => a + (b - a) * rnd.next();
  const i = (a: number, b: number) => Math.floor(u(a, b + 1));
  switch (family) {
    case 'steps': {
      // Up and down steps between random levels, each held 4-12 minutes.
      const starts: number[] = [];
      const levels: number[] = [];
      for (let t = 0; t < SUITE_DURATION; t += u(240, 720)) {
        starts.push(t);
        levels.push(levels.length === 0 ? i(0, 2) : i(0, 14));
      }
      return {
        label: `levels ${levels.map(r1).join('/')}`,
        clientsAt: (t) => {
          let k = 0;
          while (k + 1 < starts.length && starts[k + 1] <= t) k++;
          return levels[k];
        },
      };
    }
    case 'ramp': {
      // Linear up at one of several slopes, a plateau, linear down.
      const top = u(5, 15);
      const start = u(0, 600);
      const up = u(120, 2400);
      const hold = u(120, 900);
      const down = u(60, 900);
      return {
        label: `0->${r1(top)} over ${Math.round(up)} s`,
        clientsAt: linear([
          [start, 0],
          [start + up, top],
          [start + up + hold, top],
          [start + up + hold + down, 0],
        ]),
      };
    }
    case 'sawtooth': {
      // Repeated ramps with idle gaps: clients climb, then nothing.
      const top = u(5, 12);
      const climb = u(300, 900);
      const gap = u(120, 600);
      const period = climb + gap;
      return {
        label: `0->${r1(top)} in ${Math.round(climb)} s, idle ${Math.round(gap)} s`,
        clientsAt: (t) => {
          const p = t % period;
          return p < climb ? (top * p) / climb : 0;
        },
      };
    }
    case 'flash': {
      // Flash crowds on a base load: one to three short bursts.
      const base = u(1, 4);
      const bursts = Array.from({ length: i(1, 3) }, () => ({
        at: u(300, 3000),
        length: u(60, 420),
        height: u(6, 13),
      }));
      return {
        label: `base ${r1(base)}, ${bursts.length} burst(s) to ${bursts.map((b) => r1(base + b.height)).join('/')}`,
        clientsAt: (t) =>
          clamp(base + bursts.reduce((sum, b) => sum + (t >= b.at && t < b.at + b.length ? b.height : 0), 0)),
      };
    }
    case 'growth': {
      // Slow growth over most of the hour, sometimes with a decline at the end.
      const from = u(0, 2);
      const to = u(8, 15);
      const start = u(0, 600);
      const end = start + u(2000, 3000);
      return {
        label: `${r1(from)}->${r1(to)} over ${Math.round(end - start)} s`,
        clientsAt: linear([
          [start, from],
          [
            Math.min(end, SUITE_DURATION),
            from + ((to - from) * (Math.min(end, SUITE_DURATION) - start)) / (end - start),
          ],
        ]),
      };
    }
    case 'wave-bursts': {
      // Bursts on top of a slow wave.
      const mean = u(3, 6);
      const amplitude = u(1, 3);
      const period = u(1200, 3600);
      const phase = u(0, 2 * Math.PI);
      const bursts = Array.from({ length: i(2, 5) }, () => ({
        at: u(200, 3300),
        length: u(60, 300),
        height: u(3, 8),
      }));
      return {
        label: `wave ${r1(mean)}+-${r1(amplitude)}, ${bursts.length} bursts`,
        clientsAt: (t) =>
          clamp(
            mean +
              amplitude * Math.sin((2 * Math.PI * t) / period + phase) +
              bursts.reduce((sum, b) => sum + (t >= b.at && t < b.at + b.length ? b.height : 0), 0),
          ),
      };
    }
    case 'diurnal': {
      // A compressed day: one or two sine periods per hour.
      const mean = u(4, 8);
      const amplitude = u(2, Math.min(mean, SUITE_MAX_CLIENTS - mean));
      const period = u(1800, 3600);
      const phase = u(0, 2 * Math.PI);
      return {
        label: `${r1(mean)}+-${r1(amplitude)}, period ${Math.round(period)} s`,
        clientsAt: (t) => clamp(mean + amplitude * Math.sin((2 * Math.PI * t) / period + phase)),
      };
    }
    case 'walk': {
      // A random walk: every minute the load moves by up to +-1.5 clients, within 0..15 (steps and flash crowds
      // are the families with jumps).
      const values: number[] = [];
      let c = u(0, 6);
      for (let k = 0; k <= SUITE_DURATION / 60; k++) {
        values.push(c);
        c = clamp(c + u(-1.5, 1.5));
      }
      return { label: `from ${r1(values[0])}`, clientsAt: (t) => values[Math.floor(t / 60)] };
    }
  }
}

/**
 * The trace suite: `count` traces, the families in turn, with parameters drawn from a generator seeded with
 * `seed` (the same seed gives the same suite). Every trace lasts 3,600 s with at most 15 clients.
 */
export function suiteTraces(seed = 1, count = 48): Trace[] {
  const traces: Trace[] = [];
  for (let k = 0; k < count; k++) {
    const family = SUITE_FAMILIES[k % SUITE_FAMILIES.length];
    // One generator per trace, so a trace does not change when the count does.
    const rnd = new Random(seed * 7919 + k * 104729 + 1);
    const built = build(family, rnd);
    traces.push({
      name: `${family}-${Math.floor(k / SUITE_FAMILIES.length) + 1}`,
      description: built.label,
      duration: SUITE_DURATION,
      clientsAt: (t) => clamp(built.clientsAt(t)),
    });
  }
  return traces;
}

/** The suite with the four public traces after it. */
export function suiteWithPublic(seed = 1, count = 48): Trace[] {
  return [...suiteTraces(seed, count), ...Object.values(PUBLIC_TRACES)];
}
