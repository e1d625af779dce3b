// How audited actions read in the UI. Apart from audit.ts so the webview bundle does not pull in Node modules.

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
