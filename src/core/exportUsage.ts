// Usage ledger export as CSV (one row per period × provider × model) or JSON (totals and rows).
import type { LedgerExportRow, Totals } from './ledger';
import { maskKeyShapes } from './redact';

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

export type UsageExportTotals = Omit<Totals, 'meanLatencyMs' | 'successRate'>;

export interface UsageExportJson {
  exportedAt: string;
  currency: 'USD';
  /** Where the prices in use at export came from (each cost was priced when its request was recorded). */
  pricesInUse?: string;
  /** First and last period covered, or null when there are no rows. */
  from: string | null;
  to: string | null;
  totals: UsageExportTotals;
  rows: LedgerExportRow[];
}

/** The export file's text. Provider and model names shaped like API keys are masked. */
export function formatUsageExport(rows: readonly LedgerExportRow[], format: ExportFormat, exportedAt: Date, pricesInUse?: string): string {
  const safe = rows.map((r) => ({ ...r, provider: maskKeyShapes(r.provider), model: maskKeyShapes(r.model) }));
  return format === 'csv' ? usageToCsv(safe) : JSON.stringify({ ...usageToJson(safe, exportedAt), ...(pricesInUse && { pricesInUse }) }, null, 2) + '\n';
}

export function usageToCsv(rows: readonly LedgerExportRow[]): string {
  const lines = [CSV_COLUMNS.map(([header]) => header).join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map(([, field]) => csvField(r[field])).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function usageToJson(rows: readonly LedgerExportRow[], exportedAt: Date): UsageExportJson {
  const totals: UsageExportTotals = { requests: 0, failures: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0, unpricedRequests: 0, unpricedTokens: 0 };
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
