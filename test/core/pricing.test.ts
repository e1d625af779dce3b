import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { PricingService, UnknownModelError, checkPriceOverrides, type PriceOverride } from '../../src/core/pricing';

type Genai = typeof import('@pydantic/genai-prices');
/** The database itself, read independently of our code to get reference rates. Required lazily (see first test). */
const genai = (): Genai => require('@pydantic/genai-prices') as Genai;

const isGenaiLoaded = (): boolean => Object.keys(require.cache).some((k) => k.includes('genai-prices'));

/** Per-MTok rates the database reports for a model right now (flat prices only). */
function dbRates(model: string, providerId: string): Record<string, number> {
  const calc = genai().calcPrice({ input_tokens: 0, output_tokens: 0 }, model, { providerId });
  assert.ok(calc, `test setup: ${providerId}/${model} must be in the database`);
  const rates: Record<string, number> = {};
  for (const [k, v] of Object.entries(calc.model_price)) if (typeof v === 'number') rates[k] = v;
  return rates;
}

const close = (actual: number, expected: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: expected ${expected}, got ${actual}`);

describe('PricingService', () => {
  it('does not load the price database until it is used', () => {
    const service = new PricingService();
    assert.equal(isGenaiLoaded(), false);
    service.estimate('gpt-4-turbo', { inputTokens: 1, outputTokens: 1 });
    assert.equal(isGenaiLoaded(), true);
  });

  it('prices claude-3-5-sonnet: 5,000 in + 2,000 out = $0.045', () => {
    const service = new PricingService();
    for (const provider of [undefined, 'anthropic']) {
      const cost = service.estimate('claude-3-5-sonnet', { inputTokens: 5000, outputTokens: 2000 }, provider);
      close(cost.totalCost, 0.045, `total (provider ${provider})`);
      assert.equal(cost.provider, 'anthropic');
      assert.equal(cost.source, 'genai-prices');
      assert.equal(cost.currency, 'USD');
    }
  });

  it('prices gpt-4-turbo: 5,000 in + 2,000 out = $0.11', () => {
    const cost = new PricingService().estimate('gpt-4-turbo', { inputTokens: 5000, outputTokens: 2000 });
    close(cost.totalCost, 0.11, 'total');
    assert.equal(cost.provider, 'openai');
    const rates = dbRates('gpt-4-turbo', 'openai');
    close(cost.inputCost, (5000 * rates.input_mtok) / 1e6, 'input');
    close(cost.outputCost, (2000 * rates.output_mtok) / 1e6, 'output');
    assert.equal(cost.cacheReadCost, 0);
    assert.equal(cost.cacheWriteCost, 0);
  });

  it('resolves model names leniently and infers the provider', () => {
    const service = new PricingService();
    const cases: Array<[string, string]> = [
      ['claude-3-5-sonnet', 'anthropic'],
      ['claude-3-5-sonnet-20241022', 'anthropic'],
      ['Claude-3.5-Sonnet', 'anthropic'],
      ['anthropic/claude-3-5-sonnet', 'anthropic'],
      ['gpt-4-turbo', 'openai'],
      ['gpt-4o-2024-08-06', 'openai'],
      ['gemini-2.0-flash', 'google'],
      ['models/gemini-2.0-flash', 'google'],
      ['deepseek-chat', 'deepseek'],
      ['mistral-large-latest', 'mistral'],
      ['llama-3.3-70b-versatile', 'groq'],
    ];
    for (const [model, provider] of cases) {
      assert.ok(service.has(model), `${model} should be priced`);
      const cost = service.estimate(model, { inputTokens: 1000, outputTokens: 1000 });
      assert.equal(cost.provider, provider, model);
      assert.ok(cost.totalCost > 0, `${model} should cost something`);
    }
    close(
      service.estimate('claude-3-5-sonnet-20241022', { inputTokens: 5000, outputTokens: 2000 }).totalCost,
      0.045,
      'dated name',
    );
  });

  it('keeps the provider it was given, e.g. openrouter', () => {
    const cost = new PricingService().estimate(
      'anthropic/claude-3.5-sonnet',
      { inputTokens: 5000, outputTokens: 2000 },
      'openrouter',
    );
    assert.equal(cost.provider, 'openrouter');
    const ref = genai().calcPrice({ input_tokens: 5000, output_tokens: 2000 }, 'anthropic/claude-3.5-sonnet', {
      providerId: 'openrouter',
    });
    assert.ok(ref);
    close(cost.totalCost, ref.total_price, 'total');
  });

  it('prices cache reads and writes at their own rates; inputTokens excludes them', () => {
    const tokens = { inputTokens: 1000, outputTokens: 500, cacheReadTokens: 10_000, cacheWriteTokens: 2000 };
    const cost = new PricingService().estimate('claude-3-5-sonnet', tokens, 'anthropic');
    const r = dbRates('claude-3-5-sonnet', 'anthropic');
    assert.ok(r.cache_read_mtok < r.input_mtok && r.cache_write_mtok > r.input_mtok, 'test needs distinct cache rates');

    close(cost.inputCost, (1000 * r.input_mtok) / 1e6, 'uncached input');
    close(cost.cacheReadCost, (10_000 * r.cache_read_mtok) / 1e6, 'cache read');
    close(cost.cacheWriteCost, (2000 * r.cache_write_mtok) / 1e6, 'cache write');
    close(cost.outputCost, (500 * r.output_mtok) / 1e6, 'output');
    close(cost.totalCost, cost.inputCost + cost.cacheReadCost + cost.cacheWriteCost + cost.outputCost, 'sum');

    // genai-prices wants input_tokens as the total including cache tokens.
    const ref = genai().calcPrice(
      { input_tokens: 13_000, cache_read_tokens: 10_000, cache_write_tokens: 2000, output_tokens: 500 },
      'claude-3-5-sonnet',
      { providerId: 'anthropic' },
    );
    assert.ok(ref);
    close(cost.totalCost, ref.total_price, 'total vs genai-prices');
  });

  it('charges cache reads at the input rate when a model has no cache rate', () => {
    const r = dbRates('gpt-4-turbo', 'openai');
    assert.equal(r.cache_read_mtok, undefined, 'test needs a model without a cache rate');
    const cost = new PricingService().estimate('gpt-4-turbo', { inputTokens: 0, outputTokens: 0, cacheReadTokens: 4000 });
    close(cost.cacheReadCost, (4000 * r.input_mtok) / 1e6, 'cache read');
    close(cost.totalCost, cost.cacheReadCost, 'total');
  });

  it('applies a long-context tier by total input tokens, cache tokens included', () => {
    const entry = genai()
      .findProvider({ providerId: 'anthropic' })
      ?.models.find((m) => m.id === 'claude-sonnet-4-5');
    assert.ok(entry && !Array.isArray(entry.prices), 'test needs claude-sonnet-4-5 with flat-dated prices');
    const tierRate = (key: string): number => {
      const v = (entry.prices as Record<string, unknown>)[key] as { base: number; tiers: Array<{ start: number; price: number }> };
      assert.ok(typeof v === 'object' && v.tiers.length > 0, `${key} should be tiered`);
      return v.tiers[v.tiers.length - 1].price;
    };
    const threshold = (
      (entry.prices as Record<string, unknown>).input_mtok as { tiers: Array<{ start: number }> }
    ).tiers[0].start;

    // Uncached input alone is below the threshold; with cache reads the request is above it.
    const tokens = { inputTokens: threshold / 2, outputTokens: 1000, cacheReadTokens: threshold, cacheWriteTokens: 0 };
    const cost = new PricingService().estimate('claude-sonnet-4-5', tokens, 'anthropic');
    close(cost.inputCost, (tokens.inputTokens * tierRate('input_mtok')) / 1e6, 'input at tier');
    close(cost.cacheReadCost, (tokens.cacheReadTokens * tierRate('cache_read_mtok')) / 1e6, 'cache read at tier');
    close(cost.outputCost, (1000 * tierRate('output_mtok')) / 1e6, 'output at tier');
  });

  it('uses the price in force at now()', () => {
    // Find a model whose output price changes on a start date.
    let found: { name: string; date: string; before: number; after: number; provider: string } | undefined;
    for (const providerId of ['mistral', 'openai', 'anthropic', 'google', 'deepseek', 'groq']) {
      for (const m of genai().findProvider({ providerId })?.models ?? []) {
        if (!Array.isArray(m.prices) || !('equals' in m.match || 'or' in m.match)) continue;
        const dated = m.prices.find((p) => p.constraint?.type === 'start_date');
        const base = m.prices[0];
        const name = 'equals' in m.match ? m.match.equals : m.id;
        if (dated?.constraint?.type === 'start_date' && typeof base.prices.output_mtok === 'number' &&
          typeof dated.prices.output_mtok === 'number' && base.prices.output_mtok !== dated.prices.output_mtok && !base.constraint) {
          found = { name, date: dated.constraint.start_date, before: base.prices.output_mtok, after: dated.prices.output_mtok, provider: providerId };
          break;
        }
      }
      if (found) break;
    }
    assert.ok(found, 'test needs a model with a dated price change');
    const day = 86_400_000;
    const change = Date.parse(`${found.date}T00:00:00Z`);
    const before = new PricingService({ now: () => new Date(change - day) });
    const after = new PricingService({ now: () => new Date(change + day) });
    const tokens = { inputTokens: 0, outputTokens: 1_000_000 };
    close(before.estimate(found.name, tokens, found.provider).outputCost, found.before, 'before the change');
    close(after.estimate(found.name, tokens, found.provider).outputCost, found.after, 'after the change');
  });

  it('lets overrides win over the database and price unknown models', () => {
    const overrides: PriceOverride[] = [
      { model: 'claude-3-5-sonnet', provider: 'anthropic', inputPerMTok: 1, outputPerMTok: 2, cacheReadPerMTok: 0.5 },
      { model: 'my-private-model', inputPerMTok: 4, outputPerMTok: 8 },
    ];
    const service = new PricingService({ overrides });
    const tokens = { inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: 1_000_000, cacheWriteTokens: 1_000_000 };

    const sonnet = service.estimate('claude-3-5-sonnet-20241022', tokens);
    assert.equal(sonnet.source, 'override');
    assert.deepEqual(
      [sonnet.inputCost, sonnet.outputCost, sonnet.cacheReadCost, sonnet.cacheWriteCost, sonnet.totalCost],
      [1, 2, 0.5, 1, 4.5], // cache writes default to the input rate
    );

    const mine = service.estimate('my-private-model', { inputTokens: 500_000, outputTokens: 250_000 });
    assert.equal(mine.source, 'override');
    close(mine.totalCost, 4, 'unknown model priced by override');
    assert.ok(service.has('my-private-model'));

    // A provider-specific override does not apply to another provider.
    const viaRouter = service.estimate('claude-3-5-sonnet', { inputTokens: 5000, outputTokens: 2000 }, 'openrouter');
    assert.equal(viaRouter.source, 'genai-prices');

    service.setOverrides([]);
    assert.equal(service.estimate('claude-3-5-sonnet', tokens).source, 'genai-prices');
    assert.equal(service.has('my-private-model'), false);
  });

  it('rejects invalid overrides with a clear message', () => {
    const service = new PricingService();
    assert.throws(() => service.setOverrides([{ model: 'x', inputPerMTok: -1, outputPerMTok: 1 }]), /inputPerMTok.*non-negative/);
    assert.throws(() => service.setOverrides([{ model: ' ', inputPerMTok: 1, outputPerMTok: 1 }]), /model/);
  });

  it('checkPriceOverrides keeps the valid entries and explains each dropped one', () => {
    const raw: unknown = [
      { model: 'good-model', inputPerMTok: 1, outputPerMTok: 2 },
      { model: 'bad-rate', inputPerMTok: '1', outputPerMTok: 2 },
      { model: '', inputPerMTok: 1, outputPerMTok: 2 },
      'not an object',
      null,
      { model: 'bad-cache', inputPerMTok: 1, outputPerMTok: 2, cacheReadPerMTok: -3 },
      { model: 'bad-provider', provider: 7, inputPerMTok: 1, outputPerMTok: 2 },
    ];
    const r = checkPriceOverrides(raw, 'aiKeyManager.pricing.overrides');
    assert.deepEqual(r.overrides, [{ model: 'good-model', inputPerMTok: 1, outputPerMTok: 2 }]);
    assert.equal(r.warnings.length, 6, r.warnings.join('\n'));
    assert.match(r.warnings[0], /aiKeyManager\.pricing\.overrides\[1\].*"bad-rate".*inputPerMTok.*non-negative number.*ignored/);
    assert.match(r.warnings[1], /\[2\].*model/);
    assert.match(r.warnings[2], /\[3\].*must be an object/);
    assert.match(r.warnings[4], /"bad-cache".*cacheReadPerMTok/);
    assert.match(r.warnings[5], /"bad-provider".*provider/);
    const notList = checkPriceOverrides({ model: 'x' }, 'priceOverrides');
    assert.deepEqual(notList.overrides, []);
    assert.match(notList.warnings[0], /priceOverrides must be a list/);
    assert.deepEqual(checkPriceOverrides(undefined, 'x'), { overrides: [], warnings: [] });
  });

  it('throws UnknownModelError with close matches for an unknown model', () => {
    const service = new PricingService();
    for (const provider of ['anthropic', undefined]) {
      assert.equal(service.has('claud-3-5-sonet', provider), false);
      let caught: unknown;
      try {
        service.estimate('claud-3-5-sonet', { inputTokens: 10, outputTokens: 10 }, provider);
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof UnknownModelError, 'expected UnknownModelError');
      assert.ok(caught instanceof Error);
      assert.equal(caught.suggestions[0], 'claude-3-5-sonnet');
      assert.match(caught.message, /claud-3-5-sonet/);
      assert.match(caught.message, /Did you mean: claude-3-5-sonnet/);
    }
    const none = (() => {
      try {
        service.estimate('zzzzqqqq', { inputTokens: 1, outputTokens: 1 });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(none instanceof UnknownModelError);
    assert.deepEqual(none.suggestions, []);
    assert.match(none.message, /price override/);
  });

  it('never prices a model as a sibling of another size or tier; dated and prefixed forms of the same model still resolve', () => {
    const p = new PricingService();
    // (gemini-1.5-flash-8b itself has a price correction: see priceCorrections.test.ts.)
    for (const [model, provider] of [['gemini-2.0-flash-8b', 'google'], ['openai/gpt-oss-safeguard-20b', 'groq'], ['gpt-4o-nano', 'openai']] as const) {
      assert.throws(() => p.estimate(model, { inputTokens: 1000, outputTokens: 0 }, provider), (e: unknown) => {
        assert.ok(e instanceof UnknownModelError, `${model}: ${String(e)}`);
        // Suggestions are real model names the data prices, never fragments such as "claude-sonnet-4@", nor the name asked about.
        for (const s of e.suggestions) {
          assert.ok(p.has(s, provider), `${model}: suggestion "${s}" is not a priced model`);
          assert.notEqual(s.toLowerCase(), model.toLowerCase());
        }
        return true;
      });
    }
    for (const [model, provider, id] of [
      ['claude-3-5-sonnet-20241022', 'anthropic', 'claude-3-5-sonnet'],
      ['gpt-4o-2024-08-06', undefined, 'gpt-4o'],
      ['GPT-4O', 'openai', 'gpt-4o'],
      ['models/gemini-2.0-flash', 'google', 'gemini-2.0-flash'],
      ['anthropic/claude-sonnet-4.5', undefined, 'claude-sonnet-4-5'],
      ['llama-3.3-70b-versatile', 'groq', 'llama-3.3-70b-versatile'],
      ['gemini-2.5-flash-lite', 'google', 'gemini-2.5-flash-lite'],
    ] as const) {
      assert.equal(p.estimate(model, { inputTokens: 1000, outputTokens: 0 }, provider).model, id, model);
    }
  });

  it('reports a provider alias as our id: gemini is google', () => {
    const p = new PricingService();
    assert.equal(p.estimate('gemini-2.0-flash', { inputTokens: 1000, outputTokens: 0 }, 'gemini').provider, 'google');
    assert.throws(() => p.estimate('claude-sonnet-4-7', { inputTokens: 1, outputTokens: 1 }, 'anthropic'), (e: unknown) => e instanceof UnknownModelError && !e.suggestions.some((s) => /[@*]$/.test(s)));
  });

  it('suggests close names, best first, one per model, within the limit', () => {
    const service = new PricingService();
    const s = service.suggest('gtp-4o-mini', 'openai', 3);
    assert.equal(s[0], 'gpt-4o-mini');
    assert.ok(s.length <= 3);
    assert.equal(new Set(s).size, s.length);
    assert.deepEqual(service.suggest('gpt-4o', 'openai', 0), []);
    assert.deepEqual(service.suggest('anything', 'local'), []);
  });

  it('prices local (Ollama) models at zero, even unknown names', () => {
    const service = new PricingService();
    for (const model of ['llama3.2', 'my-finetune:latest', 'gpt-4-turbo']) {
      const cost = service.estimate(model, { inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: 5 }, 'local');
      assert.equal(cost.totalCost, 0, model);
      assert.equal(cost.provider, 'local');
      assert.ok(service.has(model, 'local'));
    }
  });

  it('rejects negative or non-integer token counts', () => {
    const service = new PricingService();
    assert.throws(() => service.estimate('gpt-4-turbo', { inputTokens: -1, outputTokens: 0 }), /inputTokens.*non-negative whole number.*-1/);
    assert.throws(() => service.estimate('gpt-4-turbo', { inputTokens: 1, outputTokens: 2.5 }), /outputTokens/);
    assert.throws(() => service.estimate('gpt-4-turbo', { inputTokens: 1, outputTokens: 1, cacheReadTokens: Number.NaN }), /cacheReadTokens/);
    assert.throws(() => service.estimate('gpt-4-turbo', { inputTokens: 1, outputTokens: 1, cacheWriteTokens: -3 }), /cacheWriteTokens/);
    assert.throws(() => service.estimate('', { inputTokens: 1, outputTokens: 1 }), /model/);
  });
});
