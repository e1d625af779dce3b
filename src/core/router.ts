// Picks a provider and model for a task. Every provider is checked against the same rules, so a
// fallback can never get around a missing key, a cooldown, or an enforced budget.
import type { TaskType } from './types';
import { formatUsd } from './money';
import { PROVIDERS, getProvider, type ProviderSpec } from './providers';
import type { HealthTracker } from './health';
import type { KeyPool } from './keys';
import type { PricingService } from './pricing';

/** Provider preference per task, best first; providers with no model for a task are left out. */
const PREFERENCE: Record<TaskType, string[]> = {
  code_generation: ['anthropic', 'openai', 'google', 'deepseek', 'mistral', 'openrouter', 'groq', 'local'],
  code_review: ['anthropic', 'openai', 'google', 'deepseek', 'mistral', 'openrouter', 'groq', 'local'],
  chat: ['openai', 'anthropic', 'google', 'groq', 'mistral', 'deepseek', 'openrouter', 'local'],
  analysis: ['anthropic', 'google', 'openai', 'deepseek', 'mistral', 'openrouter', 'groq', 'local'],
  summarization: ['google', 'openai', 'anthropic', 'groq', 'mistral', 'deepseek', 'openrouter', 'local'],
  data_extraction: ['openai', 'google', 'anthropic', 'mistral', 'groq', 'deepseek', 'openrouter', 'local'],
  embeddings: ['openai', 'google', 'mistral', 'local'],
};

/** A typical request per task, used when the caller gives no token estimate. */
export const SAMPLE_TOKENS: Record<TaskType, { input: number; output: number }> = {
  code_generation: { input: 2000, output: 1500 },
  code_review: { input: 4000, output: 800 },
  chat: { input: 1000, output: 500 },
  analysis: { input: 4000, output: 1000 },
  summarization: { input: 6000, output: 500 },
  data_extraction: { input: 3000, output: 500 },
  embeddings: { input: 1000, output: 0 },
};

export interface RouteRequest {
  taskType: TaskType;
  preferredProvider?: string;
  enableFallback?: boolean;
  estimatedInputTokens?: number;
  estimatedOutputTokens?: number;
  maxCost?: number;
}

export interface RouteCandidate {
  provider: string;
  model: string;
  estimatedCost: number;
}

/** Why routing passed over a provider, for programs; `why` says it for people. */
export const SKIP_CODES = [
  'disabled_in_settings',
  'unhealthy',
  'no_key',
  'keys_rejected',
  'vault_locked',
  'rate_limited',
  'no_usable_key',
  'over_budget',
  'no_priced_model',
  'above_max_cost',
  'would_exceed_budget',
] as const;
export type SkipCode = (typeof SKIP_CODES)[number];

export interface SkippedProvider {
  provider: string;
  code: SkipCode;
  /** The same in words (English, no markup), with the details: which limit, until when. */
  why: string;
}

export interface RouteDecision extends RouteCandidate {
  reason: string;
  fallbacks: RouteCandidate[];
  skipped: SkippedProvider[];
}

/** The slice of budget status the router needs. */
export interface RouterBudget {
  enforce: boolean;
  day: { limit: number | null; remaining: number | null; exceeded: boolean };
  month: { limit: number | null; remaining: number | null; exceeded: boolean };
}

export interface RouterDeps {
  keys: Pick<KeyPool, 'list' | 'usable'> & Partial<Pick<KeyPool, 'vaultLocked'>>;
  health: Pick<HealthTracker, 'get'>;
  pricing: Pick<PricingService, 'estimate' | 'has'>;
  budget: () => RouterBudget;
  isEnabled?: (provider: string) => boolean;
}

export class RoutingError extends Error {
  constructor(message: string, readonly skipped: SkippedProvider[]) {
    super(message);
  }
}

export function providerOrder(task: TaskType): ProviderSpec[] {
  const listed = PREFERENCE[task].map((id) => getProvider(id));
  const rest = PROVIDERS.filter((p) => !listed.includes(p));
  return [...listed, ...rest].filter((p) => (p.models[task]?.length ?? 0) > 0);
}

type Skip = { code: SkipCode; why: string };
type Evaluation = { ok: true; candidate: RouteCandidate; note?: string } | ({ ok: false } & Skip);

export class Router {
  constructor(private readonly deps: RouterDeps) {}

  route(req: RouteRequest): RouteDecision {
    const tokens = this.tokens(req);
    const budget = this.deps.budget();
    let order = providerOrder(req.taskType);
    let preferredNote = '';
    if (req.preferredProvider) {
      const pref = getProvider(req.preferredProvider);
      if (!order.includes(pref)) {
        preferredNote = `${pref.displayName} has no model for ${req.taskType}`;
      } else {
        order = [pref, ...order.filter((p) => p !== pref)];
      }
    }
    // Without fallback only the first choice may answer; a preferred provider that cannot do the task leaves none.
    if (req.enableFallback === false) order = preferredNote ? [] : order.slice(0, 1);

    const viable: (RouteCandidate & { note?: string })[] = [];
    const skipped: SkippedProvider[] = [];
    for (const spec of order) {
      const e = this.evaluate(spec, req.taskType, tokens, budget, req.maxCost);
      if (e.ok) viable.push({ ...e.candidate, note: e.note });
      else skipped.push({ provider: spec.id, code: e.code, why: e.why });
    }
    if (viable.length === 0) {
      const detail = skipped.map((s) => `${s.provider}: ${s.why}`).join('; ');
      const hint = req.enableFallback === false ? ' Fallback is off; allow it to try other providers.' : '';
      const why = [preferredNote, detail].filter(Boolean).join('; ') || 'no provider has a model for this task';
      throw new RoutingError(`No provider can take this ${req.taskType} request now. ${why}.${hint}`, skipped);
    }
    const [first, ...rest] = viable;
    const why: string[] = [];
    if (req.preferredProvider && first.provider === getProvider(req.preferredProvider).id) why.push('preferred provider');
    else if (preferredNote) why.push(`${preferredNote}, so the preferred provider was not used`);
    else if (req.preferredProvider) why.push(`preferred provider ${getProvider(req.preferredProvider).id} skipped`);
    else why.push(`best available for ${req.taskType}`);
    if (first.note) why.push(first.note);
    why.push(`~${formatUsd(first.estimatedCost)} for ${tokens.input} in + ${tokens.output} out tokens`);
    return {
      provider: first.provider,
      model: first.model,
      estimatedCost: first.estimatedCost,
      reason: why.join('; '),
      fallbacks: rest.map(({ provider, model, estimatedCost }) => ({ provider, model, estimatedCost })),
      skipped,
    };
  }

  /** Every (provider, model) pair that could take the task now, with its cost for the given tokens. */
  viableModels(task: TaskType, tokens = SAMPLE_TOKENS[task]): RouteCandidate[] {
    const budget = this.deps.budget();
    const out: RouteCandidate[] = [];
    for (const spec of providerOrder(task)) {
      if (this.unavailable(spec, budget)) continue;
      for (const model of spec.models[task] ?? []) {
        const cost = this.cost(spec, model, tokens);
        if (cost !== undefined && !this.overBudget(this.budgetCost(spec, model, task, cost), budget)) out.push({ provider: spec.id, model, estimatedCost: cost });
      }
    }
    return out;
  }

  private tokens(req: RouteRequest): { input: number; output: number } {
    const sample = SAMPLE_TOKENS[req.taskType];
    return { input: req.estimatedInputTokens ?? sample.input, output: req.estimatedOutputTokens ?? sample.output };
  }

  private evaluate(spec: ProviderSpec, task: TaskType, tokens: { input: number; output: number }, budget: RouterBudget, maxCost?: number): Evaluation {
    const skip = this.unavailable(spec, budget);
    if (skip) return { ok: false, ...skip };
    const models = spec.models[task] ?? [];
    let cheapest: RouteCandidate | undefined;
    // What ruled out the models before the one chosen, so a downgrade names its real cause.
    const limits = new Set<string>();
    for (const model of models) {
      const cost = this.cost(spec, model, tokens);
      if (cost === undefined) {
        limits.add('no price known');
        continue;
      }
      const candidate = { provider: spec.id, model, estimatedCost: cost };
      if (!cheapest || cost < cheapest.estimatedCost) cheapest = candidate;
      if (maxCost !== undefined && cost > maxCost) {
        limits.add('above max_cost');
        continue;
      }
      if (this.overBudget(this.budgetCost(spec, model, task, cost), budget)) {
        limits.add('over the remaining budget');
        continue;
      }
      const note = model !== models[0] ? `downgraded from ${models[0]} to ${model} (${[...limits].join(', ')})` : undefined;
      return { ok: true, candidate, note };
    }
    if (!cheapest) return { ok: false, code: 'no_priced_model', why: `no priced model for ${task}` };
    if (maxCost !== undefined && cheapest.estimatedCost > maxCost) {
      return { ok: false, code: 'above_max_cost', why: `cheapest model ${cheapest.model} would cost ${formatUsd(cheapest.estimatedCost)}, above max_cost $${maxCost}` };
    }
    return { ok: false, code: 'would_exceed_budget', why: `would exceed the remaining budget (enforced): ${formatUsd(cheapest.estimatedCost)} needed` };
  }

  /** Why a provider cannot be used at all right now, or undefined when it can. */
  private unavailable(spec: ProviderSpec, budget: RouterBudget): Skip | undefined {
    if (this.deps.isEnabled && !this.deps.isEnabled(spec.id)) return { code: 'disabled_in_settings', why: 'disabled in settings' };
    const health = this.deps.health.get(spec.id);
    if (!health.healthy) {
      return { code: 'unhealthy', why: `unhealthy: ${health.consecutiveFailures} failure(s) in a row${health.lastError ? ` (${health.lastError})` : ''}, cooling down until ${health.cooldownUntil}` };
    }
    if (spec.requiresKey) {
      const keys = this.deps.keys.list(spec.id);
      if (keys.length === 0) return { code: 'no_key', why: 'no key' };
      if (this.deps.keys.usable(spec.id).length === 0) {
        if (keys.every((k) => k.status === 'disabled')) return { code: 'keys_rejected', why: 'every key is disabled (rejected by the provider); rotate or add a key' };
        // A locked vault first: a resting key in it would stay unusable after its rest.
        const locked = this.deps.keys.vaultLocked?.();
        if (locked && keys.some((k) => k.source === 'vault' && k.status !== 'disabled')) return { code: 'vault_locked', why: `its key cannot be read: ${locked}` };
        const resting = keys.filter((k) => k.status === 'resting');
        if (resting.length) return { code: 'rate_limited', why: `rate limited until ${resting.map((k) => k.restingUntil).sort()[0]}` };
        return { code: 'no_usable_key', why: 'no usable key (expired or its environment variable is unset)' };
      }
    }
    if (budget.enforce && (budget.day.exceeded || budget.month.exceeded) && spec.id !== 'local') {
      return { code: 'over_budget', why: `over budget: the ${budget.day.exceeded ? 'daily' : 'monthly'} limit is reached and enforcement is on` };
    }
    return undefined;
  }

  /**
   * The cost checked against an enforced budget: a paid model needs a positive estimate, so one of
   * $0 (no tokens given, say) is replaced by the task's typical request. With $0.99 of $1 spent,
   * an estimate of 0 tokens routed to a paid model.
   */
  private budgetCost(spec: ProviderSpec, model: string, task: TaskType, cost: number): number {
    if (cost > 0 || spec.id === 'local') return cost;
    return this.cost(spec, model, SAMPLE_TOKENS[task]) ?? cost;
  }

  private overBudget(cost: number, budget: RouterBudget): boolean {
    if (!budget.enforce || cost === 0) return false;
    const left = [budget.day.remaining, budget.month.remaining].filter((r): r is number => r !== null);
    return left.some((r) => cost > r);
  }

  private cost(spec: ProviderSpec, model: string, tokens: { input: number; output: number }): number | undefined {
    if (spec.id === 'local') return 0;
    if (!this.deps.pricing.has(model, spec.id)) return undefined;
    return this.deps.pricing.estimate(model, { inputTokens: tokens.input, outputTokens: tokens.output }, spec.id).totalCost;
  }
}
