// Audit trail of key operations (bounded ring, persisted through StateStore) and the secret
// sanitizer it relies on.
import { systemClock, type Clock, type StateStore } from './ports';
import { NewerFormatError, StoredDoc, keptIn, type Decoded } from './storedDoc';
import { redactRandomTokens } from './redact';

export type AuditVia = 'tool' | 'command' | 'chat' | 'cli' | 'gateway' | 'system';
const VIAS: readonly AuditVia[] = ['tool', 'command', 'chat', 'cli', 'gateway', 'system'];

export interface AuditInput {
  action: string;
  via: AuditVia;
  provider?: string;
  keyId?: string;
  ok: boolean;
  detail?: string;
}

export interface AuditEntry extends AuditInput {
  at: string; // ISO time
  /** Set on entries that stand for several repeats of one operation (see recordRepeated). */
  count?: number;
}

export interface AuditLogOptions {
  clock?: Clock;
  stateKey?: string;
  /** Entries kept; older ones are dropped. Default 500. */
  limit?: number;
  flushDelayMs?: number;
}

export { auditActionLabel } from './auditLabels';

type StoredEntry =
  | [atMs: number, action: string, via: AuditVia, ok: 0 | 1, provider: string, keyId: string, detail: string]
  | [atMs: number, action: string, via: AuditVia, ok: 0 | 1, provider: string, keyId: string, detail: string, count: number];

const MINUTE_MS = 60_000;
interface StoredAudit {
  v: 1;
  /** Writer id of the save that wrote this (absent in files from older versions). */
  w?: string;
  e: StoredEntry[];
}

const clip = (s: string, max: number): string => (s.length > max ? s.slice(0, max - 1) + '…' : s);

/**
 * Bounded, newest-last ring of audit entries. Never stores key material (see redactRandomTokens).
 * A save merges the entries recorded since the last save into what is stored by then, so entries
 * from several processes sharing the store (headless) all survive.
 */
export class AuditLog {
  readonly warnings: string[] = [];
  private readonly clock: Clock;
  private readonly limit: number;
  /** Stored entries plus those recorded since, oldest first; `pending`: recorded since the last save began. */
  private readonly doc: StoredDoc<AuditEntry[]>;
  private readonly errorListeners = new Set<(err: Error) => void>();
  /** Counted entries of the current minute by group, while they are still in `entries`. */
  private buckets = new Map<string, AuditEntry>();
  private bucketMinute = -1;

  constructor(store: StateStore, opts: AuditLogOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.limit = Math.max(1, Math.floor(opts.limit ?? 500));
    const key = opts.stateKey ?? 'aiKeyManager.audit';
    this.doc = new StoredDoc<AuditEntry[]>({
      store,
      key,
      codec: { empty: () => [], encode, decode: parseAudit },
      merge: (stored, mine) => this.merged(stored, mine),
      warnings: this.warnings,
      onError: (err) => this.emitError(err),
      flushDelayMs: opts.flushDelayMs,
      // Other objects than before (another writer's log was adopted): counting starts afresh.
      adopted: (entries) => {
        if (entries.length > this.limit) entries.splice(0, entries.length - this.limit);
        this.buckets = new Map();
      },
      text: {
        cannotRead: (err) => `Could not read the audit log (state '${key}'): ${err.message}. Starting a new log.`,
        newer: (detail) => `The audit log (state '${key}') was written by a newer version of AI Key Manager (${detail}). This version does not change it; update AI Key Manager.`,
        unreadable: (copy) => `The stored audit log (state '${key}') is unreadable; ${keptIn('the stored log', copy)}. Starting a new log.`,
        dropped: (copy, d) => `The audit log (state '${key}'): ${d.dropped} unreadable ${d.dropped === 1 ? 'entry was' : 'entries were'} left out; ${keptIn('the stored log', copy)}. The other ${d.value.length} are kept.`,
        noCopy: (err) => `${err.message} The audit log is not saved until that is fixed.`,
      },
    });
  }

  record(input: AuditInput): AuditEntry {
    return { ...this.push(this.entry(input, this.clock.now())) };
  }

  /**
   * For frequent operations (track_request): repeats of the same `group` (and result) within one
   * clock minute add to one entry's `count` instead of adding entries, so a flood of calls cannot
   * push everything else out of the bounded log.
   */
  recordRepeated(input: AuditInput, group: string): AuditEntry {
    const now = this.clock.now();
    const minute = Math.floor(now.getTime() / MINUTE_MS);
    if (minute !== this.bucketMinute) {
      this.buckets = new Map();
      this.bucketMinute = minute;
    }
    const key = `${input.ok ? 1 : 0}|${input.via}|${group}`;
    const open = this.buckets.get(key);
    if (open) {
      open.count = (open.count ?? 1) + 1;
      // Saved already: save it again; the merge keeps the higher count of the same entry.
      if (!this.doc.pending.includes(open)) this.doc.pending.push(open);
      this.doc.changed();
      return { ...open };
    }
    const entry = this.entry(input, now);
    entry.count = 1;
    this.buckets.set(key, entry);
    return { ...this.push(entry) };
  }

  private entry(input: AuditInput, at: Date): AuditEntry {
    if (!VIAS.includes(input.via)) throw new RangeError(`Unknown audit source '${String(input.via)}'. Use one of: ${VIAS.join(', ')}.`);
    const entry: AuditEntry = {
      at: at.toISOString(),
      action: clip(redactRandomTokens(String(input.action)), 100),
      via: input.via,
      ok: input.ok === true,
    };
    if (input.provider) entry.provider = clip(redactRandomTokens(input.provider), 64);
    if (input.keyId) entry.keyId = clip(input.keyId, 128);
    if (input.detail) entry.detail = clip(redactRandomTokens(input.detail), 500);
    return entry;
  }

  private push(entry: AuditEntry): AuditEntry {
    const entries = this.doc.value;
    entries.push(entry);
    if (entries.length > this.limit) {
      const dropped = entries.splice(0, entries.length - this.limit);
      // A counted entry that left the log must not be counted into (its repeats would be lost).
      if (this.buckets.size > 0) {
        const gone = new Set(dropped);
        for (const [k, e] of this.buckets) if (gone.has(e)) this.buckets.delete(k);
      }
    }
    const pending = this.doc.pending;
    pending.push(entry);
    if (pending.length > this.limit) pending.splice(0, pending.length - this.limit);
    this.doc.changed();
    return entry;
  }

  /** Newest first. */
  list(opts: { limit?: number; provider?: string } = {}): AuditEntry[] {
    this.doc.sync();
    const entries = this.doc.value;
    const out: AuditEntry[] = [];
    const max = opts.limit ?? Infinity;
    for (let i = entries.length - 1; i >= 0 && out.length < max; i--) {
      const e = entries[i];
      if (opts.provider === undefined || e.provider === opts.provider) out.push({ ...e });
    }
    return out;
  }

  flush(): Promise<void> {
    return this.doc.flush();
  }

  onError(listener: (err: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  private emitError(err: Error): void {
    for (const l of this.errorListeners) l(err);
  }

  /**
   * Both lists in time order (stable: the stored ones first at the same instant), the newest `limit`
   * kept. A counted entry saved before and counted up since is in both: the higher count wins.
   */
  private merged(stored: AuditEntry[], mine: AuditEntry[]): AuditEntry[] {
    const identity = (e: AuditEntry) => `${e.at}|${e.action}|${e.via}|${e.ok ? 1 : 0}|${e.provider ?? ''}|${e.keyId ?? ''}|${e.detail ?? ''}`;
    const counted = new Map<string, AuditEntry>();
    const out: AuditEntry[] = [];
    for (const e of [...stored, ...mine]) {
      if (e.count === undefined) {
        out.push(e);
        continue;
      }
      const id = identity(e);
      const seen = counted.get(id);
      if (!seen) {
        counted.set(id, e);
        out.push(e);
      } else if ((e.count ?? 1) > (seen.count ?? 1)) seen.count = e.count;
    }
    out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return out.slice(-this.limit);
  }
}

function encode(entries: AuditEntry[], writerId: string): StoredAudit {
  return {
    v: 1,
    w: writerId,
    e: entries.map((e): StoredEntry => {
      const row: StoredEntry = [Date.parse(e.at), e.action, e.via, e.ok ? 1 : 0, e.provider ?? '', e.keyId ?? '', e.detail ?? ''];
      return e.count === undefined ? row : ([...row, e.count] as StoredEntry);
    }),
  };
}

/**
 * The entries of a stored log, row by row: a malformed row is left out and counted, not the whole
 * log. Throws NewerFormatError for a newer version, and an Error when the value is no audit log.
 */
function parseAudit(raw: unknown): Decoded<AuditEntry[]> {
  if (raw === undefined) return { value: [], dropped: 0 };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('it is not an audit log');
  const s = raw as Partial<StoredAudit> & { v?: unknown };
  if (typeof s.v === 'number' && s.v > 1) throw new NewerFormatError(`version ${s.v}`);
  if (s.v !== 1 || !Array.isArray(s.e)) throw new Error('it is not an audit log');
  const out: AuditEntry[] = [];
  let dropped = 0;
  for (const row of s.e as unknown[]) {
    const e = parseEntry(row);
    if (e) out.push(e);
    else dropped++;
  }
  return { value: out, dropped };
}

function parseEntry(row: unknown): AuditEntry | undefined {
  if (!Array.isArray(row) || (row.length !== 7 && row.length !== 8)) return undefined;
  const [at, action, via, ok, provider, keyId, detail, count] = row as unknown[];
  if (count !== undefined && !(Number.isSafeInteger(count) && (count as number) >= 1)) return undefined;
  if (typeof at !== 'number' || !(Math.abs(at) <= 8.64e15) || typeof action !== 'string' || !VIAS.includes(via as AuditVia)) return undefined;
  if ((ok !== 0 && ok !== 1) || typeof provider !== 'string' || typeof keyId !== 'string' || typeof detail !== 'string') return undefined;
  const e: AuditEntry = { at: new Date(at).toISOString(), action, via: via as AuditVia, ok: ok === 1 };
  if (provider) e.provider = provider;
  if (keyId) e.keyId = keyId;
  // Re-sanitized in case an older build stored something it should not have.
  if (detail) e.detail = redactRandomTokens(detail);
  if (count !== undefined) e.count = count as number;
  return e;
}
