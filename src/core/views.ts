// The read models the facade returns to every surface (plain camelCase domain data), and the two
// that are computed from several parts. Each surface renders them its own way (MCP: src/mcp/wire.ts).
import type { BudgetStatus } from './budget';
import type { HealthTracker, ProviderHealth } from './health';
import type { KeyPool } from './keys';
import type { Ledger, Totals, UsageGroup } from './ledger';
import { PROVIDERS, getProvider, type ProviderSpec } from './providers';
import { SAMPLE_TOKENS, type RouteDecision, type Router, type SkippedProvider } from './router';
import { TASK_TYPES, type KeySource, type KeyStatus, type TaskType, type ValidationOutcome } from './types';

export interface Candidate {
  provider: string;
  model: string;
  estimatedCost: number;
}

export interface Recommendation {
  taskType: TaskType;
  /** The request size the estimated costs are for. */
  sampleRequest: { inputTokens: number; outputTokens: number };
  primary: Candidate | null;
  fallbackChain: Candidate[];
  cheapestViable: Candidate | null;
  options: Candidate[];
  skipped: SkippedProvider[];
  /** Why nothing could be chosen (primary is null). */
  error?: string;
}

export interface ProviderStatsView {
  provider: string;
  requests: number;
  successRate: number | null;
  meanLatencyMs: number | null;
  p95LatencyMs: number | null;
  lastError: { at: string; message: string } | null;
  health: ProviderHealth;
  keys: Array<{ id: string; masked: string; status: KeyStatus; lastValidation: ValidationOutcome | null }>;
}

export interface ProviderKeySummary {
  id: string;
  masked: string;
  label: string | null;
  source: KeySource;
  status: KeyStatus;
  lastValidation: ValidationOutcome | null;
  lastValidatedAt: string | null;
  warnings: string[];
}

export interface ProviderOverview {
  id: string;
  name: string;
  enabled: boolean;
  requiresKey: boolean;
  keyFormat: string;
  envVars: string[];
  baseUrl: string;
  /** A key is stored (or none is needed). */
  hasKey: boolean;
  /** A key that routing may use now (or none is needed). */
  usable: boolean;
  keys: ProviderKeySummary[];
  health: ProviderHealth;
  models: ProviderSpec['models'];
}

export interface RoutingOverview {
  /** Per task, the providers in fallback order with their models. */
  tasks: Record<string, Array<{ provider: string; models: string[] }>>;
  recommendations: Recommendation[];
  budgetEnforced: boolean;
}

export interface UsageOverview {
  today: Totals;
  month: Totals;
  /** The last 30 days. */
  byProvider: UsageGroup[];
  byModel: UsageGroup[];
  budget: BudgetStatus;
}

export function recommendationsOf(router: Router, task?: TaskType): Recommendation[] {
  const tasks = task ? [task] : [...TASK_TYPES];
  return tasks.map((t) => {
    const sample = SAMPLE_TOKENS[t];
    let primary: RouteDecision | undefined;
    let error: string | undefined;
    try {
      primary = router.route({ taskType: t });
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const viable = router.viableModels(t);
    const cheapest = viable.reduce<(typeof viable)[number] | undefined>((a, b) => (!a || b.estimatedCost < a.estimatedCost ? b : a), undefined);
    const candidate = (c: Candidate): Candidate => ({ provider: c.provider, model: c.model, estimatedCost: c.estimatedCost });
    return {
      taskType: t,
      sampleRequest: { inputTokens: sample.input, outputTokens: sample.output },
      primary: primary ? candidate(primary) : null,
      fallbackChain: primary?.fallbacks.map(candidate) ?? [],
      cheapestViable: cheapest ? candidate(cheapest) : null,
      options: viable.map(candidate),
      skipped: primary?.skipped ?? [],
      ...(error ? { error } : {}),
    };
  });
}

export function providerStatsOf(parts: { ledger: Ledger; keys: KeyPool; health: HealthTracker }, provider?: string): ProviderStatsView[] {
  const ids = provider ? [getProvider(provider).id] : PROVIDERS.map((p) => p.id);
  const stats = parts.ledger.providerStats();
  return ids.map((id) => {
    const s = stats.find((x) => x.provider === id);
    const keys = parts.keys.list(id);
    return {
      provider: id,
      requests: s?.requests ?? 0,
      successRate: s?.successRate ?? null,
      meanLatencyMs: s?.meanLatencyMs ?? null,
      p95LatencyMs: s?.p95LatencyMs ?? null,
      lastError: s?.lastError ?? null,
      health: parts.health.get(id),
      keys: keys.map((k) => ({ id: k.id, masked: k.masked, status: k.status, lastValidation: k.lastValidation ?? null })),
    };
  });
}
