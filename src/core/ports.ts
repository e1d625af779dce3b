// Ports: what core needs from its host. The VS Code extension and the headless CLI each
// provide adapters; tests use in-memory ones.

/** Where key material lives. Implementations must never log or persist a key elsewhere. */
export interface SecretVault {
  get(name: string): Promise<string | undefined>;
  store(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
  /** Why stored secrets cannot be read now (e.g. no passphrase), or undefined when they can. */
  lockedReason?(): string | undefined;
}

/** Small JSON key-value state (VS Code Memento, or a file headless). Never holds secrets. */
export interface StateStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Promise<void>;
  /**
   * Optional, for stores that other processes write too (the headless state files): sets `key` to
   * `f(current)` in one step no other writer can come between, `current` being the latest stored
   * value. `f` may be called more than once (again on a fresher value) and must not keep state
   * between calls; the value it returns is stored as it is and must not be changed afterwards.
   * Resolves when the result is stored; if that fails, the change is dropped and the promise rejects.
   * Callers use modifyState (storedDoc.ts), which falls back to `update(key, f(get(key)))`.
   */
  modify?<T>(key: string, f: (current: T | undefined) => T | undefined): Promise<void>;
  /**
   * Optional: a number that changes when values may have been changed by another writer (another
   * process replaced the file). Callers that keep a decoded copy of a value reload it when it changes.
   */
  revision?(): number;
  /** Optional: the keys that hold a value now (ledgers that sum other writers' shares need it). */
  keys?(): readonly string[];
  /**
   * Optional: keeps a copy of what is stored for `key` right now, exactly as stored (a file store
   * copies the whole file byte for byte), before a caller drops data it cannot read. Returns where
   * the copy is, for the warning, or undefined when there was nothing to copy.
   */
  backup?(key: string, reason: string): string | undefined;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
