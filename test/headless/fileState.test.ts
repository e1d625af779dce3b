import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { FileStateStore } from '../../src/headless/fileState';
import { writeFileAtomic, writeFileAtomicSync } from '../../src/headless/atomicFile';
import { removeStaleTempFiles } from '../../src/headless/journal';
import { tempRoot } from '../support/tmp';

const posix = process.platform !== 'win32';

describe('FileStateStore', () => {
  const tmp = tempRoot('aikm-state-');
  const newPath = () => join(tmp.unique('case'), 'state.json');

  it('starts empty when the file is missing and does not create it until an update', () => {
    const path = newPath();
    const store = new FileStateStore(path);
    assert.equal(store.get('anything'), undefined);
    assert.deepEqual(store.keys(), []);
    assert.deepEqual(store.warnings, []);
    assert.equal(fs.existsSync(path), false);
  });

  it('persists updates and reloads them in a new instance', async () => {
    const path = newPath();
    const a = new FileStateStore(path);
    await a.update('keys', [{ id: 'k1', provider: 'anthropic' }]);
    await a.update('budget', { daily: 5 });
    await a.update('gone', 1);
    await a.update('gone', undefined);
    assert.deepEqual(a.get('budget'), { daily: 5 });

    const b = new FileStateStore(path);
    assert.deepEqual(b.get('keys'), [{ id: 'k1', provider: 'anthropic' }]);
    assert.deepEqual(b.get('budget'), { daily: 5 });
    assert.equal(b.get('gone'), undefined);
    assert.deepEqual([...b.keys()].sort(), ['budget', 'keys']);
    if (posix) assert.equal(fs.statSync(path).mode & 0o777, 0o600);
  });

  it('stores a copy, so later changes to the caller’s object are not persisted by accident', async () => {
    const path = newPath();
    const store = new FileStateStore(path);
    const value = { count: 1 };
    await store.update('v', value);
    value.count = 2;
    assert.deepEqual(store.get('v'), { count: 1 });
  });

  it('coalesces updates of the same tick into one write', async () => {
    const path = newPath();
    const writes: string[] = [];
    const store = new FileStateStore(path, {
      writeFile: async (p, data) => {
        writes.push(data);
        await writeFileAtomic(p, data, 0o600);
      },
    });
    const pending = [store.update('a', 1), store.update('b', 2), store.update('c', 3)];
    await Promise.all(pending);
    assert.equal(writes.length, 1);
    assert.deepEqual(JSON.parse(writes[0]!), { a: 1, b: 2, c: 3 });

    await store.update('a', 10);
    assert.equal(writes.length, 2);
    await store.flush();
    assert.equal(writes.length, 2, 'flush with nothing pending writes nothing');
    assert.deepEqual(new FileStateStore(path).get('a'), 10);
  });

  it('writes again for an update made while a write is in progress, and flush waits for it', async () => {
    const path = newPath();
    const writes: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store = new FileStateStore(path, {
      writeFile: async (p, data) => {
        writes.push(data);
        if (writes.length === 1) await gate;
        await writeFileAtomic(p, data, 0o600);
      },
    });
    const first = store.update('x', 1);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the first write is now blocked on the gate
    assert.equal(writes.length, 1);
    void store.update('x', 2);
    void store.update('y', 3);
    release();
    await first;
    await store.flush();
    assert.equal(writes.length, 2);
    assert.deepEqual(JSON.parse(writes[1]!), { x: 2, y: 3 });
    assert.deepEqual(new FileStateStore(path).get('x'), 2);
  });

  it('moves a corrupt file aside, starts empty, and says so', async () => {
    for (const content of ['{"keys": [1, 2', '[1, 2, 3]', 'null']) {
      const path = newPath();
      fs.mkdirSync(join(path, '..'), { recursive: true });
      fs.writeFileSync(path, content);
      const store = new FileStateStore(path);
      assert.equal(store.get('keys'), undefined);
      assert.equal(store.warnings.length, 1);
      const aside = fs.readdirSync(join(path, '..')).filter((f) => f.startsWith('state.json.corrupt-'));
      assert.equal(aside.length, 1);
      assert.equal(fs.readFileSync(join(path, '..', aside[0]!), 'utf8'), content, 'original bytes kept');
      assert.ok(store.warnings[0]!.includes(aside[0]!));
      assert.equal(fs.existsSync(path), false);

      await store.update('fresh', true);
      assert.deepEqual(new FileStateStore(path).warnings, []);
      assert.equal(new FileStateStore(path).get('fresh'), true);
    }
  });
});

describe('atomic file writes', () => {
  const tmp = tempRoot('aikm-atomic-');

  it('replaces content, applies the mode, and leaves no temp files', async () => {
    const path = join(tmp.path, 'a.json');
    await writeFileAtomic(path, 'one', 0o600);
    await writeFileAtomic(path, Buffer.from('two'));
    assert.equal(fs.readFileSync(path, 'utf8'), 'two');
    if (posix) assert.equal(fs.statSync(path).mode & 0o777, 0o600, 'existing mode kept when none given');
    writeFileAtomicSync(path, 'three', 0o640);
    assert.equal(fs.readFileSync(path, 'utf8'), 'three');
    if (posix) assert.equal(fs.statSync(path).mode & 0o777, 0o640);
    assert.deepEqual(fs.readdirSync(tmp.path), ['a.json']);
  });

  it('killed just before the rename: the old content stays, and the temp file left is one the next start removes', async () => {
    const ATOMIC_MODULE = resolve(__dirname, '../../src/headless/atomicFile.js');
    for (const sync of [true, false]) {
      const dir = tmp.unique('killed');
      fs.mkdirSync(dir);
      const path = join(dir, 'ledger.json');
      fs.writeFileSync(path, 'old');
      // kill -9 of itself where the rename would happen: what a crash between write and rename leaves.
      const script = `
        const fs = require('node:fs');
        fs.renameSync = fs.rename = () => process.kill(process.pid, 'SIGKILL');
        const { writeFileAtomic, writeFileAtomicSync } = require(${JSON.stringify(ATOMIC_MODULE)});
        const [file, sync] = process.argv.slice(-2);
        if (sync === 'true') writeFileAtomicSync(file, 'new', 0o600); else void writeFileAtomic(file, 'new', 0o600);`;
      const signal = await new Promise((resolvePromise) => spawn(process.execPath, ['-e', script, '--', path, String(sync)], { stdio: 'ignore' }).on('exit', (_code, sig) => resolvePromise(sig)));
      assert.equal(signal, 'SIGKILL');
      assert.equal(fs.readFileSync(path, 'utf8'), 'old');
      const left = fs.readdirSync(dir).filter((f) => f !== 'ledger.json');
      assert.equal(left.length, 1, 'the temp file is left');
      assert.equal(fs.readFileSync(join(dir, left[0]!), 'utf8'), 'new', 'written in full before the rename');
      if (posix) assert.equal(fs.statSync(join(dir, left[0]!)).mode & 0o777, 0o600, 'the secret never sat in a file others could read');
      assert.equal(removeStaleTempFiles([dir]), 0, 'too fresh to be judged abandoned');
      assert.equal(removeStaleTempFiles([dir], Date.now() + 3600_000), 1);
      assert.deepEqual(fs.readdirSync(dir), ['ledger.json']);
    }
  });

  it('fails cleanly when the directory does not exist', async () => {
    const path = join(tmp.path, 'missing', 'b.json');
    await assert.rejects(writeFileAtomic(path, 'x'), { code: 'ENOENT' });
    assert.throws(() => writeFileAtomicSync(path, 'x'), { code: 'ENOENT' });
    assert.equal(fs.existsSync(join(tmp.path, 'missing')), false);
  });
});

describe('FileStateStore shared by two processes', () => {
  const tmp = tempRoot('aikm-shared-');
  const newPath = () => join(tmp.unique('case'), 'state.json');
  const STORE_MODULE = resolve(__dirname, '../../src/headless/fileState.js');

  it('keeps both processes’ keys: a write applies only its own changes to the file as it is now', async () => {
    const path = newPath();
    const a = new FileStateStore(path);
    const b = new FileStateStore(path); // both started before either wrote, like two CLI processes
    await a.update('fromA', 1);
    await b.update('fromB', 2);
    await a.update('fromA', 3);
    const onDisk = new FileStateStore(path);
    assert.equal(onDisk.get('fromA'), 3);
    assert.equal(onDisk.get('fromB'), 2);
    assert.equal(a.get('fromB'), 2, 'a sees b’s write without restarting');
    assert.equal(b.get('fromA'), 3);
  });

  it('modify() re-applies its change to the fresh value, so additions to one list from both survive', async () => {
    const path = newPath();
    const a = new FileStateStore(path);
    const b = new FileStateStore(path);
    const add = (item: string) => (list: string[] | undefined) => [...(list ?? []), item];
    await Promise.all([a.modify('keys', add('anthropic')), b.modify('keys', add('openai'))]);
    await Promise.all([a.modify('keys', add('google')), b.modify('keys', add('groq'))]);
    const keys = new FileStateStore(path).get<string[]>('keys')!;
    assert.deepEqual([...keys].sort(), ['anthropic', 'google', 'groq', 'openai']);
    assert.deepEqual([...a.get<string[]>('keys')!].sort(), [...keys].sort());
  });

  it('notices a file replaced by another writer: new values, a new revision; unchanged otherwise', async () => {
    const path = newPath();
    const a = new FileStateStore(path);
    const b = new FileStateStore(path);
    await a.update('x', 1);
    const r0 = b.revision();
    assert.equal(b.get('x'), 1);
    const r1 = b.revision();
    await new Promise((r) => setImmediate(r));
    assert.equal(b.revision(), r1, 'no change, same revision');
    await a.update('x', 2);
    await new Promise((r) => setImmediate(r));
    assert.equal(b.get('x'), 2);
    assert.notEqual(b.revision(), r0);
  });

  it('drops a modification whose write failed (the caller retries), and writes set values again on flush', async () => {
    const path = newPath();
    let fail = 1;
    const store = new FileStateStore(path, {
      writeFile: async (p, data) => {
        if (fail-- > 0) throw new Error('disk full');
        await writeFileAtomic(p, data, 0o600);
      },
    });
    const modified = store.modify('counter', (v: number | undefined) => (v ?? 0) + 1);
    const set = store.update('name', 'kept');
    await assert.rejects(modified, /disk full/);
    await assert.rejects(set, /disk full/);
    assert.equal(store.get('counter'), undefined, 'the failed modification is not in the view');
    assert.equal(store.get('name'), 'kept');
    await store.flush();
    assert.equal(new FileStateStore(path).get('name'), 'kept');
    assert.equal(new FileStateStore(path).get('counter'), undefined);
  });

  it('two real processes appending 30 items each to one key lose none', async () => {
    const path = newPath();
    fs.mkdirSync(join(path, '..'), { recursive: true });
    const script = `
      const { FileStateStore } = require(${JSON.stringify(STORE_MODULE)});
      const [file, who] = process.argv.slice(-2);
      const store = new FileStateStore(file);
      (async () => {
        for (let i = 0; i < 30; i++) {
          await store.modify('items', (list) => [...(list || []), who + i]);
          await store.update('last-' + who, i);
        }
        await store.flush();
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const run = (who: string) =>
      new Promise<void>((resolvePromise, reject) => {
        const child = spawn(process.execPath, ['-e', script, '--', path, who], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`child ${who} exited ${code}: ${err}`))));
      });
    await Promise.all([run('a'), run('b')]);
    const store = new FileStateStore(path);
    const items = store.get<string[]>('items')!;
    assert.equal(items.length, 60);
    assert.deepEqual(new Set(items).size, 60);
    assert.equal(store.get('last-a'), 29);
    assert.equal(store.get('last-b'), 29);
    if (posix) assert.equal(fs.statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(join(path, '..')), ['state.json'], 'no temp or lock files left');
  });
});
