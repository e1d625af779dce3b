// StateStore in a JSON file for the headless CLI, safe to share between processes.
//
// Several processes may use one AIKM_HOME at once (Claude Code and Claude Desktop each start
// `ai-key-manager mcp`), so this store never writes back a stale copy of the whole file:
// - reads notice when another process replaced the file (inode, size, mtime) and load it again;
// - a write takes the lock file, reads the file as it is now, applies only the changes this
//   process made (`update` sets a key, `modify` re-applies its function to the fresh value) and
//   writes the result atomically (temp file + rename), so the other process's changes survive.
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import type { StateStore } from '../core/ports';
import { writeFileAtomic } from './atomicFile';
import { withFileLock, type FileLockOptions } from './fileLock';

export interface FileStateOptions {
  /** How the file is written; defaults to an atomic write with mode 600. */
  writeFile?: (path: string, data: string) => Promise<void>;
  /** Lock file timing (tests). */
  lock?: FileLockOptions;
}

type Change = { key: string; done: Deferred } & ({ kind: 'set'; value: unknown } | { kind: 'modify'; f: (current: unknown) => unknown });

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // rejections reach whoever awaits it; none is "unhandled" here
  return { promise, resolve, reject };
}

type DiskRead = { kind: 'ok'; value: Record<string, unknown>; sig: string } | { kind: 'missing' } | { kind: 'corrupt'; problem: string; raw: string };

/**
 * Keeps the state in memory and persists it to `filePath`. Changes made in the same tick are
 * written once; `update` and `modify` resolve when their change is on disk.
 */
export class FileStateStore implements StateStore {
  private readonly loadWarnings: string[] = [];
  private readonly writeFile: (path: string, data: string) => Promise<void>;
  private readonly lockPath: string;
  /** The file as this process last read or wrote it. */
  private base: Record<string, unknown>;
  /** Signature (inode, size, times) of the file `base` came from; undefined: there was no file. */
  private baseSig: string | undefined;
  /** Changes not on disk yet, oldest first. */
  private changes: Change[] = [];
  /** `base` with `changes` applied: what get() returns. */
  private view: Record<string, unknown>;
  private rev = 0;
  private checkedThisTick = false;
  private writing = false;
  private writeScheduled = false;
  private chain: Promise<void> = Promise.resolve();
  private lastError: unknown;

  constructor(
    private readonly filePath: string,
    private readonly options: FileStateOptions = {},
  ) {
    this.writeFile = options.writeFile ?? ((path, data) => writeFileAtomic(path, data, 0o600));
    this.lockPath = `${filePath}.lock`;
    const first = this.readSync();
    if (first.kind === 'ok') {
      this.base = first.value;
      this.baseSig = first.sig;
    } else {
      if (first.kind === 'corrupt') this.moveAside(first.problem);
      this.base = emptyState();
    }
    this.view = copy(this.base);
  }

  /** Copies the file as it is on disk, byte for byte, to `<file>.corrupt-<time>`. */
  backup(_key: string, _reason: string): string | undefined {
    const copyPath = `${this.filePath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      fs.copyFileSync(this.filePath, copyPath, fs.constants.COPYFILE_EXCL);
      fs.chmodSync(copyPath, 0o600);
      return copyPath;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return copyPath; // copied this millisecond already
      throw new Error(`Could not keep a copy of ${this.filePath} before dropping unreadable data: ${(err as Error).message}. Nothing was dropped.`, { cause: err });
    }
  }

  /** Problems found while loading (e.g. a corrupt file that was moved aside). */
  get warnings(): readonly string[] {
    return this.loadWarnings;
  }

  get<T>(key: string): T | undefined {
    this.refresh();
    return this.view[key] as T | undefined;
  }

  keys(): readonly string[] {
    this.refresh();
    return Object.keys(this.view);
  }

  /** Changes whenever the file was found replaced by another process and loaded again. */
  revision(): number {
    this.refresh();
    return this.rev;
  }

  /** Sets `key` to a JSON copy of `value`; `undefined` removes it. */
  update(key: string, value: unknown): Promise<void> {
    const copyOf = value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
    setKey(this.view, key, copyOf);
    return this.enqueue({ key, kind: 'set', value: copyOf, done: deferred() });
  }

  /**
   * Sets `key` to `f(current)`; at write time `f` is applied again to the value on disk, so a
   * change another process made to the same key meanwhile is not lost. If the write fails, the
   * change is dropped and the promise rejects.
   */
  modify<T>(key: string, f: (current: T | undefined) => T | undefined): Promise<void> {
    const fn = f as (current: unknown) => unknown;
    setKey(this.view, key, fn(this.view[key])); // throws before anything changes if f does
    return this.enqueue({ key, kind: 'modify', f: fn, done: deferred() });
  }

  /**
   * Resolves when every change so far is on disk; rejects if the last write failed. Changes left
   * over from a failed write are written again.
   */
  flush(): Promise<void> {
    if (this.changes.length > 0) this.schedule();
    const settled = (): Promise<void> => (this.lastError === undefined ? Promise.resolve() : Promise.reject(this.lastError));
    if (!this.writeScheduled && !this.writing) return settled();
    return this.chain.then(settled);
  }

  private enqueue(change: Change): Promise<void> {
    this.changes.push(change);
    this.schedule();
    return change.done.promise;
  }

  /** Changes of the same tick go into one write; never two writes at a time. */
  private schedule(): void {
    if (this.writeScheduled) return;
    this.writeScheduled = true;
    this.chain = this.chain
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        this.writeScheduled = false;
        return this.persist();
      });
  }

  /** Loads the file again if another process replaced it (checked at most once per tick). */
  private refresh(): void {
    // While this process writes, its view is the newest state it knows; the write re-reads the file.
    if (this.checkedThisTick || this.writing) return;
    this.checkedThisTick = true;
    queueMicrotask(() => (this.checkedThisTick = false));
    if (statSig(this.filePath) === this.baseSig) return;
    let disk: ReturnType<FileStateStore['readSync']>;
    try {
      disk = this.readSync();
    } catch {
      return; // unreadable now (a folder in its place, permissions): keep what we have; the next write reports it
    }
    if (disk.kind === 'corrupt') return; // keep what we have; the next write deals with it under the lock
    this.base = disk.kind === 'ok' ? disk.value : emptyState();
    this.baseSig = disk.kind === 'ok' ? disk.sig : undefined;
    this.view = this.applied(this.base, this.changes);
    this.rev++;
  }

  private applied(base: Record<string, unknown>, changes: Change[], failed?: Map<Change, unknown>): Record<string, unknown> {
    const out = copy(base);
    for (const c of changes) {
      if (c.kind === 'set') {
        setKey(out, c.key, c.value);
        continue;
      }
      try {
        setKey(out, c.key, c.f(out[c.key]));
      } catch (err) {
        failed?.set(c, err);
      }
    }
    return out;
  }

  private async persist(): Promise<void> {
    const batch = this.changes;
    if (batch.length === 0) return;
    this.changes = [];
    this.writing = true;
    const failed = new Map<Change, unknown>();
    let error: unknown;
    try {
      await fs.promises.mkdir(dirname(this.filePath), { recursive: true, mode: 0o700 });
      await withFileLock(
        this.lockPath,
        async () => {
          // The file as it is now: another process may have written since we last looked.
          let start = this.base;
          let external = false;
          if (statSig(this.filePath) !== this.baseSig) {
            const disk = await this.read();
            if (disk.kind === 'corrupt') this.moveAside(disk.problem); // keep our last good copy
            else {
              start = disk.kind === 'ok' ? disk.value : emptyState();
              external = true;
            }
          }
          const next = this.applied(start, batch, failed);
          await this.writeFile(this.filePath, JSON.stringify(next, null, 2) + '\n');
          this.base = next;
          this.baseSig = statSig(this.filePath);
          if (external) this.rev++;
        },
        this.options.lock,
      );
    } catch (err) {
      error = err;
    } finally {
      this.writing = false;
    }
    if (error !== undefined) {
      // Nothing was written. Set values stay queued for the next write (each write stores the
      // latest value of every key set); modifications are dropped: their callers decide.
      // (They are written with the next change or flush.)
      this.changes = [...batch.filter((c) => c.kind === 'set').map((c) => ({ ...c, done: deferred() })), ...this.changes];
      for (const c of batch) c.done.reject(error);
      this.lastError = error;
    } else {
      this.lastError = undefined;
      for (const c of batch) {
        const err = failed.get(c);
        if (err === undefined) c.done.resolve();
        else c.done.reject(err);
      }
    }
    this.view = this.applied(this.base, this.changes);
  }

  /** Reads the file: parsed object with its signature, missing, or corrupt. */
  private readSync(): DiskRead {
    let fd: number;
    try {
      fd = fs.openSync(this.filePath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      throw new Error(`Cannot read the state file at ${this.filePath}: ${(err as Error).message}. Check its permissions.`, { cause: err });
    }
    try {
      const sig = sigOf(fs.fstatSync(fd));
      return parse(fs.readFileSync(fd, 'utf8'), sig);
    } catch (err) {
      throw new Error(`Cannot read the state file at ${this.filePath}: ${(err as Error).message}. Check that it is a file and readable.`, { cause: err });
    } finally {
      fs.closeSync(fd);
    }
  }

  private async read(): Promise<DiskRead> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.filePath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      throw new Error(`Cannot read the state file at ${this.filePath}: ${(err as Error).message}. Check its permissions.`, { cause: err });
    }
    try {
      const sig = sigOf(await handle.stat());
      return parse(await handle.readFile('utf8'), sig);
    } catch (err) {
      throw new Error(`Cannot read the state file at ${this.filePath}: ${(err as Error).message}. Check that it is a file and readable.`, { cause: err });
    } finally {
      await handle.close();
    }
  }

  private moveAside(problem: string): void {
    const aside = `${this.filePath}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(this.filePath, aside);
    this.loadWarnings.push(
      `The state file at ${this.filePath} was unreadable (${problem}). It was moved to ${aside} and the state ` +
        `started empty. Inspect that file to recover settings or usage history.`,
    );
  }
}

function parse(raw: string, sig: string): DiskRead {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { kind: 'ok', value: Object.assign(emptyState(), value), sig };
    return { kind: 'corrupt', problem: 'it is not a JSON object', raw };
  } catch {
    return { kind: 'corrupt', problem: 'it is not valid JSON', raw };
  }
}

function sigOf(st: fs.Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

function statSig(path: string): string | undefined {
  try {
    return sigOf(fs.statSync(path));
  } catch {
    return undefined;
  }
}

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value === undefined) delete target[key];
  else target[key] = value;
}

function copy(from: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(emptyState(), from);
}

// No prototype, so any key (even "__proto__") is an ordinary entry.
function emptyState(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}
