import { CronTime } from 'cron';
import { parse as parseYaml } from 'yaml';

import { Reason } from './types';

/**
 * Scheduled capacity (issue 14): windows, each opened by a `start` cron and closed by an `end` cron (or after a
 * `duration`), evaluated in an IANA time zone, that raise the minimum (and may set the maximum) while active.
 *
 * A window is a level, not an event (KEDA's cron scaler, Nomad's schedules): at any instant it is active or not,
 * so a restart, a missed tick or a doubled/skipped hour at a DST change never loses or repeats anything.
 * - with `end`: active iff the next `end` after now comes before the next `start` after now (the most recent start
 *   is later than the most recent end);
 * - with `duration`: active iff the first `start` after (now - duration) is at or before now.
 * Overlapping windows: the largest `min` wins; the maximum is the largest `max` among the active windows that set
 * one (never below the minimum in force); without any, the configured maximum.
 */
export interface ScheduleWindow {
  name: string;
  /** Cron (5 fields, or 6 with seconds first), in `timezone`. */
  start: string;
  /** Cron that closes the window; exactly one of `end` and `durationSeconds`. */
  end?: string;
  durationSeconds?: number;
  /** IANA time zone; UTC when not given. */
  timezone: string;
  min?: number;
  max?: number;
}

export interface ScheduledBounds {
  min: number;
  max: number;
  /** The windows active at `now`, in their configured order. */
  active: ScheduleWindow[];
  /** The bounds differ from the configured ones because of a window. */
  changed: boolean;
  /** A `Scheduled` reason naming the active windows, when they changed the bounds. */
  reason: Reason | null;
}

const nextAfter = (cron: string, timezone: string, at: number): number =>
  new CronTime(cron, timezone).getNextDateFrom(new Date(at * 1000), timezone).toMillis() / 1000;

/** Whether `window` is active at `now` (Unix seconds). */
export function isWindowActive(window: ScheduleWindow, now: number): boolean {
  if (window.end !== undefined) {
    return nextAfter(window.end, window.timezone, now) < nextAfter(window.start, window.timezone, now);
  }
  // The first start strictly after (now - duration) must be at or before now.
  return nextAfter(window.start, window.timezone, now - (window.durationSeconds ?? 0)) <= now;
}

const describe = (w: ScheduleWindow) =>
  `${w.name}${w.min !== undefined ? ` min ${w.min}` : ''}${w.max !== undefined ? ` max ${w.max}` : ''}`;

/** The bounds in force at `now`: the configured ones raised (and capped) by the active windows. */
export function scheduledBounds(
  windows: readonly ScheduleWindow[],
  bounds: { min: number; max: number },
  now: number,
): ScheduledBounds {
  const active = windows.filter((w) => isWindowActive(w, now));
  const mins = active.flatMap((w) => (w.min !== undefined ? [w.min] : []));
  const maxes = active.flatMap((w) => (w.max !== undefined ? [w.max] : []));
  const min = Math.max(bounds.min, ...mins);
  const max = Math.max(maxes.length > 0 ? Math.max(...maxes) : bounds.max, min);
  const changed = min !== bounds.min || max !== bounds.max;
  return {
    min,
    max,
    active,
    changed,
    reason: changed
      ? {
          code: 'Scheduled',
          text: `scheduled capacity: bounds ${min}..${max} (configured ${bounds.min}..${bounds.max}) by ${active.map(describe).join(', ')}`,
        }
      : null,
  };
}

/** The earliest start after `now` of a window not active at `now`, if any (for the status page). */
export function nextWindowStart(
  windows: readonly ScheduleWindow[],
  now: number,
): { name: string; at: number } | null {
  let next: { name: string; at: number } | null = null;
  for (const w of windows) {
    if (isWindowActive(w, now)) continue;
    const at = nextAfter(w.start, w.timezone, now);
    if (next === null || at < next.at) next = { name: w.name, at };
  }
  return next;
}

const WINDOW_KEYS = ['name', 'start', 'end', 'duration', 'timezone', 'min', 'max'];
const SIZE_LIMIT = 1000;

/** `3600`, `90s`, `30m`, `10h`, `1d` as seconds; NaN when it is none of these. */
function parseDuration(value: unknown): number {
  if (typeof value === 'number') return Number.isInteger(value) ? value : NaN;
  if (typeof value !== 'string') return NaN;
  const m = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
  if (!m) return NaN;
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

function cronProblem(cron: unknown, timezone: string): string | null {
  if (typeof cron !== 'string' || cron.trim() === '')
    return 'must be a cron expression such as "0 8 * * 1-5"';
  const fields = cron.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6)
    return `"${cron}" must have 5 fields (minute hour day month weekday), or 6 with seconds first`;
  try {
    new CronTime(cron, timezone);
    return null;
  } catch (error) {
    return `"${cron}" is not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`;
  }
}

function validTimezone(zone: string): boolean {
  try {
    new CronTime('0 0 * * *', zone);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a schedule (YAML or JSON: a list of windows) and checks every window. Each problem names `setting`, the
 * window (index and name) and the field. `maxSize` is the configured maximum a window's `min` may not exceed unless
 * the window sets its own `max`; `minSize` the configured minimum a window's `max` may not go below.
 */
export function parseSchedules(
  text: string | undefined,
  setting: string,
  limits: { minSize: number; maxSize: number; minName?: string; maxName?: string } = {
    minSize: 1,
    maxSize: SIZE_LIMIT,
  },
): { windows: ScheduleWindow[]; problems: string[] } {
  if (text === undefined || text.trim() === '') return { windows: [], problems: [] };
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return { windows: [], problems: [`${setting} is not valid YAML or JSON: ${why}`] };
  }
  if (doc === null || doc === undefined) return { windows: [], problems: [] };
  if (!Array.isArray(doc)) {
    return {
      windows: [],
      problems: [
        `${setting} must be a list of windows such as [{name: office, start: "0 8 * * 1-5", end: "0 18 * * 1-5", timezone: Europe/Vienna, min: 3}]`,
      ],
    };
  }
  const windows: ScheduleWindow[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  doc.forEach((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(
        `${setting}[${index}] must be an object with name, start, end or duration, timezone, min, max`,
      );
      return;
    }
    const w = item as Record<string, unknown>;
    const label = `${setting}[${index}]${typeof w.name === 'string' && w.name.trim() ? ` (${w.name})` : ''}`;
    const before = problems.length;
    const fail = (field: string, text: string) => problems.push(`${label}.${field} ${text}`);
    for (const key of Object.keys(w)) {
      if (!WINDOW_KEYS.includes(key)) fail(key, `is not a window field (expected ${WINDOW_KEYS.join(', ')})`);
    }
    if (typeof w.name !== 'string' || w.name.trim() === '') fail('name', 'is required (a non-empty string)');
    else if (names.has(w.name)) fail('name', `"${w.name}" is used by another window`);
    else names.add(w.name);
    let timezone = 'UTC';
    if (w.timezone !== undefined) {
      if (typeof w.timezone !== 'string' || !validTimezone(w.timezone)) {
        fail('timezone', `${JSON.stringify(w.timezone)} is not an IANA time zone such as Europe/Vienna`);
      } else timezone = w.timezone;
    }
    const startProblem = cronProblem(w.start, timezone);
    if (startProblem) fail('start', startProblem);
    let durationSeconds: number | undefined;
    if ((w.end === undefined) === (w.duration === undefined)) {
      fail('end', 'or duration: exactly one of them is required');
    } else if (w.end !== undefined) {
      const endProblem = cronProblem(w.end, timezone);
      if (endProblem) fail('end', endProblem);
      else if (typeof w.start === 'string' && w.start.trim() === (w.end as string).trim())
        fail('end', 'must differ from start (the window would never be active)');
    } else {
      durationSeconds = parseDuration(w.duration);
      if (!Number.isFinite(durationSeconds) || durationSeconds < 60 || durationSeconds > 366 * 86400)
        fail(
          'duration',
          `${JSON.stringify(w.duration)} must be seconds (3600) or 90m, 10h, 1d, at least 60 s and at most 366 days`,
        );
    }
    for (const field of ['min', 'max'] as const) {
      const v = w[field];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > SIZE_LIMIT))
        fail(field, `must be an integer pool size between 1 and ${SIZE_LIMIT}`);
    }
    if (w.min === undefined && w.max === undefined)
      fail('min', 'or max: a window must set at least one of them');
    if (problems.length > before) return;
    const min = w.min as number | undefined;
    const max = w.max as number | undefined;
    if (min !== undefined && max !== undefined && min > max)
      fail('min', `(${min}) must not exceed its max (${max})`);
    else if (min !== undefined && max === undefined && min > limits.maxSize)
      fail(
        'min',
        `(${min}) must not exceed ${limits.maxName ?? 'POOL_MAX_SIZE'} (${limits.maxSize}) unless the window sets its own max`,
      );
    if (max !== undefined && max < limits.minSize)
      fail('max', `(${max}) must not be below ${limits.minName ?? 'POOL_MIN_SIZE'} (${limits.minSize})`);
    if (problems.length > before) return;
    windows.push({
      name: w.name as string,
      start: (w.start as string).trim(),
      ...(w.end !== undefined ? { end: (w.end as string).trim() } : { durationSeconds }),
      timezone,
      ...(min !== undefined ? { min } : {}),
      ...(max !== undefined ? { max } : {}),
    });
  });
  return { windows: problems.length > 0 ? [] : windows, problems };
}
