// The read models the facade returns to every surface: plain camelCase domain data. Each surface
// renders it its own way (MCP maps it to snake_case in src/mcp/wire.ts).
import type { BudgetStatus } from './budget';
import type { ProviderHealth } from './health';
import type { Totals, UsageGroup } from './ledger';
import type { ProviderSpec } from './providers';
import type { SkippedProvider } from './router';
import type { KeySource, KeyStatus, TaskType, ValidationOutcome } from './types';

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
