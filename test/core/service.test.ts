// The core facade with in-memory ports: behaviour that spans keys, pricing, health, ledger and audit.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { AiKeyManagerCore, CoreOptions } from '../../src/core/service';
import { FAILURE_LIMIT } from '../../src/core/health';
import { MemorySettings, MemoryState, MemoryVault } from '../support/ports';
import { makeTestCore } from '../support/core';
import type { StateStore } from '../../src/core/ports';

/**
 * globalState as one window sees it: its own copy of a profile-wide store, which learns of other
 * windows' writes only when they arrive (`arrive()`), like VS Code windows do a moment later.
 */
class WindowState implements StateStore {
  private view = new Map<string, string>();
  private arrivals = 0;
  constructor(private readonly profile: Map<string, string>) {
    this.arrive();
  }
  arrive(): void {
    this.view = new Map(this.profile);
    this.arrivals++;
  }
  revision(): number {
    return this.arrivals;
  }
  keys(): readonly string[] {
    return [...this.view.keys()];
  }
  get<T>(key: string): T | undefined {
    const v = this.view.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  async update(key: string, value: unknown): Promise<void> {
    for (const m of [this.view, this.profile]) {
      if (value === undefined) m.delete(key);
      else m.set(key, JSON.stringify(value));
    }
  }
}

/** A core on in-memory ports (test/support/core.ts) with these settings and ports. */
const core = (settings = new MemorySettings(), extra: Partial<CoreOptions> = {}): AiKeyManagerCore => makeTestCore({ ...extra, settings }).core;

/** A fetch that never reaches anything, like a refused connection. */
const refused: typeof fetch = async () => {
  throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:11434') });
};

describe('AiKeyManagerCore settings', () => {
  it('starts with invalid price overrides: drops them with a warning and applies the valid ones', () => {
    const settings = new MemorySettings();
    const bad = { model: 'broken', inputPerMTok: 'cheap', outputPerMTok: 1 } as unknown as { model: string; inputPerMTok: number; outputPerMTok: number };
    settings.update({ priceOverrides: [bad, { model: 'my-model', inputPerMTok: 1, outputPerMTok: 2 }] });
    const c = core(settings);
    assert.equal(c.estimateCost({ model: 'my-model', inputTokens: 1_000_000, outputTokens: 1_000_000 }).cost.totalCost, 3);
    assert.equal(c.warnings.length, 1);
    assert.match(c.warnings[0], /"broken".*inputPerMTok.*ignored/);

    // A later edit is applied the same way, without throwing from the change listener.
    settings.update({ priceOverrides: [{ model: 'other', inputPerMTok: -1, outputPerMTok: 1 }] });
    assert.throws(() => c.estimateCost({ model: 'my-model', inputTokens: 1 }), /No price known/);
    assert.match(c.warnings[0], /"other".*inputPerMTok/);
    settings.update({ priceOverrides: [] });
    assert.deepEqual(c.warnings, []);
    c.dispose();
  });
});

describe('AiKeyManagerCore live validation and health', () => {
  it('an unreachable live check counts as one failure; cooldown only after repeated failures', async () => {
    const c = core(undefined, { fetchImpl: refused });
    for (let i = 1; i < FAILURE_LIMIT; i++) {
      const r = await c.validateKey('local', undefined, true, 'tool');
      assert.equal(r.outcome, 'unreachable');
      const h = c.health.get('local');
      assert.equal(h.healthy, true, `one unreachable check (#${i}) must not cool the provider down`);
      assert.equal(h.consecutiveFailures, i);
      assert.equal(c.route({ taskType: 'chat' }).provider, 'local');
    }
    await c.validateKey('local', undefined, true, 'tool');
    const h = c.health.get('local');
    assert.equal(h.healthy, false, `cooling down after ${FAILURE_LIMIT} failures in a row`);
    assert.ok(h.cooldownUntil);
    c.dispose();
  });
});

describe('AiKeyManagerCore.track with a model it cannot price', () => {
  it('records the request at cost 0 with priced: false and a warning naming close matches', () => {
    const c = core();
    const r = c.track({ provider: 'openai', model: 'gpt-4o-minii', inputTokens: 1000, outputTokens: 200, latencyMs: 300 }, 'tool');
    assert.equal(r.priced, false);
    assert.equal(r.event.costUsd, 0);
    assert.equal(r.cost.totalCost, 0);
    assert.match(r.warning ?? '', /No price known for model "gpt-4o-minii".*gpt-4o-mini.*recorded at \$0/i);
    const u = c.usage({ days: 1, groupBy: 'model' });
    assert.equal(u.totals.requests, 1);
    assert.equal(u.totals.inputTokens, 1000);
    assert.equal(c.providerStats('openai')[0].requests, 1);

    const priced = c.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 1000, outputTokens: 0 }, 'tool');
    assert.equal(priced.priced, true);
    assert.equal(priced.warning, undefined);
    assert.ok(priced.cost.totalCost > 0);
    // estimate_cost still refuses the unknown model, with close matches.
    assert.throws(() => c.estimateCost({ model: 'gpt-4o-minii', provider: 'openai', inputTokens: 1 }), /No price known.*Did you mean: .*gpt-4o-mini/);
    c.dispose();
  });

  it('never keeps a key pasted as the model name: it is recorded masked', async () => {
    const state = new MemoryState({ copy: 'clone' });
    const ledgerState = new MemoryState({ copy: 'clone' });
    const c = core(undefined, { state, ledgerState });
    const key = 'sk-ant-api03-CANARYmodelQ1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8';
    const r = c.track({ provider: 'anthropic', model: key, inputTokens: 1, outputTokens: 1 }, 'tool');
    assert.equal(r.priced, false);
    await c.flush();
    for (const [name, text] of [['reply', JSON.stringify(r)], ['ledger', ledgerState.dump()], ['state', state.dump()], ['usage', JSON.stringify(c.usage({ groupBy: 'model' }))]]) {
      assert.ok(!text.includes('CANARYmodel'), `${name} holds the key: ${text.slice(0, 300)}`);
    }
    c.dispose();
  });
});

describe('AiKeyManagerCore.track records what priced each request', () => {
  it('the data, the provider, an override, a correction, a local model; an export says so per row', () => {
    const settings = new MemorySettings();
    settings.update({ priceOverrides: [{ model: 'my-model', provider: 'openai', inputPerMTok: 1, outputPerMTok: 2 }] });
    const c = core(settings);
    const t = (provider: string, model: string, extra: { providerCostUsd?: number } = {}) => c.track({ provider, model, inputTokens: 1000, outputTokens: 100, ...extra }, 'tool').event.pricedBy;
    assert.deepEqual(
      [t('openai', 'gpt-4o'), t('openrouter', 'openai/gpt-4o', { providerCostUsd: 0.002 }), t('openai', 'my-model'), t('mistral', 'mistral-large-latest'), t('ollama', 'llama3.2'), t('openai', 'no-such-model-xyz')],
      [undefined, 'provider', 'override', 'correction', 'local', undefined],
    );
    const csv = c.exportUsage('csv').text.split('\r\n');
    assert.ok(csv[0].endsWith(',price_source'), csv[0]);
    const source = (model: string) => csv.find((l) => l.includes(`,${model},`))?.split(',').at(-1);
    assert.deepEqual(
      ['gpt-4o', 'openai/gpt-4o', 'my-model', 'mistral-large-latest', 'llama3.2', 'no-such-model-xyz'].map(source),
      [`price data (at export: ${c.pricing.dataLabel()})`, "provider's own figure", 'your override', 'shipped correction', 'local model (free)', 'no price known'],
    );
    assert.match(c.pricing.dataLabel(), /^genai-prices \S+ bundled$/);
    const json = JSON.parse(c.exportUsage('json').text) as { pricesInUse: string; totals: { pricedBy: Record<string, number> } };
    assert.deepEqual(json.totals.pricedBy, { data: 1, provider: 1, override: 1, correction: 1, local: 1 });
    assert.match(json.pricesInUse, /genai-prices .*bundled/);
  });
});

describe('AiKeyManagerCore.track audit', () => {
  it('audits track_request without flooding the bounded log: one counted entry per provider/model per minute', async () => {
    const c = core();
    await c.setBudget({ daily: 100 }, 'tool');
    const before = c.audit.list().length;
    for (let i = 0; i < 10_000; i++) c.track({ provider: 'openai', model: 'gpt-4o-mini', inputTokens: 10, outputTokens: 5 }, 'tool');
    c.track({ provider: 'anthropic', model: 'claude-3-5-sonnet', inputTokens: 10, outputTokens: 5, success: false, error: 'HTTP 529' }, 'tool');
    assert.throws(() => c.track({ provider: 'openai', model: 'gpt-4o', inputTokens: -1, outputTokens: 0 }, 'tool'), /input_tokens/);
    const entries = c.audit.list();
    assert.equal(entries.length - before, 3, JSON.stringify(entries.slice(0, 4)));
    const openai = entries.find((e) => e.action === 'track_request' && e.provider === 'openai' && e.ok);
    assert.equal(openai?.count, 10_000);
    assert.match(openai?.detail ?? '', /gpt-4o-mini/);
    assert.equal(openai?.via, 'tool');
    assert.equal(entries.find((e) => e.action === 'track_request' && e.provider === 'anthropic')?.count, 1);
    const refused = entries.find((e) => e.action === 'track_request' && !e.ok);
    assert.match(refused?.detail ?? '', /input_tokens must be a whole number/);
    assert.ok(entries.some((e) => e.action === 'set_budget'), 'earlier entries are not pushed out');
    c.dispose();
  });
});

describe('AiKeyManagerCore budgets across workspaces (VS Code)', () => {
  it('counts every workspace of the profile against one budget, and keeps each workspace’s own usage apart', async () => {
    const global = new MemoryState({ copy: 'clone', shared: true });
    const settings = new MemorySettings({ budget: { daily: 5, enforce: true } });
    // Two windows: their own workspace ledgers, one profile-wide store.
    const a = core(settings, { allUsageState: global, allUsageShare: 'ws-a' });
    const b = core(settings, { allUsageState: global, allUsageShare: 'ws-b' });
    const track = (c: AiKeyManagerCore, inputTokens: number) => c.track({ provider: 'openai', model: 'gpt-4o', inputTokens, outputTokens: 0 }, 'tool');
    track(a, 1_200_000); // $3.00 at $2.50 / MTok
    await a.flush();
    const r = track(b, 1_000_000); // $2.50: the day's total across both windows is $5.50
    assert.equal(r.budget.day.exceeded, true, 'b sees what a spent: three workspaces do not get three daily budgets');
    assert.ok(Math.abs(b.budget().day.spent - 5.5) < 1e-9);
    assert.equal(b.usage({ days: 1 }).totals.costUsd, 2.5, 'this workspace');
    assert.ok(Math.abs(b.usage({ days: 1, scope: 'all' }).totals.costUsd - 5.5) < 1e-9, 'all workspaces');
    await b.flush();
    assert.ok(Math.abs(a.budget().day.spent - 5.5) < 1e-9);
    assert.equal(a.route({ taskType: 'chat' }).provider, 'local', 'enforced over the total, not per window');
    // Headless has one ledger per AIKM_HOME: it is the total.
    const headless = core(settings);
    assert.equal(headless.allUsage, undefined);
    track(headless, 400_000);
    assert.equal(headless.budget().day.spent, 1);
    assert.equal(headless.usage({ days: 1, scope: 'all' }).totals.costUsd, 1);
  });

  it('loses nothing when two windows save at once from stale views of globalState', async () => {
    const profile = new Map<string, string>();
    const settings = new MemorySettings();
    const wa = new WindowState(profile);
    const wb = new WindowState(profile);
    const a = core(settings, { allUsageState: wa, allUsageShare: 'ws-a' });
    const b = core(settings, { allUsageState: wb, allUsageShare: 'ws-b' });
    const track = (c: AiKeyManagerCore) => c.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 400_000, outputTokens: 0 }, 'tool'); // $1
    for (let round = 0; round < 3; round++) {
      track(a);
      track(b);
      // Both save before either sees the other's write.
      await Promise.all([a.flush(), b.flush()]);
      wa.arrive();
      wb.arrive();
    }
    assert.equal(a.budget().day.spent, 6);
    assert.equal(b.budget().day.spent, 6);
    // A third window opened later sees the whole total.
    const c = core(settings, { allUsageState: new WindowState(profile), allUsageShare: 'ws-c' });
    assert.equal(c.budget().day.spent, 6);
    assert.equal(c.usage({ days: 1, scope: 'all' }).totals.requests, 6);
  });

  it('counts the history a workspace had before the total existed, once; a reset clears every window’s share', async () => {
    const profile = new Map<string, string>();
    const settings = new MemorySettings();
    const ledgerState = new MemoryState({ copy: 'clone' });
    const track = (c: AiKeyManagerCore) => c.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 400_000, outputTokens: 0 }, 'tool');
    const old = core(settings, { ledgerState }); // a version without the total
    track(old);
    track(old);
    await old.flush();
    const first = core(settings, { ledgerState, allUsageState: new WindowState(profile), allUsageShare: 'ws-a' });
    assert.equal(first.budget().day.spent, 2);
    track(first);
    await first.flush();
    const again = core(settings, { ledgerState, allUsageState: new WindowState(profile), allUsageShare: 'ws-a' });
    assert.equal(again.budget().day.spent, 3, 'adopted once, not at every start');
    const other = core(settings, { allUsageState: new WindowState(profile), allUsageShare: 'ws-b' });
    track(other);
    await other.flush();
    const wa = new WindowState(profile);
    const third = core(settings, { ledgerState, allUsageState: wa, allUsageShare: 'ws-a' });
    assert.equal(third.budget().day.spent, 4);
    // A workspace with history that never ran this version yet.
    const laterState = new MemoryState({ copy: 'clone' });
    const later = core(settings, { ledgerState: laterState });
    track(later);
    await later.flush();
    await third.resetUsage('command');
    assert.equal(third.budget().day.spent, 0);
    assert.deepEqual([...profile.values()].map((v) => (JSON.parse(v) as { d?: object }).d ?? {}).filter((d) => Object.keys(d).length > 0), [], 'no share holds usage');
    // After the reset, neither a workspace that reopens nor one opened for the first time brings old history back.
    assert.equal(core(settings, { allUsageState: new WindowState(profile), allUsageShare: 'ws-b' }).budget().day.spent, 0);
    assert.equal(core(settings, { ledgerState, allUsageState: new WindowState(profile), allUsageShare: 'ws-a' }).budget().day.spent, 0);
    assert.equal(core(settings, { ledgerState: laterState, allUsageState: new WindowState(profile), allUsageShare: 'ws-c' }).budget().day.spent, 0);
  });

  it('never counts a kept copy of a damaged share, and takes over the single total of an earlier build once', async () => {
    const profile = new Map<string, string>();
    const settings = new MemorySettings();
    const track = (c: AiKeyManagerCore) => c.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 400_000, outputTokens: 0 }, 'tool');
    const a = core(settings, { allUsageState: new WindowState(profile), allUsageShare: 'ws-a' });
    track(a);
    await a.flush();
    const [[key, value]] = [...profile];
    // As MementoState.backup() keeps a copy, and an earlier build's one value for every workspace.
    profile.set(`${key}.corrupt-2026-11-21T17:00:00.000Z`, value);
    profile.set('aiKeyManager.ledger.all', value);
    const ledgerState = new MemoryState({ copy: 'clone' });
    const withHistory = core(settings, { ledgerState });
    track(withHistory);
    await withHistory.flush();
    const b = core(settings, { ledgerState, allUsageState: new WindowState(profile), allUsageShare: 'ws-b' });
    await b.flush();
    assert.equal(b.budget().day.spent, 2, 'ws-a once, the earlier total once, and not ws-b’s history: the earlier total held it');
    assert.equal(profile.has('aiKeyManager.ledger.all'), false);
    assert.ok(profile.has('aiKeyManager.ledger.all/legacy'));
    assert.equal(core(settings, { allUsageState: new WindowState(profile), allUsageShare: 'ws-c' }).budget().day.spent, 2);
  });
});

describe('AiKeyManagerCore background save failures', () => {
  it('tells onSaveError about a usage or audit save that failed, and the next save stores it', async () => {
    const ledgerState = new MemoryState({ copy: 'clone' });
    const state = new MemoryState({ copy: 'clone' });
    const c = core(new MemorySettings(), { ledgerState, state });
    const heard: string[] = [];
    const off = c.onSaveError((err) => heard.push(err.message));
    ledgerState.failNext = 1;
    state.failNext = 1;
    c.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 10, outputTokens: 5 }, 'tool');
    await new Promise((r) => setTimeout(r, 600)); // the coalesced saves run in the background
    assert.ok(heard.some((m) => /^Could not save state 'aiKeyManager\.ledger': disk full\. It will be retried on the next save\.$/.test(m)), heard.join(' | '));
    assert.ok(heard.some((m) => /^Could not save state 'aiKeyManager\.audit': disk full/.test(m)), heard.join(' | '));
    await c.flush();
    assert.equal(core(undefined, { state, ledgerState }).usage({ days: 1 }).totals.requests, 1);
    off();
    ledgerState.failNext = 1;
    c.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 10, outputTokens: 5 }, 'tool');
    const before = heard.length;
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(heard.length, before, 'unsubscribed');
    c.dispose();
  });
});

describe('AiKeyManagerCore masks a stored key of an odd shape', () => {
  it('never records a stored key pasted as a model name or an error, even one no key shape matches', async () => {
    const vault = new MemoryVault();
    const state = new MemoryState({ copy: 'clone' });
    // Stored by an older version, before keys had to have their provider's shape.
    const odd = 'corp-proxy-token-7f3a9c2e1b5d4e6f';
    await vault.store('key/openai-old1', odd);
    state.seed('aikm.keys.v1', [{ id: 'openai-old1', provider: 'openai', masked: 'corp-p…4e6f', source: 'vault', status: 'healthy', createdAt: '2026-01-01T00:00:00.000Z' }]);
    const c = core(undefined, { vault, state });
    await c.keys.readableSecrets(); // what every MCP reply does first
    const r = c.track({ provider: 'openai', model: `${odd}`, inputTokens: 1, outputTokens: 1, success: false, error: `401 for ${odd}` }, 'tool');
    assert.ok(!JSON.stringify(r.event).includes(odd), JSON.stringify(r.event));
    assert.ok(!JSON.stringify(c.ledger.recent(5)).includes(odd));
    assert.ok(!JSON.stringify(c.usage({ days: 1, groupBy: 'model' })).includes(odd));
  });
});
