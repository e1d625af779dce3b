// Audit trail of key operations (bounded ring, persisted through StateStore), the secret
// sanitizer it relies on, and the coalescing writer shared with the usage ledger.
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock, type StateStore } from './ports';

export type AuditVia = 'tool' | 'command' | 'chat' | 'cli' | 'system';
const VIAS: readonly AuditVia[] = ['tool', 'command', 'chat', 'cli', 'system'];

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

const TOKEN_LIKE = /[A-Za-z0-9_-]{20,}/g;

/** A piece between '-' or '_' that looks random: 20+ characters, or 12+ mixing letters and digits. */
function randomLooking(segment: string): boolean {
  return segment.length >= 20 || (segment.length >= 12 && /\d/.test(segment) && /[A-Za-z]/.test(segment));
}

/**
 * Replaces long token-like runs (>= 20 of [A-Za-z0-9_-]) that hold a random-looking piece, which may
 * be key material, with '[redacted]'. Model names such as claude-3-5-sonnet-20241022 stay readable.
 */
export function redactSecrets(text: string): string {
  return text.replace(TOKEN_LIKE, (run) => (run.split(/[-_]/).some(randomLooking) ? '[redacted]' : run));
}

const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Runs a save at most once per `delayMs` after changes, never two at a time. A failed save leaves
 * the data dirty, so the next flush saves again.
 */
export class CoalescedWriter {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Promise<void> | undefined;
  private dirty = false;

  constructor(
    /** Names the state in error messages. */
    private readonly key: string,
    /** Saves everything changed so far (e.g. merges it into what the store holds). */
    private readonly save: () => Promise<void>,
    private readonly delayMs: number,
    /** Receives failures of background (timer-driven) writes. */
    private readonly onBackgroundError: (err: Error) => void,
  ) {}

  markDirty(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain().catch((err: unknown) => this.onBackgroundError(toError(err)));
    }, this.delayMs);
  }

  /** Writes pending changes now and waits. Rejects if the write fails (it is retried next time). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    return this.drain();
  }

  private async drain(): Promise<void> {
    while (this.inflight) await this.inflight.catch(() => undefined);
    if (!this.dirty) return;
    this.dirty = false;
    let write: Promise<void>;
    try {
      write = Promise.resolve(this.save());
    } catch (err) {
      write = Promise.reject(err);
    }
    this.inflight = write;
    try {
      await write;
    } catch (err) {
      this.dirty = true;
      throw new Error(`Could not save state '${this.key}': ${toError(err).message}. It will be retried on the next save.`, { cause: err });
    } finally {
      this.inflight = undefined;
    }
  }
}

/** Identifies one write of a ledger or audit log, so the next write can tell whether another writer came in between. */
export function newWriterId(): string {
  return randomBytes(8).toString('hex');
}

/** The writer id stored in a persisted value, if any. */
export function writerIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const w = (value as { w?: unknown }).w;
  return typeof w === 'string' ? w : undefined;
}

/**
 * What another writer saved under `key` since a reader last looked at the store (`seenRevision`)
 * and last read or wrote the value (`syncedId`). `revision` is the store's revision now (keep it
 * as the new `seenRevision`); `change` is absent when nothing new can be read.
 */
export function storedChange(
  store: StateStore,
  key: string,
  seenRevision: number | undefined,
  syncedId: string | undefined,
): { revision: number | undefined; change?: { raw: unknown; id: string | undefined } } {
  const revision = store.revision?.();
  if (revision === undefined || revision === seenRevision) return { revision: seenRevision };
  let raw: unknown;
  try {
    raw = store.get<unknown>(key);
  } catch {
    return { revision };
  }
  const id = writerIdOf(raw);
  if (id === syncedId && (id !== undefined || raw === undefined)) return { revision };
  return { revision, change: { raw, id } };
}

/** Passed instead of the stored value when reading it failed. */
export const UNREADABLE: unique symbol = Symbol('unreadable state');

/**
 * Stores `f(current)` for `key`: atomically where the store supports it (other processes may write
 * the same store), else from `get`. A `get` that throws gives `f` {@link UNREADABLE}.
 */
export function mergeIntoStore(store: StateStore, key: string, f: (current: unknown) => unknown): Promise<void> {
  if (store.modify) return store.modify<unknown>(key, f);
  let current: unknown;
  try {
    current = store.get<unknown>(key);
  } catch {
    current = UNREADABLE;
  }
  let next: unknown;
  try {
    next = f(current);
  } catch (err) {
    return Promise.reject(err);
  }
  return store.update(key, next);
}

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
 * Bounded, newest-last ring of audit entries. Never stores key material (see redactSecrets).
 * A save merges the entries recorded since the last save into what is stored by then, so entries
 * from several processes sharing the store (headless) all survive.
 */
export class AuditLog {
  readonly warnings: string[] = [];
  /** Stored entries plus those recorded since, oldest first. */
  private entries: AuditEntry[] = [];
  /** Recorded since the last save began. */
  private pending: AuditEntry[] = [];
  private saving: AuditEntry[] | undefined;
  /** Writer id of the stored log `entries` is built on. */
  private syncedId: string | undefined;
  private seenRevision: number | undefined;
  private readonly clock: Clock;
  private readonly limit: number;
  private readonly stateKey: string;
  private readonly writer: CoalescedWriter;
  private readonly errorListeners = new Set<(err: Error) => void>();
  /** Counted entries of the current minute by group, while they are still in `entries`. */
  private buckets = new Map<string, AuditEntry>();
  private bucketMinute = -1;
  /** Why this log must not write (a newer version's log, or no copy could be kept). */
  private readOnly: string | undefined;

  constructor(
    private readonly store: StateStore,
    opts: AuditLogOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.limit = Math.max(1, Math.floor(opts.limit ?? 500));
    this.stateKey = opts.stateKey ?? 'aiKeyManager.audit';
    this.writer = new CoalescedWriter(this.stateKey, () => this.save(), opts.flushDelayMs ?? 250, (err) => this.emitError(err));
    this.load();
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
      if (!this.pending.includes(open)) this.pending.push(open);
      this.writer.markDirty();
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
      action: clip(redactSecrets(String(input.action)), 100),
      via: input.via,
      ok: input.ok === true,
    };
    if (input.provider) entry.provider = clip(redactSecrets(input.provider), 64);
    if (input.keyId) entry.keyId = clip(input.keyId, 128);
    if (input.detail) entry.detail = clip(redactSecrets(input.detail), 500);
    return entry;
  }

  private push(entry: AuditEntry): AuditEntry {
    this.entries.push(entry);
    if (this.entries.length > this.limit) {
      const dropped = this.entries.splice(0, this.entries.length - this.limit);
      // A counted entry that left the log must not be counted into (its repeats would be lost).
      if (this.buckets.size > 0) {
        const gone = new Set(dropped);
        for (const [k, e] of this.buckets) if (gone.has(e)) this.buckets.delete(k);
      }
    }
    this.pending.push(entry);
    if (this.pending.length > this.limit) this.pending.splice(0, this.pending.length - this.limit);
    this.writer.markDirty();
    return entry;
  }

  /** `entries` now holds other objects (another writer's log was adopted): counting starts afresh. */
  private replaceEntries(entries: AuditEntry[]): void {
    this.entries = entries;
    this.buckets = new Map();
  }

  /** Newest first. */
  list(opts: { limit?: number; provider?: string } = {}): AuditEntry[] {
    this.sync();
    const out: AuditEntry[] = [];
    const max = opts.limit ?? Infinity;
    for (let i = this.entries.length - 1; i >= 0 && out.length < max; i--) {
      const e = this.entries[i];
      if (opts.provider === undefined || e.provider === opts.provider) out.push({ ...e });
    }
    return out;
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  onError(listener: (err: Error) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  private emitError(err: Error): void {
    for (const l of this.errorListeners) l(err);
  }

  private encode(entries: AuditEntry[], writerId: string): StoredAudit {
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

  private async save(): Promise<void> {
    if (this.readOnly) throw new Error(this.readOnly);
    const batch = this.pending;
    const basedOn = this.syncedId;
    this.pending = [];
    this.saving = batch;
    const writerId = newWriterId();
    const current = this.encode(this.entries, writerId); // the stored log it was built on, plus `batch`
    let adopted: AuditEntry[] | undefined;
    const merge = (stored: unknown): StoredAudit => {
      adopted = undefined;
      if (stored !== UNREADABLE && (basedOn === undefined ? stored === undefined : writerIdOf(stored) === basedOn)) return current;
      const parsed = this.readStored(stored);
      if (!parsed) return current; // unreadable (a copy was kept): replaced, as a load would have
      adopted = this.merged(parsed, batch);
      return this.encode(adopted, writerId);
    };
    try {
      await mergeIntoStore(this.store, this.stateKey, merge);
    } catch (err) {
      this.pending = [...batch, ...this.pending].slice(-this.limit);
      throw err;
    } finally {
      this.saving = undefined;
    }
    this.syncedId = writerId;
    if (adopted) this.replaceEntries(this.merged(adopted, this.pending));
  }

  /** Picks up entries another writer saved since this log last read or wrote the store. */
  private sync(): void {
    if (this.saving) return; // `entries` holds everything; the save adopts what it stored
    const { revision, change } = storedChange(this.store, this.stateKey, this.seenRevision, this.syncedId);
    this.seenRevision = revision;
    if (!change) return;
    let parsed: AuditEntry[] | undefined;
    try {
      parsed = this.readStored(change.raw);
    } catch {
      return; // a newer version's log: read-only from now on
    }
    if (!parsed) return;
    this.replaceEntries(this.merged(parsed, this.pending));
    this.syncedId = change.id;
  }

  private load(): void {
    let raw: unknown;
    try {
      raw = this.store.get<unknown>(this.stateKey);
    } catch (err) {
      this.warnings.push(`Could not read the audit log (state '${this.stateKey}'): ${toError(err).message}. Starting a new log.`);
      return;
    }
    this.seenRevision = this.store.revision?.();
    if (raw === undefined) return;
    try {
      const entries = this.readStored(raw);
      if (!entries) return;
      this.entries = entries.slice(-this.limit);
      this.syncedId = writerIdOf(raw);
    } catch {
      // a newer version's log: the warning says so, and this log only keeps entries in memory
    }
  }

  /**
   * Entries of a stored value, keeping every readable row; before any row is dropped (or the value
   * replaced) the store keeps a copy. Throws, and makes this log read-only, for a newer version.
   */
  private readStored(raw: unknown): AuditEntry[] | undefined {
    if (raw === undefined) return [];
    let parsed: ReturnType<typeof parseAudit>;
    try {
      parsed = raw === UNREADABLE ? undefined : parseAudit(raw);
    } catch (err) {
      this.readOnly ??= `The audit log (state '${this.stateKey}') was written by a newer version of AI Key Manager (${(err as Error).message}). This version does not change it; update AI Key Manager.`;
      this.warn(this.readOnly);
      throw new Error(this.readOnly, { cause: err });
    }
    if (parsed && parsed.dropped === 0) return parsed.entries;
    let where: string | undefined;
    try {
      where = this.store.backup?.(this.stateKey, parsed ? `${parsed.dropped} unreadable entries` : 'unreadable');
    } catch (err) {
      this.readOnly ??= `${toError(err).message} The audit log is not saved until that is fixed.`;
      throw err;
    }
    const kept = where ? `the stored log was kept in ${where}` : 'no copy could be kept by this store';
    if (parsed) this.warn(`The audit log (state '${this.stateKey}'): ${parsed.dropped} unreadable ${parsed.dropped === 1 ? 'entry was' : 'entries were'} left out; ${kept}. The other ${parsed.entries.length} are kept.`);
    else this.warn(`The stored audit log (state '${this.stateKey}') is unreadable; ${kept}. Starting a new log.`);
    return parsed?.entries;
  }

  private warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }
}

/** Stored audit logs of a newer version than this one reads and writes. */
class NewerAuditError extends Error {}

/**
 * The entries of a stored log, row by row: a malformed row is left out and counted, not the whole
 * log. Undefined when the value is no audit log at all; throws NewerAuditError for a newer version.
 */
function parseAudit(raw: unknown): { entries: AuditEntry[]; dropped: number } | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const s = raw as Partial<StoredAudit> & { v?: unknown };
  if (typeof s.v === 'number' && s.v > 1) throw new NewerAuditError(`version ${s.v}`);
  if (s.v !== 1 || !Array.isArray(s.e)) return undefined;
  const out: AuditEntry[] = [];
  let dropped = 0;
  for (const row of s.e as unknown[]) {
    const e = parseEntry(row);
    if (e) out.push(e);
    else dropped++;
  }
  return { entries: out, dropped };
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
  if (detail) e.detail = redactSecrets(detail);
  if (count !== undefined) e.count = count as number;
  return e;
}
