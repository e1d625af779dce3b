// What a host gives the core: its ports and settings, and the kinds of change the core reports.
import type { Clock, SecretVault, StateStore } from './ports';
import type { BudgetConfig } from './budget';
import type { PriceOverride } from './pricing';
import type { LedgerJournal } from './ledger';

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
