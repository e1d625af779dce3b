import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { alertMessage, budgetAlerts, type RaisedAlerts } from '../../src/core/budgetAlerts';
import type { BudgetStatus, PeriodStatus } from '../../src/core/budget';

function period(p: 'day' | 'month', key: string, spent: number, limit: number | null, threshold = 0.8): PeriodStatus {
  return {
    period: p,
    key,
    spent,
    limit,
    remaining: limit === null ? null : Math.max(0, limit - spent),
    percent: limit === null ? null : (spent / limit) * 100,
    alert: limit !== null && spent >= threshold * limit,
    exceeded: limit !== null && spent >= limit,
    projected: spent * 2,
    unpriced: { requests: 0, tokens: 0 },
  };
}

function status(day: PeriodStatus, month: PeriodStatus, enforce = false): BudgetStatus {
  return { day, month, enforce, anyAlert: day.alert || month.alert, anyExceeded: day.exceeded || month.exceeded, burnRate: { usdPerDay: 1, days: 7, windowDays: 7 } };
}

describe('budget alerts', () => {
  it('raises nothing under the threshold or without a limit', () => {
    const r = budgetAlerts(status(period('day', '2026-11-29', 7.9, 10), period('month', '2026-11', 500, null)), {});
    assert.deepEqual(r.alerts, []);
    assert.deepEqual(r.raised, {});
  });

  it('raises the alert once, then exceeded once, per period', () => {
    let raised: RaisedAlerts = {};
    const levels: string[][] = [];
    for (const spent of [5, 8, 8.5, 9.9, 10, 12, 15]) {
      const r = budgetAlerts(status(period('day', '2026-11-29', spent, 10), period('month', '2026-11', spent, 100)), raised);
      levels.push(r.alerts.map((a) => `${a.period}:${a.level}`));
      raised = r.raised;
    }
    assert.deepEqual(levels, [[], ['day:alert'], [], [], ['day:exceeded'], [], []]);
    assert.deepEqual(raised, { day: '2026-11-29:exceeded' });
  });

  it('goes straight to exceeded when one request jumps past both levels', () => {
    const r = budgetAlerts(status(period('day', '2026-11-29', 11, 10), period('month', '2026-11', 95, 100), true), {});
    assert.deepEqual(r.alerts.map((a) => [a.period, a.level, a.enforce]), [['day', 'exceeded', true], ['month', 'alert', true]]);
  });

  it('raises again in a new day or month', () => {
    const raised: RaisedAlerts = { day: '2026-11-29:exceeded', month: '2026-11:alert' };
    const r = budgetAlerts(status(period('day', '2026-11-30', 9, 10), period('month', '2026-11', 90, 100)), raised);
    assert.deepEqual(r.alerts.map((a) => `${a.period}:${a.level}`), ['day:alert']);
    assert.deepEqual(r.raised, { day: '2026-11-30:alert', month: '2026-11:alert' });
  });

  it('does not raise the alert again after a limit was lowered and raised within the period', () => {
    const raised: RaisedAlerts = { day: '2026-11-29:exceeded' };
    const r = budgetAlerts(status(period('day', '2026-11-29', 9, 10), period('month', '2026-11', 9, null)), raised);
    assert.deepEqual(r.alerts, []);
  });

  it('alerts afresh after the ledger was reset within the period', () => {
    let raised: RaisedAlerts = { day: '2026-11-29:exceeded' };
    raised = budgetAlerts(status(period('day', '2026-11-29', 0, 10), period('month', '2026-11', 0, null)), raised).raised;
    assert.deepEqual(raised, {});
    const r = budgetAlerts(status(period('day', '2026-11-29', 8, 10), period('month', '2026-11', 8, null)), raised);
    assert.deepEqual(r.alerts.map((a) => `${a.period}:${a.level}`), ['day:alert']);
  });

  it('words the alert with the projection, and exceeded with what enforcement does', () => {
    const day = period('day', '2026-11-29', 8.25, 10);
    const [alert] = budgetAlerts(status(day, period('month', '2026-11', 8.25, null)), {}).alerts;
    assert.equal(alertMessage(alert), "AI spend today is $8.25 of your $10 daily budget (83%). At the last 7 days' average ($1.00/day) it reaches $16.50 by the end of the day.");
    const month = period('month', '2026-11', 1250.5, 1200.5);
    const [over] = budgetAlerts(status(period('day', '2026-11-29', 0, null), month, true), {}).alerts;
    assert.equal(alertMessage(over), 'AI spend this month is $1,250.50 of your $1,200.50 monthly budget (104%). Routing now refuses or downgrades requests to cheaper or local models.');
    const [off] = budgetAlerts(status(period('day', '2026-11-29', 0, null), month, false), {}).alerts;
    assert.match(alertMessage(off), /Budget enforcement is off.*aiKeyManager\.budget\.enforce/);
  });
});
