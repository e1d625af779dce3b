import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StateStore } from '../../src/core/ports';
import { ForeignDocs, NewerFormatError, StoredDoc, UNREADABLE, modifyState, writerIdOf, type DocCodec } from '../../src/core/storedDoc';
import { MemoryState } from '../support/ports';

const KEY = 'test.doc';

/** A set of strings, stored as { v: 1, w, items }. */
const codec: DocCodec<string[]> = {
  empty: () => [],
  encode: (items, w) => ({ v: 1, w, items: [...items] }),
  decode: (raw) => {
    if (raw === undefined) return { value: [], dropped: 0 };
    const s = raw as { v?: unknown; items?: unknown };
    if (typeof s.v === 'number' && s.v > 1) throw new NewerFormatError(`version ${s.v}`);
    if (s.v !== 1 || !Array.isArray(s.items)) throw new Error('not a test doc');
    const value = s.items.filter((i): i is string => typeof i === 'string');
    return { value, dropped: s.items.length - value.length };
  },
};

const union = (into: string[], from: string[]): string[] => {
  for (const i of from) if (!into.includes(i)) into.push(i);
  return into;
};

function open(store: StateStore, errors: Error[] = [], warnings: string[] = []): StoredDoc<string[]> {
  return new StoredDoc<string[]>({
    store,
    key: KEY,
    codec,
    merge: union,
    warnings,
    onError: (err) => errors.push(err),
    flushDelayMs: 5,
    text: {
      cannotRead: (err) => `cannot read: ${err.message}`,
      newer: (detail) => `newer (${detail})`,
      unreadable: (copy) => `unreadable, copy in ${copy ?? 'none'}`,
      dropped: (copy, d) => `${d.dropped} dropped, copy in ${copy ?? 'none'}`,
      noCopy: (err) => `no copy: ${err.message}`,
    },
  });
}

function add(doc: StoredDoc<string[]>, item: string): void {
  doc.value.push(item);
  doc.pending.push(item);
  doc.changed();
}

const stored = (store: MemoryState): unknown => (store.raw(KEY) ? (JSON.parse(store.raw(KEY)) as { items: unknown }).items : undefined);

describe('StoredDoc', () => {
  it('coalesces changes made close together into one write', async () => {
    const store = new MemoryState();
    const doc = open(store);
    for (const i of ['a', 'b', 'c', 'd']) add(doc, i);
    assert.equal(store.writes, 0, 'not written at once');
    await sleep(40);
    assert.equal(store.writes, 1);
    assert.deepEqual(stored(store), ['a', 'b', 'c', 'd']);
  });

  it('never runs two saves at once, and a flush during a save waits for it and saves the rest', async () => {
    const store = new MemoryState();
    store.delayMs = 20;
    const doc = open(store);
    add(doc, 'a');
    const first = doc.flush();
    add(doc, 'b');
    const second = doc.flush();
    await Promise.all([first, second]);
    assert.equal(store.maxInFlight, 1);
    assert.equal(store.writes, 2);
    assert.deepEqual(stored(store), ['a', 'b']);
  });

  it('keeps a failed save’s changes, reports a background failure, and saves them next time', async () => {
    const store = new MemoryState();
    const errors: Error[] = [];
    const doc = open(store, errors);
    store.failNext = 1;
    add(doc, 'a');
    await sleep(40);
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /^Could not save state 'test\.doc': disk full\. It will be retried on the next save\.$/);
    assert.equal(store.raw(KEY), '', 'nothing stored');
    store.failNext = 1;
    await assert.rejects(doc.flush(), /disk full/);
    add(doc, 'b');
    await doc.flush();
    assert.deepEqual(stored(store), ['a', 'b']);
  });

  it('merges into what another writer saved meanwhile, and picks up its later saves', async () => {
    const store = new MemoryState({ shared: true });
    const a = open(store);
    const b = open(store);
    add(a, 'a');
    await a.flush();
    add(b, 'b');
    await b.flush();
    assert.deepEqual(stored(store), ['a', 'b'], 'b merged into what a stored');
    assert.deepEqual(b.value, ['a', 'b']);
    add(a, 'c');
    await a.flush();
    assert.deepEqual(stored(store), ['a', 'b', 'c']);
    b.sync();
    assert.deepEqual(b.value, ['a', 'b', 'c']);
  });

  it('never overwrites a newer version’s value: it stops writing and says why', async () => {
    const store = new MemoryState();
    store.seed(KEY, { v: 2, w: 'x', items: ['new'] });
    const warnings: string[] = [];
    const doc = open(store, [], warnings);
    assert.deepEqual(warnings, ['newer (version 2)']);
    assert.equal(doc.readOnly, 'newer (version 2)');
    add(doc, 'a');
    await assert.rejects(doc.flush(), /newer \(version 2\)/);
    assert.deepEqual(JSON.parse(store.raw(KEY)), { v: 2, w: 'x', items: ['new'] });
  });

  it('keeps a copy before it drops unreadable entries', async () => {
    const store = new MemoryState();
    store.seed(KEY, { v: 1, w: 'x', items: ['a', 7] });
    const warnings: string[] = [];
    const doc = open(store, [], warnings);
    assert.deepEqual(doc.value, ['a']);
    assert.deepEqual(warnings, ['1 dropped, copy in backup 1']);
    assert.equal(store.backups.length, 1);
  });

  it('a reset replaces what is stored, also what another writer saved since', async () => {
    const store = new MemoryState({ shared: true });
    const a = open(store);
    const b = open(store);
    add(a, 'a');
    await a.flush();
    a.reset();
    add(b, 'b');
    await b.flush();
    add(a, 'c');
    await a.flush();
    assert.deepEqual(stored(store), ['c']);
  });
});

describe('modifyState', () => {
  it('stores f(current), and rejects with the read error unless f takes UNREADABLE', async () => {
    const store = new MemoryState();
    await modifyState<number>(store, 'n', (n) => (n ?? 0) + 1);
    await modifyState<number>(store, 'n', (n) => (n ?? 0) + 1);
    assert.equal(store.get('n'), 2);
    const broken: StateStore = {
      get: () => {
        throw new Error('EACCES');
      },
      update: (key, value) => store.update(key, value),
    };
    await assert.rejects(modifyState<number>(broken, 'n', () => 5), /EACCES/);
    assert.equal(store.get('n'), 2);
    let seen: unknown;
    await modifyState<number>(broken, 'n', (cur) => ((seen = cur), 7), true);
    assert.equal(seen, UNREADABLE);
    assert.equal(store.get('n'), 7);
  });

  it('uses the store’s atomic modify where there is one', async () => {
    const calls: string[] = [];
    const store = new MemoryState();
    const atomic: StateStore = {
      get: (key) => store.get(key),
      update: () => Promise.reject(new Error('update must not be used')),
      modify: <T>(key: string, f: (current: T | undefined) => T | undefined) => {
        calls.push(key);
        return store.update(key, f(store.get<T>(key)));
      },
    };
    await modifyState<number>(atomic, 'n', (n) => (n ?? 0) + 3);
    assert.deepEqual(calls, ['n']);
    assert.equal(store.get('n'), 3);
  });
});

describe('ForeignDocs', () => {
  it('decodes another writer’s value again only when its writer id changed', async () => {
    const store = new MemoryState({ shared: true });
    const decoded: string[] = [];
    const docs = new ForeignDocs<string[]>(store, (raw, key) => {
      decoded.push(key);
      return codec.decode(raw).value;
    });
    store.seed('s/1', { v: 1, w: 'w1', items: ['a'] });
    store.seed('s/2', { v: 1, w: 'w2', items: ['b'] });
    const keys = () => store.keys().filter((k) => k.startsWith('s/'));
    assert.equal(docs.refresh(keys), true);
    assert.deepEqual(docs.values(), [['a'], ['b']]);
    store.seed('s/2', { v: 1, w: 'w2', items: ['b'] }); // same writer id: not decoded again
    assert.equal(docs.refresh(keys), false);
    store.seed('s/1', { v: 1, w: 'w3', items: ['c'] });
    assert.equal(docs.refresh(keys), true);
    assert.deepEqual(docs.values(), [['c'], ['b']]);
    assert.deepEqual(decoded, ['s/1', 's/2', 's/1']);
    assert.equal(writerIdOf(store.get('s/1')), 'w3');
  });
});
