// The shipped price corrections: each dated, with a source; each applies while the data in use still
// says what it said when the row was written, and stops when the data changes (refreshed data wins);
// user overrides win over them. The check on the bundled data fails once upstream fixes a gap, so the
// row can be removed.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as GenaiPrices from '@pydantic/genai-prices';
import { PricingService } from '../../src/core/pricing';
import { PRICE_CORRECTIONS } from '../../src/core/priceCorrections';

const M = { inputTokens: 1_000_000, outputTokens: 1_000_000 };

describe('price corrections', () => {
  it('every row is dated, sourced and explained', () => {
    for (const c of PRICE_CORRECTIONS) {
      assert.match(c.since, /^\d{4}-\d{2}-\d{2}$/, c.model);
      assert.ok(!Number.isNaN(Date.parse(c.since)), c.model);
      assert.match(c.source, /^https:\/\//, c.model);
      assert.ok(c.why.length > 10, c.model);
      if ('aliasOf' in c) assert.notEqual(c.aliasOf, c.model);
      else assert.ok(c.inputPerMTok > 0 && c.outputPerMTok > 0, c.model);
    }
  });

  for (const c of PRICE_CORRECTIONS) {
    it(`${c.provider}/${c.model}: the bundled data still says what the row says it said (else remove the row), and the correction prices it`, () => {
      const p = new PricingService({ now: () => new Date('2026-12-01T10:00:00Z') });
      const data = p.dataRates(c.model, c.provider);
      if (c.dataSaid === null) assert.equal(data, undefined, `genai-prices now prices ${c.model} (${JSON.stringify(data)}): check it and remove the correction`);
      else assert.deepEqual(data, c.dataSaid, `genai-prices now says ${JSON.stringify(data)} for ${c.model}, not ${JSON.stringify(c.dataSaid)}: check it and remove the correction`);
      const small = { inputTokens: 100_000, outputTokens: 100_000 };
      const cost = p.estimate(c.model, small, c.provider);
      assert.equal(cost.source, 'correction');
      // An alias is priced as the data prices the model it names, which the data must have.
      const rates = 'aliasOf' in c ? p.dataRates(c.aliasOf, c.provider) : { input: c.inputPerMTok, output: c.outputPerMTok };
      assert.ok(rates, `genai-prices has no price for ${'aliasOf' in c ? c.aliasOf : c.model}`);
      assert.ok(Math.abs(cost.totalCost - (rates.input + rates.output) / 10) < 1e-12, `${cost.totalCost}`);
      if (!('above' in c)) assert.notDeepEqual(rates, c.dataSaid, 'a correction that changes nothing');
      assert.ok(p.costSourceText(cost).includes(c.why) && p.costSourceText(cost).includes(c.since), p.costSourceText(cost));
      assert.match(p.sourceText(cost.source), /dated price correction/);
    });
  }

  it('Claude Sonnet 4 over 200k input tokens (cache included) is priced at the long-context rates, all of it', () => {
    const p = new PricingService({ now: () => new Date('2026-12-01T10:00:00Z') });
    const at = (input: number, cacheRead = 0) => p.estimate('claude-sonnet-4-20250514', { inputTokens: input, outputTokens: 10_000, cacheReadTokens: cacheRead }, 'anthropic');
    assert.ok(Math.abs(at(200_000).totalCost - (200_000 * 3 + 10_000 * 15) / 1e6) < 1e-12, 'at the threshold: base rates');
    assert.ok(Math.abs(at(200_001).totalCost - (200_001 * 6 + 10_000 * 22.5) / 1e6) < 1e-12, 'over it: long-context rates');
    assert.ok(Math.abs(at(150_000, 60_000).totalCost - (150_000 * 6 + 60_000 * 0.6 + 10_000 * 22.5) / 1e6) < 1e-12, 'cache reads count towards the threshold');
    assert.equal(at(300_000).source, 'correction');
    // Sonnet 4.5 has its tier in the data: no correction.
    assert.equal(p.estimate('claude-sonnet-4-5', { inputTokens: 300_000, outputTokens: 0 }, 'anthropic').source, 'genai-prices');
  });

  it("Mistral's -latest aliases are priced as the models they name today, cache reads included", () => {
    const p = new PricingService({ now: () => new Date('2026-12-01T10:00:00Z') });
    const large = p.estimate('mistral-large-latest', { inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: 1_000_000 }, 'mistral');
    assert.deepEqual([large.model, large.source, large.totalCost], ['mistral-large-2512', 'correction', 0.5 + 1.5 + 0.05]);
    assert.equal(p.estimate('mistral-small-latest', M, 'mistral').totalCost, 0.15 + 0.6);
    // Case and the provider inferred from the name still find the row; another provider's name does not.
    assert.equal(p.estimate('Mistral-Large-Latest', M).source, 'correction');
    assert.equal(p.has('mistral-small-latest', 'mistral'), true);
    assert.equal(p.contextWindow('mistral-large-latest', 'mistral'), p.contextWindow('mistral-large-2512', 'mistral'));
    // Only the alias itself: a name the row does not spell is not corrected.
    for (const name of ['mistral-small', 'mistral-large']) {
      try {
        assert.notEqual(p.estimate(name, M, 'mistral').source, 'correction', name);
      } catch (err) {
        assert.match(String(err), /No price known/);
      }
    }
  });

  it('user overrides win over corrections, and changed data wins over a correction', async () => {
    const p = new PricingService();
    p.setOverrides([{ provider: 'deepseek', model: 'deepseek-chat', inputPerMTok: 1, outputPerMTok: 1 }]);
    assert.deepEqual([p.estimate('deepseek-chat', M, 'deepseek').source, p.estimate('deepseek-chat', M, 'deepseek').totalCost], ['override', 2]);
    p.setOverrides([]);
    const bundled = (await GenaiPrices.waitForUpdate()) as GenaiPrices.Provider[];
    const changed = JSON.parse(JSON.stringify(bundled)) as GenaiPrices.Provider[];
    const ds = changed.find((x) => x.id === 'deepseek')!.models.find((m) => m.id === 'deepseek-chat')!;
    ds.prices = { input_mtok: 0.3, output_mtok: 0.45 };
    try {
      p.useData(changed, { kind: 'refreshed', fetchedAt: '2026-12-01T00:00:00Z', url: 'http://127.0.0.1/test' });
      const cost = p.estimate('deepseek-chat', M, 'deepseek');
      assert.equal(cost.source, 'genai-prices');
      assert.ok(Math.abs(cost.totalCost - 0.75) < 1e-12, `${cost.totalCost}`);
    } finally {
      p.useData(bundled, { kind: 'bundled', version: 'test' });
    }
  });
});
