// The one table of MCP tools (a table: longer than other modules on purpose): each tool's zod input and
// output schema and its mapping from the core's domain types sit beside its handler. Input schemas
// other surfaces also take are in schemas.ts, shared output shapes in wire.ts.
import { z } from 'zod';
import type { AiKeyManagerCore } from '../core/service';
import { loosenedBy } from '../core/budget';
import type { AuditVia } from '../core/audit';
import { getProvider } from '../core/providers';
import { addApiKeyInput, keyId, provider, removeApiKeyInput, rotateKeyInput, setBudgetInput, taskType, tokens, trackRequestInput } from './schemas';
import { usd } from './format';
import { MAX_TEXT_BYTES, MAX_TEXT_CHARS } from '../core/tokenize';
import { RoutingError, type SkippedProvider } from '../core/router';
import {
  auditEntryOut,
  auditEntryWire,
  budgetOut,
  budgetWire,
  candidateOut,
  candidateWire,
  formatOut,
  groupOut,
  keyOut,
  keyWire,
  periodOut,
  providerStatsOut,
  providerStatsWire,
  recommendationOut,
  recommendationWire,
  skippedOut,
  skippedWire,
  totalsOut,
  usageReportWire,
  type BudgetWire,
} from './wire';

export interface ToolContext {
  core: AiKeyManagerCore;
  via: AuditVia;
  /**
   * Asks the user for a secret out of band (VS Code password box). Absent when headless. For 'add',
   * the answer may name another provider: the user pasted a key clearly of that provider's shape.
   */
  askSecret?: (request: { provider: string; purpose: 'add' | 'rotate' }) => Promise<{ secret: string; provider: string } | undefined>;
  /**
   * Asks the user whether an agent may loosen the budget (`what` says how), in VS Code a modal.
   * Absent headless, where config.json's allowAgentBudgetChanges decides.
   */
  confirmBudgetLoosening?: (what: string) => Promise<boolean>;
}

export interface ToolReply<O> {
  structured: O;
  text: string;
}

export interface ToolDef<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  readOnly: boolean;
  destructive?: boolean;
  /** Reaches the network (a provider's API). */
  openWorld?: boolean;
  handler(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<ToolReply<z.infer<z.ZodObject<O>>>>;
}

function tool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDef<I, O>): ToolDef<I, O> {
  return def;
}

/** A skipped provider as an agent reads it: a missing key names the tool that adds one. */
function skipText(s: SkippedProvider): string {
  return s.code === 'no_key' ? `${s.why}; add one with add_api_key` : s.why;
}

/** Asks out of band when possible; the key then never passes through the model. */
async function secretFrom(
  args: { key?: string; env_var?: string; provider: string },
  ctx: ToolContext,
  purpose: 'add' | 'rotate',
): Promise<{ apiKey?: string; envVar?: string; provider?: string }> {
  if (args.key !== undefined || args.env_var !== undefined) return { apiKey: args.key, envVar: args.env_var };
  const spec = getProvider(args.provider);
  // Nothing to ask for: the core explains that this provider needs no key.
  if (!spec.requiresKey) return {};
  if (!ctx.askSecret) {
    const arg = purpose === 'add' ? 'api_key' : 'new_key';
    throw new Error(
      `No ${purpose === 'add' ? '' : 'new '}key given. Headless, pass ${arg} or env_var (the name of an environment variable holding the ${purpose === 'add' ? '' : 'new '}key), e.g. env_var: "${spec.envVars[0]}".`,
    );
  }
  const entered = await ctx.askSecret({ provider: args.provider, purpose });
  if (!entered) throw new Error('Cancelled: no key was entered. Nothing was changed.');
  return { apiKey: entered.secret, provider: entered.provider };
}

function budgetLine(b: BudgetWire): string {
  const part = (p: z.infer<typeof periodOut>, name: string) =>
    (p.limit === null ? `${name}: ${usd(p.spent)} (no limit)` : `${name}: ${usd(p.spent)} of ${usd(p.limit)} (${Math.round(p.percent ?? 0)}%${p.exceeded ? ', EXCEEDED' : p.alert ? ', alert' : ''})`) +
    (p.unpriced.requests > 0 ? ` plus ${p.unpriced.requests} request(s) (${p.unpriced.tokens.toLocaleString('en-US')} tokens) to models with no known price, cost unknown` : '');
  return `${part(b.day, 'Today')}; ${part(b.month, 'This month')}`;
}

// --- the table ------------------------------------------------------------------------------------

export const TOOLS = [
  tool({
    name: 'add_api_key',
    title: 'Add API key',
    description:
      'Store an API key for a provider in secure storage. In VS Code, leave api_key and env_var out: the user is asked in a password box, so the key never passes through the conversation.',
    input: addApiKeyInput,
    output: { key: z.object(keyOut), format: formatOut },
    readOnly: false,
    handler: async (a, ctx) => {
      const { provider: pasted, ...input } = await secretFrom({ key: a.api_key, env_var: a.env_var, provider: a.provider }, ctx, 'add');
      const r = await ctx.core.addKey(pasted ?? a.provider, input, { label: a.label, expiresAt: a.expires_at }, ctx.via);
      const k = r.key;
      const moved = k.provider !== getProvider(a.provider).id ? ` The user pasted a key of ${k.provider}'s shape, so it is stored under ${k.provider}, not ${a.provider}.` : '';
      return {
        structured: { key: keyWire(k), format: r.format },
        text: `Added ${k.provider} key ${k.masked} (id ${k.id}${k.source === 'env' ? `, read from ${k.envVar}` : ''}). Format: ${r.format.message}${moved}`,
      };
    },
  }),
  tool({
    name: 'remove_api_key',
    title: 'Remove API key',
    description: 'Delete a stored key from secure storage. Give key_id when the provider has several keys.',
    input: removeApiKeyInput,
    output: { removed: z.object({ id: z.string(), provider: z.string(), masked: z.string() }), remaining: z.number() },
    readOnly: false,
    destructive: true,
    handler: async (a, ctx) => {
      const k = await ctx.core.removeKey(a.provider, a.key_id, ctx.via);
      const remaining = ctx.core.listKeys(k.provider).length;
      return {
        structured: { removed: { id: k.id, provider: k.provider, masked: k.masked }, remaining },
        text: `Removed ${k.provider} key ${k.masked} (id ${k.id}). ${remaining} ${k.provider} key(s) left.`,
      };
    },
  }),
  tool({
    name: 'rotate_key',
    title: 'Rotate API key',
    description:
      'Replace a key with a new one. The old key is kept for rollback for 7 days. In VS Code, leave new_key and env_var out to be asked in a password box.',
    input: rotateKeyInput,
    output: { key: z.object(keyOut), previous_masked: z.string(), rotated_at: z.string(), rollback_until: z.string(), format: formatOut },
    readOnly: false,
    destructive: true,
    handler: async (a, ctx) => {
      const { apiKey, envVar } = await secretFrom({ key: a.new_key, env_var: a.env_var, provider: a.provider }, ctx, 'rotate');
      const r = await ctx.core.rotateKey(a.provider, { apiKey, envVar }, a.key_id, ctx.via);
      const k = r.key;
      return {
        structured: {
          key: keyWire(k),
          previous_masked: r.previousMasked,
          rotated_at: k.rotatedAt ?? '',
          rollback_until: r.rollbackUntil,
          format: r.format,
        },
        text: `Rotated ${k.provider} key ${k.id}: ${r.previousMasked} → ${k.masked}. The old key can be restored with rollback_key until ${r.rollbackUntil}.`,
      };
    },
  }),
  tool({
    name: 'rollback_key',
    title: 'Roll back a rotation',
    description: 'Restore the key that the last rotate_key replaced, while its 7-day grace period lasts.',
    input: { provider, key_id: keyId.optional() },
    output: { key: z.object(keyOut) },
    readOnly: false,
    destructive: true,
    handler: async (a, ctx) => {
      const k = await ctx.core.rollbackKey(a.provider, a.key_id, ctx.via);
      return {
        structured: { key: keyWire(k) },
        text: `Rolled back ${k.provider} key ${k.id} to ${k.masked}.`,
      };
    },
  }),
  tool({
    name: 'list_api_keys',
    title: 'List API keys',
    description: 'List stored keys, masked, with status, age, last validation and expiry warnings.',
    input: { provider: provider.optional() },
    output: {
      keys: z.array(
        z.object({
          ...keyOut,
          created_at: z.string().nullable().describe('null for a key found in an environment variable: when it was set is unknown'),
          rotated_at: z.string().nullable(),
          age_days: z.number().nullable().describe('Days since added or rotated; null when unknown'),
          expires_at: z.string().nullable(),
          last_validated_at: z.string().nullable(),
          last_validation: z.string().nullable(),
          warnings: z.array(z.string()),
        }),
      ),
    },
    readOnly: true,
    handler: async (a, ctx) => {
      const keys = ctx.core.listKeys(a.provider).map((k) => ({
        id: k.id,
        provider: k.provider,
        masked: k.masked,
        label: k.label ?? null,
        source: k.source,
        status: k.status,
        created_at: k.createdAt ?? null,
        rotated_at: k.rotatedAt ?? null,
        age_days: k.ageDays,
        expires_at: k.expiresAt ?? null,
        last_validated_at: k.lastValidatedAt ?? null,
        last_validation: k.lastValidation ?? null,
        warnings: k.warnings,
      }));
      const text = keys.length
        ? keys.map((k) => `- ${k.provider} ${k.masked} (id ${k.id}${k.label ? `, ${k.label}` : ''}): ${k.status}, ${k.age_days === null ? 'age unknown' : `${k.age_days} d old`}${k.warnings.length ? `; ${k.warnings.join('; ')}` : ''}`).join('\n')
        : `No keys stored${a.provider ? ` for ${a.provider}` : ''}. Add one with add_api_key.`;
      return { structured: { keys }, text };
    },
  }),
  tool({
    name: 'validate_key',
    title: 'Validate API key',
    description: "Check a key's format, then (live, default) make one free request to the provider's models endpoint. Never spends tokens.",
    input: { provider, key_id: keyId.optional(), live: z.boolean().optional().describe('Make the free live check (default true)') },
    output: {
      provider: z.string(),
      key_id: z.string().nullable(),
      masked: z.string().nullable(),
      format: formatOut,
      result: z.enum(['valid', 'invalid', 'rate_limited', 'unreachable', 'format_invalid', 'skipped']),
      http_status: z.number().nullable(),
      latency_ms: z.number().nullable(),
      retry_after_seconds: z.number().nullable(),
      key_status: z.string().nullable(),
      message: z.string(),
    },
    readOnly: false,
    openWorld: true,
    handler: async (a, ctx) => {
      const r = await ctx.core.validateKey(a.provider, a.key_id, a.live ?? true, ctx.via);
      return {
        structured: {
          provider: r.provider,
          key_id: r.keyId ?? null,
          masked: r.masked ?? null,
          format: r.format,
          result: r.outcome,
          http_status: r.httpStatus ?? null,
          latency_ms: r.latencyMs ?? null,
          retry_after_seconds: r.retryAfterSeconds ?? null,
          key_status: r.keyStatus ?? null,
          message: r.message,
        },
        text: `${r.provider}${r.masked ? ` ${r.masked}` : ''}: ${r.outcome}${r.httpStatus ? ` (HTTP ${r.httpStatus}` : ''}${r.latencyMs !== undefined && r.httpStatus ? `, ${r.latencyMs} ms)` : r.httpStatus ? ')' : ''}. ${r.message}`,
      };
    },
  }),
  tool({
    name: 'validate_all_keys',
    title: 'Validate all keys',
    description: 'Validate every stored key (and a local Ollama) live, a few at a time.',
    input: {},
    output: {
      results: z.array(z.object({ provider: z.string(), key_id: z.string().nullable(), masked: z.string().nullable(), result: z.string(), http_status: z.number().nullable(), latency_ms: z.number().nullable(), message: z.string() })),
      summary: z.record(z.string(), z.number()),
    },
    readOnly: false,
    openWorld: true,
    handler: async (_a, ctx) => {
      const rs = await ctx.core.validateAll(ctx.via);
      const results = rs.map((r) => ({ provider: r.provider, key_id: r.keyId ?? null, masked: r.masked ?? null, result: r.outcome, http_status: r.httpStatus ?? null, latency_ms: r.latencyMs ?? null, message: r.message }));
      const summary: Record<string, number> = {};
      for (const r of results) summary[r.result] = (summary[r.result] ?? 0) + 1;
      return {
        structured: { results, summary },
        text: results.length ? results.map((r) => `- ${r.provider}${r.masked ? ` ${r.masked}` : ''}: ${r.result}${r.http_status ? ` (HTTP ${r.http_status})` : ''} ${r.message}`).join('\n') : 'No keys to validate.',
      };
    },
  }),
  tool({
    name: 'route_request',
    title: 'Route a request',
    description:
      'Pick the provider and model for a task now, with a fallback chain. Skips providers with no usable key, disabled or rate-limited keys, unhealthy providers, and (when enforced) providers over budget.',
    input: {
      task_type: taskType,
      preferred_provider: provider.optional(),
      enable_fallback: z.boolean().optional().describe('Allow other providers when the first choice is unavailable (default true)'),
      estimated_input_tokens: tokens('Expected input tokens').optional(),
      estimated_output_tokens: tokens('Expected output tokens').optional(),
      max_cost: z.number().min(0).max(10_000).optional().describe('Most this request may cost, USD'),
    },
    output: {
      provider: z.string(),
      model: z.string(),
      reason: z.string(),
      estimated_cost: z.number(),
      fallbacks: z.array(candidateOut),
      skipped: z.array(skippedOut),
    },
    readOnly: true,
    handler: async (a, ctx) => {
      let d: ReturnType<AiKeyManagerCore['route']>;
      try {
        d = ctx.core.route({
          taskType: a.task_type,
          preferredProvider: a.preferred_provider,
          enableFallback: a.enable_fallback,
          estimatedInputTokens: a.estimated_input_tokens,
          estimatedOutputTokens: a.estimated_output_tokens,
          maxCost: a.max_cost,
        });
      } catch (err) {
        if (err instanceof RoutingError && err.skipped.some((s) => s.code === 'no_key')) throw new Error(`${err.message} Add a key with add_api_key.`, { cause: err });
        throw err;
      }
      const fallbacks = d.fallbacks.map(candidateWire);
      return {
        structured: { provider: d.provider, model: d.model, reason: d.reason, estimated_cost: d.estimatedCost, fallbacks, skipped: d.skipped.map(skippedWire) },
        text: `${a.task_type} → ${d.provider}/${d.model} (~${usd(d.estimatedCost)}): ${d.reason}.${fallbacks.length ? ` Fallbacks: ${fallbacks.map((f) => `${f.provider}/${f.model}`).join(' → ')}.` : ''}${d.skipped.length ? ` Skipped: ${d.skipped.map((s) => `${s.provider} (${skipText(s)})`).join('; ')}.` : ''}`,
      };
    },
  }),
  tool({
    name: 'get_routing_recommendations',
    title: 'Routing recommendations',
    description: 'Per task: the primary choice, the fallback chain, the cheapest viable model, and what a sample request costs on each option.',
    input: { task_type: taskType.optional() },
    output: {
      recommendations: z.array(recommendationOut),
    },
    readOnly: true,
    handler: async (a, ctx) => {
      const recommendations = ctx.core.recommendations(a.task_type).map(recommendationWire);
      const text = recommendations
        .map((r) =>
          r.primary
            ? `- ${r.task_type}: ${r.primary.provider}/${r.primary.model} (${usd(r.primary.estimated_cost)}); cheapest ${r.cheapest_viable?.provider}/${r.cheapest_viable?.model} (${usd(r.cheapest_viable?.estimated_cost ?? 0)})${r.fallback_chain.length ? `; then ${r.fallback_chain.map((f) => f.provider).join(' → ')}` : ''}`
            : `- ${r.task_type}: nothing available (${r.error})`,
        )
        .join('\n');
      return { structured: { recommendations }, text };
    },
  }),
  tool({
    name: 'get_provider_stats',
    title: 'Provider statistics',
    description: 'Requests, success rate, mean and p95 latency, last error, health and key statuses per provider.',
    input: { provider: provider.optional() },
    output: {
      providers: z.array(providerStatsOut),
    },
    readOnly: true,
    handler: async (a, ctx) => {
      const providers = ctx.core.providerStats(a.provider).map(providerStatsWire);
      const text = providers
        .map((p) => `- ${p.provider}: ${p.requests} req${p.success_rate !== null ? `, ${Math.round(p.success_rate * 100)}% ok` : ''}${p.mean_latency_ms !== null ? `, mean ${Math.round(p.mean_latency_ms)} ms, p95 ${Math.round(p.p95_latency_ms ?? 0)} ms` : ''}, ${p.health.healthy ? 'healthy' : `cooling down until ${p.health.cooldown_until}`}, ${p.keys.length} key(s)`)
        .join('\n');
      return { structured: { providers }, text };
    },
  }),
  tool({
    name: 'get_usage',
    title: 'Usage',
    description: 'Requests, tokens and cost over the last N days (default 30), grouped by day, provider or model.',
    input: {
      provider: provider.optional(),
      model: z.string().min(1).max(200).optional(),
      days: z.number().int().min(1).max(3660).optional().describe('How many days back, including today (default 30)'),
      group_by: z.enum(['day', 'provider', 'model']).optional().describe('Default day'),
    },
    output: { from: z.string(), to: z.string(), totals: totalsOut, groups: z.array(groupOut) },
    readOnly: true,
    handler: async (a, ctx) => {
      const u = ctx.core.usage({ provider: a.provider, model: a.model, days: a.days, groupBy: a.group_by });
      const t = u.totals;
      const text = `${u.from} … ${u.to}: ${t.requests} requests, ${t.inputTokens.toLocaleString('en-US')} in / ${t.outputTokens.toLocaleString('en-US')} out tokens, ${usd(t.costUsd)}.${u.groups.length ? '\n' + u.groups.slice(0, 40).map((g) => `- ${g.key}: ${g.requests} req, ${usd(g.costUsd)}`).join('\n') : ''}`;
      return { structured: usageReportWire(u), text };
    },
  }),
  tool({
    name: 'estimate_cost',
    title: 'Estimate cost',
    description: 'Cost in USD of a request from the pricing database (genai-prices) with your overrides. Give token counts, or text to tokenize (exact for OpenAI models, approximate otherwise).',
    input: {
      model: z.string().min(1).max(200),
      provider: provider.optional(),
      input_tokens: tokens('Input tokens not read from cache').optional(),
      output_tokens: tokens('Output tokens').optional(),
      cache_read_tokens: tokens('Input tokens read from cache').optional(),
      cache_write_tokens: tokens('Input tokens written to cache').optional(),
      text: z
        .string()
        .max(MAX_TEXT_CHARS, `text is longer than ${MAX_TEXT_CHARS.toLocaleString('en-US')} characters: count a part of it, or give input_tokens instead`)
        .optional()
        .describe(`Text to count as input tokens (at most ${MAX_TEXT_CHARS.toLocaleString('en-US')} characters and ${MAX_TEXT_BYTES.toLocaleString('en-US')} bytes of UTF-8)`),
    },
    output: {
      model: z.string(),
      provider: z.string(),
      input_cost: z.number(),
      output_cost: z.number(),
      cache_read_cost: z.number(),
      cache_write_cost: z.number(),
      total_cost: z.number(),
      currency: z.literal('USD'),
      price_source: z.string(),
      price_data: z.string().describe('Where the price came from, with the data version or refresh date'),
      tokens: z.object({ input: z.number(), output: z.number(), cache_read: z.number(), cache_write: z.number() }),
      tokenizer: z
        .object({ name: z.string(), exact: z.boolean(), tokens: z.number(), run_cuts: z.number().describe('Places where long text without whitespace was cut to count it (about a token each)') })
        .nullable(),
    },
    readOnly: true,
    handler: async (a, ctx) => {
      const { cost, tokens: t, tokenizer } = await ctx.core.estimateCostAsync({
        model: a.model,
        provider: a.provider,
        inputTokens: a.input_tokens,
        outputTokens: a.output_tokens,
        cacheReadTokens: a.cache_read_tokens,
        cacheWriteTokens: a.cache_write_tokens,
        text: a.text,
      });
      return {
        structured: {
          model: cost.model,
          provider: cost.provider,
          input_cost: cost.inputCost,
          output_cost: cost.outputCost,
          cache_read_cost: cost.cacheReadCost,
          cache_write_cost: cost.cacheWriteCost,
          total_cost: cost.totalCost,
          currency: 'USD' as const,
          price_source: cost.source,
          price_data: ctx.core.pricing.costSourceText(cost),
          tokens: { input: t.inputTokens, output: t.outputTokens, cache_read: t.cacheReadTokens ?? 0, cache_write: t.cacheWriteTokens ?? 0 },
          tokenizer: tokenizer ? { name: tokenizer.tokenizer, exact: tokenizer.exact, tokens: tokenizer.tokens, run_cuts: tokenizer.runCuts ?? 0 } : null,
        },
        text: `${cost.provider}/${cost.model}: ${usd(cost.totalCost)} (input ${usd(cost.inputCost)}, output ${usd(cost.outputCost)}${cost.cacheReadCost || cost.cacheWriteCost ? `, cache read ${usd(cost.cacheReadCost)}, cache write ${usd(cost.cacheWriteCost)}` : ''}) for ${t.inputTokens} in + ${t.outputTokens} out tokens${tokenizer && !tokenizer.exact ? (tokenizer.runCuts ? ` (input counted exactly except at ${tokenizer.runCuts} place(s) where long text without spaces was cut, about a token each)` : ' (input count approximate: ~4 characters per token)') : ''}. Prices: ${ctx.core.pricing.costSourceText(cost)}.`,
      };
    },
  }),
  tool({
    name: 'check_budget',
    title: 'Check budget',
    description: 'Spend, limit, remaining, percent, alert and projected end-of-period spend for the local day and month.',
    input: {},
    output: budgetOut.shape,
    readOnly: true,
    handler: async (_a, ctx) => {
      const b = budgetWire(ctx.core.budget());
      return {
        structured: b,
        text: `${budgetLine(b)}. Projected: ${usd(b.day.projected)} today, ${usd(b.month.projected)} this month, at the last ${b.burn_rate.days} days' average of ${usd(b.burn_rate.usd_per_day)}/day.${b.enforce ? ' Enforcement is on.' : ''}`,
      };
    },
  }),
  tool({
    name: 'track_request',
    title: 'Track a request',
    description: 'Record one request to a provider (tokens, success, latency). Returns the cost recorded and the budget after it.',
    input: trackRequestInput,
    output: {
      recorded: z.object({ provider: z.string(), model: z.string(), cost: z.number(), priced: z.boolean().describe('false: no price known for the model, recorded at cost 0'), at: z.string(), success: z.boolean() }),
      warning: z.string().nullable().describe('Why the cost may be wrong, e.g. a model with no known price'),
      budget: budgetOut,
    },
    readOnly: false,
    handler: async (a, ctx) => {
      const r = ctx.core.track(
        {
          provider: a.provider,
          model: a.model,
          inputTokens: a.input_tokens,
          outputTokens: a.output_tokens,
          cacheReadTokens: a.cache_read_tokens,
          cacheWriteTokens: a.cache_write_tokens,
          success: a.success,
          latencyMs: a.latency_ms,
          taskType: a.task_type,
          error: a.error,
        },
        ctx.via,
      );
      return {
        structured: {
          recorded: { provider: r.event.provider, model: r.event.model, cost: r.event.costUsd, priced: r.priced, at: r.event.at, success: r.event.success },
          warning: r.warning ?? null,
          budget: budgetWire(r.budget),
        },
        text: `Recorded ${r.event.provider}/${r.event.model}: ${usd(r.event.costUsd)}${r.priced ? '' : ' (unpriced)'}. ${budgetLine(budgetWire(r.budget))}.${r.budget.anyExceeded ? ' A budget is exceeded.' : r.budget.anyAlert ? ' Budget alert threshold crossed.' : ''}${r.warning ? ` Warning: ${r.warning}` : ''}`,
      };
    },
  }),
  tool({
    name: 'set_budget',
    title: 'Set budget',
    description: 'Set the daily and/or monthly limit in USD (0 = none), the alert threshold (0–1) and whether routing enforces it. Tightening is always allowed; loosening (a higher or no limit, enforcement off, a later alert) needs the user: in VS Code they are asked, headless it is refused unless config.json allows it.',
    input: setBudgetInput,
    output: budgetOut.shape,
    readOnly: false,
    handler: async (a, ctx) => {
      const patch = Object.fromEntries(
        Object.entries({ daily: a.daily, monthly: a.monthly, alertThreshold: a.alert_threshold, enforce: a.enforce }).filter(([, v]) => v !== undefined),
      );
      if (Object.keys(patch).length === 0) throw new Error('Nothing to set: give daily, monthly, alert_threshold or enforce.');
      // The budget limits the agent asking: loosening it needs the user. Tightening never does.
      const loosening = loosenedBy(ctx.core.budgetSettings(), patch);
      if (loosening.length > 0) {
        const what = loosening.join(', ');
        if (ctx.confirmBudgetLoosening) {
          if (!(await ctx.confirmBudgetLoosening(what))) throw new Error(`The user did not allow this change (${what}). Nothing was changed. Lowering limits or turning enforcement on needs no confirmation.`);
        } else if (!ctx.core.agentMayLoosenBudget()) {
          throw new Error(
            `An agent cannot ${what} without the user. Nothing was changed. The user can change the budget in config.json in AIKM_HOME, ` +
              'or allow agents to do it with "allowAgentBudgetChanges": true there. Lowering limits or turning enforcement on is always allowed.',
          );
        }
      }
      const b = budgetWire(await ctx.core.setBudget(patch, ctx.via));
      return { structured: b, text: `Budget updated. ${budgetLine(b)}.` };
    },
  }),
  tool({
    name: 'get_audit_log',
    title: 'Audit log',
    description: 'Recent key operations and state changes (what, when, via which surface, result). Contains no key material.',
    input: { limit: z.number().int().min(1).max(500).optional(), provider: provider.optional() },
    output: {
      entries: z.array(auditEntryOut),
    },
    readOnly: true,
    handler: async (a, ctx) => {
      const entries = ctx.core.auditEntries({ limit: a.limit ?? 50, provider: a.provider }).map(auditEntryWire);
      return {
        structured: { entries },
        text: entries.length ? entries.map((e) => `- ${e.at} ${e.action}${e.count !== undefined && e.count > 1 ? ` ×${e.count}` : ''} via ${e.via}${e.provider ? ` (${e.provider})` : ''}: ${e.ok ? 'ok' : 'failed'}${e.detail ? ` — ${e.detail}` : ''}`).join('\n') : 'The audit log is empty.',
      };
    },
  }),
] as const;

export const REQUIRED_TOOL_NAMES = [
  'add_api_key',
  'remove_api_key',
  'rotate_key',
  'list_api_keys',
  'validate_key',
  'validate_all_keys',
  'route_request',
  'get_routing_recommendations',
  'get_provider_stats',
  'get_usage',
  'estimate_cost',
  'check_budget',
  'track_request',
] as const;
