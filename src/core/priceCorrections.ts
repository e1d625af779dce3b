// Known gaps in the price data, corrected until the data has them. Each row says since when, why and
// where the price comes from, and what the data said when the row was written (`dataSaid`, per
// million tokens; null: the data had no price). A row applies only while the data in use still says
// that: refreshed data that changed wins. test/core/priceCorrections.test.ts fails once the bundled
// data no longer says it, so the row can be removed.

export interface PriceCorrection {
  provider: string;
  model: string;
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok?: number;
  /** The day the price took effect (YYYY-MM-DD). */
  since: string;
  source: string;
  why: string;
  dataSaid: { input: number; output: number } | null;
}

export const PRICE_CORRECTIONS: readonly PriceCorrection[] = [
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
];
