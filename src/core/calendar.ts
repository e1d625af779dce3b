// Local calendar arithmetic for an IANA time zone, using Intl only.
// Day and month ends are exclusive: the first instant of the next local day/month.

const HOUR_MS = 3_600_000;

interface LocalParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** A local day: its key and the UTC instants (ms) of its first and one-past-last moment. */
export interface DayBounds {
  key: string;
  start: number;
  end: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new RangeError(`Unknown time zone '${timeZone}'. Use an IANA name such as 'Europe/Berlin' or 'America/New_York'.`);
    }
    formatters.set(timeZone, f);
  }
  return f;
}

/** The system's IANA time zone (falls back to 'UTC' if the runtime does not report one). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function localParts(ms: number, timeZone: string): LocalParts {
  const p: LocalParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of formatter(timeZone).formatToParts(ms)) {
    if (part.type in p) p[part.type as keyof LocalParts] = Number(part.value);
  }
  return p;
}

/** Local wall-clock time minus UTC at instant `ms`. */
function offsetMs(ms: number, timeZone: string): number {
  const p = localParts(ms, timeZone);
  const wholeSecond = ms - (((ms % 1000) + 1000) % 1000);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - wholeSecond;
}

const dateNumber = (p: { year: number; month: number; day: number }): number => p.year * 10_000 + p.month * 100 + p.day;

/** UTC ms of the first instant of local date y-m-d (handles DST gaps at midnight). */
function startOfLocalDate(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  const target = dateNumber({ year, month, day });
  const guess = wall - offsetMs(wall, timeZone);
  const t = wall - offsetMs(guess, timeZone);
  const at = localParts(t, timeZone);
  if (dateNumber(at) === target && at.hour === 0 && at.minute === 0 && at.second === 0) {
    if (dateNumber(localParts(t - 1000, timeZone)) < target) return t;
  }
  // Midnight skipped or repeated: binary-search the first second whose local date is >= target.
  // Offsets lie within [-12h, +14h], so these bounds bracket the answer.
  let lo = wall - 15 * HOUR_MS;
  let hi = wall + 13 * HOUR_MS;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (dateNumber(localParts(mid, timeZone)) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;
const pad4 = (n: number): string => String(n).padStart(4, '0');

function toDayKey(year: number, month: number, day: number): string {
  return `${pad4(year)}-${pad2(month)}-${pad2(day)}`;
}

/** 'YYYY-MM-DD' of the local day containing `date`. */
export function dayKey(date: Date, timeZone: string = systemTimeZone()): string {
  const p = localParts(date.getTime(), timeZone);
  return toDayKey(p.year, p.month, p.day);
}

/** 'YYYY-MM' of the local month containing `date`. */
export function monthKey(date: Date, timeZone: string = systemTimeZone()): string {
  const p = localParts(date.getTime(), timeZone);
  return `${pad4(p.year)}-${pad2(p.month)}`;
}

/** Key, start and exclusive end of the local day containing `date`. */
export function dayBounds(date: Date, timeZone: string = systemTimeZone()): DayBounds {
  const p = localParts(date.getTime(), timeZone);
  const next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
  return {
    key: toDayKey(p.year, p.month, p.day),
    start: startOfLocalDate(p.year, p.month, p.day, timeZone),
    end: startOfLocalDate(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone),
  };
}

export function startOfDay(date: Date, timeZone: string = systemTimeZone()): Date {
  return new Date(dayBounds(date, timeZone).start);
}

/** First instant of the next local day. */
export function endOfDay(date: Date, timeZone: string = systemTimeZone()): Date {
  return new Date(dayBounds(date, timeZone).end);
}

export function startOfMonth(date: Date, timeZone: string = systemTimeZone()): Date {
  const p = localParts(date.getTime(), timeZone);
  return new Date(startOfLocalDate(p.year, p.month, 1, timeZone));
}

/** First instant of the next local month. */
export function endOfMonth(date: Date, timeZone: string = systemTimeZone()): Date {
  const p = localParts(date.getTime(), timeZone);
  const next = p.month === 12 ? { y: p.year + 1, m: 1 } : { y: p.year, m: p.month + 1 };
  return new Date(startOfLocalDate(next.y, next.m, 1, timeZone));
}

/** Fraction [0, 1) of the local day elapsed at `date` (a DST day is 23 or 25 hours long). */
export function dayFraction(date: Date, timeZone: string = systemTimeZone()): number {
  const b = dayBounds(date, timeZone);
  return (date.getTime() - b.start) / (b.end - b.start);
}

/** Fraction [0, 1) of the local month elapsed at `date`. */
export function monthFraction(date: Date, timeZone: string = systemTimeZone()): number {
  const start = startOfMonth(date, timeZone).getTime();
  const end = endOfMonth(date, timeZone).getTime();
  return (date.getTime() - start) / (end - start);
}

/** Number of days in the local month containing `date`. */
export function daysInMonth(date: Date, timeZone: string = systemTimeZone()): number {
  const p = localParts(date.getTime(), timeZone);
  return daysInMonthOf(p.year, p.month);
}

/** Number of days in calendar month `month` (1-12) of `year`. */
export function daysInMonthOf(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const DAY_KEY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_KEY = /^(\d{4})-(\d{2})$/;

export function isDayKey(key: string): boolean {
  const m = DAY_KEY.exec(key);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 12 && Number(m[3]) >= 1 && Number(m[3]) <= daysInMonthOf(Number(m[1]), Number(m[2]));
}

export function isMonthKey(key: string): boolean {
  const m = MONTH_KEY.exec(key);
  return m !== null && Number(m[2]) >= 1 && Number(m[2]) <= 12;
}

/** Calendar arithmetic on a 'YYYY-MM-DD' key (no time zone involved). */
export function addDays(key: string, days: number): string {
  const m = DAY_KEY.exec(key);
  if (!m) throw new RangeError(`Not a day key: '${key}'. Expected 'YYYY-MM-DD'.`);
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days));
  return toDayKey(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

/** Calendar arithmetic on a 'YYYY-MM' key. */
export function addMonths(key: string, months: number): string {
  const m = MONTH_KEY.exec(key);
  if (!m) throw new RangeError(`Not a month key: '${key}'. Expected 'YYYY-MM'.`);
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1 + months, 1));
  return `${pad4(d.getUTCFullYear())}-${pad2(d.getUTCMonth() + 1)}`;
}
