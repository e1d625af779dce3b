// Audit trail of key operations (bounded ring, persisted through StateStore), the secret
// sanitizer it relies on, and the coalescing writer shared with the usage ledger.
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
}

export interface AuditLogOptions {
  clock?: Clock;
  stateKey?: string;
  /** Entries kept; older ones are dropped. Default 500. */
  limit?: number;
  flushDelayMs?: number;
}

/** How each audited action reads in the UI. */
const ACTION_LABELS: Record<string, string> = {
  add_api_key: 'Add API key',
  remove_api_key: 'Remove API key',
  rotate_key: 'Rotate key',
  rollback_key: 'Roll back key',
  validate_key: 'Validate key',
  set_budget: 'Set budget',
  reset_usage: 'Reset usage',
};

/** 'add_api_key' → 'Add API key'; an action without a label reads as words ('move_key' → 'Move key'). */
export function auditActionLabel(action: string): string {
  const known = ACTION_LABELS[action];
  if (known) return known;
  const words = action.replace(/_/g, ' ').replace(/\b(api|mcp|url|id)\b/gi, (w) => w.toUpperCase());
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const TOKEN_LIKE = /[A-Za-z0-9_-]{20,}/g;

/** Replaces long token-like runs (>= 20 of [A-Za-z0-9_-]), which may be key material, with '[redacted]'. */
export function redactSecrets(text: string): string {
  return text.replace(TOKEN_LIKE, '[redacted]');
}

const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * Persists a snapshot through a StateStore at most once per `delayMs`, never with two writes
 * in flight. A failed write leaves the data dirty, so the next flush writes it again.
 */
export class CoalescedWriter {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Promise<void> | undefined;
  private dirty = false;

  constructor(
    private readonly store: StateStore,
    private readonly key: string,
    private readonly snapshot: () => unknown,
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
      write = Promise.resolve(this.store.update(this.key, this.snapshot()));
    } catch (err) {
      write = Promise.reject(err);
    }
    this.inflight = write;
    try {
      await write;
    } catch (err) {
      this.dirty = true;
      throw new Error(`Could not save state '${this.key}': ${toError(err).message}. It will be retried on the next save.`);
    } finally {
      this.inflight = undefined;
    }
  }
}

type StoredEntry = [atMs: number, action: string, via: AuditVia, ok: 0 | 1, provider: string, keyId: string, detail: string];
interface StoredAudit {
  v: 1;
  e: StoredEntry[];
}

const clip = (s: string, max: number): string => (s.length > max ? s.slice(0, max - 1) + '…' : s);

/** Bounded, newest-last ring of audit entries. Never stores key material (see redactSecrets). */
export class AuditLog {
  readonly warnings: string[] = [];
  private entries: AuditEntry[] = [];
  private readonly clock: Clock;
  private readonly limit: number;
  private readonly stateKey: string;
  private readonly writer: CoalescedWriter;
  private readonly errorListeners = new Set<(err: Error) => void>();

  constructor(store: StateStore, opts: AuditLogOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.limit = Math.max(1, Math.floor(opts.limit ?? 500));
    this.stateKey = opts.stateKey ?? 'aiKeyManager.audit';
    this.writer = new CoalescedWriter(store, this.stateKey, () => this.toState(), opts.flushDelayMs ?? 250, (err) => this.emitError(err));
    this.load(store);
  }

  record(input: AuditInput): AuditEntry {
    if (!VIAS.includes(input.via)) throw new RangeError(`Unknown audit source '${String(input.via)}'. Use one of: ${VIAS.join(', ')}.`);
    const entry: AuditEntry = {
      at: this.clock.now().toISOString(),
      action: clip(redactSecrets(String(input.action)), 100),
      via: input.via,
      ok: input.ok === true,
    };
    if (input.provider) entry.provider = clip(redactSecrets(input.provider), 64);
    if (input.keyId) entry.keyId = clip(input.keyId, 128);
    if (input.detail) entry.detail = clip(redactSecrets(input.detail), 500);
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    this.writer.markDirty();
    return { ...entry };
  }

  /** Newest first. */
  list(opts: { limit?: number; provider?: string } = {}): AuditEntry[] {
    const out: AuditEntry[] = [];
    const max = opts.limit ?? Infinity;
    for (let i = this.entries.length - 1; i >= 0 && out.length < max; i--) {
      const e = this.entries[i];
      if (opts.provider === undefined || e.provider === opts.provider) out.push({ ...e });
    }
    return out;
  }

  /** All entries as pretty-printed JSON, newest first. */
  export(): string {
    return JSON.stringify(this.list(), null, 2);
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

  private toState(): StoredAudit {
    return {
      v: 1,
      e: this.entries.map((e) => [Date.parse(e.at), e.action, e.via, e.ok ? 1 : 0, e.provider ?? '', e.keyId ?? '', e.detail ?? '']),
    };
  }

  private load(store: StateStore): void {
    let raw: unknown;
    try {
      raw = store.get<unknown>(this.stateKey);
    } catch (err) {
      this.warnings.push(`Could not read the audit log (state '${this.stateKey}'): ${toError(err).message}. Starting a new log.`);
      return;
    }
    if (raw === undefined) return;
    const entries = parseAudit(raw);
    if (!entries) {
      this.warnings.push(`The stored audit log (state '${this.stateKey}') is unreadable or from a newer version; starting a new log. It is replaced on the next save.`);
      return;
    }
    this.entries = entries.slice(-this.limit);
  }
}

function parseAudit(raw: unknown): AuditEntry[] | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const s = raw as Partial<StoredAudit>;
  if (s.v !== 1 || !Array.isArray(s.e)) return undefined;
  const out: AuditEntry[] = [];
  for (const row of s.e as unknown[]) {
    if (!Array.isArray(row) || row.length !== 7) return undefined;
    const [at, action, via, ok, provider, keyId, detail] = row as unknown[];
    if (typeof at !== 'number' || !(Math.abs(at) <= 8.64e15) || typeof action !== 'string' || !VIAS.includes(via as AuditVia)) return undefined;
    if ((ok !== 0 && ok !== 1) || typeof provider !== 'string' || typeof keyId !== 'string' || typeof detail !== 'string') return undefined;
    const e: AuditEntry = { at: new Date(at).toISOString(), action, via: via as AuditVia, ok: ok === 1 };
    if (provider) e.provider = provider;
    if (keyId) e.keyId = keyId;
    // Re-sanitized in case an older build stored something it should not have.
    if (detail) e.detail = redactSecrets(detail);
    out.push(e);
  }
  return out;
}
