// The usage journal: what track_request acknowledged survives the process being killed.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Ledger } from '../../src/core/ledger';
import { FileJournal, removeStaleTempFiles, replayJournals, THIS_PROCESS, type JournalOwner } from '../../src/headless/journal';
import { FileStateStore } from '../../src/headless/fileState';
import { TestClock } from '../support/ports';
import { tempRoot } from '../support/tmp';
import type { UsageEvent } from '../../src/core/types';

const NOW = '2026-11-21T17:00:00Z';
const ev = (costUsd: number): UsageEvent => ({ at: NOW, provider: 'openai', model: 'gpt-4o', inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd, success: true });

/** The pid of a process that has exited: a journal named after it belongs to no one. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
}

/** A journal as a killed process leaves it: `lines` of [seq, cost]; by default a process of this machine and boot. */
function leftBehind(dir: string, lines: [number, number | UsageEvent][], owner: Partial<JournalOwner> = {}): string {
  const o = { ...THIS_PROCESS, pid: deadPid(), ...owner };
  const id = `${o.host}-${o.boot}-${o.ns}-${o.pid}-0123456789ab`;
  fs.mkdirSync(dir, { recursive: true });
  const line = ([s, c]: [number, number | UsageEvent]) => JSON.stringify({ s, e: typeof c === 'number' ? ev(c) : c });
  fs.writeFileSync(join(dir, `${id}.jsonl`), lines.map(line).join('\n') + '\n{"s": 99, "e": {"at"'); // and a torn last line
  return id;
}

describe('FileJournal and replay', () => {
  const tmp = tempRoot('aikm-journal-');
  const ledgerOn = (home: string, journal?: FileJournal) => new Ledger(new FileStateStore(join(home, 'ledger.json')), { clock: new TestClock(NOW), timeZone: 'UTC', journal, flushDelayMs: 1 });

  it('writes each event before record() returns, and empties itself once the ledger saved it', async () => {
    const home = tmp.unique('home');
    const journal = new FileJournal(join(home, 'journal'));
    const ledger = ledgerOn(home, journal);
    ledger.record(ev(0.5));
    ledger.record(ev(0.25));
    const file = join(home, 'journal', `${journal.id}.jsonl`);
    assert.deepEqual(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { s: number }).s), [1, 2], 'on disk before any save');
    await ledger.flush();
    assert.equal(fs.readFileSync(file, 'utf8'), '', 'saved: nothing left to replay');
    ledger.record(ev(1));
    assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 1);
    await ledger.flush();
    journal.close();
    assert.equal(fs.existsSync(file), false, 'an empty journal is removed at the end');
  });

  it('replays the journal of a process that is gone, once, skipping what its last save already held', async () => {
    const home = tmp.unique('home');
    const dir = join(home, 'journal');
    // The killed process had saved seq 1 and 2 (its marker says so) but not 3 and 4.
    const id = leftBehind(dir, [[1, 0.1], [2, 0.2], [3, 0.3], [4, 0.4]]);
    fs.writeFileSync(join(home, 'ledger.json'), JSON.stringify({ 'aiKeyManager.ledger': { v: 2, p: ['openai'], m: [[0, 'gpt-4o']], d: { '2026-11-21': [0, 2, 0, 20, 10, 0, 0, 300_000_000, 0, 0, 0, 0] }, mo: {}, r: [], s: [], j: { [id]: 2 } } }));
    const journal = new FileJournal(dir);
    const ledger = ledgerOn(home, journal);
    assert.deepEqual(await replayJournals(dir, ledger, journal), [`Recovered 2 usage record(s) that a process (pid ${id.split('-')[3]}) accepted but had not saved when it stopped.`]);
    assert.equal(ledger.usage({ days: 1 }).totals.requests, 4);
    assert.ok(Math.abs(ledger.usage({ days: 1 }).totals.costUsd - 1) < 1e-12);
    assert.deepEqual(fs.readdirSync(dir), [], 'replayed and deleted');
    // A second start finds nothing to replay and counts nothing twice.
    const again = ledgerOn(home, new FileJournal(dir));
    assert.deepEqual(await replayJournals(dir, again, new FileJournal(dir)), []);
    assert.equal(again.usage({ days: 1 }).totals.requests, 4);
    // The marker of the deleted journal goes with the next save.
    again.record(ev(0));
    await again.flush();
    const stored = (JSON.parse(fs.readFileSync(join(home, 'ledger.json'), 'utf8')) as Record<string, { j?: Record<string, number> }>)['aiKeyManager.ledger'];
    assert.equal(stored.j?.[id], undefined);
  });

  it('never replays the journal of a process that is still running', async () => {
    const home = tmp.unique('home');
    const dir = join(home, 'journal');
    const other = new FileJournal(dir); // this process: alive
    other.append(ev(5));
    const journal = new FileJournal(dir);
    const ledger = ledgerOn(home, journal);
    assert.deepEqual(await replayJournals(dir, ledger, journal), []);
    assert.equal(ledger.usage({ days: 1 }).totals.requests, 0);
    assert.ok(fs.existsSync(join(dir, `${other.id}.jsonl`)));
  });

  it('replays the journal of a previous boot even if its pid is running now, and leaves other machines’ journals alone', async () => {
    const home = tmp.unique('home');
    const dir = join(home, 'journal');
    const rebooted = leftBehind(dir, [[1, 0.5]], { boot: 'b00b00b0', pid: process.pid });
    const elsewhere = leftBehind(dir, [[1, 7]], { host: 'e15e1e55' });
    const container = leftBehind(dir, [[1, 9]], { ns: 'c0c0c0c0' }); // its pid says nothing here
    const journal = new FileJournal(dir);
    const ledger = ledgerOn(home, journal);
    const notes = await replayJournals(dir, ledger, journal);
    assert.deepEqual(notes, [
      `2 usage journal(s) in ${dir} belong to another machine or container that shares this AIKM_HOME; the CLI there replays them when it next starts.`,
      `Recovered 1 usage record(s) that a process (pid ${process.pid}) accepted but had not saved when it stopped.`,
    ]);
    assert.equal(ledger.usage({ days: 1 }).totals.costUsd, 0.5);
    assert.deepEqual(fs.readdirSync(dir).sort(), [`${elsewhere}.jsonl`, `${container}.jsonl`].sort());
    assert.ok(!fs.readdirSync(dir).some((f) => f.startsWith(rebooted)));
  });

  it('keeps journals it cannot replay: a ledger from a newer version, and says so; skips invalid events', async () => {
    const home = tmp.unique('home');
    const dir = join(home, 'journal');
    const id = leftBehind(dir, [[1, 0.5], [2, { ...ev(1), costUsd: -1 }], [3, { ...ev(1), success: false, error: 5 as unknown as string }]]);
    fs.writeFileSync(join(home, 'ledger.json'), JSON.stringify({ 'aiKeyManager.ledger': { v: 99 } }));
    const journal = new FileJournal(dir);
    const newer = ledgerOn(home, journal);
    const [note] = await replayJournals(dir, newer, journal);
    assert.match(note, new RegExp(`^1 usage journal\\(s\\) in .* were not replayed: .*newer`));
    assert.deepEqual(fs.readdirSync(dir), [`${id}.jsonl`], 'kept for a version that can record');

    fs.rmSync(join(home, 'ledger.json'));
    const ledger = ledgerOn(home, journal);
    assert.deepEqual(await replayJournals(dir, ledger, journal), [
      `Recovered 1 usage record(s) that a process (pid ${id.split('-')[3]}) accepted but had not saved when it stopped.`,
      `Skipped 2 unreadable usage record(s) in the journal of process ${id.split('-')[3]}.`,
    ]);
    assert.equal(ledger.usage({ days: 1 }).totals.costUsd, 0.5);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('leaves saved lines in a small journal, and a replay of it counts only the unsaved ones', async () => {
    const home = tmp.unique('home');
    const dir = join(home, 'journal');
    const journal = new FileJournal(dir);
    const ledger = ledgerOn(home, journal);
    ledger.record(ev(0.5));
    const saving = ledger.flush();
    ledger.record(ev(0.25)); // after the save took its batch: not in it
    await saving;
    const file = join(dir, `${journal.id}.jsonl`);
    assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 2, 'not rewritten for one saved line');
    // Killed now: the next process replays only the second line.
    const next = new FileJournal(dir, { ...THIS_PROCESS, pid: deadPid() });
    const after = ledgerOn(home, next);
    const notes = await replayJournals(dir, after, next, { ...THIS_PROCESS, boot: 'b00b00b0' });
    assert.match(notes[0], /^Recovered 1 usage record/);
    assert.equal(after.usage({ days: 1 }).totals.costUsd, 0.75);
  });

  it('removes temp files of atomic writes once they are old, and keeps fresh ones', () => {
    const dir = tmp.unique('home');
    fs.mkdirSync(dir, { recursive: true });
    // write-file-atomic's temp names, and those of the versions before it.
    const old = ['ledger.json.2444451444', 'a-b-c-1-0123456789ab.jsonl.7', `.ledger.json.${deadPid()}.0123456789ab.tmp`];
    const fresh = ['state.json.3043118069', `.ledger.json.${process.pid}.0123456789ab.tmp`];
    const kept = ['ledger.json', 'notes.txt.2444451444', 'state.json.corrupt-2026-11-21T17-00-00Z'];
    for (const f of [...old, ...fresh, ...kept]) fs.writeFileSync(join(dir, f), '{}');
    const hourAgo = new Date(Date.now() - 3600_000);
    for (const f of [...old, ...kept]) fs.utimesSync(join(dir, f), hourAgo, hourAgo);
    assert.equal(removeStaleTempFiles([dir]), old.length);
    assert.deepEqual(fs.readdirSync(dir).sort(), [...fresh, ...kept].sort());
  });
});
