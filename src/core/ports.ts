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
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
