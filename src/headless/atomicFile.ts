// Crash-safe file replacement: write a temp file next to the target, fsync it, then rename it
// over the target, so readers see either the old or the new content, never a torn write.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes `data` to `path` atomically. `mode` (e.g. 0o600) is set on the file before it appears at
 * `path`; without it, an existing file keeps its mode.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode?: number): Promise<void> {
  mode ??= await fs.promises.stat(path).then((s) => s.mode & 0o7777, () => undefined);
  const tmp = tempPathFor(path);
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(tmp, 'wx', mode ?? 0o666);
    if (mode !== undefined) await handle.chmod(mode); // the umask may have narrowed or we need exact bits
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.promises.rename(tmp, path);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await syncDir(dirname(path));
}

/** Synchronous variant of {@link writeFileAtomic}, for exit handlers and startup code. */
export function writeFileAtomicSync(path: string, data: string | Buffer, mode?: number): void {
  mode ??= existingModeSync(path);
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', mode ?? 0o666);
    if (mode !== undefined) fs.fchmodSync(fd, mode);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is more useful
      }
    }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  syncDirSync(dirname(path));
}

function existingModeSync(path: string): number | undefined {
  try {
    return fs.statSync(path).mode & 0o7777;
  } catch {
    return undefined;
  }
}

// Makes the rename itself durable. Not possible on Windows (directories cannot be opened), so best effort.
async function syncDir(dir: string): Promise<void> {
  try {
    const h = await fs.promises.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  } catch {
    // best effort
  }
}

function syncDirSync(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // best effort
  }
}
