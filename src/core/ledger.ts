// Usage ledger: in-memory rollups of UsageEvents, persisted compactly through a StateStore.
//
// Storage model (kept small because VS Code re-serializes workspaceState whole on every update):
// - daily rollups per provider×model for the last `dailyRetentionDays` local days;
// - older days folded into monthly rollups per provider×model (kept `monthlyRetentionMonths`);
// - a ring of the most recent raw events and per-provider health (counters + latency sample).
// Persisted form: provider/model dictionaries, flat integer arrays, cost in nano-dollars.
//
// Several writers may share the stored state (two headless processes on one AIKM_HOME, or VS Code
// windows sharing globalState): a save merges what this ledger recorded since its last save into
// whatever is stored by then, instead of overwriting it with this ledger's copy.
import { redactSecrets } from './audit';
import { addDays, addMonths, dayBounds, isDayKey, isMonthKey, isValidTimeZone, parseIsoUtc, systemTimeZone, type DayBounds } from './calendar';
import { systemClock, type Clock, type StateStore } from './ports';
import { CoalescedWriter, UNREADABLE, modifyState, newWriterId, storedChange, writerIdOf } from './storedDoc';
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
  /** Where each accepted event is written before record() returns (headless), so a crash loses none. */
  journal?: LedgerJournal;
  /**
   * Other writers' shares of a total: every other key of the store that starts with this prefix is
   * a ledger another writer keeps (one per workspace), and queries count them with this one. This
   * ledger writes only its own key, so writers that cannot update one value atomically (VS Code
   * windows sharing globalState) never overwrite each other. Needs `StateStore.keys`.
   */
  sharesPrefix?: string;
}

/**
 * An append-only record of accepted events that outlives the process (a file headless). The ledger
 * appends each event before record() returns, and says which part is saved; the stored ledger keeps,
 * per journal, the last sequence number it holds, so replaying a journal never counts an event twice.
 */
export interface LedgerJournal {
  /** Unique per process. */
  readonly id: string;
  /** Writes the event durably enough to survive the process being killed; its sequence number (1, 2, …). Throws when it cannot. */
  append(event: UsageEvent): number;
  /** Events up to `seq` are in the stored ledger. */
  committed(seq: number): void;
  /** Whether the journal `id` (this or another process's) still exists; markers of gone journals are dropped. */
  exists(id: string): boolean;
}

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
}

export type LedgerChange = { kind: 'record'; event: UsageEvent } | { kind: 'reset' };

interface Rollup {
  requests: number;
  failures: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costNanos: number;
  latencySumMs: number;
  latencyCount: number;
  unpricedRequests: number;
  unpricedTokens: number;
}

interface Bucket {
  costNanos: number;
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

// Persisted form (schema version 2; version 1 stored cost in micro-dollars, read and converted exactly).
const SCHEMA_VERSION = 2;
/**
 * Costs are kept as whole nano-dollars: each event's cost is rounded once, to 1e-9 USD, so totals
 * are exact sums of what each request was recorded at (micro-dollars stored $0.0000125 as $0.000013
 * and a 20-token embedding as $0). A bucket holds up to $9 million in safe integers.
 */
export const NANOS_PER_USD = 1e9;
/** The id part of a share key (LedgerOptions.sharesPrefix). */
export const SHARE_ID = /^[0-9a-z-]{1,64}$/;
const NANOS_PER_MICRO = 1000;
const STRIDE = 12; // model index + the 11 rollup fields
const STRIDE_V1 = 10; // version 1 had no unpriced counts
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
  priced: 0 | 1, // absent in version 1
];
type StoredProvider = [provider: number, requests: number, failures: number, lastSuccessMs: number, lastErrorMs: number, lastError: string, latencies: number[]];
interface StoredLedger {
  v: number;
  /** Writer id of the save that wrote this (absent in files from older versions). */
  w?: string;
  /** Providers. */
  p: string[];
  /** Models: [provider index, model name]. */
  m: Array<[number, string]>;
  /** Daily rollups: day key → flat [model, requests, failures, in, out, cacheRead, cacheWrite, costNanos, latencySum, latencyCount, unpricedRequests, unpricedTokens, ...]. */
  d: Record<string, number[]>;
  /** Monthly rollups, same layout. */
  mo: Record<string, number[]>;
  r: StoredRecent[];
  s: StoredProvider[];
  /** Journal id → last sequence number held (LedgerJournal); absent when none. */
  j?: Record<string, number>;
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
  costNanos: 0,
  latencySumMs: 0,
  latencyCount: 0,
  unpricedRequests: 0,
  unpricedTokens: 0,
});

function addRollup(into: Rollup, r: Rollup): void {
  into.requests += r.requests;
  into.failures += r.failures;
  into.inputTokens += r.inputTokens;
  into.outputTokens += r.outputTokens;
  into.cacheReadTokens += r.cacheReadTokens;
  into.cacheWriteTokens += r.cacheWriteTokens;
  into.costNanos += r.costNanos;
  into.latencySumMs += r.latencySumMs;
  into.latencyCount += r.latencyCount;
  into.unpricedRequests += r.unpricedRequests;
  into.unpricedTokens += r.unpricedTokens;
}

function toTotals(r: Rollup): Totals {
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

const clip = (s: string, max: number): string => (s.length > max ? s.slice(0, max - 1) + '…' : s);
const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

function nonNegative(v: unknown, field: keyof UsageEvent): number {
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

/** Limits shared by the ledger's data sets. */
interface Limits {
  recentLimit: number;
  latencySampleSize: number;
  maxModels: number;
}

class NewerSchemaError extends Error {}

/**
 * One set of usage: rollups, recent events and provider counters. The ledger keeps two: what
 * queries see (the stored state plus everything recorded since), and what was recorded since the
 * last save began, which a save merges into whatever the store holds by then.
 */
class LedgerData {
  models: ModelEntry[] = [];
  /** provider → model → index into `models`. */
  modelIds = new Map<string, Map<string, number>>();
  days = new Map<string, Bucket>();
  months = new Map<string, Bucket>();
  /** Month key → cost of the day buckets of that month, so a month's spend needs no scan. */
  dayCostByMonth = new Map<string, number>();
  /** Record order, oldest first; may hold up to twice the limit (trimmed lazily). */
  recent: UsageEvent[] = [];
  providers = new Map<string, ProviderState>();
  /** Journal id → the last sequence number of that journal this set holds. */
  journals = new Map<string, number>();

  constructor(private readonly limits: Limits) {}

  get isEmpty(): boolean {
    return this.models.length === 0 && this.recent.length === 0 && this.providers.size === 0 && this.journals.size === 0;
  }

  noteJournal(id: string, seq: number): void {
    if (seq > (this.journals.get(id) ?? 0)) this.journals.set(id, seq);
  }

  modelId(provider: string, model: string): number {
    provider = clip(provider, 64);
    model = clip(model, 128);
    let byModel = this.modelIds.get(provider);
    let id = byModel?.get(model);
    if (id !== undefined) return id;
    if (this.models.length >= this.limits.maxModels && model !== OTHER_MODEL) return this.modelId(provider, OTHER_MODEL);
    id = this.models.length;
    this.models.push({ provider, model });
    if (!byModel) this.modelIds.set(provider, (byModel = new Map()));
    byModel.set(model, id);
    return id;
  }

  providerState(provider: string): ProviderState {
    let p = this.providers.get(provider);
    if (!p) {
      p = { requests: 0, failures: 0, latencies: [], lastSuccessAt: 0, lastErrorAt: 0, lastErrorMessage: '' };
      this.providers.set(provider, p);
    }
    return p;
  }

  private bucket(map: Map<string, Bucket>, key: string): Bucket {
    let b = map.get(key);
    if (!b) map.set(key, (b = { costNanos: 0, byModel: new Map() }));
    return b;
  }

  /**
   * Adds one validated event (as stored: clipped names, rounded numbers, frozen) to the day or
   * month bucket `period` (none: too old to keep) and to the recent events and provider counters.
   */
  add(e: UsageEvent, ms: number, costNanos: number, latency: number, granularity: 'day' | 'month' | undefined, period: string): void {
    const id = this.modelId(e.provider, e.model);
    if (granularity !== undefined) {
      const bucket = this.bucket(granularity === 'day' ? this.days : this.months, period);
      let r = bucket.byModel.get(id);
      if (!r) bucket.byModel.set(id, (r = emptyRollup()));
      r.requests++;
      if (!e.success) r.failures++;
      r.inputTokens += e.inputTokens;
      r.outputTokens += e.outputTokens;
      r.cacheReadTokens += e.cacheReadTokens;
      r.cacheWriteTokens += e.cacheWriteTokens;
      r.costNanos += costNanos;
      if (e.priced === false) {
        r.unpricedRequests++;
        r.unpricedTokens += e.inputTokens + e.outputTokens + e.cacheReadTokens + e.cacheWriteTokens;
      }
      bucket.costNanos += costNanos;
      if (granularity === 'day') this.addDayCost(period, costNanos);
      if (latency >= 0) {
        r.latencySumMs += latency;
        r.latencyCount++;
      }
    }
    const p = this.providerState(e.provider);
    p.requests++;
    if (latency >= 0) pushBounded(p.latencies, latency, this.limits.latencySampleSize);
    if (e.success) p.lastSuccessAt = Math.max(p.lastSuccessAt, ms);
    else {
      p.failures++;
      if (ms >= p.lastErrorAt) {
        p.lastErrorAt = ms;
        p.lastErrorMessage = e.error ?? '';
      }
    }
    pushBounded(this.recent, e, this.limits.recentLimit);
  }

  private addDayCost(day: string, nanos: number): void {
    const month = day.slice(0, 7);
    this.dayCostByMonth.set(month, (this.dayCostByMonth.get(month) ?? 0) + nanos);
  }

  private addRollups(map: Map<string, Bucket>, period: string, byModel: Map<number, Rollup>, models: ModelEntry[]): void {
    const b = this.bucket(map, period);
    for (const [otherId, r] of byModel) {
      const m = models[otherId];
      const id = this.modelId(m.provider, m.model);
      const into = b.byModel.get(id);
      if (into) addRollup(into, r);
      else b.byModel.set(id, { ...r });
      b.costNanos += r.costNanos;
      if (map === this.days) this.addDayCost(period, r.costNanos);
    }
  }

  /** Adds everything in `other` (recorded elsewhere or later) to this set. `other` is not changed. */
  mergeFrom(other: LedgerData): void {
    if (other.isEmpty) return;
    for (const [id, seq] of other.journals) this.noteJournal(id, seq);
    for (const [k, b] of other.days) this.addRollups(this.days, k, b.byModel, other.models);
    for (const [k, b] of other.months) this.addRollups(this.months, k, b.byModel, other.models);
    for (const [name, o] of other.providers) {
      const p = this.providerState(name);
      p.requests += o.requests;
      p.failures += o.failures;
      p.latencies = lastN(p.latencies.concat(o.latencies), this.limits.latencySampleSize);
      p.lastSuccessAt = Math.max(p.lastSuccessAt, o.lastSuccessAt);
      if (o.lastErrorAt > 0 && o.lastErrorAt >= p.lastErrorAt) {
        p.lastErrorAt = o.lastErrorAt;
        p.lastErrorMessage = o.lastErrorMessage;
      }
    }
    // Interleave by time (stable: events of the same instant keep their order), keep the newest.
    const mine = lastN(this.recent, this.limits.recentLimit);
    const theirs = lastN(other.recent, this.limits.recentLimit);
    const merged: UsageEvent[] = [];
    let i = 0;
    let j = 0;
    while (i < mine.length || j < theirs.length) {
      if (j >= theirs.length || (i < mine.length && mine[i].at <= theirs[j].at)) merged.push(mine[i++]);
      else merged.push(theirs[j++]);
    }
    this.recent = lastN(merged, this.limits.recentLimit);
  }

  /** Folds days before `cutoff` into months and drops months before `oldestMonth`. True if anything changed. */
  compact(cutoff: string, oldestMonth: string): boolean {
    let changed = false;
    for (const [k, b] of this.days) {
      if (k >= cutoff) continue;
      const month = this.bucket(this.months, k.slice(0, 7));
      for (const [id, r] of b.byModel) {
        let into = month.byModel.get(id);
        if (!into) month.byModel.set(id, (into = emptyRollup()));
        addRollup(into, r);
      }
      month.costNanos += b.costNanos;
      this.addDayCost(k, -b.costNanos);
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

  /** The persisted form; `writerId` lets the next writer tell whether someone else wrote meanwhile. */
  encode(writerId: string): StoredLedger {
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
          flat.push(modelIndex(id), r.requests, r.failures, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.costNanos, r.latencySumMs, r.latencyCount, r.unpricedRequests, r.unpricedTokens);
        }
        out[k] = flat;
      }
      return out;
    };
    const d = encode(this.days);
    const mo = encode(this.months);
    const r: StoredRecent[] = lastN(this.recent, this.limits.recentLimit).map((e) => [
      Date.parse(e.at),
      modelIndex(this.modelIds.get(e.provider)?.get(e.model) ?? this.modelId(e.provider, e.model)),
      e.inputTokens,
      e.outputTokens,
      e.cacheReadTokens,
      e.cacheWriteTokens,
      e.costUsd,
      e.success ? 1 : 0,
      e.latencyMs ?? -1,
      e.taskType ?? '',
      e.error ?? '',
      e.priced === false ? 0 : 1,
    ]);
    const s: StoredProvider[] = [...this.providers].map(([name, st]) => [
      provIndex(name),
      st.requests,
      st.failures,
      st.lastSuccessAt,
      st.lastErrorAt,
      st.lastErrorMessage,
      lastN(st.latencies, this.limits.latencySampleSize),
    ]);
    const j = this.journals.size > 0 ? Object.fromEntries(this.journals) : undefined;
    return { v: SCHEMA_VERSION, w: writerId, p, m, d, mo, r, s, ...(j ? { j } : {}) };
  }

  /**
   * Reads the persisted form, keeping every row it can read: a malformed row is dropped and
   * counted (`dropped`, with what was wrong in `problems`), not the whole history. Throws
   * NewerSchemaError for a newer schema, and an Error when the value is not a ledger at all.
   */
  static decode(raw: unknown, limits: Limits): { data: LedgerData; dropped: number; problems: string[] } {
    const data = new LedgerData(limits);
    if (raw === undefined || raw === null) return { data, dropped: 0, problems: [] };
    if (raw === UNREADABLE) throw new Error('the stored value could not be read');
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('it is not a usage history object');
    const version = (raw as { v?: unknown }).v;
    if (typeof version === 'number' && version > SCHEMA_VERSION) throw new NewerSchemaError(`schema ${version}`);
    if (version !== SCHEMA_VERSION && version !== 1) throw new Error(`unknown schema version ${JSON.stringify(version)}`);
    const report = { dropped: 0, problems: new Set<string>() };
    data.restore(raw as Partial<StoredLedger>, report);
    return { data, dropped: report.dropped, problems: [...report.problems] };
  }

  private restore(s: Partial<StoredLedger>, report: { dropped: number; problems: Set<string> }): void {
    const bad = (what: string, n = 1): void => {
      report.dropped += n;
      report.problems.add(what);
    };
    const costScale = s.v === 1 ? NANOS_PER_MICRO : 1;
    const stride = s.v === 1 ? STRIDE_V1 : STRIDE;
    const providers: (string | undefined)[] = Array.isArray(s.p) ? s.p.map((x: unknown) => (typeof x === 'string' ? x : undefined)) : [];
    if (!Array.isArray(s.p)) bad('the provider table');
    const provider = (i: unknown): string | undefined => (isIndex(i, providers.length) ? providers[i] : undefined);
    const ids: (number | undefined)[] = (Array.isArray(s.m) ? s.m : []).map((row: unknown) => {
      const name = Array.isArray(row) && row.length === 2 ? provider(row[0]) : undefined;
      if (name === undefined || typeof (row as unknown[])[1] !== 'string') return undefined;
      return this.modelId(name, (row as [number, string])[1]);
    });
    if (!Array.isArray(s.m)) bad('the model table');
    const model = (i: unknown): number | undefined => (isIndex(i, ids.length) ? ids[i] : undefined);
    const decode = (rec: unknown, map: Map<string, Bucket>, isKey: (k: string) => boolean, what: string): void => {
      if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) {
        if (rec !== undefined) bad(`the ${what} table`);
        return;
      }
      for (const [k, flat] of Object.entries(rec)) {
        if (!isKey(k) || !Array.isArray(flat)) {
          bad(`${what} rows with a bad period`, Array.isArray(flat) ? Math.max(1, Math.floor(flat.length / STRIDE)) : 1);
          continue;
        }
        if (flat.length % stride !== 0) bad(`a ${what} row cut short`);
        for (let i = 0; i + stride <= flat.length; i += stride) {
          const id = model(flat[i]);
          let ok = id !== undefined;
          for (let j = 1; j < stride && ok; j++) ok = isCount(flat[i + j]) && (j !== 7 || isCount(flat[i + j] * costScale));
          if (!ok) {
            bad(`${what} rows with a bad number or model`);
            continue;
          }
          const r: Rollup = {
            requests: flat[i + 1],
            failures: flat[i + 2],
            inputTokens: flat[i + 3],
            outputTokens: flat[i + 4],
            cacheReadTokens: flat[i + 5],
            cacheWriteTokens: flat[i + 6],
            costNanos: flat[i + 7] * costScale,
            latencySumMs: flat[i + 8],
            latencyCount: flat[i + 9],
            unpricedRequests: stride === STRIDE ? flat[i + 10] : 0,
            unpricedTokens: stride === STRIDE ? flat[i + 11] : 0,
          };
          const b = this.bucket(map, k);
          const into = b.byModel.get(id!);
          if (into) addRollup(into, r);
          else b.byModel.set(id!, r);
          b.costNanos += r.costNanos;
          if (map === this.days) this.addDayCost(k, r.costNanos);
        }
      }
    };
    decode(s.d, this.days, isDayKey, 'daily');
    decode(s.mo, this.months, isMonthKey, 'monthly');

    if (s.r !== undefined && !Array.isArray(s.r)) bad('the recent requests table');
    for (const row of Array.isArray(s.r) ? (s.r as unknown[]) : []) {
      const fields = Array.isArray(row) && row.length === (s.v === 1 ? 11 : 12) ? (row as unknown[]) : undefined;
      const [at, mi, inp, out, cr, cw, cost, ok, lat, task, error, priced] = fields ?? [];
      const id = model(mi);
      if (!fields || !isTime(at) || id === undefined || ![inp, out, cr, cw].every(isCount) || typeof cost !== 'number' || !(cost >= 0) || !Number.isFinite(cost) || (ok !== 0 && ok !== 1) || typeof lat !== 'number' || typeof task !== 'string' || typeof error !== 'string') {
        bad('recent requests');
        continue;
      }
      const m = this.models[id];
      const e: UsageEvent = { at: new Date(at).toISOString(), provider: m.provider, model: m.model, inputTokens: inp as number, outputTokens: out as number, cacheReadTokens: cr as number, cacheWriteTokens: cw as number, costUsd: cost, success: ok === 1 };
      if (lat >= 0) e.latencyMs = lat;
      if (TASK_TYPE_SET.has(task)) e.taskType = task as TaskType;
      if (error) e.error = redactSecrets(error);
      if (priced === 0) e.priced = false;
      this.recent.push(Object.freeze(e));
    }
    this.recent = lastN(this.recent, this.limits.recentLimit);

    if (typeof s.j === 'object' && s.j !== null && !Array.isArray(s.j)) {
      for (const [id, seq] of Object.entries(s.j)) if (isCount(seq)) this.noteJournal(id, seq);
    }
    if (s.s !== undefined && !Array.isArray(s.s)) bad('the provider statistics table');
    for (const row of Array.isArray(s.s) ? (s.s as unknown[]) : []) {
      const fields = Array.isArray(row) && row.length === 7 ? (row as unknown[]) : undefined;
      const [pi, req, fail, lastOk, lastErr, msg, lats] = fields ?? [];
      const name = provider(pi);
      if (!fields || name === undefined || !isCount(req) || !isCount(fail) || !isCount(lastOk) || !isCount(lastErr) || typeof msg !== 'string' || !Array.isArray(lats) || !lats.every(isCount)) {
        bad('provider statistics');
        continue;
      }
      const st = this.providerState(name);
      Object.assign(st, { requests: req, failures: fail, lastSuccessAt: lastOk, lastErrorAt: lastErr, lastErrorMessage: redactSecrets(msg), latencies: lastN(lats as number[], this.limits.latencySampleSize) });
    }
  }
}

/** Stands for "not written yet" when sizing the persisted form (writer ids are 16 hex digits). */
const NO_WRITER = '0000000000000000';

export class Ledger {
  readonly timeZone: string;
  readonly dailyRetentionDays: number;
  /** Problems met while loading (unreadable state, bad time zone). Loading never throws. */
  readonly warnings: string[] = [];

  private readonly clock: Clock;
  private readonly stateKey: string;
  private readonly limits: Limits;
  private readonly recentLimit: number;
  private readonly monthlyRetentionMonths: number;
  private readonly latencySampleSize: number;
  private readonly writer: CoalescedWriter;
  private readonly journal: LedgerJournal | undefined;

  /** What queries see: the stored state this process last read or wrote, plus everything recorded since. */
  private data: LedgerData;
  /** Recorded since the last save began; a save merges it into what the store holds then. */
  private pending: LedgerData;
  /** Being saved right now. */
  private saving: LedgerData | undefined;
  /** reset() was called: the next save replaces the stored state instead of merging into it. */
  private resetRequested = false;
  /** Why this ledger must not write (a newer version's history, or no copy could be kept): records are refused. */
  private readOnly: string | undefined;
  /** Writer id of the stored state `data` is built on (undefined: none, or written by an older version). */
  private syncedId: string | undefined;
  private seenRevision: number | undefined;
  /** Other writers' shares (sharesPrefix), by key, as last read. */
  private readonly shares = new Map<string, { raw: unknown; id: string | undefined; data: LedgerData }>();
  private sharesRevision: number | undefined;
  private readonly sharesPrefix: string | undefined;
  /** `data` plus the shares, built when first queried after a change; undefined when stale. */
  private combined: LedgerData | undefined;

  private todayCache: DayBounds | undefined;
  private eventDayCache: DayBounds | undefined;
  private compactedFor = '';
  private oldestMonthKept = '';

  private readonly changeListeners = new Set<(change: LedgerChange) => void>();
  private readonly errorListeners = new Set<(err: Error) => void>();

  constructor(
    private readonly store: StateStore,
    opts: LedgerOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.stateKey = opts.stateKey ?? 'aiKeyManager.ledger';
    this.recentLimit = Math.max(1, Math.floor(opts.recentLimit ?? 100));
    this.dailyRetentionDays = Math.max(MIN_RETENTION_DAYS, Math.floor(opts.dailyRetentionDays ?? MIN_RETENTION_DAYS));
    this.monthlyRetentionMonths = Math.max(1, Math.floor(opts.monthlyRetentionMonths ?? 24));
    this.latencySampleSize = Math.max(1, Math.floor(opts.latencySampleSize ?? 100));
    this.limits = { recentLimit: this.recentLimit, latencySampleSize: this.latencySampleSize, maxModels: Math.max(1, Math.floor(opts.maxModels ?? 300)) };
    let tz = opts.timeZone ?? systemTimeZone();
    if (!isValidTimeZone(tz)) {
      this.warnings.push(`Unknown time zone '${tz}'; using '${systemTimeZone()}' for usage days. Set an IANA name such as 'Europe/Berlin'.`);
      tz = systemTimeZone();
    }
    this.timeZone = tz;
    this.writer = new CoalescedWriter(this.stateKey, () => this.save(), opts.flushDelayMs ?? 250, (err) => this.emitError(err));
    this.journal = opts.journal;
    this.sharesPrefix = opts.sharesPrefix;
    this.data = new LedgerData(this.limits);
    this.pending = new LedgerData(this.limits);
    this.load();
  }

  // ---- recording -------------------------------------------------------------------------

  /** Adds one event in memory and schedules a coalesced save. Throws RangeError on malformed events. */
  record(event: UsageEvent): void {
    this.add(event, undefined);
  }

  /**
   * Records the events of another process's journal that the stored ledger does not hold yet (its
   * sequence numbers above the stored marker), and marks them held. Returns how many were added,
   * and how many were not valid usage events.
   */
  replay(journalId: string, entries: Iterable<{ seq: number; event: UsageEvent }>): { added: number; unreadable: number } {
    if (this.readOnly) throw new Error(this.readOnly);
    this.sync();
    const held = this.data.journals.get(journalId) ?? 0;
    let added = 0;
    let unreadable = 0;
    for (const { seq, event } of entries) {
      if (seq <= held) continue;
      try {
        this.add(event, { id: journalId, seq });
        added++;
      } catch {
        unreadable++; // an event that was never valid (read-only was refused above): nothing to replay
      }
    }
    return { added, unreadable };
  }

  private add(event: UsageEvent, replayed: { id: string; seq: number } | undefined): void {
    if (this.readOnly) throw new Error(this.readOnly);
    // The canonical form (what toISOString() gives, and what the core records) is parsed without
    // Date.parse and kept as it is; anything else Date.parse accepts is normalized.
    let at: string = event.at;
    let ms = parseIsoUtc(at);
    if (Number.isNaN(ms)) {
      ms = Date.parse(at);
      if (!Number.isFinite(ms)) throw new RangeError(`UsageEvent.at must be an ISO time, got '${String(event.at)}'.`);
      at = new Date(ms).toISOString();
    }
    if (typeof event.provider !== 'string' || event.provider === '') throw new RangeError('UsageEvent.provider must be a non-empty string.');
    if (typeof event.model !== 'string' || event.model === '') throw new RangeError('UsageEvent.model must be a non-empty string.');
    const inputTokens = Math.round(nonNegative(event.inputTokens, 'inputTokens'));
    const outputTokens = Math.round(nonNegative(event.outputTokens, 'outputTokens'));
    const cacheReadTokens = Math.round(nonNegative(event.cacheReadTokens, 'cacheReadTokens'));
    const cacheWriteTokens = Math.round(nonNegative(event.cacheWriteTokens, 'cacheWriteTokens'));
    const costUsd = nonNegative(event.costUsd, 'costUsd');
    const costNanos = Math.round(costUsd * NANOS_PER_USD);
    const latency = typeof event.latencyMs === 'number' && Number.isFinite(event.latencyMs) && event.latencyMs >= 0 ? Math.round(event.latencyMs) : -1;
    const success = event.success === true;

    const entry = this.data.models[this.data.modelId(event.provider, event.model)];
    const key = this.dayKeyOf(ms);
    const today = this.todayKey();
    // Events older than the monthly retention only count towards recent() and providerStats().
    let granularity: 'day' | 'month' | undefined;
    let period = key;
    if (key >= windowStart(today, this.dailyRetentionDays)) granularity = 'day';
    else {
      period = key.slice(0, 7);
      if (period >= this.oldestMonthKept) granularity = 'month';
    }

    const stored: UsageEvent = {
      at,
      provider: entry.provider,
      model: entry.model,
      inputTokens,
      outputTokens,
      cacheReadTokens,
      cacheWriteTokens,
      costUsd: costNanos / NANOS_PER_USD,
      success,
    };
    if (latency >= 0) stored.latencyMs = latency;
    if (event.taskType && TASK_TYPE_SET.has(event.taskType)) stored.taskType = event.taskType;
    if (!success) stored.error = clip(redactSecrets(event.error ?? 'Request failed'), MAX_ERROR_CHARS);
    if (event.priced === false) stored.priced = false;
    Object.freeze(stored);
    // Journaled first: if that fails, nothing is recorded (and the caller says so).
    const mark = replayed ?? (this.journal ? { id: this.journal.id, seq: this.journal.append(stored) } : undefined);
    this.data.add(stored, ms, costNanos, latency, granularity, period);
    this.combined?.add(stored, ms, costNanos, latency, granularity, period);
    this.pending.add(stored, ms, costNanos, latency, granularity, period);
    if (mark) {
      this.combined?.noteJournal(mark.id, mark.seq);
      this.data.noteJournal(mark.id, mark.seq);
      this.pending.noteJournal(mark.id, mark.seq);
    }

    this.writer.markDirty();
    if (this.changeListeners.size > 0) this.emitChange({ kind: 'record', event: stored });
  }

  /** Why this ledger refuses to record (a newer version's history), or undefined when it records. */
  cannotRecord(): string | undefined {
    return this.readOnly;
  }

  /** Writes pending changes now and waits. Rejects if the store fails (the write is retried later). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /**
   * Forgets all usage (also what other processes sharing the store recorded, and the other writers'
   * shares) and saves the empty ledger.
   */
  async reset(): Promise<void> {
    if (this.readOnly) throw new Error(this.readOnly);
    this.data = new LedgerData(this.limits);
    this.combined = undefined;
    this.pending = new LedgerData(this.limits);
    this.resetRequested = true;
    this.writer.markDirty();
    const shares = this.shareKeys();
    this.shares.clear();
    this.emitChange({ kind: 'reset' });
    // Other shares are emptied, not deleted: an empty share still says its workspace started counting.
    const empty = new LedgerData(this.limits).encode(newWriterId());
    await Promise.all([this.writer.flush(), ...shares.map((k) => this.store.update(k, empty))]);
  }

  /**
   * Adds what `other` holds now (its stored and unsaved usage) to this ledger, once: e.g. a
   * workspace's history when the all-workspaces total starts. False when this ledger already has a
   * stored value of its own (it was started before), so nothing is counted twice.
   */
  adoptOnce(other: Ledger): boolean {
    if (this.readOnly || this.store.get(this.stateKey) !== undefined) return false;
    other.sync();
    if (other.data.isEmpty) return false;
    this.data.mergeFrom(other.data);
    this.pending.mergeFrom(other.data);
    this.combined = undefined;
    this.writer.markDirty();
    return true;
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
    const data = this.view();
    const days = clampDays(opts.days ?? 30);
    const endDaysAgo = opts.endDaysAgo !== undefined && Number.isFinite(opts.endDaysAgo) ? Math.min(36_600, Math.max(0, Math.floor(opts.endDaysAgo))) : 0;
    const to = addDays(this.todayKey(), -endDaysAgo);
    let from = addDays(to, -(days - 1));
    const useMonths = from < this.cutoffKey();
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

  /** USD spent in the local day or month containing `at` (default now). 0 for days already compacted into months. */
  spent(period: 'day' | 'month', at: Date = this.clock.now()): number {
    const key = this.dayKeyOf(at.getTime());
    return this.spentIn(period === 'day' ? key : key.slice(0, 7));
  }

  /** USD spent in a local day ('YYYY-MM-DD') or month ('YYYY-MM') of this ledger's time zone. */
  spentIn(periodKey: string): number {
    const data = this.view();
    if (periodKey.length === 10) return (data.days.get(periodKey)?.costNanos ?? 0) / NANOS_PER_USD;
    return ((data.months.get(periodKey)?.costNanos ?? 0) + (data.dayCostByMonth.get(periodKey) ?? 0)) / NANOS_PER_USD;
  }

  /** Requests to unpriced models, and their tokens, in a local day ('YYYY-MM-DD') or month ('YYYY-MM'). */
  unpricedIn(periodKey: string): { requests: number; tokens: number } {
    const data = this.view();
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
  dailySeries(days: number, groupBy: 'provider' | 'model' = 'provider'): DailySeries {
    const data = this.view();
    const n = Math.min(clampDays(days), this.dailyRetentionDays);
    const to = this.todayKey();
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
  recent(limit: number = this.recentLimit, filter: RecentQuery = {}): UsageEvent[] {
    const data = this.view();
    const n = Math.min(Math.max(0, Math.floor(limit)), this.recentLimit);
    const to = filter.days === undefined ? undefined : this.todayKey();
    const from = to === undefined ? undefined : addDays(to, -(clampDays(filter.days!) - 1));
    const picked: { e: UsageEvent; ms: number; i: number }[] = [];
    lastN(data.recent, this.recentLimit).forEach((e, i) => {
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
    const providers = this.view().providers;
    if (provider !== undefined) return this.statsOf(provider, providers.get(provider));
    return [...providers.keys()].sort(cmp).map((name) => this.statsOf(name, providers.get(name)));
  }

  /** One row per day (or month, for compacted periods) × provider × model, oldest first. */
  export(): LedgerExportRow[] {
    const data = this.view();
    const rows: LedgerExportRow[] = [];
    const add = (period: string, granularity: 'day' | 'month', b: Bucket): void => {
      for (const [id, r] of b.byModel) {
        const m = data.models[id];
        const { successRate, ...totals } = toTotals(r);
        void successRate; // not meaningful per row; failures are exported instead
        rows.push({ period, granularity, provider: m.provider, model: m.model, ...totals });
      }
    };
    for (const [k, b] of data.months) add(k, 'month', b);
    for (const [k, b] of data.days) add(k, 'day', b);
    return rows.sort((a, b) => cmp(a.period, b.period) || cmp(a.provider, b.provider) || cmp(a.model, b.model));
  }

  /** Bytes of the JSON that is persisted. */
  serializedSize(): number {
    this.sync();
    this.todayKey(false);
    return new TextEncoder().encode(JSON.stringify(this.data.encode(this.syncedId ?? NO_WRITER))).length;
  }

  // ---- internals -------------------------------------------------------------------------

  /** What queries count: this ledger, and the other writers' shares when there are any. */
  private view(): LedgerData {
    this.sync();
    this.todayKey(); // compacts on a new day, before the combined copy is built
    this.syncShares();
    if (this.shares.size === 0) return this.data;
    if (!this.combined) {
      const all = new LedgerData(this.limits);
      all.mergeFrom(this.data);
      for (const s of this.shares.values()) all.mergeFrom(s.data);
      this.combined = this.compacted(all);
    }
    return this.combined;
  }

  private shareKeys(): string[] {
    const prefix = this.sharesPrefix;
    if (prefix === undefined || !this.store.keys) return [];
    // A share is `<prefix><id>`; copies kept of a damaged one (`….corrupt-<time>`) are not shares.
    return this.store.keys().filter((k) => k.startsWith(prefix) && k !== this.stateKey && SHARE_ID.test(k.slice(prefix.length)));
  }

  /** Re-reads the other writers' shares when the store may have changed; decodes only changed ones. */
  private syncShares(): void {
    if (this.sharesPrefix === undefined) return;
    const revision = this.store.revision?.();
    if (revision !== undefined && revision === this.sharesRevision) return;
    this.sharesRevision = revision;
    const keys = this.shareKeys();
    let changed = false;
    for (const k of this.shares.keys()) {
      if (!keys.includes(k)) {
        this.shares.delete(k);
        changed = true;
      }
    }
    for (const k of keys) {
      let raw: unknown;
      try {
        raw = this.store.get<unknown>(k);
      } catch {
        continue; // unreadable now: keep what was read before
      }
      const old = this.shares.get(k);
      const id = writerIdOf(raw);
      if (old && (old.raw === raw || (id !== undefined && id === old.id))) continue;
      try {
        const { data, dropped } = LedgerData.decode(raw, this.limits);
        if (dropped > 0) this.warn(`Usage history of another workspace (state '${k}'): ${dropped} unreadable entries are not counted. That workspace keeps a copy and says so when it opens.`);
        this.shares.set(k, { raw, id, data });
      } catch (err) {
        // Not ours to repair or back up: its own writer does that. Counted as empty meanwhile.
        this.warn(`Usage history of another workspace (state '${k}') is not counted: ${toError(err).message}.`);
        this.shares.set(k, { raw, id, data: new LedgerData(this.limits) });
      }
      changed = true;
    }
    if (changed) this.combined = undefined;
  }

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
    this.oldestMonthKept = addMonths(today.slice(0, 7), -(this.monthlyRetentionMonths - 1));
    this.combined = undefined;
    return this.data.compact(cutoff, this.oldestMonthKept);
  }

  /** `set` compacted for today, for adopting a state read from the store. */
  private compacted(set: LedgerData): LedgerData {
    const today = this.todayKey(false);
    set.compact(windowStart(today, this.dailyRetentionDays), this.oldestMonthKept);
    return set;
  }

  /**
   * Saves what was recorded since the last save. If the store still holds what this ledger last
   * read or wrote, that is the ledger as it is now; if another writer (another process sharing the
   * file, another window) changed it meanwhile, what was recorded here is merged into its value, so
   * neither side's usage is lost, and the merged state becomes this ledger's view.
   */
  private async save(): Promise<void> {
    if (this.readOnly) throw new Error(this.readOnly);
    const batch = this.pending;
    const reset = this.resetRequested;
    const basedOn = this.syncedId;
    this.pending = new LedgerData(this.limits);
    this.resetRequested = false;
    this.saving = batch;
    this.todayKey(false); // compacts if the day changed since the last record
    const writerId = newWriterId();
    this.pruneJournals(this.data);
    // Right now `data` is exactly the stored state it was built on plus `batch`.
    const current = this.data.encode(writerId);
    let adopted: LedgerData | undefined;
    const merge = (stored: unknown): StoredLedger => {
      adopted = undefined;
      // Unchanged since we read or wrote it (a value without a writer id is only "unchanged" if there is none).
      if (!reset && stored !== UNREADABLE && (basedOn === undefined ? stored === undefined : writerIdOf(stored) === basedOn)) return current;
      // Even a reset never replaces a newer version's history.
      const read = this.readStored(stored, 'save');
      if (read === undefined) return current; // unreadable, and a copy was kept: replaced
      let base = read;
      if (reset) {
        // Usage goes; which journal events it held stays, or a replay would bring them back.
        base = new LedgerData(this.limits);
        for (const [id, seq] of read.journals) base.noteJournal(id, seq);
      }
      base.mergeFrom(batch);
      this.pruneJournals(base);
      adopted = this.compacted(base);
      return base.encode(writerId);
    };
    try {
      await modifyState<unknown>(this.store, this.stateKey, merge, true);
    } catch (err) {
      // Nothing was stored: what this save held is unsaved again (before what was recorded since).
      batch.mergeFrom(this.pending);
      this.pending = batch;
      this.resetRequested ||= reset;
      throw err;
    } finally {
      this.saving = undefined;
    }
    this.syncedId = writerId;
    if (adopted) {
      adopted.mergeFrom(this.pending);
      this.data = adopted;
      this.combined = undefined;
    }
    const mine = this.journal ? batch.journals.get(this.journal.id) : undefined;
    if (mine !== undefined) this.journal!.committed(mine);
  }

  /** Drops the markers of journals that are gone (replayed and deleted): they can never be replayed again. */
  private pruneJournals(set: LedgerData): void {
    if (!this.journal) return;
    for (const id of set.journals.keys()) if (id !== this.journal.id && !this.journal.exists(id)) set.journals.delete(id);
  }

  /** Picks up usage another writer saved to the store since this ledger last read or wrote it. */
  private sync(): void {
    // While a save runs, `data` already holds everything and the save adopts what it stored; an
    // unsaved reset means what is stored is about to go.
    if (this.saving || this.resetRequested) return;
    const { revision, change } = storedChange(this.store, this.stateKey, this.seenRevision, this.syncedId);
    this.seenRevision = revision;
    if (!change) return;
    let base: LedgerData | undefined;
    try {
      base = this.readStored(change.raw, 'sync');
    } catch {
      return; // a newer version wrote it: read-only from now on (see readOnly)
    }
    if (!base) return; // unreadable: keep ours; the next save replaces it (a copy was kept)
    base.mergeFrom(this.pending);
    this.data = this.compacted(base);
    this.combined = undefined;
    this.syncedId = change.id;
  }

  private load(): void {
    let raw: unknown;
    try {
      raw = this.store.get<unknown>(this.stateKey);
    } catch (err) {
      this.warnings.push(`Could not read usage history (state '${this.stateKey}'): ${toError(err).message}. Starting empty.`);
      return;
    }
    this.seenRevision = this.store.revision?.();
    try {
      const data = this.readStored(raw, 'load');
      if (data) {
        this.data = data;
        this.syncedId = writerIdOf(raw);
      }
    } catch {
      // newer version: the warning is in `warnings`, and the ledger is read-only
    }
  }

  /**
   * Decodes a stored value. Rows that cannot be read are dropped only after a copy of the stored
   * value was kept (StateStore.backup), and each time it says so in `warnings`. Returns undefined
   * when nothing is readable (the copy kept); throws, and makes this ledger read-only, when a newer
   * version wrote it: that is never overwritten.
   */
  private readStored(raw: unknown, when: 'load' | 'sync' | 'save'): LedgerData | undefined {
    let decoded: ReturnType<typeof LedgerData.decode>;
    try {
      decoded = LedgerData.decode(raw, this.limits);
    } catch (err) {
      if (err instanceof NewerSchemaError) {
        this.readOnly ??= `Usage history (state '${this.stateKey}') was written by a newer version of AI Key Manager (${err.message}). This version does not change it: nothing is recorded until you update AI Key Manager.`;
        this.warn(this.readOnly);
        throw new Error(this.readOnly, { cause: err });
      }
      const where = this.keepCopy(`unreadable: ${toError(err).message}`);
      this.warn(`Usage history (state '${this.stateKey}') is unreadable (${toError(err).message}); ${where}. ${when === 'load' ? 'Starting empty.' : 'It is replaced by the usage recorded here.'}`);
      return undefined;
    }
    if (decoded.dropped > 0) {
      const where = this.keepCopy(`${decoded.dropped} unreadable entries`);
      this.warn(`Usage history (state '${this.stateKey}'): ${decoded.dropped} unreadable ${decoded.dropped === 1 ? 'entry was' : 'entries were'} left out (${decoded.problems.join('; ')}); ${where}. Everything else is kept.`);
    }
    return decoded.data;
  }

  private warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  /** A copy of the stored value before data is dropped; says where, for the warning. */
  private keepCopy(reason: string): string {
    let where: string | undefined;
    try {
      where = this.store.backup?.(this.stateKey, reason);
    } catch (err) {
      // No copy, no dropping: keep the stored value as it is and stop writing.
      this.readOnly ??= `${toError(err).message} Usage is not recorded until that is fixed.`;
      throw err;
    }
    return where ? `the stored value was kept in ${where}` : 'no copy could be kept by this store';
  }
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

const TASK_TYPE_SET: ReadonlySet<string> = new Set(TASK_TYPES);
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
