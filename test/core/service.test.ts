// The core facade with in-memory ports: behaviour that spans keys, pricing, health, ledger and audit.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { AiKeyManagerCore, type CoreOptions } from '../../src/core/service';
import { FAILURE_LIMIT } from '../../src/core/health';
import { MemorySettings, MemoryState, MemoryVault, fixedClock } from '../mcp/helpers';

function core(settings = new MemorySettings(), extra: Partial<CoreOptions> = {}) {
  return new AiKeyManagerCore({ vault: new MemoryVault(), state: new MemoryState(), ledgerState: new MemoryState(), settings, clock: fixedClock, timeZone: 'UTC', ...extra });
}

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
