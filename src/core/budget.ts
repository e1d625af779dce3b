// Daily and monthly budget status from the usage ledger, in local calendar periods.
import { addDays, dayBounds, monthBounds } from './calendar';
import { formatUsdLimit } from './money';
import { NANOS_PER_USD } from './ledger';
import type { Ledger } from './ledger';

export interface BudgetConfig {
  /** USD per local day; 0 = no limit. */
  daily: number;
  /** USD per local month; 0 = no limit. */
  monthly: number;
  /** Fraction of a limit at which to alert, e.g. 0.8. */
  alertThreshold: number;
  enforce: boolean;
}

export interface PeriodStatus {
  period: 'day' | 'month';
  /** '2026-11-21' or '2026-11'. */
  key: string;
  spent: number;
  limit: number | null;
  /** limit - spent, never below 0. */
  remaining: number | null;
  /** spent / limit as a percentage (80 = 80 %). */
  percent: number | null;
  /** spent >= alertThreshold × limit. */
  alert: boolean;
  /** spent >= limit. */
  exceeded: boolean;
  /**
   * Spend at the end of the period: what is spent plus the burn rate (BudgetStatus.burnRate) for the
   * time left in it.
   */
  projected: number;
  /** Requests in the period to models with no known price, and their tokens: not in `spent`. */
  unpriced: { requests: number; tokens: number };
}

/** The rate projections use: the average daily spend of the trailing window, days without spend as $0. */
export interface BurnRate {
  usdPerDay: number;
  /** The window, in local days: BURN_RATE_DAYS (this one and the ones before it). */
  days: number;
  /** Its exact length in days: the days before today, and today so far. */
  windowDays: number;
}

export interface BudgetStatus {
  day: PeriodStatus;
  month: PeriodStatus;
  enforce: boolean;
  anyExceeded: boolean;
  anyAlert: boolean;
  burnRate: BurnRate;
}

/**
 * Projections use the average of the last 7 days (this one so far and the 6 before it, across a month
 * boundary), not this period's pace: one request just after midnight on the 1st is 1/6 of a day's
 * worth, not a 30th of the month.
 */
export const BURN_RATE_DAYS = 7;

/** The largest limit accepted, in USD. */
export const MAX_LIMIT_USD = 10_000_000;

/** The budget when nothing is set: no limits, alerts at 80%, warnings only. Every host starts from it. */
export const DEFAULT_BUDGET: Readonly<BudgetConfig> = Object.freeze({ daily: 0, monthly: 0, alertThreshold: 0.8, enforce: false });

/** Why `value` cannot be the alert threshold, or undefined when it can: a fraction above 0, at most 1. */
export function thresholdProblem(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= 1) return undefined;
  return 'must be a fraction above 0 and at most 1, e.g. 0.8 for 80%';
}

/** A limit as a person types it: "", "$10" or "12.50" → dollars (empty is 0, no limit), or why it is none. */
export function parseLimitInput(s: string): { limit: number; problem?: undefined } | { limit?: undefined; problem: string } {
  const t = s.trim().replace(/^\$/, '');
  if (t === '') return { limit: 0 };
  if (!/^\d*\.?\d+$/.test(t)) return { problem: 'Enter an amount in USD ≥ 0, e.g. 10 or 2.50.' };
  const problem = limitProblem(Number(t));
  return problem === undefined ? { limit: Number(t) } : { problem: `The limit ${problem}.` };
}

/** "80%", "80" or "0.8" → 0.8; undefined when it is no percentage from above 0 to 100%. */
export function parseAlertPercent(s: string): number | undefined {
  const t = s.trim();
  const n = Number(t.replace(/%$/, ''));
  if (!Number.isFinite(n) || t === '') return undefined;
  const f = t.endsWith('%') || n > 1 ? n / 100 : n;
  return thresholdProblem(f) === undefined ? f : undefined;
}

/**
 * Why `value` cannot be a daily or monthly limit, or undefined when it can: a finite number of
 * US dollars in whole cents, 0 (no limit) or from $0.01 to MAX_LIMIT_USD. (1e-320 was saved once,
 * and every budget reply then failed on an infinite percentage.)
 */
export function limitProblem(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a number of US dollars, e.g. 10 or 12.50';
  if (value < 0) return 'must be 0 (no limit) or more';
  if (value > MAX_LIMIT_USD) return `must be at most ${MAX_LIMIT_USD.toLocaleString('en-US')}`;
  if (value !== 0 && value < 0.01) return 'must be 0 (no limit) or at least 0.01 (one cent)';
  if (Math.abs(value * 100 - Math.round(value * 100)) > 1e-6) return 'must be in whole cents, e.g. 12.50';
  return undefined;
}

/**
 * The limit a stored setting means, failing closed: a positive value that is not a whole number of
 * cents becomes the nearest stricter one (1e-320 → $0.01, 12.345 → $12.34, above the maximum → the
 * maximum; "10" → $10), with `problem` saying why. Only a value that is no amount at all gives no limit.
 */
export function settleLimit(value: unknown): { limit: number; problem?: string } {
  if (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)) {
    return { limit: settleLimit(Number(value)).limit, problem: 'must be a number, not text in quotes' };
  }
  const problem = limitProblem(value);
  if (problem === undefined) return { limit: value as number };
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    return { limit: value === Infinity ? MAX_LIMIT_USD : 0, problem };
  }
  if (value > MAX_LIMIT_USD) return { limit: MAX_LIMIT_USD, problem };
  return { limit: Math.max(0.01, Math.floor(value * 100 + 1e-6) / 100), problem };
}

/**
 * What a budget change loosens: a limit raised or removed, enforcement turned off, or alerts moved
 * later. Tightening (lower limits, enforcement on) is never listed.
 */
export function loosenedBy(current: BudgetConfig, patch: Partial<BudgetConfig>): string[] {
  const out: string[] = [];
  const limit = (name: 'daily' | 'monthly'): void => {
    const next = patch[name];
    if (next === undefined || next === current[name]) return;
    if (next === 0 && current[name] > 0) out.push(`remove the ${name} limit of ${formatUsdLimit(current[name])}`);
    else if (current[name] > 0 && next > current[name]) out.push(`raise the ${name} limit from ${formatUsdLimit(current[name])} to ${formatUsdLimit(next)}`);
  };
  limit('daily');
  limit('monthly');
  if (patch.enforce === false && current.enforce) out.push('turn budget enforcement off');
  if (patch.alertThreshold !== undefined && patch.alertThreshold > current.alertThreshold) out.push(`move the alert from ${Math.round(current.alertThreshold * 100)}% to ${Math.round(patch.alertThreshold * 100)}%`);
  return out;
}

// Sub-micro-dollar slack so 8 of 10 at 0.8 alerts despite float rounding.
const EPSILON = 1e-9;

/**
 * Budget status at `now`. Periods are local days/months of `timeZone` (default: the ledger's);
 * pass the ledger's zone unless you know better, since spend is bucketed by the ledger's days.
 */
export function checkBudget(ledger: Ledger, config: BudgetConfig, now: Date, timeZone: string = ledger.timeZone): BudgetStatus {
  const threshold = Number.isFinite(config.alertThreshold) && config.alertThreshold > 0 ? Math.min(config.alertThreshold, 1) : DEFAULT_BUDGET.alertThreshold;
  // Both bounds are cached per zone, so this costs no Intl formatting except on a new day or month.
  const t = now.getTime();
  const day = dayBounds(now, timeZone);
  const month = monthBounds(now, timeZone);
  let windowSpend = ledger.spentIn(day.key);
  for (let i = 1; i < BURN_RATE_DAYS; i++) windowSpend += ledger.spentIn(addDays(day.key, -i));
  const windowDays = BURN_RATE_DAYS - 1 + (t - day.start) / (day.end - day.start);
  const burnRate: BurnRate = { usdPerDay: windowSpend / windowDays, days: BURN_RATE_DAYS, windowDays };
  // Local days, as the window counts them (a 23- or 25-hour day is one day).
  const dayLeft = (day.end - t) / (day.end - day.start);
  const monthLeft = dayLeft + (month.days - Number(day.key.slice(8, 10)));
  const dayStatus = periodStatus('day', day.key, ledger.spentIn(day.key), config.daily, threshold, burnRate.usdPerDay * dayLeft, ledger.unpricedIn(day.key));
  const monthStatus = periodStatus('month', month.key, ledger.spentIn(month.key), config.monthly, threshold, burnRate.usdPerDay * monthLeft, ledger.unpricedIn(month.key));
  return {
    day: dayStatus,
    month: monthStatus,
    enforce: config.enforce === true,
    anyExceeded: dayStatus.exceeded || monthStatus.exceeded,
    anyAlert: dayStatus.alert || monthStatus.alert,
    burnRate,
  };
}

function periodStatus(period: 'day' | 'month', key: string, spent: number, rawLimit: number, threshold: number, rest: number, unpriced: { requests: number; tokens: number }): PeriodStatus {
  const limit = Number.isFinite(rawLimit) && rawLimit > 0 ? rawLimit : null;
  return {
    period,
    key,
    spent,
    limit,
    // In whole nano-dollars, as spend is stored: $5 − $4.99 is $0.01, not 0.010000000000000231.
    remaining: limit === null ? null : Math.max(0, Math.round(limit * NANOS_PER_USD) - Math.round(spent * NANOS_PER_USD)) / NANOS_PER_USD,
    percent: limit === null ? null : (spent / limit) * 100,
    alert: limit !== null && spent >= threshold * limit - EPSILON,
    exceeded: limit !== null && spent >= limit - EPSILON,
    projected: roundMicros(spent + rest),
    unpriced,
  };
}

const roundMicros = (usd: number): number => Math.round(usd * 1e6) / 1e6;

/**
 * Whether spending `additionalCost` more would take a period (or either period of a BudgetStatus)
 * over its limit. A period without a limit never does.
 */
export function wouldExceed(status: PeriodStatus | BudgetStatus, additionalCost: number): boolean {
  if ('day' in status) return wouldExceed(status.day, additionalCost) || wouldExceed(status.month, additionalCost);
  return status.limit !== null && status.spent + Math.max(0, additionalCost) > status.limit + EPSILON;
}
