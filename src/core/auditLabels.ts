// How audited actions read in the UI. Apart from audit.ts so the webview bundle does not pull in Node modules.
import { formatUsdLimit } from './money';

/** How each audited action reads in the UI. */
const ACTION_LABELS: Record<string, string> = {
  add_api_key: 'Add API key',
  remove_api_key: 'Remove API key',
  rotate_key: 'Rotate key',
  rollback_key: 'Roll back key',
  validate_key: 'Validate key',
  set_budget: 'Set budget',
  reset_usage: 'Reset usage',
};

/** 'add_api_key' → 'Add API key'; an action without a label reads as words ('move_key' → 'Move key'). */
export function auditActionLabel(action: string): string {
  const known = ACTION_LABELS[action];
  if (known) return known;
  const words = action.replace(/_/g, ' ').replace(/\b(api|mcp|url|id)\b/gi, (w) => w.toUpperCase());
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * An audit entry's detail as a person reads it. Budget changes are stored as JSON
 * ('{"daily":1,"enforce":true}') and read as 'daily $1, enforced'; other details as stored, with
 * outcome codes in words ('rate_limited' → 'rate limited').
 */
export function auditDetailText(action: string, detail: string | undefined): string {
  if (!detail) return '';
  if (action === 'set_budget' && detail.startsWith('{')) {
    try {
      const patch = JSON.parse(detail) as Record<string, unknown>;
      const parts = Object.entries(patch).map(([k, v]) => budgetSettingText(k, v));
      if (parts.length) return parts.join(', ');
    } catch {
      // not JSON after all: shown as stored
    }
  }
  return /^[a-z]+(_[a-z]+)+$/.test(detail) ? detail.replace(/_/g, ' ') : detail;
}

/** One budget setting in words: 'daily $10', 'monthly no limit', 'alert at 80%', 'enforced'. */
export function budgetSettingText(key: string, v: unknown): string {
  const money = (n: unknown) => (typeof n === 'number' && n > 0 ? formatUsdLimit(n) : 'no limit');
  switch (key) {
    case 'daily':
      return `daily ${money(v)}`;
    case 'monthly':
      return `monthly ${money(v)}`;
    case 'alertThreshold':
      return typeof v === 'number' ? `alert at ${Math.round(v * 1000) / 10}%` : `alert threshold ${String(v)}`;
    case 'enforce':
      return v ? 'enforced' : 'warn only';
    default:
      return `${key} ${JSON.stringify(v)}`;
  }
}
