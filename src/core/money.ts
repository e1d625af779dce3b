// The one money format of every surface (chat, status bar, panel, commands, MCP tool text), so the
// same amount always reads the same: US dollars, en-US grouping.

/** Amounts under a dollar keep this many significant digits, so $0.0125 never reads as $0.01. */
const SIGNIFICANT = 3;
const MAX_FRACTION = 20;
const byDecimals = new Map<number, Intl.NumberFormat>();
const whole = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 0, maximumFractionDigits: 0 });

function withDecimals(max: number): Intl.NumberFormat {
  let f = byDecimals.get(max);
  if (!f) byDecimals.set(max, (f = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: max })));
  return f;
}

/**
 * $1,234.50, $0.50, $0.00; amounts under a dollar keep three significant digits ($0.0125, $0.123,
 * $0.0000123) so no cost reads smaller or larger than it is by more than half a percent; negative
 * amounts as -$1.20; NaN and ±Infinity as '—'.
 */
export function formatUsd(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value === 0) return withDecimals(2).format(0); // no "-$0.00"
  const abs = Math.abs(value);
  // Beyond what Intl can show (20 decimals): say it is below the smallest amount shown.
  if (abs < 10 ** -MAX_FRACTION) return `${value < 0 ? '>-' : '<'}${withDecimals(MAX_FRACTION).format(10 ** -MAX_FRACTION)}`;
  const decimals = abs >= 1 ? 2 : Math.min(MAX_FRACTION, Math.max(2, SIGNIFICANT - 1 - Math.floor(Math.log10(abs))));
  return withDecimals(decimals).format(value);
}

/** A budget limit: whole dollars without cents ($10, $1,000), otherwise like formatUsd ($12.50). */
export function formatUsdLimit(value: number): string {
  return Number.isInteger(value) ? whole.format(value) : formatUsd(value);
}
