// The MCP wire: output schemas shared by several tools and resources, and the mapping from the core's
// camelCase domain types to them. Every field an MCP client sees is snake_case.
import { z } from 'zod';
import type { BudgetStatus, PeriodStatus } from '../core/budget';
import type { ProviderHealth } from '../core/health';
import type { KeyView } from '../core/keys';
import type { Totals, UsageGroup, UsageReport } from '../core/ledger';
import { SKIP_CODES, type SkippedProvider } from '../core/router';
import type { AuditEntry } from '../core/audit';
import type { Candidate, ProviderOverview, ProviderStatsView, Recommendation, RoutingOverview, UsageOverview } from '../core/views';

export const keyOut = {
  id: z.string(),
  provider: z.string(),
  masked: z.string(),
  label: z.string().nullable(),
  source: z.enum(['vault', 'env']),
  status: z.enum(['healthy', 'resting', 'disabled']),
};

export function keyWire(k: KeyView): z.infer<z.ZodObject<typeof keyOut>> {
  return { id: k.id, provider: k.provider, masked: k.masked, label: k.label ?? null, source: k.source, status: k.status };
}

export const formatOut = z.object({ ok: z.boolean(), message: z.string() });

export const periodOut = z.object({
  period: z.enum(['day', 'month']),
  key: z.string(),
  spent: z.number(),
  limit: z.number().nullable(),
  remaining: z.number().nullable(),
  percent: z.number().nullable(),
  alert: z.boolean(),
  exceeded: z.boolean(),
  projected: z.number(),
  unpriced: z.object({ requests: z.number(), tokens: z.number() }).describe('Requests to models with no known price in the period, and their tokens: not in spent'),
});
const burnRateOut = z
  .object({ usd_per_day: z.number(), days: z.number(), window_days: z.number() })
  .describe('The average daily spend that projections use: over the last `days` local days, today so far included (`window_days` long)');
export const budgetOut = z.object({ day: periodOut, month: periodOut, enforce: z.boolean(), any_exceeded: z.boolean(), any_alert: z.boolean(), burn_rate: burnRateOut });
export type BudgetWire = z.infer<typeof budgetOut>;

function periodWire(p: PeriodStatus): z.infer<typeof periodOut> {
  return { period: p.period, key: p.key, spent: p.spent, limit: p.limit, remaining: p.remaining, percent: p.percent, alert: p.alert, exceeded: p.exceeded, projected: p.projected, unpriced: { ...p.unpriced } };
}

export function budgetWire(b: BudgetStatus): BudgetWire {
  return {
    day: periodWire(b.day),
    month: periodWire(b.month),
    enforce: b.enforce,
    any_exceeded: b.anyExceeded,
    any_alert: b.anyAlert,
    burn_rate: { usd_per_day: b.burnRate.usdPerDay, days: b.burnRate.days, window_days: b.burnRate.windowDays },
  };
}

export const candidateOut = z.object({ provider: z.string(), model: z.string(), estimated_cost: z.number() });

export function candidateWire(c: Candidate): z.infer<typeof candidateOut> {
  return { provider: c.provider, model: c.model, estimated_cost: c.estimatedCost };
}

export const skippedOut = z.object({ provider: z.string(), code: z.enum(SKIP_CODES).describe('Why, for programs'), why: z.string().describe('Why, in words') });

export function skippedWire(s: SkippedProvider): z.infer<typeof skippedOut> {
  return { provider: s.provider, code: s.code, why: s.why };
}

export const totalsOut = z.object({
  requests: z.number(),
  failures: z.number(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_read_tokens: z.number(),
  cache_write_tokens: z.number(),
  cost_usd: z.number(),
  unpriced_requests: z.number().describe('Requests to models with no known price: recorded at $0, not in cost_usd'),
  unpriced_tokens: z.number(),
  success_rate: z.number().describe('(requests - failures) / requests; 1 when there were none'),
  mean_latency_ms: z.number().nullable().describe('null when no request reported a latency'),
});
export const groupOut = totalsOut.extend({ key: z.string(), provider: z.string().optional(), model: z.string().optional() });

export function totalsWire(t: Totals): z.infer<typeof totalsOut> {
  return {
    requests: t.requests,
    failures: t.failures,
    input_tokens: t.inputTokens,
    output_tokens: t.outputTokens,
    cache_read_tokens: t.cacheReadTokens,
    cache_write_tokens: t.cacheWriteTokens,
    cost_usd: t.costUsd,
    unpriced_requests: t.unpricedRequests,
    unpriced_tokens: t.unpricedTokens,
    success_rate: t.successRate,
    mean_latency_ms: t.meanLatencyMs ?? null,
  };
}

export function groupWire(g: UsageGroup): z.infer<typeof groupOut> {
  return { key: g.key, ...(g.provider !== undefined && { provider: g.provider }), ...(g.model !== undefined && { model: g.model }), ...totalsWire(g) };
}

export function usageReportWire(u: UsageReport) {
  return { from: u.from, to: u.to, totals: totalsWire(u.totals), groups: u.groups.map(groupWire) };
}

export const healthOut = z.object({
  healthy: z.boolean(),
  consecutive_failures: z.number(),
  cooldown_until: z.string().nullable(),
  last_error: z.string().nullable(),
});

export function healthWire(h: ProviderHealth): z.infer<typeof healthOut> {
  return { healthy: h.healthy, consecutive_failures: h.consecutiveFailures, cooldown_until: h.cooldownUntil ?? null, last_error: h.lastError ?? null };
}

export const recommendationOut = z.object({
  task_type: z.string(),
  sample_request: z.object({ input_tokens: z.number(), output_tokens: z.number() }),
  primary: candidateOut.nullable(),
  fallback_chain: z.array(candidateOut),
  cheapest_viable: candidateOut.nullable(),
  options: z.array(candidateOut),
  skipped: z.array(skippedOut),
  error: z.string().optional(),
});

export function recommendationWire(r: Recommendation): z.infer<typeof recommendationOut> {
  return {
    task_type: r.taskType,
    sample_request: { input_tokens: r.sampleRequest.inputTokens, output_tokens: r.sampleRequest.outputTokens },
    primary: r.primary ? candidateWire(r.primary) : null,
    fallback_chain: r.fallbackChain.map(candidateWire),
    cheapest_viable: r.cheapestViable ? candidateWire(r.cheapestViable) : null,
    options: r.options.map(candidateWire),
    skipped: r.skipped.map(skippedWire),
    ...(r.error !== undefined && { error: r.error }),
  };
}

export const providerStatsOut = z.object({
  provider: z.string(),
  requests: z.number(),
  success_rate: z.number().nullable(),
  mean_latency_ms: z.number().nullable(),
  p95_latency_ms: z.number().nullable(),
  last_error: z.object({ at: z.string(), message: z.string() }).nullable(),
  health: healthOut,
  keys: z.array(z.object({ id: z.string(), masked: z.string(), status: z.string(), last_validation: z.string().nullable() })),
});

export function providerStatsWire(p: ProviderStatsView): z.infer<typeof providerStatsOut> {
  return {
    provider: p.provider,
    requests: p.requests,
    success_rate: p.successRate,
    mean_latency_ms: p.meanLatencyMs,
    p95_latency_ms: p.p95LatencyMs,
    last_error: p.lastError,
    health: healthWire(p.health),
    keys: p.keys.map((k) => ({ id: k.id, masked: k.masked, status: k.status, last_validation: k.lastValidation })),
  };
}

export const auditEntryOut = z.object({
  at: z.string(),
  action: z.string(),
  via: z.string(),
  provider: z.string().optional(),
  key_id: z.string().optional(),
  ok: z.boolean(),
  detail: z.string().optional(),
  count: z.number().optional().describe('Repeats folded into this entry (track_request: per provider and model per minute)'),
});

export function auditEntryWire(e: AuditEntry): z.infer<typeof auditEntryOut> {
  return {
    at: e.at,
    action: e.action,
    via: e.via,
    ...(e.provider !== undefined && { provider: e.provider }),
    ...(e.keyId !== undefined && { key_id: e.keyId }),
    ok: e.ok,
    ...(e.detail !== undefined && { detail: e.detail }),
    ...(e.count !== undefined && { count: e.count }),
  };
}

// --- resources -------------------------------------------------------------------------------------

export function providersResource(ps: ProviderOverview[]) {
  return {
    providers: ps.map((p) => ({
      id: p.id,
      name: p.name,
      enabled: p.enabled,
      requires_key: p.requiresKey,
      key_format: p.keyFormat,
      env_vars: p.envVars,
      base_url: p.baseUrl,
      has_key: p.hasKey,
      usable: p.usable,
      keys: p.keys.map((k) => ({ id: k.id, masked: k.masked, label: k.label, source: k.source, status: k.status, last_validation: k.lastValidation, last_validated_at: k.lastValidatedAt, warnings: k.warnings })),
      health: healthWire(p.health),
      // Keyed by task type, which is snake_case already.
      models: p.models,
    })),
  };
}

export function usageResource(u: UsageOverview) {
  return {
    today: totalsWire(u.today),
    month: totalsWire(u.month),
    by_provider: u.byProvider.map(groupWire),
    by_model: u.byModel.map(groupWire),
    budget: budgetWire(u.budget),
  };
}

export function routingResource(r: RoutingOverview) {
  return { tasks: r.tasks, recommendations: r.recommendations.map(recommendationWire), budget_enforced: r.budgetEnforced };
}
