// Usage ledger export as CSV (one row per period × provider × model) or JSON (totals and rows).
import type { LedgerExportRow, Totals } from './ledger';
import { maskKeyShapes } from './redact';
import { PRICE_KINDS, type PriceKind } from './types';

export type ExportFormat = 'csv' | 'json';

export const CSV_COLUMNS = [
  ['period', 'period'],
  ['granularity', 'granularity'],
  ['provider', 'provider'],
  ['model', 'model'],
  ['requests', 'requests'],
  ['failures', 'failures'],
  ['input_tokens', 'inputTokens'],
  ['output_tokens', 'outputTokens'],
  ['cache_read_tokens', 'cacheReadTokens'],
  ['cache_write_tokens', 'cacheWriteTokens'],
  ['cost_usd', 'costUsd'],
  ['unpriced_requests', 'unpricedRequests'],
  ['unpriced_tokens', 'unpricedTokens'],
  ['mean_latency_ms', 'meanLatencyMs'],
] as const satisfies readonly (readonly [string, keyof LedgerExportRow])[];
/** The last CSV column, in words from LedgerExportRow.pricedBy (JSON has the counts). */
export const CSV_PRICE_SOURCE = 'price_source';

export type UsageExportTotals = Omit<Totals, 'meanLatencyMs' | 'successRate'> & Pick<LedgerExportRow, 'pricedBy'>;

/** The prices in use at export: in full (JSON's pricesInUse) and the data's short name (CSV). */
export interface ExportPrices {
  inUse: string;
  dataLabel: string;
}

export interface UsageExportJson {
  exportedAt: string;
  currency: 'USD';
  /** Where the prices in use at export came from (each cost was priced when its request was recorded; rows say by what). */
  pricesInUse?: string;
  /** First and last period covered, or null when there are no rows. */
  from: string | null;
  to: string | null;
  totals: UsageExportTotals;
  rows: LedgerExportRow[];
}

/** The export file's text. Provider and model names shaped like API keys are masked. */
export function formatUsageExport(rows: readonly LedgerExportRow[], format: ExportFormat, exportedAt: Date, prices?: ExportPrices): string {
  const safe = rows.map((r) => ({ ...r, provider: maskKeyShapes(r.provider), model: maskKeyShapes(r.model) }));
  return format === 'csv' ? usageToCsv(safe, prices?.dataLabel) : JSON.stringify({ ...usageToJson(safe, exportedAt), ...(prices && { pricesInUse: prices.inUse }) }, null, 2) + '\n';
}

export function usageToCsv(rows: readonly LedgerExportRow[], dataLabel = 'genai-prices'): string {
  const lines = [[...CSV_COLUMNS.map(([header]) => header), CSV_PRICE_SOURCE].join(',')];
  for (const r of rows) lines.push([...CSV_COLUMNS.map(([, field]) => csvField(r[field] as string | number | undefined)), csvField(priceSourceText(r, dataLabel))].join(','));
  return lines.join('\r\n') + '\r\n';
}

const KIND_LABEL: Record<Exclude<PriceKind, 'data'>, string> = {
  provider: "provider's own figure",
  override: 'your override',
  correction: 'shipped correction',
  local: 'local model (free)',
};

/**
 * What priced a row's requests, e.g. "price data (at export: genai-prices 0.1.8 bundled)" or
 * "price data (at export: …): 2; provider's own figure: 3". `dataLabel` names the price data in use at
 * export: each cost was fixed when its request was recorded, perhaps with older data.
 */
export function priceSourceText(r: Pick<LedgerExportRow, 'requests' | 'unpricedRequests' | 'pricedBy'>, dataLabel: string): string {
  const parts: Array<[string, number]> = PRICE_KINDS.map((k) => [k === 'data' ? `price data (at export: ${dataLabel})` : KIND_LABEL[k], r.pricedBy[k]]);
  parts.push(['no price known', r.unpricedRequests]);
  const known = PRICE_KINDS.reduce((n, k) => n + r.pricedBy[k], r.unpricedRequests);
  parts.push(['source not kept (recorded by an older version)', Math.max(0, r.requests - known)]);
  const used = parts.filter(([, n]) => n > 0);
  return used.length === 1 ? used[0][0] : used.map(([label, n]) => `${label}: ${n}`).join('; ');
}

export function usageToJson(rows: readonly LedgerExportRow[], exportedAt: Date): UsageExportJson {
  const pricedBy = Object.fromEntries(PRICE_KINDS.map((k) => [k, 0])) as Record<PriceKind, number>;
  const totals: UsageExportTotals = { requests: 0, failures: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0, unpricedRequests: 0, unpricedTokens: 0, pricedBy };
  let nanos = 0; // summed as the ledger keeps cost: whole nano-dollars, so the total is exact
  for (const r of rows) {
    totals.requests += r.requests;
    totals.failures += r.failures;
    totals.inputTokens += r.inputTokens;
    totals.outputTokens += r.outputTokens;
    totals.cacheReadTokens += r.cacheReadTokens;
    totals.cacheWriteTokens += r.cacheWriteTokens;
    totals.unpricedRequests += r.unpricedRequests;
    totals.unpricedTokens += r.unpricedTokens;
    for (const k of PRICE_KINDS) pricedBy[k] += r.pricedBy[k];
    nanos += Math.round(r.costUsd * 1e9);
  }
  totals.costUsd = nanos / 1e9;
  const periods = rows.map((r) => r.period).sort();
  return { exportedAt: exportedAt.toISOString(), currency: 'USD', from: periods[0] ?? null, to: periods.at(-1) ?? null, totals, rows: [...rows] };
}

/** A default file name such as `ai-usage-2026-11-21.csv`. */
export function exportFileName(format: ExportFormat, day: string): string {
  return `ai-usage-${day}.${format}`;
}

/** RFC 4180 quoting; text that a spreadsheet would run as a formula is prefixed with '. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
