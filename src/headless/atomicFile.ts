// Crash-safe file replacement, by write-file-atomic: it writes a temp file next to the target
// (`<name>.<number>`), fsyncs it, applies the mode, then renames it over the target, so readers see
// either the old or the new content, never a torn write. It does not fsync the directory, which
// makes the rename itself durable; that step is ours.
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

/**
 * Writes `data` to `path` atomically. `mode` (e.g. 0o600) is set on the file before it appears at
 * `path`; without it, an existing file keeps its mode.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode?: number): Promise<void> {
  await writeFileAtomicLib(path, data, { mode, fsync: true });
  await syncDir(dirname(path));
}

/** Synchronous variant of {@link writeFileAtomic}, for exit handlers and startup code. */
export function writeFileAtomicSync(path: string, data: string | Buffer, mode?: number): void {
  writeFileAtomicLib.sync(path, data, { mode, fsync: true });
  syncDirSync(dirname(path));
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
