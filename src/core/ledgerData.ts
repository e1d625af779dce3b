// The usage ledger's data: one set of rollups, recent events and provider counters (LedgerData),
// and its persisted form (schema, encode, decode).
//
// Storage model (kept small because VS Code re-serializes workspaceState whole on every update):
// - daily rollups per provider×model for the last `dailyRetentionDays` local days;
// - older days folded into monthly rollups per provider×model (kept `monthlyRetentionMonths`);
// - a ring of the most recent raw events and per-provider health (counters + latency sample).
// Persisted form: provider/model dictionaries, flat integer arrays, cost in nano-dollars.
import { redactRandomTokens } from './redact';
import { isDayKey, isMonthKey } from './calendar';
import { NewerFormatError, type DocCodec, type Decoded } from './storedDoc';
import { PRICE_KINDS, TASK_TYPES, isPricedBy, type TaskType, type UsageEvent } from './types';

export interface Rollup {
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
  /** Priced requests by what priced them, in PRICE_KINDS order (all 0 in rows recorded before version 4). */
  pricedBy: number[];
}

export interface Bucket {
  costNanos: number;
  byModel: Map<number, Rollup>;
}

export interface ModelEntry {
  provider: string;
  model: string;
}

export interface ProviderState {
  requests: number;
  failures: number;
  latencies: number[];
  lastSuccessAt: number;
  lastErrorAt: number;
  lastErrorMessage: string;
}

// Persisted form (schema version 4; version 1 stored cost in micro-dollars, read and converted exactly;
// version 3 added the gateway's details to recent requests, version 4 what priced each request).
const SCHEMA_VERSION = 4;
/**
 * Costs are kept as whole nano-dollars: each event's cost is rounded once, to 1e-9 USD, so totals
 * are exact sums of what each request was recorded at (micro-dollars stored $0.0000125 as $0.000013
 * and a 20-token embedding as $0). A bucket holds up to $9 million in safe integers.
 */
export const NANOS_PER_USD = 1e9;
const NANOS_PER_MICRO = 1000;
const STRIDE = 12 + PRICE_KINDS.length; // model index + the 11 rollup counts + priced requests by kind
const STRIDE_V3 = 12; // versions 2 and 3: no price kinds
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
  gateway: StoredGateway, // absent before version 3
];
/** Recent-request details only gateway traffic has: key id, retries, cache hit, cut response. */
interface StoredGateway {
  k?: string;
  r?: number;
  c?: 1;
  i?: 1;
  /** Our estimate, when the cost is the provider's figure. */
  e?: number;
  /** What priced it, when not the price data (UsageEvent.pricedBy). */
  b?: string;
}
type StoredProvider = [provider: number, requests: number, failures: number, lastSuccessMs: number, lastErrorMs: number, lastError: string, latencies: number[]];
interface StoredLedger {
  v: number;
  /** Writer id of the save that wrote this (absent in files from older versions). */
  w?: string;
  /** Providers. */
  p: string[];
  /** Models: [provider index, model name]. */
  m: Array<[number, string]>;
  /** Daily rollups: day key → flat [model, requests, failures, in, out, cacheRead, cacheWrite, costNanos, latencySum, latencyCount, unpricedRequests, unpricedTokens, ...priced requests by PRICE_KINDS, ...]. */
  d: Record<string, number[]>;
  /** Monthly rollups, same layout. */
  mo: Record<string, number[]>;
  r: StoredRecent[];
  s: StoredProvider[];
  /** Journal id → last sequence number held (LedgerJournal); absent when none. */
  j?: Record<string, number>;
}

const OTHER_MODEL = '(other)';

export const emptyRollup = (): Rollup => ({
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
  pricedBy: PRICE_KINDS.map(() => 0),
});

export function addRollup(into: Rollup, r: Rollup): void {
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
  for (let i = 0; i < PRICE_KINDS.length; i++) into.pricedBy[i] += r.pricedBy[i];
}

export const clip = (s: string, max: number): string => (s.length > max ? s.slice(0, max - 1) + '…' : s);

/** Keeps the last `limit` items with amortized O(1) appends. */
function pushBounded<T>(arr: T[], item: T, limit: number): void {
  arr.push(item);
  if (arr.length >= limit * 2) arr.splice(0, arr.length - limit);
}
export const lastN = <T>(arr: T[], n: number): T[] => (arr.length > n ? arr.slice(arr.length - n) : arr.slice());

/** Limits shared by the ledger's data sets. */
export interface Limits {
  recentLimit: number;
  latencySampleSize: number;
  maxModels: number;
}

/**
 * One set of usage: rollups, recent events and provider counters. The ledger keeps two: what
 * queries see (the stored state plus everything recorded since), and what was recorded since the
 * last save began, which a save merges into whatever the store holds by then.
 */
export class LedgerData {
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
      } else r.pricedBy[PRICE_KINDS.indexOf(e.pricedBy ?? 'data')]++;
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
      else b.byModel.set(id, { ...r, pricedBy: [...r.pricedBy] });
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
          flat.push(modelIndex(id), r.requests, r.failures, r.inputTokens, r.outputTokens, r.cacheReadTokens, r.cacheWriteTokens, r.costNanos, r.latencySumMs, r.latencyCount, r.unpricedRequests, r.unpricedTokens, ...r.pricedBy);
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
      {
        ...(e.keyId !== undefined && { k: e.keyId }),
        ...(e.retries !== undefined && { r: e.retries }),
        ...(e.cached && { c: 1 as const }),
        ...(e.incomplete && { i: 1 as const }),
        ...(e.estimatedCostUsd !== undefined && { e: e.estimatedCostUsd }),
        ...(e.pricedBy !== undefined && { b: e.pricedBy }),
      },
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
   * NewerFormatError for a newer schema, and an Error when the value is not a ledger at all.
   */
  static decode(raw: unknown, limits: Limits): Decoded<LedgerData> & { problems: string[] } {
    const data = new LedgerData(limits);
    if (raw === undefined || raw === null) return { value: data, dropped: 0, problems: [] };
    if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error('it is not a usage history object');
    const version = (raw as { v?: unknown }).v;
    if (typeof version === 'number' && version > SCHEMA_VERSION) throw new NewerFormatError(`schema ${version}`);
    if (version !== SCHEMA_VERSION && version !== 1 && version !== 2 && version !== 3) throw new Error(`unknown schema version ${JSON.stringify(version)}`);
    const report = { dropped: 0, problems: new Set<string>() };
    data.restore(raw as Partial<StoredLedger>, report);
    return { value: data, dropped: report.dropped, problems: [...report.problems] };
  }

  private restore(s: Partial<StoredLedger>, report: { dropped: number; problems: Set<string> }): void {
    const bad = (what: string, n = 1): void => {
      report.dropped += n;
      report.problems.add(what);
    };
    const costScale = s.v === 1 ? NANOS_PER_MICRO : 1;
    const stride = s.v === 1 ? STRIDE_V1 : s.v === SCHEMA_VERSION ? STRIDE : STRIDE_V3;
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
          bad(`${what} rows with a bad period`, Array.isArray(flat) ? Math.max(1, Math.floor(flat.length / stride)) : 1);
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
            unpricedRequests: stride === STRIDE_V1 ? 0 : flat[i + 10],
            unpricedTokens: stride === STRIDE_V1 ? 0 : flat[i + 11],
            pricedBy: PRICE_KINDS.map((_, j) => (stride === STRIDE ? flat[i + 12 + j] : 0)),
          };
          // Priced-by counts that add up to more than the priced requests say nothing: not kept.
          if (r.pricedBy.reduce((a, b) => a + b, r.unpricedRequests) > r.requests) r.pricedBy.fill(0);
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
      const fields = Array.isArray(row) && row.length === (s.v === 1 ? 11 : s.v === 2 ? 12 : 13) ? (row as unknown[]) : undefined;
      const [at, mi, inp, out, cr, cw, cost, ok, lat, task, error, priced, gw] = fields ?? [];
      const id = model(mi);
      if (!fields || !isTime(at) || id === undefined || ![inp, out, cr, cw].every(isCount) || typeof cost !== 'number' || !(cost >= 0) || !Number.isFinite(cost) || (ok !== 0 && ok !== 1) || typeof lat !== 'number' || typeof task !== 'string' || typeof error !== 'string') {
        bad('recent requests');
        continue;
      }
      const m = this.models[id];
      const e: UsageEvent = { at: new Date(at).toISOString(), provider: m.provider, model: m.model, inputTokens: inp as number, outputTokens: out as number, cacheReadTokens: cr as number, cacheWriteTokens: cw as number, costUsd: cost, success: ok === 1 };
      if (lat >= 0) e.latencyMs = lat;
      if (TASK_TYPE_SET.has(task)) e.taskType = task as TaskType;
      if (error) e.error = redactRandomTokens(error);
      if (priced === 0) e.priced = false;
      if (typeof gw === 'object' && gw !== null) {
        const g = gw as StoredGateway;
        if (typeof g.k === 'string' && g.k !== '') e.keyId = g.k;
        if (isCount(g.r) && g.r > 0) e.retries = g.r;
        if (g.c === 1) e.cached = true;
        if (g.i === 1) e.incomplete = true;
        if (typeof g.e === 'number' && Number.isFinite(g.e) && g.e >= 0) e.estimatedCostUsd = g.e;
        if (priced !== 0 && isPricedBy(g.b)) e.pricedBy = g.b;
      }
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
      Object.assign(st, { requests: req, failures: fail, lastSuccessAt: lastOk, lastErrorAt: lastErr, lastErrorMessage: redactRandomTokens(msg), latencies: lastN(lats as number[], this.limits.latencySampleSize) });
    }
  }
}

export const TASK_TYPE_SET: ReadonlySet<string> = new Set(TASK_TYPES);
const isIndex = (v: unknown, length: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < length;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isTime = (v: unknown): v is number => typeof v === 'number' && Math.abs(v) <= 8.64e15;

/** LedgerData as a StoredDoc codec. */
export function ledgerCodec(limits: Limits): DocCodec<LedgerData> {
  return {
    empty: () => new LedgerData(limits),
    encode: (data, writerId) => data.encode(writerId),
    decode: (raw) => LedgerData.decode(raw, limits),
  };
}
