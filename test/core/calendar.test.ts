import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addDays,
  addMonths,
  dayBounds,
  dayFraction,
  dayKey,
  daysInMonth,
  endOfDay,
  endOfMonth,
  isDayKey,
  isMonthKey,
  isValidTimeZone,
  monthFraction,
  monthBounds,
  monthKey,
  parseIsoUtc,
  startOfDay,
  startOfMonth,
  systemTimeZone,
  type DayBounds,
} from '../../src/core/calendar';

const NY = 'America/New_York';
const SYD = 'Australia/Sydney';
const HOUR = 3_600_000;
const d = (iso: string): Date => new Date(iso);

describe('calendar keys', () => {
  it('keys a UTC instant by the local date of the zone', () => {
    // 04:30Z is 23:30 the previous evening in New York and 15:30 in Sydney.
    assert.equal(dayKey(d('2026-11-21T04:30:00Z'), NY), '2026-11-20');
    assert.equal(dayKey(d('2026-11-21T04:30:00Z'), SYD), '2026-11-21');
    assert.equal(dayKey(d('2026-11-21T05:30:00Z'), NY), '2026-11-21');
  });

  it('rolls month and year in local time', () => {
    // 13:30Z on Dec 31 is 00:30 on Jan 1 in Sydney (AEDT, +11).
    assert.equal(dayKey(d('2026-12-31T13:30:00Z'), SYD), '2027-01-01');
    assert.equal(monthKey(d('2026-12-31T13:30:00Z'), SYD), '2027-01');
    assert.equal(dayKey(d('2027-01-01T04:30:00Z'), NY), '2026-12-31');
    assert.equal(monthKey(d('2027-01-01T04:30:00Z'), NY), '2026-12');
  });

  it('handles half-hour offsets', () => {
    assert.equal(dayKey(d('2026-06-30T18:29:59Z'), 'Asia/Kolkata'), '2026-06-30');
    assert.equal(dayKey(d('2026-06-30T18:30:00Z'), 'Asia/Kolkata'), '2026-07-01');
  });

  it('defaults to the system time zone', () => {
    const at = d('2026-03-15T12:00:00Z');
    assert.equal(dayKey(at), dayKey(at, systemTimeZone()));
    assert.ok(isValidTimeZone(systemTimeZone()));
  });

  it('rejects an unknown time zone with a clear message', () => {
    assert.equal(isValidTimeZone('Mars/Olympus'), false);
    assert.throws(() => dayKey(new Date(), 'Mars/Olympus'), /Unknown time zone 'Mars\/Olympus'.*IANA/);
  });
});

describe('calendar day bounds across DST', () => {
  it('New York spring forward: a 23-hour day', () => {
    const at = d('2026-03-08T16:00:00Z'); // 12:00 EDT
    assert.equal(startOfDay(at, NY).toISOString(), '2026-03-08T05:00:00.000Z');
    assert.equal(endOfDay(at, NY).toISOString(), '2026-03-09T04:00:00.000Z');
    assert.equal(dayFraction(at, NY), 11 / 23);
  });

  it('New York fall back: a 25-hour day', () => {
    const b = dayBounds(d('2026-11-01T12:00:00Z'), NY);
    assert.equal(b.key, '2026-11-01');
    assert.equal(new Date(b.start).toISOString(), '2026-11-01T04:00:00.000Z');
    assert.equal(new Date(b.end).toISOString(), '2026-11-02T05:00:00.000Z');
    assert.equal(b.end - b.start, 25 * HOUR);
  });

  it('Sydney: 23-hour day in October, 25-hour day in April', () => {
    const oct = dayBounds(d('2026-10-04T06:00:00Z'), SYD);
    assert.equal(oct.key, '2026-10-04');
    assert.equal(new Date(oct.start).toISOString(), '2026-10-03T14:00:00.000Z');
    assert.equal(oct.end - oct.start, 23 * HOUR);
    const apr = dayBounds(d('2026-04-05T06:00:00Z'), SYD);
    assert.equal(new Date(apr.start).toISOString(), '2026-04-04T13:00:00.000Z');
    assert.equal(new Date(apr.end).toISOString(), '2026-04-05T14:00:00.000Z');
  });

  it('finds the start of a day whose midnight does not exist (Santiago)', () => {
    // Chile springs forward at 00:00 -> 01:00, so the day starts at 01:00 local.
    const start = startOfDay(d('2026-09-06T15:00:00Z'), 'America/Santiago');
    assert.equal(start.toISOString(), '2026-09-06T04:00:00.000Z');
    assert.equal(dayKey(start, 'America/Santiago'), '2026-09-06');
    assert.equal(dayKey(new Date(start.getTime() - 1000), 'America/Santiago'), '2026-09-05');
  });

  it('finds the start of a day after midnight repeats an hour (Santiago fall back)', () => {
    const b = dayBounds(d('2026-04-04T15:00:00Z'), 'America/Santiago');
    assert.equal(b.key, '2026-04-04');
    assert.equal(new Date(b.end).toISOString(), '2026-04-05T04:00:00.000Z');
    assert.equal(b.end - b.start, 25 * HOUR);
  });

  it('the end of one day is the start of the next', () => {
    for (const tz of [NY, SYD, 'UTC', 'Asia/Kathmandu']) {
      let t = d('2026-01-01T00:00:00Z').getTime();
      for (let i = 0; i < 400; i++) {
        const b = dayBounds(new Date(t), tz);
        assert.equal(dayBounds(new Date(b.end), tz).start, b.end, `${tz} ${b.key}`);
        assert.equal(addDays(b.key, 1), dayKey(new Date(b.end), tz));
        t = b.end + 1;
      }
    }
  });
});

describe('calendar months', () => {
  it('month bounds at a year end', () => {
    const at = d('2027-01-01T04:30:00Z'); // 2026-12-31 23:30 EST
    assert.equal(startOfMonth(at, NY).toISOString(), '2026-12-01T05:00:00.000Z');
    assert.equal(endOfMonth(at, NY).toISOString(), '2027-01-01T05:00:00.000Z');
  });

  it('a month containing a DST change has an extra hour', () => {
    const at = d('2026-11-16T12:00:00Z');
    const start = startOfMonth(at, NY).getTime();
    const end = endOfMonth(at, NY).getTime();
    assert.equal(new Date(start).toISOString(), '2026-11-01T04:00:00.000Z');
    assert.equal(end - start, (30 * 24 + 1) * HOUR);
    assert.equal(monthFraction(at, NY), (at.getTime() - start) / (end - start));
  });

  it('monthFraction is 0 at the start and 0.5 halfway through a 30-day month', () => {
    // Sydney, November 2026 has no DST change: starts 2026-10-31T13:00Z.
    assert.equal(monthFraction(d('2026-10-31T13:00:00Z'), SYD), 0);
    assert.equal(monthFraction(d('2026-11-15T13:00:00Z'), SYD), 0.5);
  });

  it('days in month follow the local month', () => {
    // 14:00Z on Jan 31 is already Feb 1 in Sydney.
    assert.equal(daysInMonth(d('2026-01-31T14:00:00Z'), SYD), 28);
    assert.equal(daysInMonth(d('2026-01-31T14:00:00Z'), NY), 31);
    assert.equal(daysInMonth(d('2028-02-10T12:00:00Z'), NY), 29);
  });

  it('key arithmetic crosses months, years and leap days', () => {
    assert.equal(addDays('2028-02-28', 1), '2028-02-29');
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.equal(addDays('2026-03-01', -1), '2026-02-28');
    assert.equal(addDays('2026-11-21', -94), '2026-08-19');
    assert.equal(addMonths('2026-12', 1), '2027-01');
    assert.equal(addMonths('2026-01', -1), '2025-12');
    assert.throws(() => addDays('21/11/2026', 1), /Expected 'YYYY-MM-DD'/);
  });

  it('validates keys', () => {
    assert.ok(isDayKey('2028-02-29'));
    assert.ok(!isDayKey('2026-02-29'));
    assert.ok(!isDayKey('2026-13-01'));
    assert.ok(isMonthKey('2026-11'));
    assert.ok(!isMonthKey('2026-00'));
    assert.ok(!isMonthKey('2026-11-01'));
  });
});

describe('calendar caches and fast parsing', () => {
  it('monthBounds agrees with startOfMonth/endOfMonth/daysInMonth and is reused within the month', () => {
    for (const tz of [NY, SYD, 'UTC', 'America/Santiago']) {
      let t = d('2025-12-15T00:00:00Z').getTime();
      for (let i = 0; i < 30; i++) {
        const at = new Date(t);
        const b = monthBounds(at, tz);
        assert.equal(b.start, startOfMonth(at, tz).getTime(), `${tz} ${b.key}`);
        assert.equal(b.end, endOfMonth(at, tz).getTime());
        assert.equal(b.days, daysInMonth(at, tz));
        assert.equal(b.key, monthKey(at, tz));
        assert.equal(monthBounds(new Date(b.end - 1), tz), b, 'same cached object for the last instant of the month');
        assert.equal(monthBounds(new Date(b.end), tz).start, b.end);
        t = b.end + 3 * 86_400_000;
      }
    }
  });

  it('cached day bounds answer like fresh ones, also at the exact edges and after the cache is full', () => {
    const tz = 'Asia/Kathmandu';
    const seen = new Map<string, DayBounds>();
    for (let round = 0; round < 2; round++) {
      let t = d('2026-03-01T00:00:00Z').getTime();
      for (let i = 0; i < 40; i++) {
        const b = dayBounds(new Date(t), tz);
        const first = seen.get(b.key) ?? b;
        seen.set(b.key, first);
        assert.deepEqual({ ...b }, { ...first });
        assert.equal(dayKey(new Date(b.start), tz), b.key);
        assert.equal(dayKey(new Date(b.end - 1), tz), b.key);
        assert.equal(dayKey(new Date(b.end), tz), addDays(b.key, 1));
        assert.ok(Object.isFrozen(b), 'shared bounds cannot be changed by a caller');
        t = b.end + 1;
      }
    }
  });

  it('parseIsoUtc reads exactly what toISOString writes and nothing else', () => {
    for (const ms of [0, -1, 951_782_400_000, 1_772_409_599_999, 253_402_300_799_999, -62_167_219_200_000, Date.parse('2028-02-29T23:59:59.999Z')]) {
      const iso = new Date(ms).toISOString();
      assert.equal(parseIsoUtc(iso), ms, iso);
    }
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 48271) % 2147483647;
      const ms = Math.floor((seed / 2147483647) * 4e12);
      assert.equal(parseIsoUtc(new Date(ms).toISOString()), ms);
    }
    for (const s of [
      '2026-02-29T00:00:00.000Z', // not a leap year (Date.parse rolls it over to March 1)
      '1900-02-29T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-11-21T24:00:00.000Z',
      '2026-11-21T23:60:00.000Z',
      '2026-11-21T23:59:60.000Z',
      '2026-00-10T00:00:00.000Z',
      '2026-11-00T00:00:00.000Z',
      '2026-11-21T17:00:00Z',
      '2026-11-21T17:00:00.000+00:00',
      '2026-11-21 17:00:00.000Z',
      '2026-11-21T17:00:00.00aZ',
      '2o26-11-21T17:00:00.000Z',
      '',
    ]) {
      assert.ok(Number.isNaN(parseIsoUtc(s)), s);
    }
  });
});
