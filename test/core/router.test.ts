import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Router, RoutingError, SAMPLE_TOKENS, providerOrder, type RouteDecision, type RouteRequest, type RouterBudget } from '../../src/core/router';
import { KeyPool } from '../../src/core/keys';
import { HealthTracker, FAILURE_LIMIT, COOLDOWN_MS } from '../../src/core/health';
import { PricingService } from '../../src/core/pricing';
import { getProvider } from '../../src/core/providers';
import { MemoryState, MemoryVault, TestClock } from '../support/ports';
import type { TaskType } from '../../src/core/types';

const START = Date.parse('2025-03-01T12:00:00.000Z');

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const rand = (n: number): string => Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');
const canary: Record<string, () => string> = {
  anthropic: () => `sk-ant-api03-CANARY${rand(40)}`,
  openai: () => `sk-proj-CANARY${rand(40)}`,
  google: () => `AIzaCANARY${rand(29)}`,
  openrouter: () => `sk-or-v1-CANARY${rand(40)}`,
};

const noLimit = { limit: null, remaining: null, exceeded: false };
const OPEN_BUDGET: RouterBudget = { enforce: false, day: noLimit, month: noLimit };

/** A real KeyPool, HealthTracker and PricingService behind the router; the budget is set by the test. */
async function world(providersWithKeys: string[] = ['anthropic', 'openai', 'google']) {
  const clock = new TestClock(START);
  const state = new MemoryState();
  const pool = new KeyPool(new MemoryVault(), state, { clock });
  const health = new HealthTracker(clock);
  const pricing = new PricingService({ now: () => clock.now() });
  let budget = OPEN_BUDGET;
  const disabled = new Set<string>();
  const router = new Router({ keys: pool, health, pricing, budget: () => budget, isEnabled: (p) => !disabled.has(p) });
  const keyIds: Record<string, string> = {};
  for (const p of providersWithKeys) keyIds[p] = (await pool.add(p, { apiKey: canary[p]() })).key.id;
  return {
    clock,
    state,
    pool,
    health,
    pricing,
    router,
    keyIds,
    disabled,
    setBudget: (b: RouterBudget): void => {
      budget = b;
    },
  };
}

type World = Awaited<ReturnType<typeof world>>;

function cost(w: World, provider: string, model: string, tokens: { input: number; output: number }): number {
  if (provider === 'local') return 0;
  return w.pricing.estimate(model, { inputTokens: tokens.input, outputTokens: tokens.output }, provider).totalCost;
}

function skippedWhy(d: { skipped: { provider: string; why: string }[] }, provider: string): string | undefined {
  return d.skipped.find((s) => s.provider === provider)?.why;
}

function routingError(f: () => unknown): RoutingError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RoutingError, `expected RoutingError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a RoutingError');
}

/** Every candidate offered (choice and fallbacks). */
const offered = (d: RouteDecision) => [{ provider: d.provider, model: d.model, estimatedCost: d.estimatedCost }, ...d.fallbacks];

const firstModel = (provider: string, task: TaskType): string => getProvider(provider).models[task]![0];

describe('Router: choice and preference', () => {
  it('picks the best provider for the task and prices it with PricingService', async () => {
    const w = await world();
    const d = w.router.route({ taskType: 'code_generation' });
    assert.equal(d.provider, 'anthropic');
    assert.equal(d.model, firstModel('anthropic', 'code_generation'));
    assert.equal(d.estimatedCost, cost(w, 'anthropic', d.model, SAMPLE_TOKENS.code_generation));
    assert.ok(d.estimatedCost > 0);
    assert.match(d.reason, /best available for code_generation/);
    assert.deepEqual(d.fallbacks.map((f) => f.provider), ['openai', 'google', 'local']);
    for (const p of ['deepseek', 'mistral', 'openrouter', 'groq']) assert.match(skippedWhy(d, p) ?? '', /^no key/);
    assert.equal(d.skipped.length, 4);
  });

  it('prices every candidate for the given token estimate', async () => {
    const w = await world();
    const tokens = { input: 12_345, output: 678 };
    const d = w.router.route({ taskType: 'analysis', estimatedInputTokens: tokens.input, estimatedOutputTokens: tokens.output });
    for (const c of offered(d)) assert.equal(c.estimatedCost, cost(w, c.provider, c.model, tokens), `${c.provider}/${c.model}`);
    assert.ok(d.reason.includes(`${tokens.input} in + ${tokens.output} out tokens`));
  });

  it('honours the preferred provider, by id or alias', async () => {
    const w = await world();
    for (const pref of ['google', 'gemini', 'GOOGLE']) {
      const d = w.router.route({ taskType: 'code_generation', preferredProvider: pref });
      assert.equal(d.provider, 'google');
      assert.equal(d.model, firstModel('google', 'code_generation'));
      assert.match(d.reason, /^preferred provider/);
      assert.deepEqual(d.fallbacks.map((f) => f.provider), ['anthropic', 'openai', 'local']);
    }
    assert.throws(() => w.router.route({ taskType: 'chat', preferredProvider: 'nope' }), /Unknown provider 'nope'/);
  });

  it('routes to local when no key is stored at all', async () => {
    const w = await world([]);
    const d = w.router.route({ taskType: 'chat' });
    assert.equal(d.provider, 'local');
    assert.equal(d.estimatedCost, 0);
    assert.deepEqual(d.fallbacks, []);
    const keyed = providerOrder('chat').filter((p) => p.requiresKey).map((p) => p.id);
    assert.deepEqual(d.skipped.map((s) => s.provider), keyed);
  });
});

describe('Router: skipping rules', () => {
  it('skips a preferred provider without a key and says so', async () => {
    const w = await world();
    const d = w.router.route({ taskType: 'chat', preferredProvider: 'deepseek' });
    assert.equal(d.provider, 'openai');
    assert.equal(skippedWhy(d, 'deepseek'), 'no key');
    assert.equal(d.skipped.find((x) => x.provider === 'deepseek')?.code, 'no_key');
    assert.match(d.reason, /preferred provider deepseek skipped/);
  });

  it('skips a provider whose keys are all disabled', async () => {
    const w = await world();
    await w.pool.recordValidation(w.keyIds.anthropic, 'invalid');
    const d = w.router.route({ taskType: 'code_review' });
    assert.equal(d.provider, 'openai');
    assert.match(skippedWhy(d, 'anthropic') ?? '', /every key is disabled/);
    assert.ok(!d.fallbacks.some((f) => f.provider === 'anthropic'));
  });

  it('keeps a provider while one of its keys is still usable', async () => {
    const w = await world();
    await w.pool.add('anthropic', { apiKey: canary.anthropic() });
    await w.pool.recordValidation(w.keyIds.anthropic, 'invalid');
    assert.equal(w.router.route({ taskType: 'code_review' }).provider, 'anthropic');
  });

  it('skips a rate-limited provider until its rest is over', async () => {
    const w = await world();
    await w.pool.recordValidation(w.keyIds.openai, 'rate_limited', 90);
    const d = w.router.route({ taskType: 'chat' });
    assert.equal(d.provider, 'anthropic');
    assert.equal(skippedWhy(d, 'openai'), `rate limited until ${new Date(START + 90_000).toISOString()}`);

    w.clock.advance(90_000);
    const later = w.router.route({ taskType: 'chat' });
    assert.equal(later.provider, 'openai');
    assert.equal(skippedWhy(later, 'openai'), undefined);
  });

  it('skips a provider with only expired keys', async () => {
    const w = await world(['openai']);
    await w.pool.add('anthropic', { apiKey: canary.anthropic() }, { expiresAt: new Date(START + 1000).toISOString() });
    w.clock.set(new Date(START + 2000).toISOString()); // a key cannot be added expired: it expires after
    const d = w.router.route({ taskType: 'code_generation' });
    assert.equal(d.provider, 'openai');
    assert.match(skippedWhy(d, 'anthropic') ?? '', /no usable key \(expired/);
  });

  it('skips an unhealthy provider after repeated failures, and uses it again after the cooldown', async () => {
    const w = await world();
    for (let i = 0; i < FAILURE_LIMIT - 1; i++) w.health.failure('anthropic', 'HTTP 529 overloaded');
    assert.equal(w.router.route({ taskType: 'code_generation' }).provider, 'anthropic');

    w.health.failure('anthropic', 'HTTP 529 overloaded');
    const d = w.router.route({ taskType: 'code_generation' });
    assert.equal(d.provider, 'openai');
    const why = skippedWhy(d, 'anthropic') ?? '';
    assert.match(why, new RegExp(`^unhealthy: ${FAILURE_LIMIT} failure\\(s\\) in a row \\(HTTP 529 overloaded\\)`));
    assert.ok(why.includes(new Date(START + COOLDOWN_MS).toISOString()));
    assert.ok(!d.fallbacks.some((f) => f.provider === 'anthropic'));

    w.clock.advance(COOLDOWN_MS);
    assert.equal(w.router.route({ taskType: 'code_generation' }).provider, 'anthropic');
  });

  it('skips a provider turned off in settings', async () => {
    const w = await world();
    w.disabled.add('anthropic');
    const d = w.router.route({ taskType: 'code_generation', preferredProvider: 'anthropic' });
    assert.equal(d.provider, 'openai');
    assert.equal(skippedWhy(d, 'anthropic'), 'disabled in settings');
  });
});

describe('Router: budget and max_cost', () => {
  const exceeded = { limit: 10, remaining: 0, exceeded: true };

  it('over an enforced budget only local remains', async () => {
    const w = await world();
    w.setBudget({ enforce: true, day: exceeded, month: noLimit });
    const d = w.router.route({ taskType: 'code_generation', preferredProvider: 'anthropic' });
    assert.equal(d.provider, 'local');
    assert.equal(d.estimatedCost, 0);
    assert.deepEqual(d.fallbacks, []);
    for (const p of ['anthropic', 'openai', 'google']) {
      assert.match(skippedWhy(d, p) ?? '', /over budget: the daily limit is reached and enforcement is on/);
    }

    w.setBudget({ enforce: true, day: noLimit, month: exceeded });
    assert.match(skippedWhy(w.router.route({ taskType: 'chat' }), 'openai') ?? '', /monthly limit/);
  });

  it('under enforcement a paid route needs a positive estimate: 0 tokens are priced as the task’s typical request', async () => {
    const w = await world();
    // A hundredth of a cent left: less than a typical code_generation request costs on any paid model here.
    const left = 0.0001;
    for (const p of ['anthropic', 'openai', 'google']) assert.ok(cost(w, p, firstModel(p, 'code_generation'), SAMPLE_TOKENS.code_generation) > left);
    w.setBudget({ enforce: true, day: { limit: 1, remaining: left, exceeded: false }, month: noLimit });
    const d = w.router.route({ taskType: 'code_generation', estimatedInputTokens: 0, estimatedOutputTokens: 0 });
    assert.equal(d.provider, 'local', `routed to ${d.provider}/${d.model} with an estimate of $0`);
    assert.match(skippedWhy(d, 'anthropic') ?? '', /would exceed the remaining budget/);
    // Not enforced: the estimate given is the estimate used.
    w.setBudget({ enforce: false, day: { limit: 1, remaining: left, exceeded: false }, month: noLimit });
    assert.equal(w.router.route({ taskType: 'code_generation', estimatedInputTokens: 0, estimatedOutputTokens: 0 }).provider, 'anthropic');
  });

  it('without enforcement an exceeded budget skips nothing', async () => {
    const w = await world();
    w.setBudget({ enforce: false, day: exceeded, month: exceeded });
    const d = w.router.route({ taskType: 'code_generation' });
    assert.equal(d.provider, 'anthropic');
    assert.ok(d.skipped.every((s) => /^no key/.test(s.why)), JSON.stringify(d.skipped));
    assert.deepEqual(d.fallbacks.map((f) => f.provider), ['openai', 'google', 'local']);
  });

  it('an enforced remaining budget drops models that would exceed it, and fallbacks respect it too', async () => {
    const w = await world(['anthropic', 'openai', 'google', 'openrouter']);
    const tokens = SAMPLE_TOKENS.code_generation;
    const sonnet = cost(w, 'anthropic', firstModel('anthropic', 'code_generation'), tokens);
    const flash = cost(w, 'google', 'gemini-2.5-flash', tokens);
    const remaining = flash * 1.5;
    assert.ok(remaining < sonnet, 'test setup: the remaining budget must be below the first choice');
    w.setBudget({ enforce: true, day: { limit: 5, remaining, exceeded: false }, month: noLimit });

    const d = w.router.route({ taskType: 'code_generation' });
    assert.match(skippedWhy(d, 'anthropic') ?? '', /would exceed the remaining budget \(enforced\)/);
    for (const c of offered(d)) assert.ok(c.estimatedCost <= remaining, `${c.provider}/${c.model} costs ${c.estimatedCost} > ${remaining}`);
    const g = offered(d).find((c) => c.provider === 'google');
    assert.equal(g?.model, 'gemini-2.5-flash', 'google is downgraded to a model within the budget');
    const fromSkipped = new Set(d.skipped.map((s) => s.provider));
    assert.ok(!d.fallbacks.some((f) => fromSkipped.has(f.provider)));
    assert.ok(offered(d).some((c) => c.provider === 'local'));
  });

  it('downgrades to a cheaper model of the same provider to fit max_cost', async () => {
    const w = await world();
    const tokens = SAMPLE_TOKENS.analysis;
    const [top, next] = getProvider('anthropic').models.analysis!;
    const topCost = cost(w, 'anthropic', top, tokens);
    const nextCost = cost(w, 'anthropic', next, tokens);
    assert.ok(nextCost < topCost, 'test setup: the second model must be cheaper');
    const maxCost = (topCost + nextCost) / 2;

    const d = w.router.route({ taskType: 'analysis', preferredProvider: 'anthropic', maxCost });
    assert.equal(d.provider, 'anthropic');
    assert.equal(d.model, next);
    assert.equal(d.estimatedCost, nextCost);
    assert.match(d.reason, new RegExp(`downgraded from ${top} to ${next} \\(above max_cost\\)`));
    for (const c of offered(d)) assert.ok(c.estimatedCost <= maxCost);
  });

  it('skips a provider when none of its models fits max_cost', async () => {
    const w = await world();
    const tokens = SAMPLE_TOKENS.code_generation;
    const cheapestAnthropic = Math.min(...getProvider('anthropic').models.code_generation!.map((m) => cost(w, 'anthropic', m, tokens)));
    const maxCost = cheapestAnthropic / 2;
    const d = w.router.route({ taskType: 'code_generation', preferredProvider: 'anthropic', maxCost });
    assert.notEqual(d.provider, 'anthropic');
    assert.match(skippedWhy(d, 'anthropic') ?? '', new RegExp(`above max_cost \\$${maxCost}`));
    assert.match(d.reason, /preferred provider anthropic skipped/);
    for (const c of offered(d)) assert.ok(c.estimatedCost <= maxCost, `${c.provider}/${c.model}`);
  });
});

describe('Router: fallback and failure', () => {
  it('with enable_fallback=false only the preferred provider is tried', async () => {
    const w = await world();
    const ok = w.router.route({ taskType: 'chat', preferredProvider: 'google', enableFallback: false });
    assert.equal(ok.provider, 'google');
    assert.deepEqual(ok.fallbacks, []);
    assert.deepEqual(ok.skipped, []);

    const first = w.router.route({ taskType: 'code_generation', enableFallback: false });
    assert.equal(first.provider, providerOrder('code_generation')[0].id);
    assert.deepEqual(first.fallbacks, []);

    await w.pool.recordValidation(w.keyIds.google, 'invalid');
    const e = routingError(() => w.router.route({ taskType: 'chat', preferredProvider: 'google', enableFallback: false }));
    assert.deepEqual(e.skipped.map((s) => s.provider), ['google']);
    assert.match(e.message, /google: every key is disabled/);
    assert.match(e.message, /Fallback is off/);
  });

  it('with enable_fallback=false a preferred provider without a model for the task is an error, not a detour', async () => {
    const w = await world();
    const e = routingError(() => w.router.route({ taskType: 'embeddings', preferredProvider: 'anthropic', enableFallback: false }));
    assert.match(e.message, /Anthropic has no model for embeddings/);
    assert.match(e.message, /Fallback is off/);
  });

  it('throws a RoutingError that says why each provider was skipped', async () => {
    const w = await world(['anthropic', 'openai']);
    await w.pool.recordValidation(w.keyIds.anthropic, 'invalid');
    await w.pool.recordValidation(w.keyIds.openai, 'rate_limited', 60);
    w.health.failure('local', 'connect ECONNREFUSED 127.0.0.1:11434', true);
    const req: RouteRequest = { taskType: 'code_generation' };
    const e = routingError(() => w.router.route(req));
    assert.deepEqual(e.skipped.map((s) => s.provider), providerOrder('code_generation').map((p) => p.id));
    assert.match(e.message, /^No provider can take this code_generation request now\./);
    assert.match(e.message, /anthropic: every key is disabled/);
    assert.match(e.message, /openai: rate limited until /);
    assert.match(e.message, /google: no key/);
    assert.match(e.message, /local: unhealthy: 1 failure\(s\) in a row \(connect ECONNREFUSED/);
    for (const s of e.skipped) assert.ok(e.message.includes(`${s.provider}: ${s.why}`));
  });

  it('fallbacks never include a provider the budget rules exclude', async () => {
    const w = await world(['anthropic', 'openai', 'google', 'openrouter']);
    const tasks: TaskType[] = ['code_generation', 'chat', 'analysis', 'summarization', 'embeddings'];
    const budgets: RouterBudget[] = [
      { enforce: true, day: { limit: 1, remaining: 0, exceeded: true }, month: noLimit },
      { enforce: true, day: noLimit, month: { limit: 1, remaining: 0.001, exceeded: false } },
      { enforce: true, day: { limit: 1, remaining: 0.0005, exceeded: false }, month: { limit: 9, remaining: 0.01, exceeded: false } },
    ];
    for (const b of budgets) {
      w.setBudget(b);
      const remaining = Math.min(...[b.day.remaining, b.month.remaining].filter((r): r is number => r !== null));
      for (const taskType of tasks) {
        const d = w.router.route({ taskType });
        for (const c of offered(d)) {
          if (b.day.exceeded || b.month.exceeded) assert.equal(c.provider, 'local');
          assert.ok(c.estimatedCost <= remaining, `${taskType}: ${c.provider}/${c.model} costs ${c.estimatedCost} > ${remaining}`);
        }
        for (const f of d.fallbacks) assert.equal(skippedWhy(d, f.provider), undefined);
        assert.deepEqual(
          w.router.viableModels(taskType).filter((c) => c.estimatedCost > remaining),
          [],
          'viableModels follows the same budget rule',
        );
      }
    }
  });

  it('never routes embeddings to anthropic', async () => {
    const w = await world(['anthropic']);
    for (const req of [
      { taskType: 'embeddings' as const },
      { taskType: 'embeddings' as const, preferredProvider: 'anthropic' },
      { taskType: 'embeddings' as const, preferredProvider: 'claude', maxCost: 1 },
    ]) {
      const d = w.router.route(req);
      assert.equal(d.provider, 'local');
      assert.ok(!offered(d).some((c) => c.provider === 'anthropic'));
      assert.ok(!d.skipped.some((s) => s.provider === 'anthropic'));
    }
    assert.match(w.router.route({ taskType: 'embeddings', preferredProvider: 'anthropic' }).reason, /Anthropic has no model for embeddings/);

    const full = await world(['anthropic', 'openai', 'google']);
    const d = full.router.route({ taskType: 'embeddings', preferredProvider: 'anthropic' });
    assert.equal(d.provider, 'openai');
    assert.equal(d.model, firstModel('openai', 'embeddings'));
    assert.equal(d.estimatedCost, cost(full, 'openai', d.model, SAMPLE_TOKENS.embeddings));
    assert.ok(!offered(d).some((c) => c.provider === 'anthropic'));
    assert.ok(!full.router.viableModels('embeddings').some((c) => c.provider === 'anthropic'));
  });

  it('never puts key material into state while routing', async () => {
    const w = await world(['anthropic', 'openai', 'google', 'openrouter']);
    w.router.route({ taskType: 'chat' });
    await w.pool.recordValidation(w.keyIds.openai, 'rate_limited', 5);
    w.router.route({ taskType: 'chat' });
    const dump = w.state.dump();
    assert.ok(!dump.includes('CANARY'), dump);
  });
});
