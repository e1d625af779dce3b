import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Ledger, type LedgerChange } from '../../src/core/ledger';
import type { StateStore } from '../../src/core/ports';
import { MemoryState, TestClock } from '../support/ports';
import type { UsageEvent } from '../../src/core/types';

const NY = 'America/New_York';
const KEY = 'aiKeyManager.ledger';

function ev(over: Partial<UsageEvent> & Pick<UsageEvent, 'at'>): UsageEvent {
  return {
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    inputTokens: 100,
    outputTokens: 50,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    costUsd: 0.01,
    success: true,
    ...over,
  };
}

// Now: Saturday 2026-11-21 12:00 in New York.
const NOW = '2026-11-21T17:00:00Z';
function setup(opts: { now?: string; store?: MemoryState } & ConstructorParameters<typeof Ledger>[1] = {}) {
  const store = opts.store ?? new MemoryState();
  const clock = new TestClock(opts.now ?? NOW);
  const ledger = new Ledger(store, { timeZone: NY, flushDelayMs: 5, ...opts, clock });
  return { store, clock, ledger };
}

function fourEvents(ledger: Ledger): void {
  ledger.record(ev({ at: '2026-11-21T15:00:00Z', inputTokens: 1000, outputTokens: 500, costUsd: 0.0105, latencyMs: 800 }));
  ledger.record(ev({ at: '2026-11-20T15:00:00Z', costUsd: 0.02, success: false, latencyMs: 1200, error: 'overloaded' }));
  // 23:30 on Nov 20 in New York, although already Nov 21 in UTC.
  ledger.record(ev({ at: '2026-11-21T04:30:00Z', provider: 'openai', model: 'gpt-4o', costUsd: 0.1, cacheReadTokens: 300 }));
  ledger.record(ev({ at: '2026-11-21T05:30:00Z', provider: 'openai', model: 'gpt-4o-mini', costUsd: 0.001, cacheWriteTokens: 40 }));
}

describe('Ledger queries', () => {
  it('totals a window of local days', () => {
    const { ledger } = setup();
    fourEvents(ledger);
    const today = ledger.usage({ days: 1 });
    assert.equal(today.from, '2026-11-21');
    assert.equal(today.to, '2026-11-21');
    assert.equal(today.totals.requests, 2);
    assert.equal(today.totals.costUsd, 0.0115);
    assert.equal(today.totals.inputTokens, 1100);
    assert.equal(today.totals.cacheWriteTokens, 40);
    assert.equal(today.totals.meanLatencyMs, 800);
    assert.deepEqual(today.groups, []);
    const all = ledger.usage();
    assert.equal(all.from, '2026-10-23');
    assert.equal(all.totals.requests, 4);
    assert.equal(all.totals.failures, 1);
    assert.equal(all.totals.successRate, 0.75);
    assert.equal(all.totals.cacheReadTokens, 300);
  });

  it('ends a window before today with endDaysAgo (yesterday = 1 day ending 1 day ago)', () => {
    const { ledger } = setup();
    fourEvents(ledger);
    const yesterday = ledger.usage({ days: 1, endDaysAgo: 1 });
    assert.deepEqual([yesterday.from, yesterday.to], ['2026-11-20', '2026-11-20']);
    assert.equal(yesterday.totals.requests, 2); // 15:00Z and 23:30 New York time on Nov 20
    assert.equal(yesterday.totals.costUsd, 0.12);
    const before = ledger.usage({ days: 7, endDaysAgo: 2 });
    assert.deepEqual([before.from, before.to, before.totals.requests], ['2026-11-13', '2026-11-19', 0]);
  });

  it('groups by day, provider and model', () => {
    const { ledger } = setup();
    fourEvents(ledger);
    const byDay = ledger.usage({ days: 2, groupBy: 'day' }).groups;
    assert.deepEqual(
      byDay.map((g) => [g.key, g.requests, g.failures, g.costUsd]),
      [
        ['2026-11-20', 2, 1, 0.12],
        ['2026-11-21', 2, 0, 0.0115],
      ],
    );
    const byProvider = ledger.usage({ groupBy: 'provider' }).groups;
    assert.deepEqual(
      byProvider.map((g) => [g.key, g.provider, g.costUsd]),
      [
        ['openai', 'openai', 0.101],
        ['anthropic', 'anthropic', 0.0305],
      ],
    );
    const sonnet = ledger.usage({ groupBy: 'model', provider: 'anthropic' }).groups;
    assert.equal(sonnet.length, 1);
    assert.equal(sonnet[0].key, 'anthropic/claude-sonnet-4');
    assert.equal(sonnet[0].model, 'claude-sonnet-4');
    assert.equal(sonnet[0].successRate, 0.5);
    assert.equal(sonnet[0].meanLatencyMs, 1000);
    const gpt4o = ledger.usage({ model: 'gpt-4o' });
    assert.equal(gpt4o.totals.requests, 1);
    assert.equal(gpt4o.totals.meanLatencyMs, undefined);
    assert.equal(ledger.usage({ provider: 'google' }).totals.successRate, 1);
  });

  it('spent() uses local days and months', () => {
    const { ledger } = setup();
    fourEvents(ledger);
    assert.equal(ledger.spent('day'), 0.0115);
    assert.equal(ledger.spent('day', new Date('2026-11-20T20:00:00Z')), 0.12);
    assert.equal(ledger.spent('month'), 0.1315);
    assert.equal(ledger.spentIn('2026-11-20'), 0.12);
    assert.equal(ledger.spent('month', new Date('2026-10-15T12:00:00Z')), 0);
  });

  it('keeps cost in integer nano-dollars (no float drift)', () => {
    const { ledger } = setup();
    for (let i = 0; i < 10; i++) {
      ledger.record(ev({ at: NOW, costUsd: 0.1 }));
      ledger.record(ev({ at: NOW, costUsd: 0.2 }));
    }
    assert.equal(ledger.spent('day'), 3);
    assert.equal(ledger.usage().totals.costUsd, 3);
  });

  it('totals equal the sum of 100,000 tiny per-request costs to 1e-9 USD (micro-dollars drifted)', () => {
    const { ledger } = setup();
    let seed = 11;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    let sumNanos = 0;
    for (let i = 0; i < 100_000; i++) {
      // 20 to 2,000 tokens at $0.02 to $15 per million: $0.0000004 to $0.03, most not whole micro-dollars
      const cost = (Math.floor(20 + rnd() * 1980) * [0.02, 0.15, 0.4, 2.5, 15][i % 5]) / 1e6;
      ledger.record(ev({ at: NOW, costUsd: cost }));
      sumNanos += Math.round(cost * 1e9);
    }
    const total = ledger.usage({ days: 1 }).totals.costUsd;
    assert.ok(Math.abs(total - sumNanos / 1e9) < 1e-9, `total ${total} vs sum ${sumNanos / 1e9}`);
    assert.equal(Math.round(ledger.spent('day') * 1e9), sumNanos);
    assert.equal(ledger.recent(1)[0].costUsd * 1e9, Math.round(ledger.recent(1)[0].costUsd * 1e9), 'events keep the cost as counted');
  });

  it('dailySeries is zero-filled and aligned per provider', () => {
    const { ledger } = setup();
    fourEvents(ledger);
    const s = ledger.dailySeries(3);
    assert.deepEqual(s.days, ['2026-11-19', '2026-11-20', '2026-11-21']);
    assert.deepEqual(
      s.series.map((x) => [x.key, x.costUsd]),
      [
        ['openai', [0, 0.1, 0.001]],
        ['anthropic', [0, 0.02, 0.0105]],
      ],
    );
    const byModel = ledger.dailySeries(1, 'model');
    assert.deepEqual(byModel.series.map((x) => x.key).sort(), ['anthropic/claude-sonnet-4', 'openai/gpt-4o-mini']);
    assert.equal(ledger.dailySeries(1000).days.length, ledger.dailyRetentionDays);
  });

  it('recent() returns the newest events first, bounded', () => {
    const { ledger } = setup({ recentLimit: 5 });
    for (let i = 0; i < 8; i++) ledger.record(ev({ at: NOW, inputTokens: i }));
    assert.deepEqual(
      ledger.recent().map((e) => e.inputTokens),
      [7, 6, 5, 4, 3],
    );
    assert.deepEqual(
      ledger.recent(2).map((e) => e.inputTokens),
      [7, 6],
    );
    assert.equal(ledger.recent(50).length, 5);
  });

  it('recent() orders by event time, not by when events were recorded', () => {
    const { ledger } = setup();
    fourEvents(ledger); // recorded out of order: Nov 21 15:00, Nov 20 15:00, Nov 21 04:30, Nov 21 05:30
    ledger.record(ev({ at: '2026-11-21T15:00:00Z', inputTokens: 7 })); // same time as the first: recorded later, listed first
    assert.deepEqual(
      ledger.recent().map((e) => [e.at, e.inputTokens]),
      [
        ['2026-11-21T15:00:00.000Z', 7],
        ['2026-11-21T15:00:00.000Z', 1000],
        ['2026-11-21T05:30:00.000Z', 100],
        ['2026-11-21T04:30:00.000Z', 100],
        ['2026-11-20T15:00:00.000Z', 100],
      ],
    );
    assert.deepEqual(
      ledger.recent(2).map((e) => e.inputTokens),
      [7, 1000],
    );
  });

  it('recent() keeps only the events of a window of local days and of one provider', () => {
    const { ledger } = setup();
    fourEvents(ledger);
    ledger.record(ev({ at: '2026-09-01T12:00:00Z', model: 'old' })); // 82 days ago
    // Today in New York is Nov 21; 04:30Z on Nov 21 is still Nov 20 there.
    assert.deepEqual(
      ledger.recent(50, { days: 1 }).map((e) => e.at),
      ['2026-11-21T15:00:00.000Z', '2026-11-21T05:30:00.000Z'],
    );
    assert.deepEqual(
      ledger.recent(50, { days: 2 }).map((e) => e.at),
      ['2026-11-21T15:00:00.000Z', '2026-11-21T05:30:00.000Z', '2026-11-21T04:30:00.000Z', '2026-11-20T15:00:00.000Z'],
    );
    assert.equal(ledger.recent(50, { days: 30 }).length, 4, 'the event of September is outside 30 days');
    assert.equal(ledger.recent(50, { days: 90 }).length, 5);
    assert.deepEqual(
      ledger.recent(50, { days: 30, provider: 'openai' }).map((e) => e.model),
      ['gpt-4o-mini', 'gpt-4o'],
    );
    assert.deepEqual(ledger.recent(50, { provider: 'google' }), []);
  });

  it('providerStats: success rate, latency mean/p95 over a bounded sample, last error/success', () => {
    const { ledger } = setup();
    for (let i = 1; i <= 200; i++) ledger.record(ev({ at: NOW, provider: 'openai', model: 'gpt-4o', latencyMs: i }));
    ledger.record(ev({ at: '2026-11-21T16:00:00Z', provider: 'openai', model: 'gpt-4o', success: false, error: 'HTTP 500' }));
    ledger.record(ev({ at: '2026-11-21T10:00:00Z', provider: 'openai', model: 'gpt-4o', success: false, error: 'older error' }));
    const s = ledger.providerStats('openai');
    assert.equal(s.requests, 202);
    assert.equal(s.failures, 2);
    assert.equal(s.successRate, 200 / 202);
    // Sample holds the last 100 latencies: 101..200.
    assert.equal(s.meanLatencyMs, 150.5);
    assert.equal(s.p95LatencyMs, 195);
    assert.deepEqual(s.lastError, { at: '2026-11-21T16:00:00.000Z', message: 'HTTP 500' });
    assert.equal(s.lastSuccessAt, '2026-11-21T17:00:00.000Z');
    assert.deepEqual(ledger.providerStats('google'), { provider: 'google', requests: 0, failures: 0, successRate: 1 });
    ledger.record(ev({ at: NOW }));
    assert.deepEqual(
      ledger.providerStats().map((p) => p.provider),
      ['anthropic', 'openai'],
    );
  });

  it('export() gives one row per day × provider × model', () => {
    const { ledger } = setup();
    fourEvents(ledger);
    const rows = ledger.export();
    assert.deepEqual(
      rows.map((r) => [r.period, r.granularity, r.provider, r.model, r.requests, r.costUsd]),
      [
        ['2026-11-20', 'day', 'anthropic', 'claude-sonnet-4', 1, 0.02],
        ['2026-11-20', 'day', 'openai', 'gpt-4o', 1, 0.1],
        ['2026-11-21', 'day', 'anthropic', 'claude-sonnet-4', 1, 0.0105],
        ['2026-11-21', 'day', 'openai', 'gpt-4o-mini', 1, 0.001],
      ],
    );
  });

  it('rejects malformed events without changing anything', () => {
    const { ledger } = setup();
    assert.throws(() => ledger.record(ev({ at: 'yesterday' })), /UsageEvent.at must be an ISO time/);
    assert.throws(() => ledger.record(ev({ at: NOW, costUsd: -1 })), /costUsd must be a non-negative number/);
    assert.throws(() => ledger.record(ev({ at: NOW, inputTokens: Number.NaN })), /inputTokens/);
    assert.throws(() => ledger.record(ev({ at: NOW, provider: '' })), /provider must be a non-empty string/);
    assert.equal(ledger.usage().totals.requests, 0);
    assert.equal(ledger.recent().length, 0);
  });

  it('never keeps key material from error messages', async () => {
    const { ledger, store } = setup();
    const canary = 'sk-ant-api03-CANARY' + 'x'.repeat(40);
    ledger.record(ev({ at: NOW, success: false, error: `401 invalid x-api-key ${canary}` }));
    await ledger.flush();
    assert.equal(ledger.recent()[0].error, '401 invalid x-api-key [redacted]');
    assert.equal(ledger.providerStats('anthropic').lastError?.message, '401 invalid x-api-key [redacted]');
    assert.ok(store.raw(KEY).length > 0);
    assert.ok(!store.raw(KEY).includes('CANARY'));
  });

  it('notifies listeners on record and reset; a throwing listener is reported, not thrown', async () => {
    const { ledger } = setup();
    const changes: LedgerChange['kind'][] = [];
    const errors: string[] = [];
    const off = ledger.onDidChange((c) => changes.push(c.kind));
    ledger.onError((e) => errors.push(e.message));
    const offBad = ledger.onDidChange(() => {
      throw new Error('boom');
    });
    ledger.record(ev({ at: NOW }));
    offBad();
    await ledger.reset();
    off();
    ledger.record(ev({ at: NOW }));
    assert.deepEqual(changes, ['record', 'reset']);
    assert.deepEqual(errors, ['A usage listener failed: boom']);
  });
});

describe('Ledger persistence', () => {
  it('round-trips everything through the store', async () => {
    const { ledger, store, clock } = setup();
    fourEvents(ledger);
    await ledger.flush();
    const again = new Ledger(store, { clock, timeZone: NY });
    assert.deepEqual(again.warnings, []);
    for (const q of [{ groupBy: 'day' as const }, { groupBy: 'model' as const }, { days: 1 }]) assert.deepEqual(again.usage(q), ledger.usage(q));
    assert.deepEqual(again.recent(), ledger.recent());
    assert.deepEqual(again.providerStats(), ledger.providerStats());
    assert.deepEqual(again.export(), ledger.export());
    assert.equal(again.serializedSize(), ledger.serializedSize());
    assert.equal(ledger.serializedSize(), Buffer.byteLength(store.raw(KEY)));
  });

  it('coalesces 10,000 concurrent records into one write and loses nothing', async () => {
    const { ledger, store, clock } = setup({ flushDelayMs: 20 });
    await Promise.all(Array.from({ length: 10_000 }, async (_, i) => ledger.record(ev({ at: NOW, costUsd: 0.000123, inputTokens: i % 7 }))));
    assert.equal(store.writes, 0);
    await sleep(80);
    assert.equal(store.writes, 1);
    const again = new Ledger(store, { clock, timeZone: NY });
    const t = again.usage().totals;
    assert.equal(t.requests, 10_000);
    assert.equal(t.costUsd, 1.23);
  });

  it('never has two writes in flight and saves records made during a write', async () => {
    const { ledger, store, clock } = setup({ flushDelayMs: 1 });
    store.delayMs = 30;
    ledger.record(ev({ at: NOW }));
    await sleep(10); // first write is now in flight
    assert.equal(store.inFlight, 1);
    ledger.record(ev({ at: NOW }));
    await Promise.all([ledger.flush(), ledger.flush(), sleep(5).then(() => ledger.record(ev({ at: NOW })))]);
    await ledger.flush();
    assert.equal(store.maxInFlight, 1);
    assert.equal(new Ledger(store, { clock, timeZone: NY }).usage().totals.requests, 3);
  });

  it('reports a failed background write and retries it on the next flush', async () => {
    const { ledger, store, clock } = setup({ flushDelayMs: 1 });
    const errors: string[] = [];
    ledger.onError((e) => errors.push(e.message));
    store.failNext = 1;
    ledger.record(ev({ at: NOW }));
    await sleep(30);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /Could not save state 'aiKeyManager.ledger': disk full. It will be retried/);
    assert.equal(store.raw(KEY), '');
    await ledger.flush();
    assert.equal(new Ledger(store, { clock, timeZone: NY }).usage().totals.requests, 1);
  });

  it('flush() rejects when the store fails, and succeeds on retry', async () => {
    const { ledger, store } = setup({ flushDelayMs: 10_000 });
    ledger.record(ev({ at: NOW }));
    store.failNext = 1;
    await assert.rejects(ledger.flush(), /disk full/);
    await ledger.flush();
    assert.equal(store.writes, 1);
    await ledger.flush(); // nothing pending: no write
    assert.equal(store.writes, 1);
  });

  it('keeps every readable row and leaves out only the bad ones, after keeping a copy of what was stored', async () => {
    const store = new MemoryState();
    const seeded = {
      v: 2,
      p: ['anthropic', 7],
      m: [[0, 'claude-sonnet-4'], [1, 'broken-provider'], [0, 'claude-haiku']],
      d: {
        '2026-11-21': [0, 2, 0, 100, 50, 0, 0, 30_000_000, 0, 0, 0, 0, 2, 1, 0, 10, 5, 0, 0, -5, 0, 0, 0, 0], // second row: a negative cost
        '2026-11-20': [1, 1, 0, 1, 1, 0, 0, 5, 0, 0, 0, 0], // a model whose provider is unreadable
        yesterday: [0, 1, 0, 1, 1, 0, 0, 5, 0, 0, 0, 0],
      },
      mo: {},
      r: [[Date.parse(NOW), 0, 100, 50, 0, 0, 0.03, 1, 10, '', '', 1], 'not a row'],
      s: [[0, 2, 0, 0, 0, '', [10]]],
    };
    store.seed(KEY, seeded);
    const { ledger } = setup({ store });
    assert.equal(ledger.usage({ days: 30 }).totals.requests, 2, 'the good row of Nov 21 is kept');
    assert.equal(ledger.usage({ days: 30 }).totals.costUsd, 0.03);
    assert.equal(ledger.recent(10).length, 1);
    assert.equal(ledger.providerStats('anthropic').requests, 2);
    assert.equal(ledger.warnings.length, 1, JSON.stringify(ledger.warnings));
    assert.match(ledger.warnings[0], /^Usage history \(state 'aiKeyManager\.ledger'\): 4 unreadable entries were left out \(.*\); the stored value was kept in backup 1\. Everything else is kept\.$/);
    assert.deepEqual(store.backups.map((b) => [b.key, JSON.parse(b.raw)]), [[KEY, seeded]], 'the stored value, as it was, before anything was dropped');
    ledger.record(ev({ at: NOW }));
    await ledger.flush();
    assert.equal(new Ledger(store, { timeZone: NY, clock: new TestClock(NOW) }).usage({ days: 30 }).totals.requests, 3);
  });

  it('keeps the gateway details of recent requests (key id, retries, cache hit, cut) across a save, and reads version 2 rows without them', async () => {
    const store = new MemoryState();
    const { ledger } = setup({ store });
    ledger.record(ev({ at: NOW, keyId: 'key-1', retries: 2, incomplete: true, estimatedCostUsd: 0.0042 }));
    ledger.record(ev({ at: NOW, cached: true, costUsd: 0 }));
    ledger.record(ev({ at: NOW }));
    await ledger.flush();
    const back = new Ledger(store, { timeZone: NY, clock: new TestClock(NOW) }).recent(3);
    assert.deepEqual(
      back.map((e) => [e.keyId, e.retries, e.cached, e.incomplete, e.estimatedCostUsd]),
      [[undefined, undefined, undefined, undefined, undefined], [undefined, undefined, true, undefined, undefined], ['key-1', 2, undefined, true, 0.0042]],
    );
    const old = new MemoryState();
    old.seed(KEY, { v: 2, p: ['anthropic'], m: [[0, 'claude-sonnet-4']], d: {}, mo: {}, r: [[Date.parse(NOW), 0, 100, 50, 0, 0, 0.03, 1, 10, '', '', 1]], s: [] });
    const v2 = new Ledger(old, { timeZone: NY, clock: new TestClock(NOW) });
    assert.equal(v2.warnings.length, 0, JSON.stringify(v2.warnings));
    assert.equal(v2.recent(1)[0].inputTokens, 100);
  });

  it('counts what priced each request, keeps it across a save and a second writer, and reads version 3 rows as not kept', async () => {
    const store = new MemoryState();
    const { ledger } = setup({ store });
    ledger.record(ev({ at: NOW }));
    ledger.record(ev({ at: NOW, pricedBy: 'provider', estimatedCostUsd: 0.001 }));
    ledger.record(ev({ at: NOW, pricedBy: 'correction' }));
    ledger.record(ev({ at: NOW, priced: false, costUsd: 0, pricedBy: 'override' })); // unpriced wins
    ledger.record(ev({ at: NOW, pricedBy: 'bogus' as never })); // not a kind: the data
    await ledger.flush();
    const other = new Ledger(store, { timeZone: NY, clock: new TestClock(NOW), flushDelayMs: 5 });
    other.record(ev({ at: NOW, pricedBy: 'provider' }));
    await other.flush();
    const back = new Ledger(store, { timeZone: NY, clock: new TestClock(NOW) });
    const row = back.export().find((r) => r.model === 'claude-sonnet-4');
    assert.deepEqual(row?.pricedBy, { data: 2, provider: 2, override: 0, correction: 1, local: 0 });
    assert.equal(row?.unpricedRequests, 1);
    assert.deepEqual(back.recent(6).map((e) => e.pricedBy), ['provider', undefined, undefined, 'correction', 'provider', undefined]);
    assert.equal((JSON.parse(store.raw(KEY)) as { v: number }).v, 4);

    const v3 = new MemoryState();
    v3.seed(KEY, { v: 3, p: ['openai'], m: [[0, 'gpt-4o']], d: { '2026-11-21': [0, 3, 0, 10, 10, 0, 0, 5, 0, 0, 1, 2] }, mo: {}, r: [[Date.parse(NOW), 0, 1, 1, 0, 0, 0.1, 1, 10, '', '', 1, { e: 0.2 }]], s: [] });
    const old = setup({ store: v3 }).ledger;
    assert.deepEqual(old.warnings, []);
    const oldRow = old.export()[0];
    assert.deepEqual([oldRow.requests, oldRow.unpricedRequests, oldRow.pricedBy], [3, 1, { data: 0, provider: 0, override: 0, correction: 0, local: 0 }]);
    assert.equal(old.recent(1)[0].estimatedCostUsd, 0.2);

    // Counts that add up to more than the priced requests say nothing: read as not kept.
    const odd = new MemoryState();
    odd.seed(KEY, { v: 4, p: ['openai'], m: [[0, 'gpt-4o']], d: { '2026-11-21': [0, 3, 0, 10, 10, 0, 0, 5, 0, 0, 1, 2, 2, 1, 0, 0, 0] }, mo: {}, r: [], s: [] });
    assert.deepEqual(setup({ store: odd }).ledger.export().map((r) => Object.values(r.pricedBy)), [[0, 0, 0, 0, 0]]);
  });

  it('keeps a copy of a value that is not a usage history at all, then starts empty', async () => {
    for (const value of ['garbage', [1, 2], { v: 0 }, { p: [] }]) {
      const store = new MemoryState();
      store.seed(KEY, value);
      const { ledger } = setup({ store });
      assert.equal(ledger.warnings.length, 1, JSON.stringify(value));
      assert.match(ledger.warnings[0], /^Usage history \(state 'aiKeyManager\.ledger'\) is unreadable \(.+\); the stored value was kept in backup 1\. Starting empty\.$/);
      assert.deepEqual(JSON.parse(store.backups[0].raw), value);
      ledger.record(ev({ at: NOW }));
      await ledger.flush();
      assert.equal(ledger.usage().totals.requests, 1);
    }
    const broken: StateStore = {
      get: () => {
        throw new Error('EACCES');
      },
      update: async () => undefined,
    };
    assert.match(new Ledger(broken).warnings[0], /Could not read usage history.*EACCES/);
    assert.match(new Ledger(new MemoryState(), { timeZone: 'Nowhere/Land' }).warnings[0], /Unknown time zone 'Nowhere\/Land'/);
  });

  it('never overwrites a newer version’s history: it refuses to record, and says why', async () => {
    const store = new MemoryState();
    const newer = { v: 99, future: 'fields', d: { '2026-11-21': [1, 2, 3] } };
    store.seed(KEY, newer);
    const { ledger } = setup({ store });
    assert.match(ledger.warnings[0], /written by a newer version of AI Key Manager \(schema 99\)\. This version does not change it: nothing is recorded until you update AI Key Manager\./);
    assert.throws(() => ledger.record(ev({ at: NOW })), /newer version/);
    await assert.rejects(ledger.reset(), /newer version/);
    await ledger.flush();
    assert.deepEqual(JSON.parse(store.raw(KEY)), newer, 'untouched');
    // A newer version writing while this one runs: this one stops writing too.
    const store2 = new MemoryState();
    const { ledger: l2 } = setup({ store: store2 });
    l2.record(ev({ at: NOW }));
    store2.seed(KEY, newer);
    await assert.rejects(l2.flush(), /newer version/);
    assert.deepEqual(JSON.parse(store2.raw(KEY)), newer);
  });

  it('reads a version 1 history (micro-dollars) exactly and writes it back as the current version (nano-dollars)', async () => {
    const store = new MemoryState();
    store.seed(KEY, { v: 1, p: ['openai'], m: [[0, 'gpt-4o']], d: { '2026-11-21': [0, 3, 0, 10, 10, 0, 0, 1_234_567, 0, 0] }, mo: { '2026-01': [0, 1, 0, 1, 1, 0, 0, 13, 0, 0] }, r: [], s: [] });
    const { ledger } = setup({ store });
    assert.deepEqual(ledger.warnings, []);
    assert.equal(ledger.usage({ days: 1 }).totals.costUsd, 1.234567);
    ledger.record(ev({ at: NOW, provider: 'openai', model: 'gpt-4o', costUsd: 0.0000125 }));
    await ledger.flush();
    const saved = JSON.parse(store.raw(KEY)) as { v: number; d: Record<string, number[]>; mo: Record<string, number[]> };
    assert.equal(saved.v, 4);
    assert.equal(saved.d['2026-11-21'][7], 1_234_567_000 + 12_500);
    assert.equal(saved.mo['2026-01'][7], 13_000);
  });

  it('reset() clears memory and the stored state', async () => {
    const { ledger, store, clock } = setup();
    fourEvents(ledger);
    await ledger.flush();
    await ledger.reset();
    assert.equal(ledger.usage().totals.requests, 0);
    assert.deepEqual(ledger.providerStats(), []);
    const again = new Ledger(store, { clock, timeZone: NY });
    assert.equal(again.usage().totals.requests, 0);
    assert.equal(again.recent().length, 0);
  });
});

describe('Ledger retention', () => {
  it('compacts days older than the daily window into months', async () => {
    const { ledger, store, clock } = setup();
    ledger.record(ev({ at: '2026-07-15T16:00:00Z', costUsd: 1 })); // before the window: straight into 2026-07
    ledger.record(ev({ at: '2026-08-25T16:00:00Z', costUsd: 2 })); // in the window for now
    ledger.record(ev({ at: '2026-08-31T16:00:00Z', costUsd: 4 }));
    assert.equal(ledger.usage({ days: 95 }).totals.costUsd, 6);
    assert.equal(ledger.usage({ days: 95 }).from, '2026-08-19');

    clock.set('2026-12-01T17:00:00Z'); // window now starts 2026-08-29: Aug 25 is compacted
    ledger.record(ev({ at: '2026-12-01T16:00:00Z', costUsd: 8 }));
    assert.equal(ledger.spentIn('2026-08'), 6); // compacted Aug 25 + daily Aug 31
    assert.equal(ledger.spentIn('2026-08-25'), 0);
    assert.equal(ledger.spentIn('2026-08-31'), 4);
    assert.equal(ledger.usage({ days: 95 }).totals.costUsd, 12);

    const long = ledger.usage({ days: 200, groupBy: 'day' });
    assert.equal(long.from, '2026-05-01'); // widened to a whole month
    assert.deepEqual(
      long.groups.map((g) => [g.key, g.costUsd]),
      [
        ['2026-07', 1],
        ['2026-08', 2],
        ['2026-08-31', 4],
        ['2026-12-01', 8],
      ],
    );
    assert.deepEqual(
      ledger.export().map((r) => [r.period, r.granularity]),
      [
        ['2026-07', 'month'],
        ['2026-08', 'month'],
        ['2026-08-31', 'day'],
        ['2026-12-01', 'day'],
      ],
    );
    await ledger.flush();
    assert.deepEqual(new Ledger(store, { clock, timeZone: NY }).export(), ledger.export());
  });

  it('drops months past the monthly retention', () => {
    const { ledger } = setup();
    ledger.record(ev({ at: '2026-06-15T16:00:00Z', costUsd: 1 }));
    ledger.record(ev({ at: '2026-07-15T16:00:00Z', costUsd: 1 }));
    assert.equal(ledger.usage({ days: 365 }).totals.costUsd, 2);

    // Retaining 3 months at 2026-09-15 keeps July; by December it is gone.
    const { ledger: short, clock } = setup({ monthlyRetentionMonths: 3, now: '2026-09-15T17:00:00Z' });
    short.record(ev({ at: '2026-05-15T16:00:00Z', costUsd: 1 })); // before the daily window and the kept months
    short.record(ev({ at: '2026-07-15T16:00:00Z', costUsd: 2 }));
    short.record(ev({ at: '2026-09-15T16:00:00Z', costUsd: 4 }));
    assert.equal(short.usage({ days: 365 }).totals.costUsd, 6);
    assert.equal(short.providerStats('anthropic').requests, 3);
    clock.set('2026-12-01T17:00:00Z');
    assert.equal(short.usage({ days: 365 }).totals.costUsd, 4);
    assert.deepEqual(
      short.export().map((r) => r.period),
      ['2026-09-15'],
    );
  });

  it('a synthetic year (100,000 events, 40 models) persists in at most 256 KB', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const end = new Date(NOW).getTime();
    const start = end - 365 * 86_400_000;
    const { ledger, clock } = setup({ now: new Date(start).toISOString() });
    for (let i = 0; i < 100_000; i++) {
      const t = new Date(start + (i / 100_000) * 365 * 86_400_000);
      clock.set(t);
      const p = Math.floor(rand() * 4);
      ledger.record(
        ev({
          at: t.toISOString(),
          provider: `provider-${p}`,
          model: `model-${p}-${Math.floor(rand() * 10)}`,
          inputTokens: 200 + Math.floor(rand() * 8000),
          outputTokens: 50 + Math.floor(rand() * 2000),
          cacheReadTokens: rand() < 0.3 ? Math.floor(rand() * 20_000) : 0,
          costUsd: rand() * 0.05,
          latencyMs: 200 + Math.floor(rand() * 4800),
          success: rand() > 0.03,
          error: 'HTTP 529: overloaded',
        }),
      );
    }
    clock.set(NOW);
    assert.equal(ledger.usage({ days: 365 * 2 }).totals.requests, 100_000);
    assert.equal(ledger.usage({ days: 95, groupBy: 'model' }).groups.length, 40);
    const size = ledger.serializedSize();
    assert.ok(size <= 256 * 1024, `serialized size ${size} bytes`);
  });
});

describe('Ledger shared with another writer', () => {

  /** Two ledgers that both loaded `store` before either saved, like two windows or processes. */
  function twoLedgers(store: MemoryState, opts: ConstructorParameters<typeof Ledger>[1] = {}) {
    const clock = new TestClock(NOW);
    const open = () => new Ledger(store, { clock, timeZone: NY, flushDelayMs: 10_000, ...opts });
    return { store, clock, a: open(), b: open() };
  }

  it('two ledgers on one store both keep their usage: a save merges instead of overwriting', async () => {
    const { store, clock, a, b } = twoLedgers(new MemoryState()); // both loaded the empty store
    for (let i = 0; i < 3; i++) a.record(ev({ at: NOW, costUsd: 0.25, latencyMs: 100 }));
    for (let i = 0; i < 2; i++) b.record(ev({ at: NOW, provider: 'openai', model: 'gpt-4o', costUsd: 1, success: false, error: 'HTTP 500' }));
    await a.flush();
    await b.flush();
    const after = new Ledger(store, { clock, timeZone: NY });
    assert.equal(after.usage().totals.requests, 5);
    assert.equal(after.spent('day'), 2.75);
    assert.deepEqual(after.providerStats().map((p) => [p.provider, p.requests, p.failures]), [
      ['anthropic', 3, 0],
      ['openai', 2, 2],
    ]);
    assert.equal(after.recent().length, 5);
    assert.equal(b.usage().totals.requests, 5, 'the ledger that merged now shows the other’s usage too');

    a.record(ev({ at: NOW, costUsd: 0.25 }));
    await a.flush();
    assert.equal(a.usage().totals.requests, 6);
    assert.equal(new Ledger(store, { clock, timeZone: NY }).usage().totals.requests, 6);
    assert.equal(new Ledger(store, { clock, timeZone: NY }).serializedSize(), Buffer.byteLength(store.raw(KEY)));
  });

  it('what priced each request is counted once across merges, saves and other writers’ shares', async () => {
    const { store, clock, a, b } = twoLedgers(new MemoryState({ shared: true }));
    const kinds = (l: Ledger) => l.export().reduce((t, r) => { for (const [k, n] of Object.entries(r.pricedBy)) t[k] = (t[k] ?? 0) + n; return t; }, {} as Record<string, number>);
    a.record(ev({ at: NOW, pricedBy: 'override' }));
    b.record(ev({ at: NOW, pricedBy: 'override' }));
    await a.flush();
    await b.flush(); // b merges a's save
    for (const l of [a, b, a, b]) {
      l.record(ev({ at: NOW, pricedBy: 'override' }));
      await l.flush();
    }
    const after = new Ledger(store, { clock, timeZone: NY });
    assert.equal(after.usage().totals.requests, 6);
    assert.deepEqual(kinds(after), { data: 0, provider: 0, override: 6, correction: 0, local: 0 });

    // VS Code windows: each workspace writes its own share and reads the others'.
    const shared = new MemoryState({ shared: true });
    const open = (key: string) => new Ledger(shared, { clock, timeZone: NY, flushDelayMs: 10_000, stateKey: `usage.${key}`, sharesPrefix: 'usage.' });
    const w1 = open('w1');
    const w2 = open('w2');
    w2.record(ev({ at: NOW, pricedBy: 'local' }));
    await w2.flush();
    for (let i = 0; i < 3; i++) {
      w1.record(ev({ at: NOW, pricedBy: 'local' }));
      w1.usage(); // builds the view with w2's share
    }
    await w1.flush();
    assert.deepEqual(kinds(new Ledger(shared, { clock, timeZone: NY, stateKey: 'usage.w1' })), { data: 0, provider: 0, override: 0, correction: 0, local: 3 });
    assert.deepEqual(kinds(new Ledger(shared, { clock, timeZone: NY, stateKey: 'usage.w2' })), { data: 0, provider: 0, override: 0, correction: 0, local: 1 });
  });

  it('with a store that reports changes, queries pick up the other writer’s saves without saving first', async () => {
    const { store, clock, a, b } = twoLedgers(new MemoryState({ shared: true }));
    a.record(ev({ at: NOW, costUsd: 1 }));
    b.record(ev({ at: NOW, costUsd: 2 }));
    await b.flush();
    assert.equal(a.spent('day'), 3, 'a sees b’s saved usage plus its own unsaved');
    assert.equal(a.usage().totals.requests, 2);
    await a.flush();
    assert.equal(b.spent('day'), 3);
    assert.equal(new Ledger(store, { clock, timeZone: NY }).spent('day'), 3, 'nothing counted twice on disk');
  });

  it('a failed save is merged again later without counting anything twice', async () => {
    const { store, clock, a, b } = twoLedgers(new MemoryState());
    a.record(ev({ at: NOW, costUsd: 1 }));
    store.failNext = 1;
    await assert.rejects(a.flush(), /disk full/);
    b.record(ev({ at: NOW, costUsd: 10 }));
    await b.flush();
    a.record(ev({ at: NOW, costUsd: 100 }));
    await a.flush();
    assert.equal(new Ledger(store, { clock, timeZone: NY }).spent('day'), 111);
    assert.equal(a.spent('day'), 111);
  });

  it('reset() in one clears what both saved; the other’s later usage lands on the empty ledger', async () => {
    const { store, clock, a, b } = twoLedgers(new MemoryState());
    a.record(ev({ at: NOW, costUsd: 1 }));
    await a.flush();
    b.record(ev({ at: NOW, costUsd: 2 }));
    await b.flush();
    await a.reset();
    assert.equal(new Ledger(store, { clock, timeZone: NY }).usage().totals.requests, 0);
    b.record(ev({ at: NOW, costUsd: 4 }));
    await b.flush();
    const after = new Ledger(store, { clock, timeZone: NY });
    assert.equal(after.usage().totals.requests, 1);
    assert.equal(after.spent('day'), 4);
    assert.equal(b.spent('day'), 4, 'b dropped the usage the reset removed');
  });

  it('merges recent events in time order, latency samples and the latest error', async () => {
    const { store, clock, a, b } = twoLedgers(new MemoryState(), { recentLimit: 4, latencySampleSize: 3 });
    a.record(ev({ at: '2026-11-21T10:00:00.000Z', inputTokens: 1, latencyMs: 10 }));
    a.record(ev({ at: '2026-11-21T12:00:00.000Z', inputTokens: 3, latencyMs: 30, success: false, error: 'later error' }));
    b.record(ev({ at: '2026-11-21T11:00:00.000Z', inputTokens: 2, latencyMs: 20, success: false, error: 'earlier error' }));
    b.record(ev({ at: '2026-11-21T13:00:00.000Z', inputTokens: 4, latencyMs: 40 }));
    b.record(ev({ at: '2026-11-21T14:00:00.000Z', inputTokens: 5, latencyMs: 50 }));
    await a.flush();
    await b.flush();
    const after = new Ledger(store, { clock, timeZone: NY, recentLimit: 4, latencySampleSize: 3 });
    assert.deepEqual(after.recent().map((e) => e.inputTokens), [5, 4, 3, 2]);
    const s = after.providerStats('anthropic');
    assert.equal(s.requests, 5);
    assert.equal(s.failures, 2);
    // Latencies carry no time: the stored sample (a's 10, 30) is followed by the saving ledger's (b's 20, 40, 50).
    assert.equal(s.meanLatencyMs, 36.7);
    assert.deepEqual(s.lastError, { at: '2026-11-21T12:00:00.000Z', message: 'later error' });
    assert.equal(s.lastSuccessAt, '2026-11-21T14:00:00.000Z');
  });
});
