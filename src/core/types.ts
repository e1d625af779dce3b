// Shared vocabulary of the core. Names here are part of the MCP contract.

export const TASK_TYPES = [
  'code_generation',
  'code_review',
  'chat',
  'analysis',
  'summarization',
  'data_extraction',
  'embeddings',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export type KeyStatus = 'healthy' | 'resting' | 'disabled';

/** Where a key came from. `env` keys are read from the environment and never copied into a vault. */
export type KeySource = 'vault' | 'env';

/** Non-secret metadata about one stored key. Never contains key material beyond the mask. */
export interface KeyMeta {
  id: string;
  provider: string;
  label?: string;
  masked: string;
  source: KeySource;
  envVar?: string;
  /** When the key was added; unknown (absent) for keys discovered in environment variables. */
  createdAt?: string;
  rotatedAt?: string;
  lastValidatedAt?: string;
  lastValidation?: ValidationOutcome;
  status: KeyStatus;
  /** While resting: when the key may be used again (ISO time). */
  restingUntil?: string;
  expiresAt?: string;
  /** Until this time the key replaced by the last rotation is kept for rollback. */
  retiredUntil?: string;
  retiredMasked?: string;
}

export type ValidationOutcome = 'valid' | 'invalid' | 'rate_limited' | 'unreachable' | 'format_invalid';

/** One recorded request, as given to track_request. Costs are in USD. */
export interface UsageEvent {
  at: string; // ISO time
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  success: boolean;
  latencyMs?: number;
  taskType?: TaskType;
  error?: string;
  /** False when no price was known: recorded at $0, its tokens counted apart (absent: priced). */
  priced?: false;
  /** The stored key that served it (gateway traffic), by id: never the key itself. */
  keyId?: string;
  /** Tries that failed before the one that answered (gateway: 5xx, connection errors, other keys). */
  retries?: number;
  /** Answered from the gateway's response cache: nothing was sent to the provider, $0. */
  cached?: true;
  /** The response was cut (by the client or the upstream): what arrived was recorded. */
  incomplete?: true;
  /** When the cost is the provider's own figure: what our prices made of it, for comparison. */
  estimatedCostUsd?: number;
  /** What priced it when not the price data: the provider's own figure, your override, a shipped correction, a local model (free). */
  pricedBy?: Exclude<PriceKind, 'data'>;
}

/** What priced a request: the price data (genai-prices), the provider's figure, your override, a shipped correction, a local model. */
export const PRICE_KINDS = ['data', 'provider', 'override', 'correction', 'local'] as const;
export type PriceKind = (typeof PRICE_KINDS)[number];

/** Whether `v` is a UsageEvent.pricedBy (a price kind other than the data). */
export function isPricedBy(v: unknown): v is NonNullable<UsageEvent['pricedBy']> {
  return v !== 'data' && (PRICE_KINDS as readonly unknown[]).includes(v);
}

export interface CostBreakdown {
  model: string;
  provider: string;
  inputCost: number;
  outputCost: number;
  cacheReadCost: number;
  cacheWriteCost: number;
  totalCost: number;
  currency: 'USD';
  /**
   * Where the price came from: the pricing database, a user override, a shipped correction, the
   * provider's own figure in its reply (OpenRouter's usage.cost), a local model (free); 'unpriced' =
   * no price known, cost 0.
   */
  source: 'genai-prices' | 'override' | 'correction' | 'provider' | 'local' | 'unpriced';
  /** With source 'correction': the row that priced it (src/core/priceCorrections.ts). */
  correction?: { since: string; source: string; why: string };
  /** With source 'provider': our own estimate of the same request (absent when we know no price). */
  estimatedTotalCost?: number;
}
