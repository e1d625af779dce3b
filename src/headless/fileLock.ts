// A lock file for read-modify-write of the files in AIKM_HOME, which several processes may share
// (Claude Code and Claude Desktop each start their own `ai-key-manager mcp`).
//
// Taking the lock creates `<file>.lock` with O_EXCL, so exactly one process succeeds; it holds the
// owner's pid, host and a random nonce. Others wait in short, growing sleeps. A lock whose owner
// is gone (same host, pid not running) is taken over at once; one older than `staleMs` is taken
// over even if its owner seems alive (hung, or on another machine sharing the folder).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';

export interface FileLockOptions {
  /** Give up waiting after this many ms. Default 15 000. */
  timeoutMs?: number;
  /** A lock held longer than this many ms is considered abandoned. Default 10 000. */
  staleMs?: number;
}

interface LockInfo {
  pid: number;
  host: string;
  nonce: string;
  at: string;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_STALE_MS = 10_000;
const FIRST_WAIT_MS = 2;
const MAX_WAIT_MS = 50;

/** Runs `fn` while holding the lock file `lockPath` (created next to the file it protects). */
export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: FileLockOptions = {}): Promise<T> {
  const release = await acquireFileLock(lockPath, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Takes the lock; the returned function releases it (only if it is still ours). */
export async function acquireFileLock(lockPath: string, opts: FileLockOptions = {}): Promise<() => void> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const info: LockInfo = { pid: process.pid, host: os.hostname(), nonce: randomBytes(8).toString('hex'), at: new Date().toISOString() };
  const content = JSON.stringify(info);
  const deadline = Date.now() + timeoutMs;
  let wait = FIRST_WAIT_MS;
  for (;;) {
    if (await tryCreate(lockPath, content)) return () => release(lockPath, info.nonce);
    if (takeOverIfStale(lockPath, staleMs)) continue;
    if (Date.now() >= deadline) {
      const holder = readInfo(lockPath);
      const who = holder ? `process ${holder.pid} on ${holder.host} since ${holder.at}` : 'another process';
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for the lock ${lockPath}, held by ${who}. Another ai-key-manager ` +
          `process is saving to the same folder; try again. If no such process is running, delete that file.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * wait));
    wait = Math.min(wait * 2, MAX_WAIT_MS);
  }
}

async function tryCreate(lockPath: string, content: string): Promise<boolean> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(lockPath, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`Cannot create the lock file ${lockPath}: ${(err as Error).message}. Check that its folder exists and is writable.`, { cause: err });
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  return true;
}

function release(lockPath: string, nonce: string): void {
  // Only remove our own lock: if it was taken over as stale, it now belongs to someone else.
  if (readInfo(lockPath)?.nonce !== nonce) return;
  try {
    fs.unlinkSync(lockPath);
  } catch {
    // already gone
  }
}

function readInfo(lockPath: string): LockInfo | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string' && typeof v.nonce === 'string') return { at: '?', ...v } as LockInfo;
  } catch {
    // missing, or being written right now
  }
  return undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but not ours to signal
  }
}

/**
 * Removes the lock if its owner is gone or it is older than `staleMs`. True if the caller should
 * try to take the lock again right away (also when the lock disappeared meanwhile).
 */
function takeOverIfStale(lockPath: string, staleMs: number): boolean {
  let seen: fs.Stats;
  try {
    seen = fs.statSync(lockPath);
  } catch {
    return true; // released meanwhile
  }
  const holder = readInfo(lockPath);
  const ownerGone = holder !== undefined && holder.host === os.hostname() && !isRunning(holder.pid);
  if (!ownerGone && Date.now() - seen.mtimeMs < staleMs) return false;
  // Move it aside (atomic), then check it is the lock judged stale and not one taken meanwhile.
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(lockPath, aside);
  } catch {
    return true; // someone else removed or moved it
  }
  try {
    const moved = fs.statSync(aside);
    if (moved.ino !== seen.ino || moved.mtimeMs !== seen.mtimeMs) {
      // A fresh lock: put it back unless yet another one was created meanwhile.
      try {
        fs.linkSync(aside, lockPath);
      } catch {
        // a new lock exists; the moved one's owner will find its lock gone when releasing
      }
      return false;
    }
    return true;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}
