// The usage & budget panel's data, computed from the core: a plain JSON model the webview renders.
import type { AiKeyManagerCore, UsageScope } from './service';
import type { BudgetStatus } from './budget';
import type { Totals } from './ledger';
import type { AuditEntry } from './audit';
import { maskKeyShapes } from './redact';
import type { UsageEvent } from './types';

export interface DashboardFilter {
  /** Chart and table window in days (30 or 90 in the UI; 1–366 accepted). */
  days: number;
  /** Only this provider (undefined = all). */
  provider?: string;
  /** Whose usage the charts and tables show (default: this workspace). Budgets always count all. */
  scope?: UsageScope;
}

export interface DashboardModel {
  generatedAt: string;
  filter: DashboardFilter;
  /** True when nothing was ever recorded: the panel shows its empty state. */
  empty: boolean;
  /** The usage of every workspace is kept apart from this one's (VS Code): the scope filter applies. */
  scopes: boolean;
  budget: BudgetStatus;
  totals: Totals;
  chart: { days: string[]; series: { provider: string; costUsd: number[] }[] };
  models: (Totals & { provider: string; model: string })[];
  providers: {
    id: string;
    name: string;
    enabled: boolean;
    requiresKey: boolean;
    healthy: boolean;
    /** A request or a live check reached it since start-up, or one of its keys was validated:
     * until then the panel says "Not checked" rather than "Healthy". */
    checked: boolean;
    /** Failed requests or checks in a row (0 after a success); the last one's message. */
    consecutiveFailures: number;
    lastError: string | null;
    keys: { id: string; masked: string; label: string | null; status: string; lastValidation: string | null; warnings: string[] }[];
  }[];
  recent: {
    at: string;
    provider: string;
    model: string;
    inputTokens: number;
    outputTokens: number;
    costUsd: number;
    success: boolean;
    latencyMs?: number;
    error?: string;
    /** The key that served (gateway traffic), masked; "a removed key" when it is gone. */
    key?: string;
    retries?: number;
    cached?: boolean;
    incomplete?: boolean;
    /** What priced it when not the price data; 'none': no price known (recorded at $0). */
    pricedBy?: NonNullable<UsageEvent['pricedBy']> | 'none';
    /** With pricedBy 'provider': our own estimate. */
    estimatedCostUsd?: number;
  }[];
  audit: AuditEntry[];
  /** Every provider id, for the filter. */
  providerIds: string[];
  /** Display name of every provider id, so the page needs no provider catalog of its own. */
  providerNames: Record<string, string>;
  /** Where the prices in use come from, in words. */
  prices: string;
}

/** Rows of the panel's recent-requests table. */
const AUDIT_ROWS = 25;
const RECENT_ROWS = 25;

export function buildDashboard(core: AiKeyManagerCore, filter: DashboardFilter): DashboardModel {
  const days = Math.min(366, Math.max(1, Math.round(filter.days)));
  const provider = filter.provider || undefined;
  const scope: UsageScope = filter.scope === 'all' && core.allUsage ? 'all' : 'workspace';
  const ledger = core.usageLedger(scope);
  const everything = core.usageLedger('all');
  const usage = core.usage({ days, provider, groupBy: 'model', scope });
  const series = ledger.dailySeries(days, 'provider');
  const providers = core.providersOverview();
  const maskedKeys = new Map(core.listKeys().map((k) => [k.id, k.masked]));
  return {
    generatedAt: core.clock.now().toISOString(),
    filter: { days, provider, scope },
    // Nothing recorded in any workspace: the first steps. (An unused workspace shows empty tables.)
    empty: everything.recent(1).length === 0 && everything.usage({ days: 366 }).totals.requests === 0,
    scopes: core.allUsage !== undefined,
    budget: core.budget(),
    totals: usage.totals,
    chart: {
      days: series.days,
      series: series.series.filter((s) => !provider || s.provider === provider).map((s) => ({ provider: s.provider, costUsd: s.costUsd })),
    },
    // Model names come from callers; one shaped like an API key (a paste into the wrong field) shows masked.
    models: usage.groups.map((g) => ({ ...g, key: maskKeyShapes(g.key), provider: g.provider ?? '', model: maskKeyShapes(g.model ?? g.key) })),
    providers: providers
      .filter((p) => !provider || p.id === provider)
      .map((p) => ({
        id: p.id,
        name: p.name,
        enabled: p.enabled,
        requiresKey: p.requiresKey,
        healthy: p.health.healthy,
        checked: core.health.checked(p.id) || p.keys.some((k) => k.lastValidation !== null),
        consecutiveFailures: p.health.consecutiveFailures,
        lastError: p.health.lastError ?? null,
        keys: p.keys.map((k) => ({ id: k.id, masked: k.masked, label: k.label, status: k.status, lastValidation: k.lastValidation, warnings: k.warnings })),
      })),
    // Newest first by time, inside the same window and provider as the rest of the panel.
    recent: ledger
      .recent(RECENT_ROWS, { days, provider })
      .map((e) => ({
        at: e.at,
        provider: e.provider,
        model: maskKeyShapes(e.model),
        inputTokens: e.inputTokens,
        outputTokens: e.outputTokens,
        costUsd: e.costUsd,
        success: e.success,
        latencyMs: e.latencyMs,
        error: e.error,
        ...(e.keyId !== undefined && { key: maskedKeys.get(e.keyId) ?? 'a removed key' }),
        ...(e.retries !== undefined && { retries: e.retries }),
        ...(e.cached && { cached: true }),
        ...(e.incomplete && { incomplete: true }),
        ...(e.priced === false ? { pricedBy: 'none' as const } : e.pricedBy && { pricedBy: e.pricedBy }),
        ...(e.estimatedCostUsd !== undefined && { estimatedCostUsd: e.estimatedCostUsd }),
      })),
    // Key and settings operations; tracked requests are in `recent` already and would crowd them out.
    audit: core.audit
      .list({ provider })
      .filter((e) => e.action !== 'track_request')
      .slice(0, AUDIT_ROWS),
    providerIds: providers.map((p) => p.id),
    providerNames: Object.fromEntries(providers.map((p) => [p.id, p.name])),
    prices: core.pricing.sourceText('genai-prices'),
  };
}
