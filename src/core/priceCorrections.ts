// Known gaps in the price data, corrected until the data has them: a price, or an alias (`…-latest`)
// the data resolves to an older model. Each row says since when, why and where the price comes from, and what the data said when the row was written (`dataSaid`, per
// million tokens; null: the data had no price). A row applies only while the data in use still says
// that: refreshed data that changed wins. test/core/priceCorrections.test.ts fails once the bundled
// data no longer says it, so the row can be removed.

interface CorrectionRow {
  provider: string;
  model: string;
  /** The day the price took effect (YYYY-MM-DD). */
  since: string;
  source: string;
  why: string;
  dataSaid: { input: number; output: number } | null;
}

/** A model the data prices wrongly: its price, per million tokens. */
export interface PriceRow extends CorrectionRow {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok?: number;
  cacheWritePerMTok?: number;
  /** Long-context prices: a request whose input (cache included) is over `inputTokens` is priced at these, all of it. */
  above?: { inputTokens: number; inputPerMTok: number; outputPerMTok: number; cacheReadPerMTok?: number; cacheWritePerMTok?: number };
}

/** An alias the data resolves to an older model: priced as the data prices the model it names today. */
export interface AliasRow extends CorrectionRow {
  aliasOf: string;
}

export type PriceCorrection = PriceRow | AliasRow;

/** Claude Sonnet 4's long-context prices, missing from the data (it prices Sonnet 4.5's). */
const SONNET_4: Omit<PriceRow, 'model'> = {
  provider: 'anthropic',
  inputPerMTok: 3,
  outputPerMTok: 15,
  cacheReadPerMTok: 0.3,
  cacheWritePerMTok: 3.75,
  above: { inputTokens: 200_000, inputPerMTok: 6, outputPerMTok: 22.5, cacheReadPerMTok: 0.6, cacheWritePerMTok: 7.5 },
  since: '2025-08-12',
  source: 'https://docs.anthropic.com/en/docs/about-claude/pricing#long-context-pricing',
  why: 'requests over 200k input tokens (1M-token context) cost $6 / $22.50 per million; the data has only the base rate',
  dataSaid: { input: 3, output: 15 },
};

export const PRICE_CORRECTIONS: readonly PriceCorrection[] = [
  { ...SONNET_4, model: 'claude-sonnet-4' },
  { ...SONNET_4, model: 'claude-sonnet-4-0' },
  {
    provider: 'deepseek',
    model: 'deepseek-chat',
    inputPerMTok: 0.28,
    outputPerMTok: 0.42,
    cacheReadPerMTok: 0.028,
    since: '2025-09-29',
    source: 'https://api-docs.deepseek.com/quick_start/pricing',
    why: 'DeepSeek-V3.2 prices; the off-peak discount ended on 2025-09-05',
    dataSaid: { input: 0.27, output: 1.1 },
  },
  {
    provider: 'deepseek',
    model: 'deepseek-reasoner',
    inputPerMTok: 0.28,
    outputPerMTok: 0.42,
    cacheReadPerMTok: 0.028,
    since: '2025-09-29',
    source: 'https://api-docs.deepseek.com/quick_start/pricing',
    why: 'DeepSeek-V3.2 (thinking mode) prices, the same as deepseek-chat',
    dataSaid: { input: 0.55, output: 2.19 },
  },
  {
    provider: 'google',
    model: 'gemini-1.5-flash-8b',
    inputPerMTok: 0.0375,
    outputPerMTok: 0.15,
    cacheReadPerMTok: 0.01,
    since: '2024-10-03',
    source: 'https://ai.google.dev/gemini-api/docs/pricing (Gemini 1.5 Flash-8B, prompts up to 128k tokens)',
    why: 'the data has no Flash-8B and matched it to Gemini 1.5 Flash, at twice the price',
    dataSaid: null,
  },
  {
    provider: 'mistral',
    model: 'mistral-large-latest',
    aliasOf: 'mistral-large-2512',
    since: '2025-12-02',
    source: 'https://docs.mistral.ai/getting-started/models/ (mistral-large-latest: Mistral Large 3, mistral-large-2512)',
    why: 'the alias names Mistral Large 3 ($0.50 / $1.50 per million); the data prices it as Mistral Large 2 ($2 / $6), retired on 2026-05-31',
    dataSaid: { input: 2, output: 6 },
  },
  {
    provider: 'mistral',
    model: 'mistral-small-latest',
    aliasOf: 'mistral-small-2603',
    since: '2026-03-16',
    source: 'https://docs.mistral.ai/getting-started/models/ (mistral-small-latest: Mistral Small 4, mistral-small-2603)',
    why: 'the alias names Mistral Small 4 ($0.15 / $0.60 per million); the data prices it as Mistral Small 3.2 ($0.10 / $0.30)',
    dataSaid: { input: 0.1, output: 0.3 },
  },
];
