// The usage journal of the headless CLI: every accepted usage event is appended to
// AIKM_HOME/journal/<id>.jsonl before track_request replies, so killing the process (kill -9, a
// crash) loses nothing it acknowledged. The ledger saves a moment later and says what it holds;
// a journal whose process is gone is replayed by the next process that starts, then deleted.
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Ledger, LedgerJournal } from '../core/ledger';
import type { UsageEvent } from '../core/types';
import { writeFileAtomicSync } from './atomicFile';

const EXT = '.jsonl';
/** `<pid>-<random>.jsonl`, or `<pid>-<random>.replaying-<pid>` while another process replays it. */
const NAME = /^(\d+)-[0-9a-f]{12}(?:\.jsonl|\.replaying-(\d+))$/;

export class FileJournal implements LedgerJournal {
  readonly id = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private readonly path: string;
  private fd: number | undefined;
  private seq = 0;
  /** Lines appended and not yet known to be saved, oldest first. */
  private unsaved: { seq: number; text: string }[] = [];

  constructor(private readonly dir: string) {
    this.path = join(dir, `${this.id}${EXT}`);
  }

  append(event: UsageEvent): number {
    if (this.fd === undefined) {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.fd = fs.openSync(this.path, 'a', 0o600);
    }
    const seq = this.seq + 1;
    const text = `${JSON.stringify({ s: seq, e: event })}\n`;
    // In the kernel's page cache once written: it survives the process being killed (not a power cut).
    fs.writeSync(this.fd, text);
    this.seq = seq;
    this.unsaved.push({ seq, text });
    return seq;
  }

  committed(seq: number): void {
    this.unsaved = this.unsaved.filter((l) => l.seq > seq);
    if (this.fd === undefined) return;
    if (this.unsaved.length === 0) {
      fs.ftruncateSync(this.fd, 0); // appends continue from the start of the emptied file
      return;
    }
    // Keep only what is not saved yet: written aside, then renamed over the journal.
    writeFileAtomicSync(this.path, this.unsaved.map((l) => l.text).join(''), 0o600);
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.path, 'a', 0o600);
  }

  exists(id: string): boolean {
    return listJournals(this.dir).some((j) => j.id === id);
  }

  /** After the last save: an empty journal is removed; one with unsaved lines stays for the next start. */
  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
    if (this.unsaved.length === 0) fs.rmSync(this.path, { force: true });
  }
}

interface JournalFile {
  id: string;
  file: string;
  /** The process that writes it, or replays it. */
  pid: number;
}

function listJournals(dir: string): JournalFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((file) => {
    const m = NAME.exec(file);
    if (!m) return [];
    return [{ id: file.slice(0, file.indexOf('.')), file, pid: Number(m[2] ?? m[1]) }];
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/**
 * Replays the journals of processes that are gone into `ledger`, saves, and deletes them. Each is
 * claimed first (renamed), so two processes starting at once never replay the same one. Returns
 * what the user should be told.
 */
export async function replayJournals(dir: string, ledger: Ledger, own: FileJournal): Promise<string[]> {
  const notes: string[] = [];
  for (const j of listJournals(dir)) {
    if (j.id === own.id || alive(j.pid)) continue;
    const claimed = join(dir, `${j.id}.replaying-${process.pid}`);
    try {
      fs.renameSync(join(dir, j.file), claimed);
    } catch {
      continue; // another process claimed it first
    }
    const entries: { seq: number; event: UsageEvent }[] = [];
    for (const line of fs.readFileSync(claimed, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const { s, e } = JSON.parse(line) as { s: number; e: UsageEvent };
        if (Number.isSafeInteger(s) && e && typeof e === 'object') entries.push({ seq: s, event: e });
      } catch {
        // the last line of a write the kill cut short: it was never acknowledged
      }
    }
    const added = ledger.replay(j.id, entries);
    await ledger.flush();
    fs.rmSync(claimed, { force: true });
    if (added > 0) notes.push(`Recovered ${added} usage record(s) that a process (pid ${j.id.split('-')[0]}) accepted but had not saved when it stopped.`);
  }
  return notes;
}

/** Temp files of atomic writes (`.<name>.<pid>.<random>.tmp`) left by a process that was killed mid-write. */
export function removeStaleTempFiles(dirs: string[]): number {
  let removed = 0;
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name);
      if (!m || alive(Number(m[1]))) continue;
      fs.rmSync(join(dir, name), { force: true });
      removed++;
    }
  }
  return removed;
}
