// Usage ledger: in-memory rollups of UsageEvents, persisted compactly through a StateStore.
//
// Storage model (kept small because VS Code re-serializes workspaceState whole on every update):
// - daily rollups per provider×model for the last `dailyRetentionDays` local days;
// - older days folded into monthly rollups per provider×model (kept `monthlyRetentionMonths`);
// - a ring of the most recent raw events and per-provider health (counters + latency sample).
// Persisted form: provider/model dictionaries, flat integer arrays, cost in micro-dollars.
import { CoalescedWriter, redactSecrets } from './audit';
import { addDays, addMonths, dayBounds, isDayKey, isMonthKey, isValidTimeZone, systemTimeZone, type DayBounds } from './calendar';
import { systemClock, type Clock, type StateStore } from './ports';
import { TASK_TYPES, type TaskType, type UsageEvent } from './types';

export interface LedgerOptions {
  clock?: Clock;
  /** IANA zone used for day/month keys. Default: the system's. */
  timeZone?: string;
  stateKey?: string;
  flushDelayMs?: number;
  /** Raw events kept for recent(). Default 100. */
  recentLimit?: number;
  /** Local days kept at daily resolution, including today. Default (and minimum) 95. */
  dailyRetentionDays?: number;
  /** Months of monthly rollups kept, including the current month. Default 24. */
  monthlyRetentionMonths?: number;
  /** Latencies kept per provider for mean/p95. Default 100. */
  latencySampleSize?: number;
  /** Distinct provider×model pairs tracked; further models are counted as '(other)'. Default 300. */
  maxModels?: number;
}

export interface Totals {
  requests: number;
  failures: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
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

export interface LedgerExportRow {
  /** 'YYYY-MM-DD', or 'YYYY-MM' for periods kept only as monthly rollups. */
  period: string;
  granularity: 'day' | 'month';
  provider: string;
  model: string;
  requests: number;
  failures: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  meanLatencyMs?: number;
}

export type LedgerChange = { kind: 'record'; event: UsageEvent } | { kind: 'reset' };

interface Rollup {
  requests: number;
  failures: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costMicros: number;
  latencySumMs: number;
  latencyCount: number;
}

interface Bucket {
  costMicros: number;
  byModel: Map<number, Rollup>;
}

interface ModelEntry {
  provider: string;
  model: string;
}

interface ProviderState {
  requests: number;
  failures: number;
  latencies: number[];
  lastSuccessAt: number;
  lastErrorAt: number;
  lastErrorMessage: string;
}

// Persisted form (schema version 1).
const SCHEMA_VERSION = 1;
const STRIDE = 10; // model index + the 9 rollup fields
type StoredRecent = [
  atMs: number,
  model: number,
  inputTokens: number,
  outputTokens: number,
  cacheReadTokens: number,
  cacheWriteTokens: number,
  costUsd: number,
  ok: 0 | 1,
  latencyMs: number, // -1: none
  taskType: string, // '': none
  error: string, // '': none
];
type StoredProvider = [provider: number, requests: number, failures: number, lastSuccessMs: number, lastErrorMs: number, lastError: string, latencies: number[]];
interface StoredLedger {
  v: number;
  /** Providers. */
  p: string[];
  /** Models: [provider index, model name]. */
  m: Array<[number, string]>;
  /** Daily rollups: day key → flat [model, requests, failures, in, out, cacheRead, cacheWrite, costMicros, latencySum, latencyCount, ...]. */
  d: Record<string, number[]>;
  /** Monthly rollups, same layout. */
  mo: Record<string, number[]>;
  r: StoredRecent[];
  s: StoredProvider[];
}

const MIN_RETENTION_DAYS = 95;
const OTHER_MODEL = '(other)';
const MAX_ERROR_CHARS = 300;

const emptyRollup = (): Rollup => ({
  requests: 0,
  failures: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costMicros: 0,
  latencySumMs: 0,
  latencyCount: 0,
});

function addRollup(into: Rollup, r: Rollup): void {
  into.requests += r.requests;
  into.failures += r.failures;
  into.inputTokens += r.inputTokens;
  into.outputTokens += r.outputTokens;
  into.cacheReadTokens += r.cacheReadTokens;
  into.cacheWriteTokens += r.cacheWriteTokens;
  into.costMicros += r.costMicros;
  into.latencySumMs += r.latencySumMs;
  into.latencyCount += r.latencyCount;
}

function toTotals(r: Rollup): Totals {
  const t: Totals = {
    requests: r.requests,
    failures: r.failures,
    inputTokens: r.inputTokens,
    outputTokens: r.outputTokens,
    cacheReadTokens: r.cacheReadTokens,
    cacheWriteTokens: r.cacheWriteTokens,
    costUsd: r.costMicros / 1e6,
    successRate: r.requests > 0 ? (r.requests - r.failures) / r.requests : 1,
  };
  if (r.latencyCount > 0) t.meanLatencyMs = Math.round((r.latencySumMs / r.latencyCount) * 10) / 10;
  return t;
}

const clip = (s: string, max: number): string => (s.length > max ? s.slice(0, max - 1) + '…' : s);
const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

function nonNegative(event: UsageEvent, field: keyof UsageEvent): number {
  const v = event[field];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`UsageEvent.${field} must be a non-negative number, got ${String(v)}.`);
  }
  return v;
}

/** Keeps the last `limit` items with amortized O(1) appends. */
function pushBounded<T>(arr: T[], item: T, limit: number): void {
  arr.push(item);
  if (arr.length >= limit * 2) arr.splice(0, arr.length - limit);
}
const lastN = <T>(arr: T[], n: number): T[] => (arr.length > n ? arr.slice(arr.length - n) : arr.slice());

export class Ledger {
  readonly timeZone: string;
  readonly dailyRetentionDays: number;
  /** Problems met while loading (unreadable state, bad time zone). Loading never throws. */
  readonly warnings: string[] = [];

  private readonly clock: Clock;
  private readonly stateKey: string;
  private readonly recentLimit: number;
  private readonly monthlyRetentionMonths: number;
  private readonly latencySampleSize: number;
  private readonly maxModels: number;
  private readonly writer: CoalescedWriter;

  private models: ModelEntry[] = [];
  private modelIds = new Map<string, number>();
  private days = new Map<string, Bucket>();
  private months = new Map<string, Bucket>();
  private recentEvents: UsageEvent[] = [];
  private providers = new Map<string, ProviderState>();

  private todayCache: DayBounds | undefined;
  private eventDayCache: DayBounds | undefined;
  private compactedFor = '';
  private oldestMonthKept = '';

  private readonly changeListeners = new Set<(change: LedgerChange) => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();

  constructor(store: StateStore, opts: LedgerOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.stateKey = opts.stateKey ?? 'aiKeyManager.ledger';
    this.recentLimit = Math.max(1, Math.floor(opts.recentLimit ?? 100));
    this.dailyRetentionDays = Math.max(MIN_RETENTION_DAYS, Math.floor(opts.dailyRetentionDays ?? MIN_RETENTION_DAYS));
    this.monthlyRetentionMonths = Math.max(1, Math.floor(opts.monthlyRetentionMonths ?? 24));
    this.latencySampleSize = Math.max(1, Math.floor(opts.latencySampleSize ?? 100));
    this.maxModels = Math.max(1, Math.floor(opts.maxModels ?? 300));
    let tz = opts.timeZone ?? systemTimeZone();
    if (!isValidTimeZone(tz)) {
      this.warnings.push(`Unknown time zone '${tz}'; using '${systemTimeZone()}' for usage days. Set an IANA name such as 'Europe/Berlin'.`);
      tz = systemTimeZone();
    }
    this.timeZone = tz;
    this.writer = new CoalescedWriter(store, this.stateKey, () => this.toState(), opts.flushDelayMs ?? 250, (err) => this.emitError(err));
    this.load(store);
  }

  // ---- recording -------------------------------------------------------------------------

  /** Adds one event in memory and schedules a coalesced save. Throws RangeError on malformed events. */
  record(event: UsageEvent): void {
    const ms = Date.parse(event.at);
    if (!Number.isFinite(ms)) throw new RangeError(`UsageEvent.at must be an ISO time, got '${String(event.at)}'.`);
    if (typeof event.provider !== 'string' || event.provider === '') throw new RangeError('UsageEvent.provider must be a non-empty string.');
    if (typeof event.model !== 'string' || event.model === '') throw new RangeError('UsageEvent.model must be a non-empty string.');
    const inputTokens = Math.round(nonNegative(event, 'inputTokens'));
    const outputTokens = Math.round(nonNegative(event, 'outputTokens'));
    const cacheReadTokens = Math.round(nonNegative(event, 'cacheReadTokens'));
    const cacheWriteTokens = Math.round(nonNegative(event, 'cacheWriteTokens'));
    const costUsd = nonNegative(event, 'costUsd');
    const costMicros = Math.round(costUsd * 1e6);
    const latency = typeof event.latencyMs === 'number' && Number.isFinite(event.latencyMs) && event.latencyMs >= 0 ? Math.round(event.latencyMs) : -1;
    const success = event.success === true;

    const modelId = this.modelId(event.provider, event.model);
    const entry = this.models[modelId];
    const key = this.dayKeyOf(ms);
    const today = this.todayKey();
    const month = key.slice(0, 7);
    // Events older than the monthly retention only count towards recent() and providerStats().
    const bucket =
      key >= windowStart(today, this.dailyRetentionDays) ? this.bucket(this.days, key) : month >= this.oldestMonthKept ? this.bucket(this.months, month) : undefined;
    if (bucket) {
      let r = bucket.byModel.get(modelId);
      if (!r) bucket.byModel.set(modelId, (r = emptyRollup()));
      r.requests++;
      if (!success) r.failures++;
      r.inputTokens += inputTokens;
      r.outputTokens += outputTokens;
      r.cacheReadTokens += cacheReadTokens;
      r.cacheWriteTokens += cacheWriteTokens;
      r.costMicros += costMicros;
      bucket.costMicros += costMicros;
      if (latency >= 0) {
        r.latencySumMs += latency;
        r.latencyCount++;
      }
    }

    const error = success ? undefined : clip(redactSecrets(event.error ?? 'Request failed'), MAX_ERROR_CHARS);
    const p = this.providerState(entry.provider);
    p.requests++;
    if (latency >= 0) pushBounded(p.latencies, latency, this.latencySampleSize);
    if (success) p.lastSuccessAt = Math.max(p.lastSuccessAt, ms);
    else {
      p.failures++;
      if (ms >= p.lastErrorAt) {
        p.lastErrorAt = ms;
        p.lastErrorMessage = error ?? '';
      }
    }

    const stored: UsageEvent = {
      at: new Date(ms).toISOString(),
      provider: entry.provider,
      model: entry.model,
      inputTokens,
      outputTokens,
      cacheReadTokens,
      cacheWriteTokens,
      costUsd,
      success,
    };
    if (latency >= 0) stored.latencyMs = latency;
    if (event.taskType && (TASK_TYPES as readonly string[]).includes(event.taskType)) stored.taskType = event.taskType;
    if (error !== undefined) stored.error = error;
    Object.freeze(stored);
    pushBounded(this.recentEvents, stored, this.recentLimit);

    this.writer.markDirty();
    this.emitChange({ kind: 'record', event: stored });
  }

  /** Writes pending changes now and waits. Rejects if the store fails (the write is retried later). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Forgets all usage and saves the empty ledger. */
  async reset(): Promise<void> {
    this.models = [];
    this.modelIds.clear();
    this.days.clear();
    this.months.clear();
    this.recentEvents = [];
    this.providers.clear();
    this.writer.markDirty();
    this.emitChange({ kind: 'reset' });
    await this.writer.flush();
  }

  onDidChange(listener: (change: LedgerChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Background save failures and listener exceptions. */
  onError(listener: (err: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  // ---- queries ---------------------------------------------------------------------------

  usage(opts: UsageQuery = {}): UsageReport {
    const days = clampDays(opts.days ?? 30);
    const endDaysAgo = opts.endDaysAgo !== undefined && Number.isFinite(opts.endDaysAgo) ? Math.min(36_600, Math.max(0, Math.floor(opts.endDaysAgo))) : 0;
    const to = addDays(this.todayKey(), -endDaysAgo);
    let from = addDays(to, -(days - 1));
    const useMonths = from < this.cutoffKey();
    if (useMonths) from = from.slice(0, 7) + '-01';
    const fromMonth = from.slice(0, 7);
    const toMonth = to.slice(0, 7);

    const totals = emptyRollup();
    const groups = new Map<string, UsageGroupAcc>();
    const visit = (period: string, byModel: Map<number, Rollup>): void => {
      for (const [id, r] of byModel) {
        const m = this.models[id];
        if (opts.provider !== undefined && m.provider !== opts.provider) continue;
        if (opts.model !== undefined && m.model !== opts.model) continue;
        addRollup(totals, r);
        if (!opts.groupBy) continue;
        const g = groupFor(groups, opts.groupBy, period, m);
        addRollup(g.rollup, r);
      }
    };
    if (useMonths) for (const [k, b] of this.months) if (k >= fromMonth && k <= toMonth) visit(k, b.byModel);
    for (const [k, b] of this.days) if (k >= from && k <= to) visit(k, b.byModel);

    const out: UsageGroup[] = [...groups.values()].map((g) => ({ key: g.key, ...(g.provider !== undefined && { provider: g.provider }), ...(g.model !== undefined && { model: g.model }), ...toTotals(g.rollup) }));
    if (opts.groupBy === 'day') out.sort((a, b) => cmp(a.key, b.key));
    else out.sort((a, b) => b.costUsd - a.costUsd || cmp(a.key, b.key));
    return { from, to, totals: toTotals(totals), groups: out };
  }

  /** USD spent in the local day or month containing `at` (default now). 0 for days already compacted into months. */
  spent(period: 'day' | 'month', at: Date = this.clock.now()): number {
    const key = this.dayKeyOf(at.getTime());
    return this.spentIn(period === 'day' ? key : key.slice(0, 7));
  }

  /** USD spent in a local day ('YYYY-MM-DD') or month ('YYYY-MM') of this ledger's time zone. */
  spentIn(periodKey: string): number {
    if (periodKey.length === 10) return (this.days.get(periodKey)?.costMicros ?? 0) / 1e6;
    let micros = this.months.get(periodKey)?.costMicros ?? 0;
    for (const [k, b] of this.days) if (k.startsWith(periodKey)) micros += b.costMicros;
    return micros / 1e6;
  }

  /** Cost per local day for the last `days` days (at most the daily retention), zero-filled. */
  dailySeries(days: number, groupBy: 'provider' | 'model' = 'provider'): DailySeries {
    const n = Math.min(clampDays(days), this.dailyRetentionDays);
    const to = this.todayKey();
    const keys: string[] = [];
    for (let i = n - 1; i >= 0; i--) keys.push(addDays(to, -i));
    const series = new Map<string, { key: string; provider: string; model?: string; micros: number[]; total: number }>();
    keys.forEach((day, i) => {
      const b = this.days.get(day);
      if (!b) return;
      for (const [id, r] of b.byModel) {
        const m = this.models[id];
        const key = groupBy === 'provider' ? m.provider : `${m.provider}/${m.model}`;
        let s = series.get(key);
        if (!s) {
          s = { key, provider: m.provider, micros: new Array<number>(n).fill(0), total: 0 };
          if (groupBy === 'model') s.model = m.model;
          series.set(key, s);
        }
        s.micros[i] += r.costMicros;
        s.total += r.costMicros;
      }
    });
    return {
      days: keys,
      series: [...series.values()]
        .sort((a, b) => b.total - a.total || cmp(a.key, b.key))
        .map(({ key, provider, model, micros }) => ({ key, provider, ...(model !== undefined && { model }), costUsd: micros.map((v) => v / 1e6) })),
    };
  }

  /**
   * The newest of the kept raw events first, by their time (events may be recorded out of order,
   * e.g. reported late by a tool); equal times keep the later-recorded one first. At most `limit`
   * (and `recentLimit`). With `days`, only events on the last `days` local days up to today; with
   * `provider`, only that provider's.
   */
  recent(limit: number = this.recentLimit, filter: RecentQuery = {}): UsageEvent[] {
    const n = Math.min(Math.max(0, Math.floor(limit)), this.recentLimit);
    const to = filter.days === undefined ? undefined : this.todayKey();
    const from = to === undefined ? undefined : addDays(to, -(clampDays(filter.days!) - 1));
    const picked: { e: UsageEvent; ms: number; i: number }[] = [];
    this.recentEvents.forEach((e, i) => {
      if (filter.provider !== undefined && e.provider !== filter.provider) return;
      const ms = Date.parse(e.at);
      if (from !== undefined && to !== undefined) {
        const key = this.dayKeyOf(ms);
        if (key < from || key > to) return;
      }
      picked.push({ e, ms, i });
    });
    return picked
      .sort((a, b) => b.ms - a.ms || b.i - a.i)
      .slice(0, n)
      .map((p) => p.e);
  }

  providerStats(): ProviderStats[];
  providerStats(provider: string): ProviderStats;
  providerStats(provider?: string): ProviderStats[] | ProviderStats {
    if (provider !== undefined) return this.statsOf(provider, this.providers.get(provider));
    return [...this.providers.keys()].sort(cmp).map((name) => this.statsOf(name, this.providers.get(name)));
  }

  /** One row per day (or month, for compacted periods) × provider × model, oldest first. */
  export(): LedgerExportRow[] {
    const rows: LedgerExportRow[] = [];
    const add = (period: string, granularity: 'day' | 'month', b: Bucket): void => {
      for (const [id, r] of b.byModel) {
        const m = this.models[id];
        const { successRate, ...totals } = toTotals(r);
        void successRate; // not meaningful per row; failures are exported instead
        rows.push({ period, granularity, provider: m.provider, model: m.model, ...totals });
      }
    };
    for (const [k, b] of this.months) add(k, 'month', b);
    for (const [k, b] of this.days) add(k, 'day', b);
    return rows.sort((a, b) => cmp(a.period, b.period) || cmp(a.provider, b.provider) || cmp(a.model, b.model));
  }

  /** Bytes of the JSON that is persisted. */
  serializedSize(): number {
    return new TextEncoder().encode(JSON.stringify(this.toState())).length;
  }

  // ---- internals -------------------------------------------------------------------------

  private statsOf(provider: string, p: ProviderState | undefined): ProviderStats {
    const s: ProviderStats = {
      provider,
      requests: p?.requests ?? 0,
      failures: p?.failures ?? 0,
      successRate: p && p.requests > 0 ? (p.requests - p.failures) / p.requests : 1,
    };
    if (!p) return s;
    const sample = lastN(p.latencies, this.latencySampleSize);
    if (sample.length > 0) {
      s.meanLatencyMs = Math.round((sample.reduce((a, b) => a + b, 0) / sample.length) * 10) / 10;
      sample.sort((a, b) => a - b);
      s.p95LatencyMs = sample[Math.ceil(0.95 * sample.length) - 1];
    }
    if (p.lastErrorAt > 0) s.lastError = { at: new Date(p.lastErrorAt).toISOString(), message: p.lastErrorMessage };
    if (p.lastSuccessAt > 0) s.lastSuccessAt = new Date(p.lastSuccessAt).toISOString();
    return s;
  }

  private emitChange(change: LedgerChange): void {
    for (const l of this.changeListeners) {
      try {
        l(change);
      } catch (err) {
        this.emitError(new Error(`A usage listener failed: ${toError(err).message}`));
      }
    }
  }

  private emitError(err: Error): void {
    for (const l of this.errorListeners) l(err);
  }

  private modelId(provider: string, model: string): number {
    provider = clip(provider, 64);
    model = clip(model, 128);
    const k = provider + '\u0000' + model;
    let id = this.modelIds.get(k);
    if (id !== undefined) return id;
    if (this.models.length >= this.maxModels && model !== OTHER_MODEL) return this.modelId(provider, OTHER_MODEL);
    id = this.models.length;
    this.models.push({ provider, model });
    this.modelIds.set(k, id);
    return id;
  }

  private providerState(provider: string): ProviderState {
    let p = this.providers.get(provider);
    if (!p) {
      p = { requests: 0, failures: 0, latencies: [], lastSuccessAt: 0, lastErrorAt: 0, lastErrorMessage: '' };
      this.providers.set(provider, p);
    }
    return p;
  }

  private bucket(map: Map<string, Bucket>, key: string): Bucket {
    let b = map.get(key);
    if (!b) map.set(key, (b = { costMicros: 0, byModel: new Map() }));
    return b;
  }

  private dayKeyOf(ms: number): string {
    const c = this.eventDayCache;
    if (c && ms >= c.start && ms < c.end) return c.key;
    const t = this.todayCache;
    if (t && ms >= t.start && ms < t.end) return t.key;
    const b = dayBounds(new Date(ms), this.timeZone);
    this.eventDayCache = b;
    return b.key;
  }

  /** Today's local day key; compacts old days when the day changes. */
  private todayKey(scheduleSave = true): string {
    const now = this.clock.now().getTime();
    let t = this.todayCache;
    if (!t || now < t.start || now >= t.end) t = this.todayCache = dayBounds(new Date(now), this.timeZone);
    if (this.compactedFor !== t.key && this.compact(t.key) && scheduleSave) this.writer.markDirty();
    return t.key;
  }

  private cutoffKey(): string {
    return windowStart(this.todayKey(), this.dailyRetentionDays);
  }

  /** Folds days before the daily window into months and drops months past retention. */
  private compact(today: string): boolean {
    this.compactedFor = today;
    const cutoff = windowStart(today, this.dailyRetentionDays);
    const oldestMonth = (this.oldestMonthKept = addMonths(today.slice(0, 7), -(this.monthlyRetentionMonths - 1)));
    let changed = false;
    for (const [k, b] of this.days) {
      if (k >= cutoff) continue;
      const month = this.bucket(this.months, k.slice(0, 7));
      for (const [id, r] of b.byModel) {
        let into = month.byModel.get(id);
        if (!into) month.byModel.set(id, (into = emptyRollup()));
        addRollup(into, r);
      }
      month.costMicros += b.costMicros;
      this.days.delete(k);
      changed = true;
    }
    for (const k of this.months.keys()) {
      if (k < oldestMonth) {
        this.months.delete(k);
        changed = true;
      }
    }
    return changed;
  }

  private toState(): StoredLedger {
    this.todayKey(false); // compacts if the day changed since the last record
    const p: string[] = [];
    const pIdx = new Map<string, number>();
    const m: Array<[number, string]> = [];
    const mIdx = new Map<number, number>();
    const provIndex = (name: string): number => {
      let i = pIdx.get(name);
      if (i === undefined) pIdx.set(name, (i = p.push(name) - 1));
      return i;
    };
    const modelIndex = (id: number): number => {
      let i = mIdx.get(id);
      if (i === undefined) {
        const e = this.models[id];
        mIdx.set(id, (i = m.push([provIndex(e.provider), e.model]) - 1));
      }
      return i;
    };
    const encode = (map: Map<string, Bucket>): Record<string, number[]> => {
      const out: Record<string, number[]> = {};
      for (const k of [...map.keys()].sort()) {
        const flat: number[] = [];
        for (const [id, r] of map.get(k)!.byModel) {
          flat.push(modelIndex(id), r.requests, r.failures, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.costMicros, r.latencySumMs, r.latencyCount);
        }
        out[k] = flat;
      }
      return out;
    };
    const d = encode(this.days);
    const mo = encode(this.months);
    const r: StoredRecent[] = lastN(this.recentEvents, this.recentLimit).map((e) => [
      Date.parse(e.at),
      modelIndex(this.modelIds.get(e.provider + '\u0000' + e.model)!),
      e.inputTokens,
      e.outputTokens,
      e.cacheReadTokens,
      e.cacheWriteTokens,
      e.costUsd,
      e.success ? 1 : 0,
      e.latencyMs ?? -1,
      e.taskType ?? '',
      e.error ?? '',
    ]);
    const s: StoredProvider[] = [...this.providers].map(([name, st]) => [
      provIndex(name),
      st.requests,
      st.failures,
      st.lastSuccessAt,
      st.lastErrorAt,
      st.lastErrorMessage,
      lastN(st.latencies, this.latencySampleSize),
    ]);
    return { v: SCHEMA_VERSION, p, m, d, mo, r, s };
  }

  private load(store: StateStore): void {
    let raw: unknown;
    try {
      raw = store.get<unknown>(this.stateKey);
    } catch (err) {
      this.warnings.push(`Could not read usage history (state '${this.stateKey}'): ${toError(err).message}. Starting empty.`);
      return;
    }
    if (raw === undefined || raw === null) return;
    const version = typeof raw === 'object' ? (raw as { v?: unknown }).v : undefined;
    if (typeof version === 'number' && version > SCHEMA_VERSION) {
      this.warnings.push(`Usage history (state '${this.stateKey}') was written by a newer version of AI Key Manager (schema ${version}); starting empty. Update the extension to keep it.`);
      return;
    }
    try {
      this.restore(raw);
    } catch (err) {
      this.models = [];
      this.modelIds.clear();
      this.days.clear();
      this.months.clear();
      this.recentEvents = [];
      this.providers.clear();
      this.warnings.push(`Usage history (state '${this.stateKey}') is unreadable (${toError(err).message}); starting empty. It is replaced on the next save.`);
    }
  }

  private restore(raw: unknown): void {
    const s = raw as Partial<StoredLedger>;
    if (typeof raw !== 'object' || s.v !== SCHEMA_VERSION) throw new Error(`unknown schema version ${String(s?.v)}`);
    const providers = s.p;
    if (!Array.isArray(providers) || !providers.every((x) => typeof x === 'string')) throw new Error('bad provider table');
    if (!Array.isArray(s.m)) throw new Error('bad model table');
    const ids: number[] = s.m.map((row: unknown) => {
      if (!Array.isArray(row) || row.length !== 2 || !isIndex(row[0], providers.length) || typeof row[1] !== 'string') throw new Error('bad model entry');
      return this.modelId(providers[row[0] as number], row[1]);
    });
    const decode = (rec: unknown, map: Map<string, Bucket>, isKey: (k: string) => boolean): void => {
      if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) throw new Error('bad rollup table');
      for (const [k, flat] of Object.entries(rec)) {
        if (!isKey(k) || !Array.isArray(flat) || flat.length % STRIDE !== 0) throw new Error(`bad rollups for ${k}`);
        const b = this.bucket(map, k);
        for (let i = 0; i < flat.length; i += STRIDE) {
          if (!isIndex(flat[i], ids.length)) throw new Error(`bad model index in ${k}`);
          for (let j = 1; j < STRIDE; j++) if (!isCount(flat[i + j])) throw new Error(`bad number in ${k}`);
          const r: Rollup = {
            requests: flat[i + 1],
            failures: flat[i + 2],
            inputTokens: flat[i + 3],
            outputTokens: flat[i + 4],
            cacheReadTokens: flat[i + 5],
            cacheWriteTokens: flat[i + 6],
            costMicros: flat[i + 7],
            latencySumMs: flat[i + 8],
            latencyCount: flat[i + 9],
          };
          const id = ids[flat[i]];
          const into = b.byModel.get(id);
          if (into) addRollup(into, r);
          else b.byModel.set(id, r);
          b.costMicros += r.costMicros;
        }
      }
    };
    decode(s.d, this.days, isDayKey);
    decode(s.mo, this.months, isMonthKey);

    if (!Array.isArray(s.r)) throw new Error('bad recent events');
    for (const row of s.r as unknown[]) {
      if (!Array.isArray(row) || row.length !== 11) throw new Error('bad recent event');
      const [at, mi, inp, out, cr, cw, cost, ok, lat, task, error] = row as unknown[];
      if (!isTime(at) || !isIndex(mi, ids.length) || ![inp, out, cr, cw].every(isCount)) throw new Error('bad recent event');
      if (typeof cost !== 'number' || !(cost >= 0) || (ok !== 0 && ok !== 1) || typeof lat !== 'number' || typeof task !== 'string' || typeof error !== 'string') throw new Error('bad recent event');
      const m = this.models[ids[mi]];
      const e: UsageEvent = { at: new Date(at).toISOString(), provider: m.provider, model: m.model, inputTokens: inp as number, outputTokens: out as number, cacheReadTokens: cr as number, cacheWriteTokens: cw as number, costUsd: cost, success: ok === 1 };
      if (lat >= 0) e.latencyMs = lat;
      if ((TASK_TYPES as readonly string[]).includes(task)) e.taskType = task as TaskType;
      if (error) e.error = redactSecrets(error);
      this.recentEvents.push(Object.freeze(e));
    }
    this.recentEvents = lastN(this.recentEvents, this.recentLimit);

    if (!Array.isArray(s.s)) throw new Error('bad provider stats');
    for (const row of s.s as unknown[]) {
      if (!Array.isArray(row) || row.length !== 7) throw new Error('bad provider stats');
      const [pi, req, fail, lastOk, lastErr, msg, lats] = row as unknown[];
      if (!isIndex(pi, providers.length) || !isCount(req) || !isCount(fail) || !isCount(lastOk) || !isCount(lastErr) || typeof msg !== 'string') throw new Error('bad provider stats');
      if (!Array.isArray(lats) || !lats.every(isCount)) throw new Error('bad latency sample');
      const st = this.providerState(providers[pi]);
      Object.assign(st, { requests: req, failures: fail, lastSuccessAt: lastOk, lastErrorAt: lastErr, lastErrorMessage: redactSecrets(msg), latencies: lastN(lats as number[], this.latencySampleSize) });
    }
  }
}

interface UsageGroupAcc {
  key: string;
  provider?: string;
  model?: string;
  rollup: Rollup;
}

function groupFor(groups: Map<string, UsageGroupAcc>, by: UsageGroupBy, period: string, m: ModelEntry): UsageGroupAcc {
  const key = by === 'day' ? period : by === 'provider' ? m.provider : `${m.provider}/${m.model}`;
  let g = groups.get(key);
  if (!g) {
    g = { key, rollup: emptyRollup() };
    if (by !== 'day') g.provider = m.provider;
    if (by === 'model') g.model = m.model;
    groups.set(key, g);
  }
  return g;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const isIndex = (v: unknown, length: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < length;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Math.abs(v) <= 8.64e15;

function clampDays(days: number): number {
  if (!Number.isFinite(days)) return 36_600;
  return Math.min(36_600, Math.max(1, Math.floor(days)));
}

/** First day of the daily window ending at `today` (memoized: called on every record). */
let cutoffMemo = { today: '', retention: 0, cutoff: '' };
function windowStart(today: string, retention: number): string {
  if (cutoffMemo.today !== today || cutoffMemo.retention !== retention) {
    cutoffMemo = { today, retention, cutoff: addDays(today, -(retention - 1)) };
  }
  return cutoffMemo.cutoff;
}
