// StateStore in a JSON file, for the headless CLI. Reads once at startup; writes are coalesced.
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import type { StateStore } from '../core/ports';
import { writeFileAtomic } from './atomicFile';

export interface FileStateOptions {
  /** How the file is written; defaults to an atomic write with mode 600. */
  writeFile?: (path: string, data: string) => Promise<void>;
}

/**
 * Keeps the state in memory and persists it to `filePath`. Updates made in the same tick are
 * written once; `update` resolves when its change is on disk.
 */
export class FileStateStore implements StateStore {
  private readonly data: Record<string, unknown>;
  private readonly loadWarnings: string[] = [];
  private readonly writeFile: (path: string, data: string) => Promise<void>;
  private scheduled: Promise<void> | undefined;
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly filePath: string,
    options: FileStateOptions = {},
  ) {
    this.writeFile = options.writeFile ?? ((path, data) => writeFileAtomic(path, data, 0o600));
    this.data = this.load();
  }

  /** Problems found while loading (e.g. a corrupt file that was moved aside). */
  get warnings(): readonly string[] {
    return this.loadWarnings;
  }

  get<T>(key: string): T | undefined {
    return this.data[key] as T | undefined;
  }

  keys(): readonly string[] {
    return Object.keys(this.data);
  }

  /** Sets `key` to a JSON copy of `value`; `undefined` removes it. */
  update(key: string, value: unknown): Promise<void> {
    if (value === undefined) delete this.data[key];
    else this.data[key] = JSON.parse(JSON.stringify(value)) as unknown;
    return this.scheduleWrite();
  }

  /** Resolves when every update so far is on disk; rejects if the last write failed. */
  flush(): Promise<void> {
    return this.scheduled ?? this.lastWrite;
  }

  private scheduleWrite(): Promise<void> {
    if (!this.scheduled) {
      const write = this.lastWrite
        .catch(() => undefined) // a failed write is superseded: each write stores the whole state
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => {
          this.scheduled = undefined; // later updates need a new write
          return this.persist();
        });
      this.scheduled = write;
      this.lastWrite = write;
    }
    return this.scheduled;
  }

  private async persist(): Promise<void> {
    const json = JSON.stringify(this.data, null, 2) + '\n';
    await fs.promises.mkdir(dirname(this.filePath), { recursive: true, mode: 0o700 });
    await this.writeFile(this.filePath, json);
  }

  private load(): Record<string, unknown> {
    let raw: string;
    try {
      raw = fs.readFileSync(this.filePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
      throw new Error(`Cannot read the state file at ${this.filePath}: ${(err as Error).message}. Check its permissions.`);
    }
    let problem: string;
    try {
      const value: unknown = JSON.parse(raw);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        return Object.assign(emptyState(), value);
      }
      problem = 'it is not a JSON object';
    } catch {
      problem = 'it is not valid JSON';
    }
    const aside = `${this.filePath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(this.filePath, aside);
    this.loadWarnings.push(
      `The state file at ${this.filePath} was unreadable (${problem}). It was moved to ${aside} and the state ` +
        `started empty. Inspect that file to recover settings or usage history.`,
    );
    return emptyState();
  }
}

// No prototype, so any key (even "__proto__") is an ordinary entry.
function emptyState(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}
