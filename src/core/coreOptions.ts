// What a host gives the core (its ports and settings) and gets back from it (the kinds of change it
// reports, what a tracked request returns).
import type { Clock, SecretVault, StateStore } from './ports';
import type { PriceOverride } from './pricing';
import type { LedgerJournal } from './ledger';
import type { BudgetConfig, BudgetStatus } from './budget';
import type { CostBreakdown, TaskType, UsageEvent } from './types';

export interface Settings {
  budget: BudgetConfig;
  /** Base-URL overrides by provider id (VS Code settings; empty = none). */
  baseUrls: Record<string, string | undefined>;
  priceOverrides: PriceOverride[];
  disabledProviders: string[];
  /** Headless config.json: an agent (MCP) may loosen the budget without the user. Default false. */
  allowAgentBudgetChanges?: boolean;
}

export interface SettingsSource {
  get(): Settings;
  setBudget(patch: Partial<BudgetConfig>): Promise<void>;
  onDidChange(listener: () => void): () => void;
}

export type ChangeKind = 'keys' | 'usage' | 'settings';


export interface CoreOptions {
  vault: SecretVault;
  /** Keys metadata and audit trail. */
  state: StateStore;
  /** The usage ledger (workspaceState in VS Code). */
  ledgerState: StateStore;
  /**
   * VS Code: where the usage of every workspace of this profile adds up (globalState), so budgets
   * are per person rather than per window. Absent headless, where the ledger already is that.
   */
  allUsageState?: StateStore;
  /**
   * This writer's share of allUsageState (e.g. a hash of the workspace): each window writes only its
   * own share, and totals sum them, so windows never overwrite each other's usage. Default 'default'.
   */
  allUsageShare?: string;
  settings: SettingsSource;
  clock?: Clock;
  timeZone?: string;
  env?: Record<string, string | undefined>;
  /** List keys found in the providers' env vars (headless host). */
  discoverEnvKeys?: boolean;
  fetchImpl?: typeof fetch;
  validationTimeoutMs?: number;
  /** Where accepted usage is written before track() returns (headless), so a crash loses none. */
  journal?: LedgerJournal;
}

/** Whose usage: this workspace's, or every workspace's of this VS Code profile. */
export type UsageScope = 'workspace' | 'all';

export interface TrackInput {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  success?: boolean;
  latencyMs?: number;
  taskType?: TaskType;
  error?: string;
  /** A failure that says nothing about the provider (the client hung up, a bad request): health is left alone. */
  healthNeutral?: boolean;
  /** The cost the provider reported in its reply (OpenRouter's usage.cost), used instead of our estimate. */
  providerCostUsd?: number;
  /** Gateway traffic: the key that served (by id), tries that failed first, a cache hit ($0), a cut response. */
  keyId?: string;
  retries?: number;
  cached?: boolean;
  incomplete?: boolean;
}

export interface TrackResult {
  event: UsageEvent;
  cost: CostBreakdown;
  /** False when no price is known for the model: the request was recorded at cost 0. */
  priced: boolean;
  /** Why the cost may be wrong (an unpriced model). */
  warning?: string;
  budget: BudgetStatus;
}
