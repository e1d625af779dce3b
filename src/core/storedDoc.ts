// Persistence shared by everything core keeps in a StateStore that several writers may share (two
// headless processes on one AIKM_HOME, VS Code windows sharing globalState): read-modify-write,
// writer ids, the coalescing writer, and StoredDoc, which keeps one value in memory and merges what
// was recorded here into whatever is stored when it saves. The ledger and the audit log each supply
// a codec and a merge function; keys and others use modifyState directly.
import { randomBytes } from 'node:crypto';
import type { StateStore } from './ports';

const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Passed instead of the stored value when reading it failed. */
export const UNREADABLE: unique symbol = Symbol('unreadable state');
export type Unreadable = typeof UNREADABLE;

/**
 * Stores `f(current)` for `key` in one read-modify-write: `store.modify` where the store has it
 * (other processes may write the same store), else `store.update(key, f(store.get(key)))`. When that
 * `get` throws, the promise rejects with its error; with `passUnreadable`, `f` gets
 * {@link UNREADABLE} instead and decides.
 */
export function modifyState<T>(store: StateStore, key: string, f: (current: T | undefined) => T | undefined): Promise<void>;
export function modifyState<T>(store: StateStore, key: string, f: (current: T | undefined | Unreadable) => T | undefined, passUnreadable: true): Promise<void>;
export function modifyState<T>(store: StateStore, key: string, f: (current: T | undefined | Unreadable) => T | undefined, passUnreadable = false): Promise<void> {
  if (store.modify) return store.modify<T>(key, f);
  let next: T | undefined;
  try {
    let current: T | undefined | Unreadable;
    try {
      current = store.get<T>(key);
    } catch (err) {
      if (!passUnreadable) throw err;
      current = UNREADABLE;
    }
    next = f(current);
  } catch (err) {
    return Promise.reject(err);
  }
  return store.update(key, next);
}

/** Identifies one write of a stored value, so the next write can tell whether another writer came in between. */
export function newWriterId(): string {
  return randomBytes(8).toString('hex');
}

/** The writer id stored in a persisted value (its `w` field), if any. */
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

/** Thrown by a codec for a value a newer version wrote: it is never overwritten. */
export class NewerFormatError extends Error {}

export interface Decoded<T> {
  value: T;
  /** Entries left out because they could not be read. */
  dropped: number;
  /** What was wrong with them, for the warning. */
  problems?: string[];
}

export interface DocCodec<T> {
  empty(): T;
  /** The persisted form; it must carry `writerId` as its `w` field. */
  encode(value: T, writerId: string): unknown;
  /**
   * Reads a stored value (undefined: nothing stored), keeping what it can. Throws NewerFormatError
   * for a newer version's value and any other error when the value is unreadable as a whole.
   */
  decode(raw: unknown): Decoded<T>;
}

/** Adds `from` to `into` and returns the result; may change `into`, never `from`. */
export type Merge<T> = (into: T, from: T) => T;

/** The owner's words for what went wrong; `copy` is where the stored value was kept, if anywhere. */
export interface DocText<T> {
  cannotRead(err: Error): string;
  newer(detail: string): string;
  unreadable(copy: string | undefined, err: Error, when: 'load' | 'sync' | 'save'): string;
  dropped(copy: string | undefined, decoded: Decoded<T>): string;
  /** Why the doc stopped writing: no copy could be kept before dropping data. */
  noCopy(err: Error): string;
}

export interface StoredDocOptions<T> {
  store: StateStore;
  key: string;
  codec: DocCodec<T>;
  merge: Merge<T>;
  text: DocText<T>;
  /** Warnings are added here (the owner's list). */
  warnings: string[];
  /** Failures of background saves. */
  onError(err: Error): void;
  flushDelayMs?: number;
  /** What of the stored value survives reset() (default: nothing). */
  keepOnReset?(stored: T): T;
  /** Just before `value` is encoded for a save (it may still change it). */
  beforeWrite?(value: T): void;
  /** After a save stored everything in `batch`. */
  saved?(batch: T): void;
  /** `value` was replaced by one read from the store (load, or another writer's save). */
  adopted?(value: T): void;
}

/**
 * One value kept in memory and persisted under one key of a shared store. `value` is what the
 * store held when last read or written, plus everything recorded since; `pending` is what was
 * recorded since the last save began. A save merges `pending` into whatever the store holds by
 * then (or, if the store still holds what this doc last read or wrote, just writes `value`), so
 * several writers never lose each other's changes.
 */
export class StoredDoc<T> {
  private current: T;
  private unsaved: T;
  private saving = false;
  /** reset() was called: the next save replaces the stored value instead of merging into it. */
  private resetRequested = false;
  /** Why this doc must not write (a newer version's value, or no copy could be kept). */
  private readOnlyReason: string | undefined;
  /** Writer id of the stored value `value` is built on (undefined: none, or an older version's). */
  private syncedId: string | undefined;
  private seenRevision: number | undefined;
  private readonly writer: CoalescedWriter;

  constructor(private readonly o: StoredDocOptions<T>) {
    this.current = o.codec.empty();
    this.unsaved = o.codec.empty();
    this.writer = new CoalescedWriter(o.key, () => this.save(), o.flushDelayMs ?? 250, (err) => o.onError(err));
    this.load();
  }

  /** Everything known: stored plus recorded since. Change it together with `pending`, then call changed(). */
  get value(): T {
    return this.current;
  }

  /** Recorded since the last save began. */
  get pending(): T {
    return this.unsaved;
  }

  /** Why this doc refuses to write, or undefined. */
  get readOnly(): string | undefined {
    return this.readOnlyReason;
  }

  /** Writer id of the stored value `value` is built on. */
  get basedOn(): string | undefined {
    return this.syncedId;
  }

  /** Schedules a coalesced save of `pending`. */
  changed(): void {
    this.writer.markDirty();
  }

  /** Writes pending changes now and waits. Rejects if the store fails (the write is retried later). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Empties `value` and `pending`; the next save replaces what is stored (keeping `keepOnReset`). */
  reset(): void {
    this.current = this.o.codec.empty();
    this.unsaved = this.o.codec.empty();
    this.resetRequested = true;
    this.writer.markDirty();
  }

  /** Picks up what another writer saved since this doc last read or wrote the store. */
  sync(): void {
    // While a save runs, `value` holds everything and the save adopts what it stored; an unsaved
    // reset means what is stored is about to go.
    if (this.saving || this.resetRequested) return;
    const { revision, change } = storedChange(this.o.store, this.o.key, this.seenRevision, this.syncedId);
    this.seenRevision = revision;
    if (!change) return;
    let base: T | undefined;
    try {
      base = this.read(change.raw, 'sync');
    } catch {
      return; // a newer version wrote it: read-only from now on
    }
    if (base === undefined) return; // unreadable: keep ours; the next save replaces it (a copy was kept)
    this.adopt(this.o.merge(base, this.unsaved));
    this.syncedId = change.id;
  }

  private adopt(value: T): void {
    this.current = value;
    this.o.adopted?.(value);
  }

  private async save(): Promise<void> {
    if (this.readOnlyReason) throw new Error(this.readOnlyReason);
    const { codec, merge } = this.o;
    const batch = this.unsaved;
    const reset = this.resetRequested;
    const basedOn = this.syncedId;
    this.unsaved = codec.empty();
    this.resetRequested = false;
    this.saving = true;
    const writerId = newWriterId();
    this.o.beforeWrite?.(this.current);
    // Right now `value` is exactly the stored value it was built on plus `batch`.
    const current = codec.encode(this.current, writerId);
    let adopted: T | undefined;
    const f = (stored: unknown): unknown => {
      adopted = undefined;
      // Unchanged since read or written (a value without a writer id is only "unchanged" if there is none).
      if (!reset && stored !== UNREADABLE && (basedOn === undefined ? stored === undefined : writerIdOf(stored) === basedOn)) return current;
      // Even a reset never replaces a newer version's value.
      const read = this.read(stored, 'save');
      if (read === undefined) return current; // unreadable, and a copy was kept: replaced
      const base = merge(reset ? (this.o.keepOnReset?.(read) ?? codec.empty()) : read, batch);
      this.o.beforeWrite?.(base);
      adopted = base;
      return codec.encode(base, writerId);
    };
    try {
      await modifyState<unknown>(this.o.store, this.o.key, f, true);
    } catch (err) {
      // Nothing was stored: what this save held is unsaved again (before what was recorded since).
      this.unsaved = merge(batch, this.unsaved);
      this.resetRequested ||= reset;
      throw err;
    } finally {
      this.saving = false;
    }
    this.syncedId = writerId;
    if (adopted !== undefined) this.adopt(merge(adopted, this.unsaved));
    this.o.saved?.(batch);
  }

  private load(): void {
    let raw: unknown;
    try {
      raw = this.o.store.get<unknown>(this.o.key);
    } catch (err) {
      this.o.warnings.push(this.o.text.cannotRead(toError(err)));
      return;
    }
    this.seenRevision = this.o.store.revision?.();
    try {
      const value = this.read(raw, 'load');
      if (value === undefined) return;
      this.adopt(value);
      this.syncedId = writerIdOf(raw);
    } catch {
      // a newer version's value: the warning says so, and this doc is read-only
    }
  }

  /**
   * Decodes a stored value. Entries that cannot be read are dropped only after a copy of the stored
   * value was kept (StateStore.backup), and each time it says so in `warnings`. Returns undefined
   * when nothing is readable (the copy kept); throws, and makes this doc read-only, when a newer
   * version wrote it: that is never overwritten.
   */
  private read(raw: unknown, when: 'load' | 'sync' | 'save'): T | undefined {
    const { codec, text } = this.o;
    let decoded: Decoded<T>;
    try {
      if (raw === UNREADABLE) throw new Error('the stored value could not be read');
      decoded = codec.decode(raw);
    } catch (err) {
      if (err instanceof NewerFormatError) {
        this.readOnlyReason ??= text.newer(err.message);
        this.warn(this.readOnlyReason);
        throw new Error(this.readOnlyReason, { cause: err });
      }
      const e = toError(err);
      this.warn(text.unreadable(this.keepCopy(`unreadable: ${e.message}`), e, when));
      return undefined;
    }
    if (decoded.dropped > 0) this.warn(text.dropped(this.keepCopy(`${decoded.dropped} unreadable entries`), decoded));
    return decoded.value;
  }

  /** A copy of the stored value before data is dropped: where it is. */
  private keepCopy(reason: string): string | undefined {
    try {
      return this.o.store.backup?.(this.o.key, reason);
    } catch (err) {
      // No copy, no dropping: keep the stored value as it is and stop writing.
      this.readOnlyReason ??= this.o.text.noCopy(toError(err));
      throw err;
    }
  }

  private warn(message: string): void {
    if (!this.o.warnings.includes(message)) this.o.warnings.push(message);
  }
}

/** "<what> was kept in <where>", or that no copy could be kept. */
export function keptIn(what: string, where: string | undefined): string {
  return where ? `${what} was kept in ${where}` : 'no copy could be kept by this store';
}

/**
 * Values other writers keep under keys this process only reads (e.g. the other workspaces' shares
 * of the all-workspaces usage), each decoded again only when its writer id changed.
 */
export class ForeignDocs<T> {
  private readonly docs = new Map<string, { raw: unknown; id: string | undefined; value: T }>();
  private seenRevision: number | undefined;

  constructor(
    private readonly store: StateStore,
    /** Decodes another writer's value; never throws (an unreadable value counts as empty, with a warning). */
    private readonly read: (raw: unknown, key: string) => T,
  ) {}

  get size(): number {
    return this.docs.size;
  }

  values(): T[] {
    return [...this.docs.values()].map((d) => d.value);
  }

  /** Forgets what was read (until the store changes again). */
  clear(): void {
    this.docs.clear();
  }

  /** Reads the values under `keys()` again when the store may have changed. True when any changed. */
  refresh(keys: () => string[]): boolean {
    const revision = this.store.revision?.();
    if (revision !== undefined && revision === this.seenRevision) return false;
    this.seenRevision = revision;
    const now = keys();
    let changed = false;
    for (const k of this.docs.keys()) {
      if (!now.includes(k)) {
        this.docs.delete(k);
        changed = true;
      }
    }
    for (const k of now) {
      let raw: unknown;
      try {
        raw = this.store.get<unknown>(k);
      } catch {
        continue; // unreadable now: keep what was read before
      }
      const old = this.docs.get(k);
      const id = writerIdOf(raw);
      if (old && (old.raw === raw || (id !== undefined && id === old.id))) continue;
      this.docs.set(k, { raw, id, value: this.read(raw, k) });
      changed = true;
    }
    return changed;
  }
}
