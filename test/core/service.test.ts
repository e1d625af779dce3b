// The core facade with in-memory ports: behaviour that spans keys, pricing, health, ledger and audit.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { AiKeyManagerCore } from '../../src/core/service';
import { MemorySettings, MemoryState, MemoryVault, fixedClock } from '../mcp/helpers';

function core(settings = new MemorySettings()) {
  return new AiKeyManagerCore({ vault: new MemoryVault(), state: new MemoryState(), ledgerState: new MemoryState(), settings, clock: fixedClock, timeZone: 'UTC' });
}

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
