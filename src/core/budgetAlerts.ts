// Which budget alerts to raise: each period (this day, this month) alerts once when it crosses
// the alert threshold and once more when it is exceeded. What was raised is kept by the caller
// (in state), so a reload does not raise the same alert again.
import type { BudgetStatus, BurnRate, PeriodStatus } from './budget';
import { formatUsd, formatUsdLimit } from './money';

export type AlertLevel = 'alert' | 'exceeded';

export interface BudgetAlert {
  period: 'day' | 'month';
  level: AlertLevel;
  status: PeriodStatus;
  enforce: boolean;
  burnRate: BurnRate;
}

/** Per period: the period key and the highest level raised in it, e.g. { day: '2026-11-29:alert' }. */
export type RaisedAlerts = Partial<Record<'day' | 'month', string>>;

const RANK: Record<AlertLevel | 'none', number> = { none: 0, alert: 1, exceeded: 2 };

function levelOf(p: PeriodStatus): AlertLevel | 'none' {
  return p.exceeded ? 'exceeded' : p.alert ? 'alert' : 'none';
}

function raisedLevel(raised: string | undefined, key: string): AlertLevel | 'none' {
  if (!raised) return 'none';
  const i = raised.lastIndexOf(':');
  if (raised.slice(0, i) !== key) return 'none';
  const level = raised.slice(i + 1);
  return level === 'alert' || level === 'exceeded' ? level : 'none';
}

/** The alerts to raise now, and what to remember as raised. */
export function budgetAlerts(status: BudgetStatus, raised: RaisedAlerts): { alerts: BudgetAlert[]; raised: RaisedAlerts } {
  const alerts: BudgetAlert[] = [];
  const next: RaisedAlerts = { ...raised };
  for (const p of [status.day, status.month]) {
    // Nothing spent (a new period, or the ledger was reset): alert afresh when it crosses again.
    if (p.spent === 0) delete next[p.period];
    const level = levelOf(p);
    if (level === 'none' || RANK[level] <= RANK[raisedLevel(raised[p.period], p.key)]) continue;
    alerts.push({ period: p.period, level, status: p, enforce: status.enforce, burnRate: status.burnRate });
    next[p.period] = `${p.key}:${level}`;
  }
  return { alerts, raised: next };
}

/** The notification text: where spend stands, and what happens next. */
export function alertMessage(a: BudgetAlert): string {
  const p = a.status;
  const when = a.period === 'day' ? 'today' : 'this month';
  const budget = a.period === 'day' ? 'daily' : 'monthly';
  const head = `AI spend ${when} is ${formatUsd(p.spent)} of your ${formatUsdLimit(p.limit ?? 0)} ${budget} budget (${Math.round(p.percent ?? 0)}%).`;
  if (a.level === 'alert') return `${head} At the last ${a.burnRate.days} days' average (${formatUsd(a.burnRate.usdPerDay)}/day) it reaches ${formatUsd(p.projected)} by the end of the ${a.period}.`;
  return `${head} ${a.enforce ? 'Routing now refuses or downgrades requests to cheaper or local models.' : "Budget enforcement is off, so routing still uses paid models: turn on 'aiKeyManager.budget.enforce' to stop that."}`;
}
