// Local calendar arithmetic for an IANA time zone, using Intl only.
// Day and month ends are exclusive: the first instant of the next local day/month.
//
// Intl formatting costs microseconds per call and finding a day's bounds takes several, so the
// bounds of the most recently used local days and months are cached per zone: asking again about
// an instant inside a cached day or month costs a few comparisons. Zone rules do not change while
// the process runs, so cached bounds never go stale.

const HOUR_MS = 3_600_000;

interface LocalParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** A local day: its key and the UTC instants (ms) of its first and one-past-last moment. Shared: do not modify. */
export interface DayBounds {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/** A local month: its key ('YYYY-MM'), length in days and the UTC instants (ms) bounding it. Shared: do not modify. */
export interface MonthBounds {
  readonly key: string;
  readonly year: number;
  /** 1-12 */
  readonly month: number;
  readonly days: number;
  readonly start: number;
  readonly end: number;
}

/** Most recently used bounds first; a hit costs a few comparisons instead of Intl calls. */
const CACHE_SIZE = 8;
interface ZoneCache {
  days: DayBounds[];
  months: MonthBounds[];
}
const zoneCaches = new Map<string, ZoneCache>();

function zoneCache(timeZone: string): ZoneCache {
  let c = zoneCaches.get(timeZone);
  if (!c) zoneCaches.set(timeZone, (c = { days: [], months: [] }));
  return c;
}

function lookup<T extends { readonly start: number; readonly end: number }>(list: T[] | undefined, ms: number): T | undefined {
  if (!list) return undefined;
  for (let i = 0; i < list.length; i++) {
    const b = list[i];
    if (ms >= b.start && ms < b.end) {
      if (i > 0) {
        list.splice(i, 1);
        list.unshift(b);
      }
      return b;
    }
  }
  return undefined;
}

function remember<T>(list: T[], b: T): T {
  list.unshift(b);
  if (list.length > CACHE_SIZE) list.pop();
  return b;
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
  const ms = date.getTime();
  const hit = lookup(zoneCaches.get(timeZone)?.days, ms);
  if (hit) return hit.key;
  // One Intl call; bounds (several calls) are only worth computing when asked for.
  const p = localParts(ms, timeZone);
  return toDayKey(p.year, p.month, p.day);
}

/** 'YYYY-MM' of the local month containing `date`. */
export function monthKey(date: Date, timeZone: string = systemTimeZone()): string {
  const ms = date.getTime();
  const hit = lookup(zoneCaches.get(timeZone)?.months, ms);
  if (hit) return hit.key;
  const p = localParts(ms, timeZone);
  return `${pad4(p.year)}-${pad2(p.month)}`;
}

/** Key, start and exclusive end of the local day containing `date` (a shared, frozen object). */
export function dayBounds(date: Date, timeZone: string = systemTimeZone()): DayBounds {
  const ms = date.getTime();
  const hit = lookup(zoneCaches.get(timeZone)?.days, ms);
  if (hit) return hit;
  const p = localParts(ms, timeZone);
  const next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
  const b: DayBounds = Object.freeze({
    key: toDayKey(p.year, p.month, p.day),
    start: startOfLocalDate(p.year, p.month, p.day, timeZone),
    end: startOfLocalDate(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone),
  });
  return remember(zoneCache(timeZone).days, b); // the zone is valid: localParts did not throw
}

/** Key, length, start and exclusive end of the local month containing `date` (a shared, frozen object). */
export function monthBounds(date: Date, timeZone: string = systemTimeZone()): MonthBounds {
  const ms = date.getTime();
  const hit = lookup(zoneCaches.get(timeZone)?.months, ms);
  if (hit) return hit;
  const p = localParts(ms, timeZone);
  const next = p.month === 12 ? { y: p.year + 1, m: 1 } : { y: p.year, m: p.month + 1 };
  const b: MonthBounds = Object.freeze({
    key: `${pad4(p.year)}-${pad2(p.month)}`,
    year: p.year,
    month: p.month,
    days: daysInMonthOf(p.year, p.month),
    start: startOfLocalDate(p.year, p.month, 1, timeZone),
    end: startOfLocalDate(next.y, next.m, 1, timeZone),
  });
  return remember(zoneCache(timeZone).months, b);
}

export function startOfDay(date: Date, timeZone: string = systemTimeZone()): Date {
  return new Date(dayBounds(date, timeZone).start);
}

/** First instant of the next local day. */
export function endOfDay(date: Date, timeZone: string = systemTimeZone()): Date {
  return new Date(dayBounds(date, timeZone).end);
}

export function startOfMonth(date: Date, timeZone: string = systemTimeZone()): Date {
  return new Date(monthBounds(date, timeZone).start);
}

/** First instant of the next local month. */
export function endOfMonth(date: Date, timeZone: string = systemTimeZone()): Date {
  return new Date(monthBounds(date, timeZone).end);
}

/** Fraction [0, 1) of the local day elapsed at `date` (a DST day is 23 or 25 hours long). */
export function dayFraction(date: Date, timeZone: string = systemTimeZone()): number {
  const b = dayBounds(date, timeZone);
  return (date.getTime() - b.start) / (b.end - b.start);
}

/** Fraction [0, 1) of the local month elapsed at `date`. */
export function monthFraction(date: Date, timeZone: string = systemTimeZone()): number {
  const b = monthBounds(date, timeZone);
  return (date.getTime() - b.start) / (b.end - b.start);
}

/** Number of days in the local month containing `date`. */
export function daysInMonth(date: Date, timeZone: string = systemTimeZone()): number {
  return monthBounds(date, timeZone).days;
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

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const monthLength = (year: number, month: number): number =>
  month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : MONTH_DAYS[month - 1];

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Two ASCII digits at `i` as a number, or NaN. */
function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/**
 * UTC ms of a time in the exact form toISOString() produces ('YYYY-MM-DDTHH:mm:ss.sssZ', a real
 * calendar date), or NaN for any other string. A fast path for hot code: when it returns a number,
 * `new Date(result).toISOString() === s`. Fall back to Date.parse for other forms.
 */
export function parseIsoUtc(s: string): number {
  if (typeof s !== 'string' || s.length !== 24) return NaN;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) {
    return NaN; // '-', '-', 'T', ':', ':', '.', 'Z'
  }
  const year = digits2(s, 0) * 100 + digits2(s, 2);
  const month = digits2(s, 5);
  const day = digits2(s, 8);
  const hour = digits2(s, 11);
  const minute = digits2(s, 14);
  const second = digits2(s, 17);
  const d22 = s.charCodeAt(22) - 48;
  const milli = digits2(s, 20) * 10 + (d22 >= 0 && d22 <= 9 ? d22 : NaN);
  // Every comparison with NaN is false, so a non-digit anywhere fails here.
  if (!(year >= 0 && month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59 && milli >= 0)) return NaN;
  if (day > monthLength(year, month)) return NaN;
  return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli;
}
