import { isWindowActive, nextWindowStart, parseSchedules, scheduledBounds, ScheduleWindow } from './schedule';

const at = (iso: string) => Date.parse(iso) / 1000;
const VIENNA = 'Europe/Vienna';
const office: ScheduleWindow = {
  name: 'office',
  start: '0 8 * * 1-5',
  end: '0 18 * * 1-5',
  timezone: VIENNA,
  min: 3,
};
const bounds = { min: 1, max: 10 };

describe('isWindowActive with a fixed clock (Europe/Vienna)', () => {
  it.each([
    // Winter time (CET, UTC+1) before 2026-03-29: 08:00 local is 07:00Z.
    ['2026-03-27T06:59:59Z', false, 'Fri 07:59:59 CET'],
    ['2026-03-27T07:00:00Z', true, 'Fri 08:00 CET: the start itself'],
    ['2026-03-27T16:59:59Z', true, 'Fri 17:59:59 CET'],
    ['2026-03-27T17:00:00Z', false, 'Fri 18:00 CET: the end itself'],
    ['2026-03-28T10:00:00Z', false, 'Saturday'],
    ['2026-03-29T10:00:00Z', false, 'Sunday, the day of the change'],
    // Summer time (CEST, UTC+2) from 2026-03-29: 08:00 local is 06:00Z.
    ['2026-03-30T05:59:59Z', false, 'Mon 07:59:59 CEST'],
    ['2026-03-30T06:00:00Z', true, 'Mon 08:00 CEST'],
    ['2026-03-30T06:30:00Z', true, 'Mon 08:30 CEST (07:30 in winter time)'],
    ['2026-03-30T15:59:59Z', true, 'Mon 17:59:59 CEST'],
    ['2026-03-30T16:00:00Z', false, 'Mon 18:00 CEST'],
    // Back to winter time on 2026-10-25.
    ['2026-10-23T06:00:00Z', true, 'Fri 08:00 CEST'],
    ['2026-10-23T16:00:00Z', false, 'Fri 18:00 CEST'],
    ['2026-10-26T06:30:00Z', false, 'Mon 07:30 CET (08:30 in summer time)'],
    ['2026-10-26T07:00:00Z', true, 'Mon 08:00 CET'],
    ['2026-10-26T16:30:00Z', true, 'Mon 17:30 CET'],
    ['2026-10-26T17:00:00Z', false, 'Mon 18:00 CET'],
  ])('weekdays 08:00-18:00 at %s: %s (%s)', (iso, active) => {
    expect(isWindowActive(office, at(iso))).toBe(active);
  });

  it('a night window across the spring change lasts 2 real hours (01:00 CET to 04:00 CEST)', () => {
    const night: ScheduleWindow = {
      name: 'night',
      start: '0 1 * * *',
      end: '0 4 * * *',
      timezone: VIENNA,
      min: 2,
    };
    expect(isWindowActive(night, at('2026-03-28T23:59:59Z'))).toBe(false);
    expect(isWindowActive(night, at('2026-03-29T00:00:00Z'))).toBe(true);
    expect(isWindowActive(night, at('2026-03-29T01:59:59Z'))).toBe(true);
    expect(isWindowActive(night, at('2026-03-29T02:00:00Z'))).toBe(false);
  });

  it('a night window across the autumn change lasts 4 real hours (01:00 CEST to 04:00 CET)', () => {
    const night: ScheduleWindow = {
      name: 'night',
      start: '0 1 * * *',
      end: '0 4 * * *',
      timezone: VIENNA,
      min: 2,
    };
    expect(isWindowActive(night, at('2026-10-24T22:59:59Z'))).toBe(false);
    expect(isWindowActive(night, at('2026-10-24T23:00:00Z'))).toBe(true);
    expect(isWindowActive(night, at('2026-10-25T02:30:00Z'))).toBe(true);
    expect(isWindowActive(night, at('2026-10-25T02:59:59Z'))).toBe(true);
    expect(isWindowActive(night, at('2026-10-25T03:00:00Z'))).toBe(false);
  });

  it('a start inside the skipped spring hour (02:30) opens at 03:00 CEST, not a day late', () => {
    const gap: ScheduleWindow = {
      name: 'gap',
      start: '30 2 * * *',
      end: '0 5 * * *',
      timezone: VIENNA,
      min: 2,
    };
    expect(isWindowActive(gap, at('2026-03-29T00:59:59Z'))).toBe(false);
    expect(isWindowActive(gap, at('2026-03-29T01:00:00Z'))).toBe(true);
    expect(isWindowActive(gap, at('2026-03-29T02:59:59Z'))).toBe(true);
    expect(isWindowActive(gap, at('2026-03-29T03:00:00Z'))).toBe(false);
  });

  it('a duration counts real seconds across the change', () => {
    const w: ScheduleWindow = {
      name: 'd',
      start: '0 1 * * *',
      durationSeconds: 3 * 3600,
      timezone: VIENNA,
      min: 2,
    };
    expect(isWindowActive(w, at('2026-03-29T00:00:00Z'))).toBe(true); // 01:00 CET
    expect(isWindowActive(w, at('2026-03-29T02:59:59Z'))).toBe(true); // 04:59:59 CEST
    expect(isWindowActive(w, at('2026-03-29T03:00:00Z'))).toBe(false);
    expect(isWindowActive(w, at('2026-10-24T23:00:00Z'))).toBe(true); // 01:00 CEST
    expect(isWindowActive(w, at('2026-10-25T01:59:59Z'))).toBe(true); // 02:59:59 CET
    expect(isWindowActive(w, at('2026-10-25T02:00:00Z'))).toBe(false);
  });

  it('UTC is the default zone once parsed', () => {
    const { windows } = parseSchedules(
      '[{name: u, start: "0 8 * * *", end: "0 9 * * *", min: 2}]',
      'SCHEDULES',
    );
    expect(windows[0].timezone).toBe('UTC');
    expect(isWindowActive(windows[0], at('2026-03-30T08:30:00Z'))).toBe(true);
    expect(isWindowActive(windows[0], at('2026-03-30T07:30:00Z'))).toBe(false);
  });
});

describe('scheduledBounds', () => {
  const monday = at('2026-03-30T07:00:00Z'); // 09:00 CEST

  it('no active window: the configured bounds, no reason', () => {
    expect(scheduledBounds([office], bounds, at('2026-03-28T10:00:00Z'))).toEqual({
      min: 1,
      max: 10,
      active: [],
      changed: false,
      reason: null,
    });
  });

  it('an active window raises the minimum, with a Scheduled reason naming it', () => {
    const s = scheduledBounds([office], bounds, monday);
    expect(s).toMatchObject({ min: 3, max: 10, changed: true, active: [office] });
    expect(s.reason).toEqual({
      code: 'Scheduled',
      text: 'scheduled capacity: bounds 3..10 (configured 1..10) by office min 3',
    });
  });

  it('a window never lowers the configured minimum', () => {
    expect(scheduledBounds([office], { min: 4, max: 10 }, monday)).toMatchObject({ min: 4, changed: false });
  });

  it('overlapping windows: the largest min and the largest max win', () => {
    const a: ScheduleWindow = { ...office, name: 'a', min: 3, max: 6 };
    const b: ScheduleWindow = { ...office, name: 'b', min: 5, max: 8 };
    const off: ScheduleWindow = { ...office, name: 'off', start: '0 20 * * *', end: '0 22 * * *', min: 9 };
    const s = scheduledBounds([a, off, b], bounds, monday);
    expect(s).toMatchObject({ min: 5, max: 8, active: [a, b] });
    expect(s.reason?.text).toBe(
      'scheduled capacity: bounds 5..8 (configured 1..10) by a min 3 max 6, b min 5 max 8',
    );
  });

  it('a max never falls below the minimum in force; a window may raise the maximum', () => {
    const floor: ScheduleWindow = { ...office, name: 'floor', min: 5 };
    const cap: ScheduleWindow = { ...office, name: 'cap', min: undefined, max: 4 };
    expect(scheduledBounds([floor, cap], bounds, monday)).toMatchObject({ min: 5, max: 5 });
    expect(scheduledBounds([{ ...cap, max: 20 }], bounds, monday)).toMatchObject({ min: 1, max: 20 });
  });
});

describe('nextWindowStart', () => {
  it('the earliest start of a window not active now', () => {
    const evening: ScheduleWindow = { ...office, name: 'evening', start: '0 19 * * *', end: '0 21 * * *' };
    expect(nextWindowStart([office, evening], at('2026-03-30T07:00:00Z'))).toEqual({
      name: 'evening',
      at: at('2026-03-30T17:00:00Z'),
    });
    expect(nextWindowStart([office], at('2026-03-28T10:00:00Z'))).toEqual({
      name: 'office',
      at: at('2026-03-30T06:00:00Z'),
    });
    expect(nextWindowStart([], 0)).toBeNull();
  });
});

describe('parseSchedules', () => {
  it('reads YAML and JSON, end or duration', () => {
    const yaml = `
- name: office
  start: "0 8 * * 1-5"
  end: "0 18 * * 1-5"
  timezone: Europe/Vienna
  min: 3
- {name: batch, start: "0 2 * * *", duration: 90m, max: 12}
`;
    expect(parseSchedules(yaml, 'SCHEDULES')).toEqual({
      windows: [
        office,
        { name: 'batch', start: '0 2 * * *', durationSeconds: 5400, timezone: 'UTC', max: 12 },
      ],
      problems: [],
    });
    const json = JSON.stringify([{ name: 'j', start: '0 8 * * *', duration: 3600, min: 2 }]);
    expect(parseSchedules(json, 'SCHEDULES').windows[0]).toMatchObject({ durationSeconds: 3600, min: 2 });
    expect(parseSchedules('', 'SCHEDULES')).toEqual({ windows: [], problems: [] });
    expect(parseSchedules('[]', 'SCHEDULES')).toEqual({ windows: [], problems: [] });
  });

  it.each([
    ['{name: x', /^SCHEDULES is not valid YAML or JSON/],
    ['name: x', /^SCHEDULES must be a list of windows/],
    ['[3]', /^SCHEDULES\[0\] must be an object/],
    ['[{start: "0 8 * * *", end: "0 9 * * *", min: 2}]', /^SCHEDULES\[0\]\.name is required/],
    [
      '[{name: a, start: "0 25 * * *", end: "0 9 * * *", min: 2}]',
      /^SCHEDULES\[0\] \(a\)\.start "0 25 \* \* \*" is not a valid cron/,
    ],
    [
      '[{name: a, start: "0 8 * *", end: "0 9 * * *", min: 2}]',
      /^SCHEDULES\[0\] \(a\)\.start "0 8 \* \*" must have 5 fields/,
    ],
    [
      '[{name: a, start: "0 8 * * *", end: "nonsense x y z w", min: 2}]',
      /^SCHEDULES\[0\] \(a\)\.end .* is not a valid cron/,
    ],
    [
      '[{name: a, start: "0 8 * * *", end: "0 8 * * *", min: 2}]',
      /^SCHEDULES\[0\] \(a\)\.end must differ from start/,
    ],
    ['[{name: a, start: "0 8 * * *", min: 2}]', /^SCHEDULES\[0\] \(a\)\.end or duration: exactly one/],
    [
      '[{name: a, start: "0 8 * * *", end: "0 9 * * *", duration: 60, min: 2}]',
      /\.end or duration: exactly one/,
    ],
    [
      '[{name: a, start: "0 8 * * *", duration: 10x, min: 2}]',
      /^SCHEDULES\[0\] \(a\)\.duration "10x" must be seconds/,
    ],
    [
      '[{name: a, start: "0 8 * * *", duration: 30, min: 2}]',
      /\.duration 30 must be seconds .* at least 60 s/,
    ],
    [
      '[{name: a, start: "0 8 * * *", end: "0 9 * * *", timezone: Mars/Olympus, min: 2}]',
      /^SCHEDULES\[0\] \(a\)\.timezone "Mars\/Olympus" is not an IANA time zone/,
    ],
    [
      '[{name: a, start: "0 8 * * *", end: "0 9 * * *"}]',
      /^SCHEDULES\[0\] \(a\)\.min or max: a window must set at least one/,
    ],
    [
      '[{name: a, start: "0 8 * * *", end: "0 9 * * *", min: 0}]',
      /^SCHEDULES\[0\] \(a\)\.min must be an integer pool size/,
    ],
    ['[{name: a, start: "0 8 * * *", end: "0 9 * * *", min: 2.5}]', /\.min must be an integer pool size/],
    [
      '[{name: a, start: "0 8 * * *", end: "0 9 * * *", min: 5, max: 4}]',
      /^SCHEDULES\[0\] \(a\)\.min \(5\) must not exceed its max \(4\)/,
    ],
    [
      '[{name: a, start: "0 8 * * *", end: "0 9 * * *", min: 11}]',
      /^SCHEDULES\[0\] \(a\)\.min \(11\) must not exceed POOL_MAX_SIZE \(10\)/,
    ],
    [
      '[{name: a, start: "0 8 * * *", end: "0 9 * * *", max: 1}]',
      /^SCHEDULES\[0\] \(a\)\.max \(1\) must not be below POOL_MIN_SIZE \(2\)/,
    ],
    [
      '[{name: a, start: "0 8 * * *", end: "0 9 * * *", minimum: 3}]',
      /^SCHEDULES\[0\] \(a\)\.minimum is not a window field/,
    ],
    [
      '[{name: a, start: "0 8 * * *", end: "0 9 * * *", min: 2}, {name: a, start: "0 8 * * *", end: "0 9 * * *", min: 2}]',
      /^SCHEDULES\[1\] \(a\)\.name "a" is used by another window/,
    ],
  ])('%s is refused: %s', (text, message) => {
    const { windows, problems } = parseSchedules(text, 'SCHEDULES', { minSize: 2, maxSize: 10 });
    expect(windows).toEqual([]);
    expect(problems.join('\n')).toMatch(message);
  });

  it('a window with its own max may hold a min above the configured maximum', () => {
    const text = '[{name: a, start: "0 8 * * *", end: "0 9 * * *", min: 12, max: 15}]';
    expect(parseSchedules(text, 'SCHEDULES', { minSize: 1, maxSize: 10 }).problems).toEqual([]);
  });
});
