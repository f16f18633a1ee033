/**
 * The longest interval between two runs of a CloudNativePG schedule (robfig/cron v3 with seconds:
 * `sec min hour day-of-month month day-of-week`), so that "the last backup is too old" follows the
 * configured schedule instead of assuming a daily one.
 */

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldRange {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Offset of the first name (months are 1-based). */
  readonly nameBase?: number;
}

const FIELDS: readonly FieldRange[] = [
  { min: 0, max: 59 },
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  { min: 0, max: 6, names: DAY_NAMES, nameBase: 0 },
];

interface Field {
  readonly values: ReadonlySet<number>;
  /** `*` or `?`: robfig/cron then combines day-of-month and day-of-week with AND instead of OR. */
  readonly any: boolean;
}

function parseValue(text: string, range: FieldRange, schedule: string): number {
  const named = range.names?.indexOf(text.toLowerCase()) ?? -1;
  const value = named >= 0 ? named + (range.nameBase ?? 0) : /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new Error(`database.backup.schedule: "${text}" in "${schedule}" is not a value from ${range.min} to ${range.max}`);
  }
  return value;
}

function parseField(text: string, range: FieldRange, schedule: string): Field {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [span, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`database.backup.schedule: bad step in "${part}" of "${schedule}"`);
    let start: number;
    let end: number;
    if (span === '*' || span === '?') {
      [start, end] = [range.min, range.max];
    } else if (span.includes('-')) {
      const [from, to] = span.split('-');
      [start, end] = [parseValue(from, range, schedule), parseValue(to, range, schedule)];
    } else {
      start = parseValue(span, range, schedule);
      end = stepText === undefined ? start : range.max;
    }
    for (let value = start; value <= end; value += step) values.add(value);
  }
  return { values, any: text === '*' || text === '?' };
}

const DAY_SECONDS = 86400;

/** Seconds of the longest gap between consecutive runs over two whole years. */
export function longestScheduleGapSeconds(schedule: string): number {
  const parts = schedule.trim().split(/\s+/);
  if (parts.length !== 6) throw new Error(`database.backup.schedule: "${schedule}" does not have six fields`);
  const [seconds, minutes, hours, dayOfMonth, month, dayOfWeek] = parts.map((part, index) => parseField(part, FIELDS[index], schedule));
  const timesOfDay = [...hours.values]
    .flatMap((hour) => [...minutes.values].flatMap((minute) => [...seconds.values].map((second) => hour * 3600 + minute * 60 + second)))
    .sort((a, b) => a - b);
  // 2025 and 2026: no leap day, so a schedule for 29 February only is refused below (it would wait four years).
  const start = Date.UTC(2025, 0, 1) / 1000;
  const days = 2 * 365;
  const runs: number[] = [];
  for (let day = 0; day < days; day++) {
    const date = new Date((start + day * DAY_SECONDS) * 1000);
    if (!month.values.has(date.getUTCMonth() + 1)) continue;
    const domMatch = dayOfMonth.values.has(date.getUTCDate());
    const dowMatch = dayOfWeek.values.has(date.getUTCDay());
    const dayMatches = dayOfMonth.any || dayOfWeek.any ? domMatch && dowMatch : domMatch || dowMatch;
    if (dayMatches) for (const time of timesOfDay) runs.push(day * DAY_SECONDS + time);
  }
  if (runs.length < 2) throw new Error(`database.backup.schedule: "${schedule}" runs less than once a year`);
  let longest = 0;
  for (let index = 1; index < runs.length; index++) longest = Math.max(longest, runs[index] - runs[index - 1]);
  return longest;
}
