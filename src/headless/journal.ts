// The usage journal of the headless CLI: every accepted usage event is appended to
// AIKM_HOME/journal/<id>.jsonl before track_request replies, so killing the process (kill -9, a
// crash) loses nothing it acknowledged. The ledger saves a moment later and says what it holds;
// a journal whose process is gone is replayed by the next process that starts, then deleted.
import * as fs from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { hostname, uptime } from 'node:os';
import { join } from 'node:path';
import type { Ledger, LedgerJournal } from '../core/ledger';
import type { UsageEvent } from '../core/types';
import { writeFileAtomicSync } from './atomicFile';

const EXT = '.jsonl';
/** Past this size the saved lines are dropped from the journal file; below it they stay (replay skips them). */
const COMPACT_BYTES = 1 << 20;

const hash8 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

/**
 * Who writes a journal: this machine, this boot of it, this process. A pid alone says nothing
 * about a journal from another machine sharing AIKM_HOME, or from before a reboot.
 */
export interface JournalOwner {
  /** This machine (machine id, else host name). */
  host: string;
  /** This boot of it. */
  boot: string;
  /** The pid namespace: a container's pids are not the host's. */
  ns: string;
  pid: number;
  /** Whether `boot` is the kernel's own boot id (Linux); elsewhere it is estimated from the uptime. */
  exactBoot?: boolean;
}

function readTrimmed(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function pidNamespace(): string {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return 'none'; // no namespaces: one pid space
  }
}

const kernelBoot = readTrimmed('/proc/sys/kernel/random/boot_id');

/** /etc/machine-id where there is one: stable when the host name changes (DHCP, a new container name). */
export const THIS_PROCESS: JournalOwner = {
  host: hash8(readTrimmed('/etc/machine-id') ?? hostname()),
  boot: hash8(kernelBoot ?? String(Math.round((Date.now() / 1000 - uptime()) / 600))), // else the boot time, to 10 minutes
  ns: hash8(pidNamespace()),
  pid: process.pid,
  exactBoot: kernelBoot !== undefined,
};

const ownerTag = (o: JournalOwner) => `${o.host}-${o.boot}-${o.ns}-${o.pid}`;
/** `<host>-<boot>-<ns>-<pid>-<random>.jsonl`, or `….replaying-<host>-<boot>-<ns>-<pid>` while a process replays it. */
const NAME = /^([0-9a-f]{8})-([0-9a-f]{8})-([0-9a-f]{8})-(\d+)-[0-9a-f]{12}(?:\.jsonl|\.replaying-([0-9a-f]{8})-([0-9a-f]{8})-([0-9a-f]{8})-(\d+))$/;

export class FileJournal implements LedgerJournal {
  readonly id: string;
  private readonly path: string;
  private fd: number | undefined;
  private seq = 0;
  /** Bytes in the file now. */
  private size = 0;
  /** Lines appended and not yet known to be saved, oldest first. */
  private unsaved: { seq: number; text: string }[] = [];

  constructor(
    private readonly dir: string,
    owner: JournalOwner = THIS_PROCESS,
  ) {
    this.id = `${ownerTag(owner)}-${randomBytes(6).toString('hex')}`;
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
    writeAll(this.fd, Buffer.from(text));
    this.seq = seq;
    this.size += Buffer.byteLength(text);
    this.unsaved.push({ seq, text });
    return seq;
  }

  committed(seq: number): void {
    this.unsaved = this.unsaved.filter((l) => l.seq > seq);
    if (this.fd === undefined) return;
    if (this.unsaved.length === 0) {
      fs.ftruncateSync(this.fd, 0); // appends continue from the start of the emptied file
      this.size = 0;
      return;
    }
    // Saved lines left in the file are harmless (the ledger's marker says they are held), so the
    // file is rewritten only when they add up, not on every save.
    if (this.size < COMPACT_BYTES) return;
    const rest = this.unsaved.map((l) => l.text).join('');
    writeFileAtomicSync(this.path, rest, 0o600);
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.path, 'a', 0o600);
    this.size = Buffer.byteLength(rest);
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

function writeAll(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off);
}

interface JournalFile {
  id: string;
  file: string;
  /** The process that writes it, or replays it. */
  owner: JournalOwner;
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
    const owner = m[8] ? { host: m[5], boot: m[6], ns: m[7], pid: Number(m[8]) } : { host: m[1], boot: m[2], ns: m[3], pid: Number(m[4]) };
    return [{ id: file.slice(0, file.indexOf('.')), file, owner }];
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

/** Whether the owner is certainly gone; undefined when it cannot be told (another machine or container). */
function gone(owner: JournalOwner, me: JournalOwner): boolean | undefined {
  if (owner.host !== me.host) return undefined;
  if (owner.boot !== me.boot && me.exactBoot) return true; // a previous boot: every process of it is gone
  if (owner.ns !== me.ns) return undefined;
  return !alive(owner.pid);
}

/**
 * Replays the journals of processes that are gone into `ledger`, saves, and deletes them. Each is
 * claimed first (renamed), so two processes starting at once never replay the same one. Returns
 * what the user should be told.
 */
export async function replayJournals(dir: string, ledger: Ledger, own: FileJournal, me: JournalOwner = THIS_PROCESS): Promise<string[]> {
  const notes: string[] = [];
  const journals = listJournals(dir).filter((j) => j.id !== own.id);
  const elsewhere = journals.filter((j) => gone(j.owner, me) === undefined).length;
  if (elsewhere > 0) notes.push(`${elsewhere} usage journal(s) in ${dir} belong to another machine or container that shares this AIKM_HOME; the CLI there replays them when it next starts.`);
  const orphans = journals.filter((j) => gone(j.owner, me) === true);
  if (orphans.length === 0) return notes;
  const refused = ledger.cannotRecord();
  if (refused) {
    notes.push(`${orphans.length} usage journal(s) in ${dir} were not replayed: ${refused}`);
    return notes;
  }
  for (const j of orphans) {
    const claimed = join(dir, `${j.id}.replaying-${ownerTag(me)}`);
    try {
      fs.renameSync(join(dir, j.file), claimed);
    } catch {
      continue; // another process claimed it first
    }
    try {
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
      const { added, unreadable } = ledger.replay(j.id, entries);
      await ledger.flush();
      fs.rmSync(claimed, { force: true });
      const pid = j.owner.pid;
      if (added > 0) notes.push(`Recovered ${added} usage record(s) that a process (pid ${pid}) accepted but had not saved when it stopped.`);
      if (unreadable > 0) notes.push(`Skipped ${unreadable} unreadable usage record(s) in the journal of process ${pid}.`);
    } catch (err) {
      // Kept under its own name for the next start; the ledger's marker stops anything saved now from counting twice.
      try {
        fs.renameSync(claimed, join(dir, j.file));
      } catch {
        // left claimed: the next start sees this process gone and replays it
      }
      notes.push(`Could not replay the usage journal ${j.file}: ${err instanceof Error ? err.message : String(err)}. It is kept and tried again at the next start.`);
    }
  }
  return notes;
}

/** Past this age a temp file of an atomic write belongs to a write that was cut short (a kill, a crash). */
const STALE_TEMP_MS = 10 * 60_000;

/** write-file-atomic's `<name>.json.<number>` (`.jsonl` in the journal folder); `.<name>.<pid>.<random>.tmp` from versions before it. */
const TEMP_FILE = /^(?:.+\.jsonl?\.\d{1,10}|\..+\.\d+\.[0-9a-f]{12}\.tmp)$/;

/**
 * Temp files of atomic writes left by a process that was killed mid-write. Told apart by age, not
 * by pid: the writer may be on another machine sharing the folder.
 */
export function removeStaleTempFiles(dirs: string[], now = Date.now()): number {
  let removed = 0;
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!TEMP_FILE.test(name)) continue;
      const path = join(dir, name);
      try {
        if (now - fs.statSync(path).mtimeMs < STALE_TEMP_MS) continue;
        fs.rmSync(path, { force: true });
        removed++;
      } catch {
        // gone already: its write finished
      }
    }
  }
  return removed;
}
