import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { FileStateStore } from '../../src/headless/fileState';
import { writeFileAtomic, writeFileAtomicSync } from '../../src/headless/atomicFile';

const posix = process.platform !== 'win32';

describe('FileStateStore', () => {
  let root: string;
  let n = 0;
  const newPath = () => join(root, `case-${++n}`, 'state.json');

  before(() => {
    root = fs.mkdtempSync(join(os.tmpdir(), 'aikm-state-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

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
  let root: string;
  before(() => {
    root = fs.mkdtempSync(join(os.tmpdir(), 'aikm-atomic-'));
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('replaces content, applies the mode, and leaves no temp files', async () => {
    const path = join(root, 'a.json');
    await writeFileAtomic(path, 'one', 0o600);
    await writeFileAtomic(path, Buffer.from('two'));
    assert.equal(fs.readFileSync(path, 'utf8'), 'two');
    if (posix) assert.equal(fs.statSync(path).mode & 0o777, 0o600, 'existing mode kept when none given');
    writeFileAtomicSync(path, 'three', 0o640);
    assert.equal(fs.readFileSync(path, 'utf8'), 'three');
    if (posix) assert.equal(fs.statSync(path).mode & 0o777, 0o640);
    assert.deepEqual(fs.readdirSync(root), ['a.json']);
  });

  it('fails cleanly when the directory does not exist', async () => {
    const path = join(root, 'missing', 'b.json');
    await assert.rejects(writeFileAtomic(path, 'x'), { code: 'ENOENT' });
    assert.throws(() => writeFileAtomicSync(path, 'x'), { code: 'ENOENT' });
    assert.equal(fs.existsSync(join(root, 'missing')), false);
  });
});
