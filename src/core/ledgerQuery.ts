// The usage ledger's queries: what Ledger answers, computed from one LedgerData.
import { addDays } from './calendar';
import { NANOS_PER_USD, addRollup, emptyRollup, lastN, type Bucket, type LedgerData, type ModelEntry, type ProviderState, type Rollup } from './ledgerData';
import { PRICE_KINDS, type PriceKind, type UsageEvent } from './types';

export interface Totals {
  requests: number;
  failures: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  /** Requests to models with no known price (recorded at $0), and their tokens: cost the budget cannot see. */
  unpricedRequests: number;
  unpricedTokens: number;
  /** Absent when no request in the set reported a latency. */
  meanLatencyMs?: number;
  /** (requests - failures) / requests; 1 when there were no requests. */
  successRate: number;
}

export type UsageGroupBy = 'day' | 'provider' | 'model';

export interface UsageQuery {
  /** Local days up to and including today. Default 30. Windows reaching past the daily
   * retention are widened to whole months (see UsageReport.from). */
  days?: number;
  /** The window ends this many local days before today (default 0: it ends today); with
   * days 1 and endDaysAgo 1 it is yesterday. */
  endDaysAgo?: number;
  provider?: string;
  model?: string;
  groupBy?: UsageGroupBy;
}

export interface RecentQuery {
  /** Only events on the last `days` local days, up to and including today. */
  days?: number;
  provider?: string;
}

export type UsageGroup = { key: string; provider?: string; model?: string } & Totals;

export interface UsageReport {
  /** First local day covered ('YYYY-MM-DD'). */
  from: string;
  /** Last local day covered (today, unless the query ends earlier). */
  to: string;
  totals: Totals;
  /** groupBy 'day': days with activity, ascending; periods older than the daily retention are
   * keyed by month ('YYYY-MM'). groupBy 'provider' | 'model': by cost, descending. */
  groups: UsageGroup[];
}

export interface DailySeries {
  /** Every local day of the window, ascending. */
  days: string[];
  /** One entry per provider (or provider×model), cost in USD per day aligned with `days`. */
  series: Array<{ key: string; provider: string; model?: string; costUsd: number[] }>;
}

export interface ProviderStats {
  provider: string;
  /** Since the last reset. */
  requests: number;
  failures: number;
  successRate: number;
  /** Over the most recent `latencySampleSize` requests that reported a latency. */
  meanLatencyMs?: number;
  p95LatencyMs?: number;
  lastError?: { at: string; message: string };
  lastSuccessAt?: string;
}

export interface LedgerExportRow extends Omit<Totals, 'successRate'> {
  /** 'YYYY-MM-DD', or 'YYYY-MM' for periods kept only as monthly rollups. */
  period: string;
  granularity: 'day' | 'month';
  provider: string;
  model: string;
  /** Priced requests by what priced them; requests recorded before this was kept are in none. */
  pricedBy: Record<PriceKind, number>;
}


/** Where a query stands: the ledger's today and retention. */
export interface QueryWindow {
  /** Today's local day key. */
  today: string;
  /** The first day kept at daily resolution. */
  cutoff: string;
  dailyRetentionDays: number;
  recentLimit: number;
  dayKeyOf(ms: number): string;
}

export function toTotals(r: Rollup): Totals {
  const t: Totals = {
    requests: r.requests,
    failures: r.failures,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    cacheReadTokens: r.cacheReadTokens,
    cacheWriteTokens: r.cacheWriteTokens,
    costUsd: r.costNanos / NANOS_PER_USD,
    unpricedRequests: r.unpricedRequests,
    unpricedTokens: r.unpricedTokens,
    successRate: r.requests > 0 ? (r.requests - r.failures) / r.requests : 1,
  };
  if (r.latencyCount > 0) t.meanLatencyMs = Math.round((r.latencySumMs / r.latencyCount) * 10) / 10;
  return t;
}

export function usageReport(data: LedgerData, opts: UsageQuery, w: QueryWindow): UsageReport {
  const days = clampDays(opts.days ?? 30);
  const endDaysAgo = opts.endDaysAgo !== undefined && Number.isFinite(opts.endDaysAgo) ? Math.min(36_600, Math.max(0, Math.floor(opts.endDaysAgo))) : 0;
  const to = addDays(w.today, -endDaysAgo);
  let from = addDays(to, -(days - 1));
  const useMonths = from < w.cutoff;
  if (useMonths) from = from.slice(0, 7) + '-01';
  const fromMonth = from.slice(0, 7);
  const toMonth = to.slice(0, 7);

  const totals = emptyRollup();
  // Keyed by the period, the provider name or the model index: no key strings built per rollup.
  const groups = new Map<string | number, UsageGroupAcc>();
  const visit = (period: string, byModel: Map<number, Rollup>): void => {
    for (const [id, r] of byModel) {
      const m = data.models[id];
      if (opts.provider !== undefined && m.provider !== opts.provider) continue;
      if (opts.model !== undefined && m.model !== opts.model) continue;
      addRollup(totals, r);
      if (!opts.groupBy) continue;
      const g = groupFor(groups, opts.groupBy, period, id, m);
      addRollup(g.rollup, r);
    }
  };
  if (useMonths) for (const [k, b] of data.months) if (k >= fromMonth && k <= toMonth) visit(k, b.byModel);
  for (const [k, b] of data.days) if (k >= from && k <= to) visit(k, b.byModel);

  const out: UsageGroup[] = [...groups.values()].map((g) => ({ key: g.key, ...(g.provider !== undefined && { provider: g.provider }), ...(g.model !== undefined && { model: g.model }), ...toTotals(g.rollup) }));
  if (opts.groupBy === 'day') out.sort((a, b) => cmp(a.key, b.key));
  else out.sort((a, b) => b.costUsd - a.costUsd || cmp(a.key, b.key));
  return { from, to, totals: toTotals(totals), groups: out };
}

/** USD spent in a local day ('YYYY-MM-DD') or month ('YYYY-MM') of this ledger's time zone. */
export function spentIn(data: LedgerData, periodKey: string): number {
  if (periodKey.length === 10) return (data.days.get(periodKey)?.costNanos ?? 0) / NANOS_PER_USD;
  return ((data.months.get(periodKey)?.costNanos ?? 0) + (data.dayCostByMonth.get(periodKey) ?? 0)) / NANOS_PER_USD;
}

/** Requests to unpriced models, and their tokens, in a local day ('YYYY-MM-DD') or month ('YYYY-MM'). */
export function unpricedIn(data: LedgerData, periodKey: string): { requests: number; tokens: number } {
  const out = { requests: 0, tokens: 0 };
  const add = (b: Bucket | undefined): void => {
    for (const r of b?.byModel.values() ?? []) {
      out.requests += r.unpricedRequests;
      out.tokens += r.unpricedTokens;
    }
  };
  if (periodKey.length === 10) add(data.days.get(periodKey));
  else {
    add(data.months.get(periodKey));
    for (const [k, b] of data.days) if (k.startsWith(periodKey)) add(b);
  }
  return out;
}

/** Cost per local day for the last `days` days (at most the daily retention), zero-filled. */
export function dailySeries(data: LedgerData, days: number, groupBy: 'provider' | 'model', w: QueryWindow): DailySeries {
  const n = Math.min(clampDays(days), w.dailyRetentionDays);
  const to = w.today;
  const keys: string[] = [];
  for (let i = n - 1; i >= 0; i--) keys.push(addDays(to, -i));
  const series = new Map<string, { key: string; provider: string; model?: string; nanos: number[]; total: number }>();
  keys.forEach((day, i) => {
    const b = data.days.get(day);
    if (!b) return;
    for (const [id, r] of b.byModel) {
      const m = data.models[id];
      const key = groupBy === 'provider' ? m.provider : `${m.provider}/${m.model}`;
      let s = series.get(key);
      if (!s) {
        s = { key, provider: m.provider, nanos: new Array<number>(n).fill(0), total: 0 };
        if (groupBy === 'model') s.model = m.model;
        series.set(key, s);
      }
      s.nanos[i] += r.costNanos;
      s.total += r.costNanos;
    }
  });
  return {
    days: keys,
    series: [...series.values()]
      .sort((a, b) => b.total - a.total || cmp(a.key, b.key))
      .map(({ key, provider, model, nanos }) => ({ key, provider, ...(model !== undefined && { model }), costUsd: nanos.map((v) => v / NANOS_PER_USD) })),
  };
}

/**
 * The newest of the kept raw events first, by their time (events may be recorded out of order,
 * e.g. reported late by a tool); equal times keep the later-recorded one first. At most `limit`
 * (and `recentLimit`). With `days`, only events on the last `days` local days up to today; with
 * `provider`, only that provider's.
 */
export function recentEvents(data: LedgerData, limit: number, filter: RecentQuery, w: QueryWindow): UsageEvent[] {
  const n = Math.min(Math.max(0, Math.floor(limit)), w.recentLimit);
  const to = filter.days === undefined ? undefined : w.today;
  const from = to === undefined ? undefined : addDays(to, -(clampDays(filter.days!) - 1));
  const picked: { e: UsageEvent; ms: number; i: number }[] = [];
  lastN(data.recent, w.recentLimit).forEach((e, i) => {
    if (filter.provider !== undefined && e.provider !== filter.provider) return;
    const ms = Date.parse(e.at);
    if (from !== undefined && to !== undefined) {
      const key = w.dayKeyOf(ms);
      if (key < from || key > to) return;
    }
    picked.push({ e, ms, i });
  });
  return picked
    .sort((a, b) => b.ms - a.ms || b.i - a.i)
    .slice(0, n)
    .map((p) => p.e);
}

export function providerStats(provider: string, p: ProviderState | undefined, latencySampleSize: number): ProviderStats {
  const s: ProviderStats = {
    provider,
    requests: p?.requests ?? 0,
    failures: p?.failures ?? 0,
    successRate: p && p.requests > 0 ? (p.requests - p.failures) / p.requests : 1,
  };
  if (!p) return s;
  const sample = lastN(p.latencies, latencySampleSize);
  if (sample.length > 0) {
    s.meanLatencyMs = Math.round((sample.reduce((a, b) => a + b, 0) / sample.length) * 10) / 10;
    sample.sort((a, b) => a - b);
    s.p95LatencyMs = sample[Math.ceil(0.95 * sample.length) - 1];
  }
  if (p.lastErrorAt > 0) s.lastError = { at: new Date(p.lastErrorAt).toISOString(), message: p.lastErrorMessage };
  if (p.lastSuccessAt > 0) s.lastSuccessAt = new Date(p.lastSuccessAt).toISOString();
  return s;
}

/** One row per day (or month, for compacted periods) × provider × model, oldest first. */
export function exportRows(data: LedgerData): LedgerExportRow[] {
  const rows: LedgerExportRow[] = [];
  const add = (period: string, granularity: 'day' | 'month', b: Bucket): void => {
    for (const [id, r] of b.byModel) {
      const m = data.models[id];
      const { successRate, ...totals } = toTotals(r);
      void successRate; // not meaningful per row; failures are exported instead
      const pricedBy = Object.fromEntries(PRICE_KINDS.map((k, i) => [k, r.pricedBy[i]])) as Record<PriceKind, number>;
      rows.push({ period, granularity, provider: m.provider, model: m.model, ...totals, pricedBy });
    }
  };
  for (const [k, b] of data.months) add(k, 'month', b);
  for (const [k, b] of data.days) add(k, 'day', b);
  return rows.sort((a, b) => cmp(a.period, b.period) || cmp(a.provider, b.provider) || cmp(a.model, b.model));
}

interface UsageGroupAcc {
  key: string;
  provider?: string;
  model?: string;
  rollup: Rollup;
}

function groupFor(groups: Map<string | number, UsageGroupAcc>, by: UsageGroupBy, period: string, modelId: number, m: ModelEntry): UsageGroupAcc {
  const mapKey = by === 'day' ? period : by === 'provider' ? m.provider : modelId;
  let g = groups.get(mapKey);
  if (!g) {
    const key = by === 'day' ? period : by === 'provider' ? m.provider : `${m.provider}/${m.model}`;
    g = { key, rollup: emptyRollup() };
    if (by !== 'day') g.provider = m.provider;
    if (by === 'model') g.model = m.model;
    groups.set(mapKey, g);
  }
  return g;
}


export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function clampDays(days: number): number {
  if (!Number.isFinite(days)) return 36_600;
  return Math.min(36_600, Math.max(1, Math.floor(days)));
}
