// The one money format of every surface (chat, status bar, panel, commands, MCP tool text), so the
// same amount always reads the same: US dollars, en-US grouping.

const cents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const subCent = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumSignificantDigits: 2, maximumSignificantDigits: 2 });
const whole = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 0, maximumFractionDigits: 0 });

/**
 * $1,234.50, $0.50, $0.00; amounts under a cent keep two significant digits ($0.0031, $0.000012)
 * so a real cost never reads as $0.00; negative amounts as -$1.20; NaN and ±Infinity as '—'.
 */
export function formatUsd(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value !== 0 && Math.abs(value) < 0.01) return subCent.format(value);
  return cents.format(value === 0 ? 0 : value); // no "-$0.00"
}

/** A budget limit: whole dollars without cents ($10, $1,000), otherwise like formatUsd ($12.50). */
export function formatUsdLimit(value: number): string {
  return Number.isInteger(value) ? whole.format(value) : formatUsd(value);
}
