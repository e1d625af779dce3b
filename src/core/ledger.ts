// Usage ledger: in-memory rollups of UsageEvents (LedgerData, ledgerData.ts), recorded, queried and
// persisted through a StateStore.
//
// Several writers may share the stored state (two headless processes on one AIKM_HOME, or VS Code
// windows sharing globalState): a save merges what this ledger recorded since its last save into
// whatever is stored by then (StoredDoc), instead of overwriting it with this ledger's copy.
import { redactRandomTokens } from './redact';
import { addDays, addMonths, dayBounds, isValidTimeZone, parseIsoUtc, systemTimeZone, type DayBounds } from './calendar';
import { NANOS_PER_USD, TASK_TYPE_SET, LedgerData, clip, ledgerCodec, type Limits } from './ledgerData';
import { systemClock, type Clock, type StateStore } from './ports';
import { cmp, dailySeries, exportRows, providerStats, recentEvents, spentIn, unpricedIn, usageReport, type DailySeries, type LedgerExportRow, type ProviderStats, type QueryWindow, type RecentQuery, type UsageQuery, type UsageReport } from './ledgerQuery';
import { ForeignDocs, StoredDoc, keptIn, newWriterId } from './storedDoc';
import { isPricedBy, type UsageEvent } from './types';

export { NANOS_PER_USD } from './ledgerData';
export type { DailySeries, LedgerExportRow, ProviderStats, RecentQuery, Totals, UsageGroup, UsageGroupBy, UsageQuery, UsageReport } from './ledgerQuery';

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

export type LedgerChange = { kind: 'record'; event: UsageEvent } | { kind: 'reset' };

/** The id part of a share key (LedgerOptions.sharesPrefix). */
export const SHARE_ID = /^[0-9a-z-]{1,64}$/;
const MIN_RETENTION_DAYS = 95;
const MAX_ERROR_CHARS = 300;

const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

function nonNegative(v: unknown, field: keyof UsageEvent): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`UsageEvent.${field} must be a non-negative number, got ${String(v)}.`);
  }
  return v;
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
  private readonly journal: LedgerJournal | undefined;
  /** Stored usage plus what was recorded since (`data`), and what was recorded since the last save began. */
  private readonly doc: StoredDoc<LedgerData>;
  /** Other writers' shares (sharesPrefix), as last read. */
  private readonly shares: ForeignDocs<LedgerData>;
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
    this.journal = opts.journal;
    this.sharesPrefix = opts.sharesPrefix;
    this.shares = new ForeignDocs(store, (raw, k) => this.readShare(raw, k));
    const key = this.stateKey;
    this.doc = new StoredDoc<LedgerData>({
      store,
      key,
      codec: ledgerCodec(this.limits),
      merge: (into, from) => {
        into.mergeFrom(from);
        return this.compacted(into);
      },
      warnings: this.warnings,
      onError: (err) => this.emitError(err),
      flushDelayMs: opts.flushDelayMs,
      // Usage goes; which journal events it held stays, or a replay would bring them back.
      keepOnReset: (stored) => {
        const kept = new LedgerData(this.limits);
        for (const [id, seq] of stored.journals) kept.noteJournal(id, seq);
        return kept;
      },
      beforeWrite: (data) => {
        this.todayKey(false); // compacts if the day changed since the last record
        this.pruneJournals(data);
      },
      saved: (batch) => {
        const mine = this.journal ? batch.journals.get(this.journal.id) : undefined;
        if (mine !== undefined) this.journal!.committed(mine);
      },
      adopted: () => {
        this.combined = undefined;
      },
      text: {
        cannotRead: (err) => `Could not read usage history (state '${key}'): ${err.message}. Starting empty.`,
        newer: (detail) => `Usage history (state '${key}') was written by a newer version of AI Key Manager (${detail}). This version does not change it: nothing is recorded until you update AI Key Manager.`,
        unreadable: (copy, err, when) => `Usage history (state '${key}') is unreadable (${err.message}); ${keptIn('the stored value', copy)}. ${when === 'load' ? 'Starting empty.' : 'It is replaced by the usage recorded here.'}`,
        dropped: (copy, d) => `Usage history (state '${key}'): ${d.dropped} unreadable ${d.dropped === 1 ? 'entry was' : 'entries were'} left out (${(d.problems ?? []).join('; ')}); ${keptIn('the stored value', copy)}. Everything else is kept.`,
        noCopy: (err) => `${err.message} Usage is not recorded until that is fixed.`,
      },
    });
  }

  /** What queries see: the stored state this process last read or wrote, plus everything recorded since. */
  private get data(): LedgerData {
    return this.doc.value;
  }

  /** Why this ledger must not write (a newer version's history, or no copy could be kept): records are refused. */
  private get readOnly(): string | undefined {
    return this.doc.readOnly;
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
    this.doc.sync();
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
    if (!success) stored.error = clip(redactRandomTokens(event.error ?? 'Request failed'), MAX_ERROR_CHARS);
    if (event.priced === false) stored.priced = false;
    if (typeof event.keyId === 'string' && event.keyId !== '') stored.keyId = clip(event.keyId, 64);
    if (typeof event.retries === 'number' && Number.isSafeInteger(event.retries) && event.retries > 0) stored.retries = event.retries;
    if (event.cached === true) stored.cached = true;
    if (event.incomplete === true) stored.incomplete = true;
    if (typeof event.estimatedCostUsd === 'number' && Number.isFinite(event.estimatedCostUsd) && event.estimatedCostUsd >= 0) stored.estimatedCostUsd = event.estimatedCostUsd;
    if (event.priced !== false && isPricedBy(event.pricedBy)) stored.pricedBy = event.pricedBy;
    Object.freeze(stored);
    // Journaled first: if that fails, nothing is recorded (and the caller says so).
    const mark = replayed ?? (this.journal ? { id: this.journal.id, seq: this.journal.append(stored) } : undefined);
    this.data.add(stored, ms, costNanos, latency, granularity, period);
    this.combined?.add(stored, ms, costNanos, latency, granularity, period);
    this.doc.pending.add(stored, ms, costNanos, latency, granularity, period);
    if (mark) {
      this.combined?.noteJournal(mark.id, mark.seq);
      this.data.noteJournal(mark.id, mark.seq);
      this.doc.pending.noteJournal(mark.id, mark.seq);
    }

    this.doc.changed();
    if (this.changeListeners.size > 0) this.emitChange({ kind: 'record', event: stored });
  }

  /** Why this ledger refuses to record (a newer version's history), or undefined when it records. */
  cannotRecord(): string | undefined {
    return this.readOnly;
  }

  /** Writes pending changes now and waits. Rejects if the store fails (the write is retried later). */
  flush(): Promise<void> {
    return this.doc.flush();
  }

  /**
   * Forgets all usage (also what other processes sharing the store recorded, and the other writers'
   * shares) and saves the empty ledger.
   */
  async reset(): Promise<void> {
    if (this.readOnly) throw new Error(this.readOnly);
    this.doc.reset();
    this.combined = undefined;
    const shares = this.shareKeys();
    this.shares.clear();
    this.emitChange({ kind: 'reset' });
    // Other shares are emptied, not deleted: an empty share still says its workspace started counting.
    const empty = new LedgerData(this.limits).encode(newWriterId());
    await Promise.all([this.doc.flush(), ...shares.map((k) => this.store.update(k, empty))]);
  }

  /**
   * Adds what `other` holds now (its stored and unsaved usage) to this ledger, once: e.g. a
   * workspace's history when the all-workspaces total starts. False when this ledger already has a
   * stored value of its own (it was started before), so nothing is counted twice.
   */
  adoptOnce(other: Ledger): boolean {
    if (this.readOnly || this.store.get(this.stateKey) !== undefined) return false;
    other.doc.sync();
    if (other.data.isEmpty) return false;
    this.data.mergeFrom(other.data);
    this.doc.pending.mergeFrom(other.data);
    this.combined = undefined;
    this.doc.changed();
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
    return usageReport(data, opts, this.window());
  }

  /** USD spent in the local day or month containing `at` (default now). 0 for days already compacted into months. */
  spent(period: 'day' | 'month', at: Date = this.clock.now()): number {
    const key = this.dayKeyOf(at.getTime());
    return this.spentIn(period === 'day' ? key : key.slice(0, 7));
  }

  /** USD spent in a local day ('YYYY-MM-DD') or month ('YYYY-MM') of this ledger's time zone. */
  spentIn(periodKey: string): number {
    return spentIn(this.view(), periodKey);
  }

  /** Requests to unpriced models, and their tokens, in a local day ('YYYY-MM-DD') or month ('YYYY-MM'). */
  unpricedIn(periodKey: string): { requests: number; tokens: number } {
    return unpricedIn(this.view(), periodKey);
  }

  /** Cost per local day for the last `days` days (at most the daily retention), zero-filled. */
  dailySeries(days: number, groupBy: 'provider' | 'model' = 'provider'): DailySeries {
    const data = this.view();
    return dailySeries(data, days, groupBy, this.window());
  }

  /**
   * The newest of the kept raw events first, by their time (events may be recorded out of order,
   * e.g. reported late by a tool); equal times keep the later-recorded one first. At most `limit`
   * (and `recentLimit`). With `days`, only events on the last `days` local days up to today; with
   * `provider`, only that provider's.
   */
  recent(limit: number = this.recentLimit, filter: RecentQuery = {}): UsageEvent[] {
    const data = this.view();
    return recentEvents(data, limit, filter, this.window());
  }

  providerStats(): ProviderStats[];
  providerStats(provider: string): ProviderStats;
  providerStats(provider?: string): ProviderStats[] | ProviderStats {
    const providers = this.view().providers;
    if (provider !== undefined) return providerStats(provider, providers.get(provider), this.latencySampleSize);
    return [...providers.keys()].sort(cmp).map((name) => providerStats(name, providers.get(name), this.latencySampleSize));
  }

  /** One row per day (or month, for compacted periods) × provider × model, oldest first. */
  export(): LedgerExportRow[] {
    return exportRows(this.view());
  }

  /** Bytes of the JSON that is persisted. */
  serializedSize(): number {
    this.doc.sync();
    this.todayKey(false);
    return new TextEncoder().encode(JSON.stringify(this.data.encode(this.doc.basedOn ?? NO_WRITER))).length;
  }

  // ---- internals -------------------------------------------------------------------------

  /** What queries count: this ledger, and the other writers' shares when there are any. */
  private view(): LedgerData {
    this.doc.sync();
    this.todayKey(); // compacts on a new day, before the combined copy is built
    this.syncShares();
    if (this.shares.size === 0) return this.data;
    if (!this.combined) {
      const all = new LedgerData(this.limits);
      all.mergeFrom(this.data);
      for (const s of this.shares.values()) all.mergeFrom(s);
      this.combined = this.compacted(all);
    }
    return this.combined;
  }

  /** Today and the retention, for the queries; after view(), which compacts on a new day. */
  private window(): QueryWindow {
    const today = this.todayKey();
    return { today, cutoff: windowStart(today, this.dailyRetentionDays), dailyRetentionDays: this.dailyRetentionDays, recentLimit: this.recentLimit, dayKeyOf: (ms) => this.dayKeyOf(ms) };
  }

  private shareKeys(): string[] {
    const prefix = this.sharesPrefix;
    if (prefix === undefined || !this.store.keys) return [];
    // A share is `<prefix><id>`; copies kept of a damaged one (`….corrupt-<time>`) are not shares.
    return this.store.keys().filter((k) => k.startsWith(prefix) && k !== this.stateKey && SHARE_ID.test(k.slice(prefix.length)));
  }

  /** Re-reads the other writers' shares when the store may have changed; decodes only changed ones. */
  private syncShares(): void {
    if (this.sharesPrefix !== undefined && this.shares.refresh(() => this.shareKeys())) this.combined = undefined;
  }

  private readShare(raw: unknown, key: string): LedgerData {
    try {
      const { value, dropped } = LedgerData.decode(raw, this.limits);
      if (dropped > 0) this.warn(`Usage history of another workspace (state '${key}'): ${dropped} unreadable entries are not counted. That workspace keeps a copy and says so when it opens.`);
      return value;
    } catch (err) {
      // Not ours to repair or back up: its own writer does that. Counted as empty meanwhile.
      this.warn(`Usage history of another workspace (state '${key}') is not counted: ${toError(err).message}.`);
      return new LedgerData(this.limits);
    }
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
    if (this.compactedFor !== t.key && this.compact(t.key) && scheduleSave) this.doc.changed();
    return t.key;
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

  /** Drops the markers of journals that are gone (replayed and deleted): they can never be replayed again. */
  private pruneJournals(set: LedgerData): void {
    if (!this.journal) return;
    for (const id of set.journals.keys()) if (id !== this.journal.id && !this.journal.exists(id)) set.journals.delete(id);
  }

  private warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }
}

/** First day of the daily window ending at `today` (memoized: called on every record). */
let cutoffMemo = { today: '', retention: 0, cutoff: '' };
function windowStart(today: string, retention: number): string {
  if (cutoffMemo.today !== today || cutoffMemo.retention !== retention) {
    cutoffMemo = { today, retention, cutoff: addDays(today, -(retention - 1)) };
  }
  return cutoffMemo.cutoff;
}
