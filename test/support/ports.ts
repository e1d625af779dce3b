// In-memory ports for tests and benchmarks: a StateStore, a SecretVault, a SettingsSource and a
// Clock the test moves by hand. Plain Node (no vscode), so unit, MCP, webview and integration tests
// and the benchmarks can all use them.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock, SecretVault, StateStore } from '../../src/core/ports';
import type { BudgetConfig } from '../../src/core/budget';
import type { Settings, SettingsSource } from '../../src/core/service';
import { DEFAULT_BUDGET } from '../../src/core/budget';

/**
 * How a {@link MemoryState} copies values:
 * - `json`: kept as JSON text, each `get` parses a fresh copy (a state file, or a Memento's storage);
 * - `clone`: `structuredClone` on the way in and on the way out;
 * - `stable`: a JSON copy is taken on `update`, and `get` returns that same object until the next
 *   update (a Memento's cache);
 * - `none`: keeps and returns the caller's own objects.
 */
export type CopyMode = 'json' | 'clone' | 'stable' | 'none';

export interface MemoryStateOptions {
  /** Default `json`. */
  copy?: CopyMode;
  /** The message of the error a failing update rejects with (see {@link MemoryState.failNext}). Default 'disk full'. */
  failMessage?: string;
  /** A store other writers share: revision() changes with every write. */
  shared?: boolean;
}

/** A StateStore in memory. Setting `undefined` removes the key. */
export class MemoryState implements StateStore {
  /** Successful updates so far. */
  writes = 0;
  /** Updates running now, and the most that ever ran at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** How long each update takes (0: no wait). */
  delayMs = 0;
  /** The next this-many updates reject and change nothing (`Infinity`: all of them, until reset to 0). */
  failNext = 0;

  private readonly data = new Map<string, unknown>();
  private readonly copy: CopyMode;
  private readonly failMessage: string;

  constructor(opts: MemoryStateOptions = {}) {
    this.copy = opts.copy ?? 'json';
    this.failMessage = opts.failMessage ?? 'disk full';
    // Like a store several writers share (globalState across windows, a file across processes).
    if (opts.shared) this.revision = () => this.changes;
  }

  /** Set with `shared`: changes with every write, so readers look for other writers' values. */
  revision?: () => number;
  private changes = 0;

  keys(): readonly string[] {
    return [...this.data.keys()];
  }

  get<T>(key: string): T | undefined {
    const v = this.data.get(key);
    if (v === undefined) return undefined;
    if (this.copy === 'json') return JSON.parse(v as string) as T;
    if (this.copy === 'clone') return structuredClone(v) as T;
    return v as T;
  }

  async update(key: string, value: unknown): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs) await sleep(this.delayMs);
      if (this.failNext > 0) {
        this.failNext--;
        throw new Error(this.failMessage);
      }
      this.writes++;
      this.put(key, value);
    } finally {
      this.inFlight--;
    }
  }

  /** Copies kept by backup(), oldest first: the key, why, and the value as stored (JSON text). */
  readonly backups: { key: string; reason: string; raw: string }[] = [];

  backup(key: string, reason: string): string | undefined {
    if (!this.data.has(key)) return undefined;
    this.backups.push({ key, reason, raw: this.raw(key) });
    return `backup ${this.backups.length}`;
  }

  /** Stores a value as another writer (or an older version) left it: not counted, never fails. */
  seed(key: string, value: unknown): void {
    this.put(key, value);
  }

  /** The stored value of `key` as JSON text ('' when there is none). */
  raw(key: string): string {
    const v = this.data.get(key);
    if (v === undefined) return '';
    return this.copy === 'json' ? (v as string) : JSON.stringify(v);
  }

  /** Everything stored, as JSON with the keys sorted. */
  dump(): string {
    const keys = [...this.data.keys()].sort((a, b) => a.localeCompare(b));
    return JSON.stringify(Object.fromEntries(keys.map((k) => [k, this.copy === 'json' ? JSON.parse(this.data.get(k) as string) : this.data.get(k)])));
  }

  private put(key: string, value: unknown): void {
    this.changes++;
    if (value === undefined) this.data.delete(key);
    else if (this.copy === 'json') this.data.set(key, JSON.stringify(value));
    else if (this.copy === 'clone') this.data.set(key, structuredClone(value));
    else if (this.copy === 'stable') this.data.set(key, JSON.parse(JSON.stringify(value)));
    else this.data.set(key, value);
  }
}

/** A SecretVault in memory; `data` is what it holds, for tests to inspect. */
export class MemoryVault implements SecretVault {
  readonly data = new Map<string, string>();
  async get(name: string): Promise<string | undefined> {
    return this.data.get(name);
  }
  async store(name: string, value: string): Promise<void> {
    this.data.set(name, value);
  }
  async delete(name: string): Promise<void> {
    this.data.delete(name);
  }
  /** Everything stored, as JSON sorted by name. */
  dump(): string {
    return JSON.stringify([...this.data.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}

export type SettingsInit = Partial<Omit<Settings, 'budget'>> & { budget?: Partial<BudgetConfig> };

/** Settings in memory: the headless defaults, with what `init` gives. `setBudget` tells the listeners. */
export class MemorySettings implements SettingsSource {
  private settings: Settings;
  private readonly listeners = new Set<() => void>();
  constructor(init: SettingsInit = {}) {
    this.settings = { baseUrls: {}, priceOverrides: [], disabledProviders: [], ...init, budget: { ...DEFAULT_BUDGET, ...init.budget } };
  }
  get(): Settings {
    return this.settings;
  }
  async setBudget(patch: Partial<BudgetConfig>): Promise<void> {
    this.settings = { ...this.settings, budget: { ...this.settings.budget, ...patch } };
    for (const l of this.listeners) l();
  }
  /** Replaces settings the way a user edit would (listeners fire). */
  update(patch: Partial<Settings>): void {
    this.settings = { ...this.settings, ...patch };
    for (const l of this.listeners) l();
  }
  onDidChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A clock the test sets and advances by hand. `t` is the time in milliseconds since the epoch. */
export class TestClock implements Clock {
  t: number;
  constructor(start: number | string | Date) {
    this.t = toMs(start);
  }
  now(): Date {
    return new Date(this.t);
  }
  set(at: number | string | Date): void {
    this.t = toMs(at);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Noon UTC on a mid-month day: far from day and month edges. */
export const FIXED_NOW = new Date('2026-03-15T12:00:00.000Z');
/** A clock that always reads {@link FIXED_NOW}. */
export const fixedClock: Clock = { now: () => new Date(FIXED_NOW) };

function toMs(at: number | string | Date): number {
  return typeof at === 'number' ? at : typeof at === 'string' ? Date.parse(at) : at.getTime();
}
