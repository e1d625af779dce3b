import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkBudget, parseAlertPercent, parseLimitInput, settleLimit, thresholdProblem, wouldExceed, type BudgetConfig } from '../../src/core/budget';
import { Ledger } from '../../src/core/ledger';
import { MemoryState, TestClock } from '../support/ports';

const SYD = 'Australia/Sydney'; // AEDT, UTC+11, throughout November 2026

function setup(nowIso: string) {
  const clock = new TestClock(nowIso);
  const ledger = new Ledger(new MemoryState({ copy: 'none' }), { clock, timeZone: SYD, flushDelayMs: 1 });
  const spend = (atIso: string, usd: number): void =>
    ledger.record({ at: atIso, provider: 'openai', model: 'gpt-4o', inputTokens: 10, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: usd, success: true });
  const at = (iso: string): Date => {
    clock.set(iso);
    return clock.now();
  };
  return { ledger, spend, at };
}

const close = (actual: number, expected: number, what = 'value'): void => assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} is not ${expected}`);

const config: BudgetConfig = { daily: 10, monthly: 100, alertThreshold: 0.8, enforce: true };

describe('checkBudget', () => {
  it('resets the day at local midnight, not UTC midnight', () => {
    const { ledger, spend, at } = setup('2026-11-21T12:55:00Z');
    spend('2026-11-21T12:50:00Z', 9); // 23:50 local
    const before = checkBudget(ledger, config, at('2026-11-21T12:55:00Z')); // 23:55 local
    assert.equal(before.day.key, '2026-11-21');
    assert.equal(before.day.spent, 9);
    assert.equal(before.day.percent, 90);
    assert.equal(before.day.remaining, 1);
    assert.equal(before.day.alert, true);
    assert.equal(before.day.exceeded, false);
    assert.equal(before.anyAlert, true);

    const after = checkBudget(ledger, config, at('2026-11-21T13:05:00Z')); // 00:05 next day, same UTC day
    assert.equal(after.day.key, '2026-11-22');
    assert.equal(after.day.spent, 0);
    assert.equal(after.day.alert, false);
    assert.equal(after.month.key, '2026-11');
    assert.equal(after.month.spent, 9);
  });

  it('resets the month at the local month end', () => {
    const { ledger, spend, at } = setup('2026-11-30T12:45:00Z');
    spend('2026-11-30T12:30:00Z', 50); // 23:30 on Nov 30 local
    const lastMinutes = checkBudget(ledger, config, at('2026-11-30T12:45:00Z'));
    assert.equal(lastMinutes.month.key, '2026-11');
    assert.equal(lastMinutes.month.spent, 50);
    assert.equal(lastMinutes.month.percent, 50);
    const nextMonth = checkBudget(ledger, config, at('2026-11-30T13:30:00Z')); // 00:30 Dec 1 local, still Nov 30 UTC
    assert.equal(nextMonth.month.key, '2026-12');
    assert.equal(nextMonth.day.key, '2026-12-01');
    assert.equal(nextMonth.month.spent, 0);
    assert.equal(nextMonth.day.spent, 0);
  });

  it('alerts at the threshold and flags exceeded at the limit', () => {
    const { ledger, spend, at } = setup('2026-11-21T01:00:00Z');
    for (let i = 0; i < 79; i++) spend('2026-11-21T00:30:00Z', 0.1);
    const now = at('2026-11-21T01:00:00Z');
    assert.equal(checkBudget(ledger, config, now).day.alert, false);
    spend('2026-11-21T00:30:00Z', 0.1); // exactly 8.00 = 80 %
    const at80 = checkBudget(ledger, config, now);
    assert.equal(at80.day.spent, 8);
    assert.equal(at80.day.alert, true);
    assert.equal(at80.day.exceeded, false);
    spend('2026-11-21T00:30:00Z', 2);
    const full = checkBudget(ledger, config, now);
    assert.equal(full.day.exceeded, true);
    assert.equal(full.day.remaining, 0);
    assert.equal(full.anyExceeded, true);
    assert.equal(full.month.exceeded, false);
    assert.equal(full.enforce, true);
  });

  it('treats a limit of 0 as no limit', () => {
    const { ledger, spend, at } = setup('2026-11-21T01:00:00Z');
    spend('2026-11-21T00:30:00Z', 500);
    const s = checkBudget(ledger, { daily: 0, monthly: 0, alertThreshold: 0.8, enforce: false }, at('2026-11-21T01:00:00Z'));
    for (const p of [s.day, s.month]) {
      assert.equal(p.spent, 500);
      assert.equal(p.limit, null);
      assert.equal(p.remaining, null);
      assert.equal(p.percent, null);
      assert.equal(p.alert, false);
      assert.equal(p.exceeded, false);
    }
    assert.equal(s.anyAlert || s.anyExceeded, false);
    assert.equal(wouldExceed(s, 1e6), false);
  });

  it('projects spend at the average of the last 7 days, across the month boundary', () => {
    const { ledger, spend, at } = setup('2026-11-21T01:00:00Z');
    spend('2026-11-15T02:00:00Z', 14); // Nov 15 local: 7 days before Nov 22, outside the window
    spend('2026-11-16T02:00:00Z', 6); // Nov 16 local
    spend('2026-11-20T23:00:00Z', 6); // Nov 21 10:00 local
    // Local noon on Nov 22: the window is Nov 16 – Nov 22 so far, 6.5 days; $12 in it.
    const noon = checkBudget(ledger, config, at('2026-11-22T01:00:00Z'));
    assert.equal(noon.burnRate.windowDays, 6.5);
    close(noon.burnRate.usdPerDay, 12 / 6.5);
    assert.equal(noon.day.spent, 0);
    close(noon.day.projected, (12 / 6.5) * 0.5, 'today: nothing yet, plus half a day at the rate');
    // November: $26 spent, 8.5 days left (Nov 22 noon to Dec 1 00:00, no DST change in Sydney in November).
    close(noon.month.projected, 26 + (12 / 6.5) * 8.5);
  });

  it('does not turn one request just after midnight on the 1st into a month of that pace', () => {
    const { ledger, spend, at } = setup('2026-10-31T13:01:00Z');
    spend('2026-10-31T13:00:30Z', 1); // first minute of Nov 1 local; nothing in October
    const s = checkBudget(ledger, config, at('2026-10-31T13:01:00Z'));
    assert.equal(s.day.key, '2026-11-01');
    const windowDays = 6 + 60_000 / 86_400_000; // six empty days before it, and one minute of today
    close(s.burnRate.windowDays, windowDays);
    close(s.burnRate.usdPerDay, 1 / windowDays);
    assert.ok(s.day.projected < 1.2, `today projects to ${s.day.projected}, not 1440× the first minute`);
    assert.ok(s.month.projected < 6, `the month projects to ${s.month.projected}, not 30× the first day`);
    close(s.month.projected, 1 + (1 / windowDays) * (30 - 60_000 / 86_400_000));
  });

  it('falls back to an 0.8 threshold when the setting is invalid', () => {
    const { ledger, spend, at } = setup('2026-11-21T01:00:00Z');
    spend('2026-11-21T00:30:00Z', 8.5);
    const now = at('2026-11-21T01:00:00Z');
    assert.equal(checkBudget(ledger, { ...config, alertThreshold: Number.NaN }, now).day.alert, true);
    assert.equal(checkBudget(ledger, { ...config, alertThreshold: 0.9 }, now).day.alert, false);
  });
});

describe('wouldExceed', () => {
  it('checks a period and both periods of a status', () => {
    const { ledger, spend, at } = setup('2026-11-21T01:00:00Z');
    spend('2026-11-21T00:30:00Z', 9);
    const s = checkBudget(ledger, config, at('2026-11-21T01:00:00Z'));
    assert.equal(wouldExceed(s.day, 0.5), false);
    assert.equal(wouldExceed(s.day, 1), false); // reaching the limit is not going over it
    assert.equal(wouldExceed(s.day, 1.5), true);
    assert.equal(wouldExceed(s, 1.5), true);
    assert.equal(wouldExceed(s.month, 1.5), false);
    const monthOnly = checkBudget(ledger, { ...config, daily: 0, monthly: 9.2 }, at('2026-11-21T01:00:00Z'));
    assert.equal(wouldExceed(monthOnly, 0.5), true);
    assert.equal(wouldExceed(monthOnly, 0.1), false);
  });
});

describe('checkBudget remaining', () => {
  it('is exact to the nano-dollar, without float noise', () => {
    const { ledger, spend, at } = setup('2026-11-21T12:55:00Z');
    spend('2026-11-21T12:50:00Z', 4.99);
    const s = checkBudget(ledger, { ...config, daily: 5 }, at('2026-11-21T12:55:00Z'));
    assert.equal(s.day.remaining, 0.01);
  });
});

describe('settleLimit', () => {
  it('keeps a valid limit, and turns any other positive amount into the nearest stricter one', () => {
    assert.deepEqual(settleLimit(12.5), { limit: 12.5 });
    assert.deepEqual(settleLimit(0), { limit: 0 });
    for (const [v, limit] of [[1e-320, 0.01], [0.001, 0.01], [12.345, 12.34], [0.29, 0.29], [1e12, 10_000_000]] as const) {
      const r = settleLimit(v);
      assert.equal(r.limit, limit, String(v));
      assert.equal(limit === 0.29 ? r.problem : typeof r.problem, limit === 0.29 ? undefined : 'string', String(v));
    }
    assert.deepEqual(settleLimit(' 10.5 '), { limit: 10.5, problem: 'must be a number, not text in quotes' });
    for (const v of ['ten', '-5', -5, NaN, null]) assert.equal(settleLimit(v).limit, 0, String(v));
  });
});

describe('budget input rules (one place for every surface)', () => {
  it('reads limits and alert percentages as people type them, with the same rules as the settings', () => {
    assert.deepEqual(parseLimitInput(''), { limit: 0 });
    assert.deepEqual(parseLimitInput(' $12.50 '), { limit: 12.5 });
    assert.deepEqual(parseLimitInput('0.001'), { problem: 'The limit must be 0 (no limit) or at least 0.01 (one cent).' });
    assert.deepEqual(parseLimitInput('12.345'), { problem: 'The limit must be in whole cents, e.g. 12.50.' });
    assert.deepEqual(parseLimitInput('-3'), { problem: 'Enter an amount in USD ≥ 0, e.g. 10 or 2.50.' });
    assert.deepEqual(['80%', '80', '0.8', ' 100% ', '0%', '150%', 'x', ''].map(parseAlertPercent), [0.8, 0.8, 0.8, 1, undefined, undefined, undefined, undefined]);
    assert.equal(thresholdProblem(0.5), undefined);
    assert.match(thresholdProblem(1.5)!, /fraction above 0 and at most 1/);
  });
});
