import { DAY_SECONDS } from '@app/scaling-policy';

import { Random } from './random';
import { Trace } from './traces';

/**
 * Multi-day periodic traces (issue 14, part 4: predictive pre-scaling): load shapes that repeat every day (and
 * every week), with day-to-day variation and minute-to-minute noise, so that a forecast from the same time a day or
 * a week earlier has something to find, and nothing exact to copy. Each family draws its parameters from a seeded
 * generator; the same seed gives the same trace.
 */
export const PERIODIC_FAMILIES = ['business', 'daily', 'weekly'] as const;
export type PeriodicFamily = (typeof PERIODIC_FAMILIES)[number];

/** The most clients a periodic trace asks for (demand within the default maximum of 20). */
export const PERIODIC_MAX_CLIENTS = 15;

const HOUR = 3600;
const clamp = (x: number) => Math.max(0, Math.min(PERIODIC_MAX_CLIENTS, x));
const r1 = (x: number) => Math.round(x * 10) / 10;
const hhmm = (s: number) =>
  `${String(Math.floor(s / HOUR)).padStart(2, '0')}:${String(Math.floor((s % HOUR) / 60)).padStart(2, '0')}`;

/** Smooth 0 -> 1 between a and b (cosine). */
const ease = (x: number, a: number, b: number) =>
  x <= a ? 0 : x >= b ? 1 : (1 - Math.cos((Math.PI * (x - a)) / (b - a))) / 2;

/** A business day (seconds of the day -> clients): night, a morning rise, a lunch dip, an evening decline. */
interface BusinessDay {
  night: number;
  start: number;
  rise: number;
  peak: number;
  lunchDip: number;
  end: number;
  fall: number;
  evening: number;
}

function businessDay(u: (a: number, b: number) => number): BusinessDay {
  const peak = u(8, 14);
  const night = u(0.5, 2);
  return {
    night,
    start: u(6.5, 9) * HOUR,
    rise: u(5, 45) * 60,
    peak,
    lunchDip: u(0, 0.3),
    end: u(16, 19) * HOUR,
    fall: u(60, 180) * 60,
    evening: u(night, Math.max(night, peak / 2)),
  };
}

function businessLoad(d: BusinessDay, s: number): number {
  const up = ease(s, d.start, d.start + d.rise);
  const lunch = 1 - d.lunchDip * (ease(s, 12 * HOUR, 12.5 * HOUR) - ease(s, 13 * HOUR, 13.5 * HOUR));
  const down = ease(s, d.end, d.end + d.fall);
  const late = ease(s, 22 * HOUR, 23 * HOUR);
  const day = d.peak * lunch;
  const afterWork = d.evening + (d.night - d.evening) * late;
  return d.night + (day - d.night) * up * (1 - down) + (afterWork - d.night) * down * up;
}

/** Per-minute multiplicative noise 1 + sigma x N(0, 1) and a per-day factor, both drawn once. */
function noise(rnd: Random, days: number, sigma: number, daySigma: number) {
  const minutes = Array.from({ length: days * 1440 + 1 }, () => Math.max(0, 1 + sigma * rnd.normal()));
  const perDay = Array.from({ length: days + 1 }, () =>
    Math.min(1 + 2 * daySigma, Math.max(1 - 2 * daySigma, 1 + daySigma * rnd.normal())),
  );
  return (t: number) => minutes[Math.floor(t / 60)] * perDay[Math.floor(t / DAY_SECONDS)];
}

interface Built {
  label: string;
  days: number;
  clientsAt: (t: number) => number;
}

function build(family: PeriodicFamily, rnd: Random, days?: number): Built {
  const u = (a: number, b: number) => a + (b - a) * rnd.next();
  switch (family) {
    case 'business': {
      // Office hours: a morning rise of 5-45 minutes, a lunch dip, an evening decline, with noise.
      const d = businessDay(u);
      const sigma = u(0.03, 0.08);
      const n = noise(rnd, days ?? 3, sigma, 0.05);
      return {
        label: `${r1(d.night)} -> ${r1(d.peak)} at ${hhmm(d.start)} in ${Math.round(d.rise / 60)} min, down at ${hhmm(d.end)}, noise ${r1(sigma * 100)} %`,
        days: days ?? 3,
        clientsAt: (t) => clamp(businessLoad(d, t % DAY_SECONDS) * n(t)),
      };
    }
    case 'daily': {
      // A daily sine (a consumer service: low at night, high in the evening) with noise.
      const mean = u(5, 8);
      const amplitude = u(3, Math.min(mean, PERIODIC_MAX_CLIENTS - mean) - 0.5);
      const peakAt = u(12, 21) * HOUR;
      const sigma = u(0.03, 0.08);
      const n = noise(rnd, days ?? 3, sigma, 0.05);
      return {
        label: `${r1(mean)}+-${r1(amplitude)}, peak at ${hhmm(peakAt)}, noise ${r1(sigma * 100)} %`,
        days: days ?? 3,
        clientsAt: (t) =>
          clamp((mean + amplitude * Math.cos((2 * Math.PI * (t - peakAt)) / DAY_SECONDS)) * n(t)),
      };
    }
    case 'weekly': {
      // Office hours on weekdays, a quiet weekend (a fifth to two fifths of it, starting later); day 0 is a
      // Monday, and the trace covers the Monday after the weekend, when only the week remembers the load.
      const d = businessDay(u);
      const weekendShare = u(0.2, 0.4);
      const weekend: BusinessDay = {
        ...d,
        peak: Math.max(d.night, d.peak * weekendShare),
        start: d.start + u(1, 3) * HOUR,
      };
      const sigma = u(0.03, 0.08);
      const total = days ?? 9;
      const n = noise(rnd, total, sigma, 0.05);
      return {
        label: `weekdays ${r1(d.night)} -> ${r1(d.peak)} at ${hhmm(d.start)} in ${Math.round(d.rise / 60)} min, weekend x${r1(weekendShare)}, noise ${r1(sigma * 100)} %`,
        days: total,
        clientsAt: (t) => {
          const day = Math.floor(t / DAY_SECONDS) % 7;
          return clamp(businessLoad(day >= 5 ? weekend : d, t % DAY_SECONDS) * n(t));
        },
      };
    }
  }
}

/** One periodic trace of a family (`days`: its length, default 3, 9 for `weekly`), parameters from `seed`. */
export function periodicTrace(family: PeriodicFamily, seed: number, index = 1, days?: number): Trace {
  const rnd = new Random(
    seed * 15485863 + index * 32452843 + PERIODIC_FAMILIES.indexOf(family) * 49979687 + 7,
  );
  const built = build(family, rnd, days);
  return {
    name: `${family}-${index}`,
    description: `${built.days} days, ${built.label}`,
    duration: built.days * DAY_SECONDS,
    clientsAt: built.clientsAt,
  };
}

/**
 * The periodic suite: `count` traces of each family (business and daily: 3 days; weekly: 9 days, Monday to the
 * next Tuesday), parameters drawn from `seed`.
 */
export function periodicTraces(seed = 1, count = 2): Trace[] {
  const traces: Trace[] = [];
  for (let k = 1; k <= count; k++)
    for (const family of PERIODIC_FAMILIES) traces.push(periodicTrace(family, seed, k));
  return traces;
}
