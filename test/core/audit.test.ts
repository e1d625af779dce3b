import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditLog, auditActionLabel, type AuditVia } from '../../src/core/audit';
import type { Clock } from '../../src/core/ports';
import { MemoryState, TestClock } from '../support/ports';
import { auditDetailText } from '../../src/core/auditLabels';

const KEY = 'aiKeyManager.audit';

/** A JSON store whose failing writes (`failNext`) reject with 'quota exceeded'. */
const memoryStore = (): MemoryState => new MemoryState({ failMessage: 'quota exceeded' });

/** A clock that moves on `stepMs` each time it is read, so every entry has its own time. */
function tickingClock(startIso: string, stepMs: number): Clock {
  let t = Date.parse(startIso);
  return { now: () => new Date((t += stepMs)) };
}

function setup(opts: { limit?: number; store?: MemoryState } = {}) {
  const store = opts.store ?? memoryStore();
  const clock = tickingClock('2026-11-21T10:00:00Z', 1000);
  const log = new AuditLog(store, { clock, limit: opts.limit, flushDelayMs: 5 });
  return { store, clock, log };
}

describe('auditDetailText', () => {
  it('reads a budget change as words, not JSON', () => {
    assert.equal(auditDetailText('set_budget', '{"daily":1,"monthly":0,"alertThreshold":0.75,"enforce":true}'), 'daily $1, monthly no limit, alert at 75%, enforced');
    assert.equal(auditDetailText('set_budget', '{"daily":12.5,"enforce":false}'), 'daily $12.50, warn only');
  });

  it('shows outcome codes as words and other details as stored', () => {
    assert.equal(auditDetailText('validate_key', 'rate_limited'), 'rate limited');
    assert.equal(auditDetailText('validate_key', 'valid'), 'valid');
    assert.equal(auditDetailText('track_request', 'model gpt-4o'), 'model gpt-4o');
    assert.equal(auditDetailText('set_budget', '{not json'), '{not json');
    assert.equal(auditDetailText('add_api_key', undefined), '');
  });
});

describe('auditActionLabel', () => {
  it('names every audited action properly', () => {
    assert.equal(auditActionLabel('add_api_key'), 'Add API key');
    assert.equal(auditActionLabel('remove_api_key'), 'Remove API key');
    assert.equal(auditActionLabel('rotate_key'), 'Rotate key');
    assert.equal(auditActionLabel('rollback_key'), 'Roll back key');
    assert.equal(auditActionLabel('validate_key'), 'Validate key');
    assert.equal(auditActionLabel('set_budget'), 'Set budget');
    assert.equal(auditActionLabel('reset_usage'), 'Reset usage');
  });

  it('turns an unknown action into words, keeping acronyms', () => {
    assert.equal(auditActionLabel('import_api_keys'), 'Import API keys');
    assert.equal(auditActionLabel('restart_mcp_server'), 'Restart MCP server');
  });
});

describe('AuditLog', () => {
  it('stamps entries and lists them newest first', () => {
    const { log } = setup();
    log.record({ action: 'key.add', via: 'command', provider: 'openai', keyId: 'openai-1', ok: true });
    log.record({ action: 'key.validate', via: 'tool', provider: 'anthropic', ok: false, detail: 'HTTP 401' });
    const list = log.list();
    assert.deepEqual(list, [
      { at: '2026-11-21T10:00:02.000Z', action: 'key.validate', via: 'tool', provider: 'anthropic', ok: false, detail: 'HTTP 401' },
      { at: '2026-11-21T10:00:01.000Z', action: 'key.add', via: 'command', provider: 'openai', keyId: 'openai-1', ok: true },
    ]);
  });

  it('keeps a bounded ring', () => {
    const { log } = setup({ limit: 5 });
    for (let i = 0; i < 8; i++) log.record({ action: `a${i}`, via: 'cli', ok: true });
    assert.deepEqual(
      log.list().map((e) => e.action),
      ['a7', 'a6', 'a5', 'a4', 'a3'],
    );
  });

  it('filters by provider and limits', () => {
    const { log } = setup();
    const providers = ['openai', 'anthropic', 'openai', 'google', 'openai'];
    providers.forEach((provider, i) => log.record({ action: `a${i}`, via: 'chat', provider, ok: true }));
    assert.deepEqual(
      log.list({ provider: 'openai' }).map((e) => e.action),
      ['a4', 'a2', 'a0'],
    );
    assert.deepEqual(
      log.list({ provider: 'openai', limit: 2 }).map((e) => e.action),
      ['a4', 'a2'],
    );
    assert.equal(log.list({ limit: 0 }).length, 0);
  });

  it('never stores key material', async () => {
    const { log, store } = setup();
    const canary = 'sk-ant-api03-CANARY_' + 'Zq9'.repeat(15);
    const entry = log.record({ action: 'key.rotate', via: 'system', provider: 'anthropic', ok: true, detail: `rotated to ${canary} ok` });
    log.record({ action: `import ${canary}`, via: 'cli', ok: false });
    assert.equal(entry.detail, 'rotated to [redacted] ok');
    await log.flush();
    const persisted = store.raw(KEY);
    assert.ok(persisted.length > 0);
    assert.ok(!persisted.includes('CANARY'), persisted);
    assert.ok(!JSON.stringify(log.list()).includes('CANARY'));
    assert.equal(log.list()[0].action, 'import [redacted]');
  });

  it('round-trips through the store, and coalesces writes', async () => {
    const { log, store } = setup();
    for (let i = 0; i < 50; i++) log.record({ action: 'key.use', via: 'tool', provider: 'openai', keyId: `k${i % 3}`, ok: i % 5 !== 0, detail: `call ${i}` });
    assert.equal(store.writes, 0);
    await sleep(40);
    assert.equal(store.writes, 1);
    assert.equal(log.list().length, 50);
    const again = new AuditLog(store);
    assert.deepEqual(again.warnings, []);
    assert.deepEqual(again.list(), log.list());
  });

  it('keeps every readable entry, leaving out only malformed rows after keeping a copy', async () => {
    const store = memoryStore();
    const seeded = { v: 1, e: [[Date.parse('2026-11-20T10:00:00Z'), 'add_api_key', 'tool', 1, 'openai', 'openai-1', ''], [1, 'x', 'fax', 1, '', '', ''], 'junk', [Date.parse('2026-11-21T10:00:00Z'), 'set_budget', 'command', 1, '', '', '{"daily":1}']] };
    store.seed(KEY, seeded);
    const log = new AuditLog(store, { flushDelayMs: 1 });
    assert.deepEqual(log.list().map((e) => e.action), ['set_budget', 'add_api_key']);
    assert.deepEqual(log.warnings, ["The audit log (state 'aiKeyManager.audit'): 2 unreadable entries were left out; the stored log was kept in backup 1. The other 2 are kept."]);
    assert.deepEqual(JSON.parse(store.backups[0].raw), seeded);
    log.record({ action: 'remove_api_key', via: 'command', ok: true });
    await log.flush();
    assert.equal(new AuditLog(store).list().length, 3);
  });

  it('keeps a copy of a value that is no audit log, then starts a new one', () => {
    for (const bad of ['nope', { v: 1, e: 'x' }, [1]]) {
      const store = memoryStore();
      store.seed(KEY, bad);
      const log = new AuditLog(store);
      assert.deepEqual(log.warnings, ["The stored audit log (state 'aiKeyManager.audit') is unreadable; the stored log was kept in backup 1. Starting a new log."]);
      assert.deepEqual(JSON.parse(store.backups[0].raw), bad);
      assert.equal(log.list().length, 0);
    }
  });

  it('never overwrites a newer version’s audit log', async () => {
    const store = memoryStore();
    store.seed(KEY, { v: 2, e: [['future']] });
    const log = new AuditLog(store, { flushDelayMs: 1 });
    assert.match(log.warnings[0], /written by a newer version of AI Key Manager \(version 2\)\. This version does not change it/);
    log.record({ action: 'add_api_key', via: 'tool', ok: true });
    assert.equal(log.list().length, 1, 'kept in memory');
    await assert.rejects(log.flush(), /newer version/);
    assert.deepEqual(JSON.parse(store.raw(KEY)), { v: 2, e: [['future']] });
  });

  it('rejects an unknown source', () => {
    const { log } = setup();
    assert.throws(() => log.record({ action: 'x', via: 'email' as AuditVia, ok: true }), /Unknown audit source 'email'/);
  });

  it('reports background save failures and retries on flush', async () => {
    const store = memoryStore();
    store.failNext = Infinity;
    const log = new AuditLog(store, { flushDelayMs: 1 });
    const errors: string[] = [];
    log.onError((e) => errors.push(e.message));
    log.record({ action: 'key.delete', via: 'command', ok: true });
    await sleep(20);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /quota exceeded/);
    store.failNext = 0;
    await log.flush();
    assert.equal(new AuditLog(store).list()[0].action, 'key.delete');
  });
});

describe('AuditLog.recordRepeated', () => {
  it('counts repeats of one group per clock minute in one entry, and keeps it across a reload', async () => {
    const store = memoryStore();
    const clock = new TestClock('2026-11-21T10:00:05Z');
    const log = new AuditLog(store, { clock, limit: 50, flushDelayMs: 5 });
    log.record({ action: 'add_api_key', via: 'tool', provider: 'openai', ok: true });
    for (let i = 0; i < 10_000; i++) {
      clock.advance(5); // 50 s in all: still the same minute
      log.recordRepeated({ action: 'track_request', via: 'tool', provider: 'openai', ok: true, detail: 'model gpt-4o' }, 'openai|gpt-4o');
    }
    log.recordRepeated({ action: 'track_request', via: 'tool', provider: 'openai', ok: true, detail: 'model gpt-4o-mini' }, 'openai|gpt-4o-mini');
    let list = log.list();
    assert.equal(list.length, 3, JSON.stringify(list));
    const big = list.find((e) => e.detail === 'model gpt-4o')!;
    assert.equal(big.count, 10_000);
    assert.equal(big.at, '2026-11-21T10:00:05.005Z', 'stamped with the first request of the minute');
    assert.equal(list.find((e) => e.detail === 'model gpt-4o-mini')?.count, 1);
    assert.equal(list.find((e) => e.action === 'add_api_key')?.count, undefined);

    clock.set('2026-11-21T10:01:00Z'); // the next minute starts a new entry
    log.recordRepeated({ action: 'track_request', via: 'tool', provider: 'openai', ok: true, detail: 'model gpt-4o' }, 'openai|gpt-4o');
    list = log.list();
    assert.equal(list.length, 4);
    assert.equal(list[0].count, 1);

    await log.flush();
    const reloaded = new AuditLog(store, { clock, limit: 50 });
    assert.deepEqual(reloaded.list(), log.list());
  });

  it('a counted entry pushed out of the ring is not counted into again', () => {
    const log = new AuditLog(memoryStore(), { clock: new TestClock('2026-11-21T10:00:05Z'), limit: 3, flushDelayMs: 5 });
    log.recordRepeated({ action: 'track_request', via: 'tool', ok: true }, 'g');
    for (let i = 0; i < 3; i++) log.record({ action: `other${i}`, via: 'tool', ok: true });
    log.recordRepeated({ action: 'track_request', via: 'tool', ok: true }, 'g');
    const list = log.list();
    assert.equal(list.length, 3);
    assert.deepEqual([list[0].action, list[0].count], ['track_request', 1]);
  });
});

describe('AuditLog shared with another writer', () => {
  it('keeps the entries of both logs on one store, in time order, bounded', async () => {
    const store = memoryStore();
    const clock = tickingClock('2026-11-21T10:00:00Z', 1000);
    const a = new AuditLog(store, { clock, limit: 5, flushDelayMs: 10_000 });
    const b = new AuditLog(store, { clock, limit: 5, flushDelayMs: 10_000 });
    a.record({ action: 'add_api_key', via: 'tool', provider: 'anthropic', ok: true }); // 10:00:01
    b.record({ action: 'add_api_key', via: 'tool', provider: 'openai', ok: true }); // 10:00:02
    a.record({ action: 'remove_api_key', via: 'tool', provider: 'anthropic', ok: true }); // 10:00:03
    await a.flush();
    await b.flush();
    const merged = new AuditLog(store, { limit: 5 }).list();
    assert.deepEqual(merged.map((e) => [e.action, e.provider]), [
      ['remove_api_key', 'anthropic'],
      ['add_api_key', 'openai'],
      ['add_api_key', 'anthropic'],
    ]);
    assert.deepEqual(b.list(), merged, 'the log that merged shows both');

    for (let i = 0; i < 4; i++) a.record({ action: `a${i}`, via: 'cli', ok: true });
    await a.flush();
    assert.deepEqual(new AuditLog(store, { limit: 5 }).list().map((e) => e.action), ['a3', 'a2', 'a1', 'a0', 'remove_api_key']);
  });

  it('a failed save is merged later without duplicates', async () => {
    const store = memoryStore();
    const clock = tickingClock('2026-11-21T10:00:00Z', 1000);
    const a = new AuditLog(store, { clock, flushDelayMs: 10_000 });
    const b = new AuditLog(store, { clock, flushDelayMs: 10_000 });
    a.record({ action: 'one', via: 'tool', ok: true });
    store.failNext = 1; // a's save fails; b's, after it, goes through
    await assert.rejects(a.flush(), /quota exceeded/);
    b.record({ action: 'two', via: 'tool', ok: true });
    await b.flush();
    a.record({ action: 'three', via: 'tool', ok: true });
    await a.flush();
    assert.deepEqual(new AuditLog(store).list().map((e) => e.action), ['three', 'two', 'one']);
  });
});

describe('AuditLog counted entries with another writer', () => {
  it('keeps the higher count of an entry saved, counted up, and merged with another log', async () => {
    const store = memoryStore();
    const clock = tickingClock('2026-11-21T10:00:05Z', 10);
    const a = new AuditLog(store, { clock, limit: 50, flushDelayMs: 10_000 });
    const b = new AuditLog(store, { clock, limit: 50, flushDelayMs: 10_000 });
    for (let i = 0; i < 3; i++) a.recordRepeated({ action: 'track_request', via: 'tool', ok: true, detail: 'model gpt-4o' }, 'gpt-4o');
    await a.flush();
    b.record({ action: 'add_api_key', via: 'tool', ok: true });
    await b.flush();
    for (let i = 0; i < 4; i++) a.recordRepeated({ action: 'track_request', via: 'tool', ok: true, detail: 'model gpt-4o' }, 'gpt-4o');
    await a.flush();
    const merged = new AuditLog(store).list();
    assert.deepEqual(merged.map((e) => [e.action, e.count]), [['add_api_key', undefined], ['track_request', 7]]);
  });
});
