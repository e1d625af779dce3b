// Number, money and date formatting for the panel (US dollars; dates in the viewer's locale).
// Money comes from the core so the panel, chat and status bar show an amount the same way.
export { formatUsd as usd, formatUsdLimit as usdLimit } from '../core/money';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export const int = (v: number): string => integer.format(v);

/** 1.2M, 45.3K: for axis ticks and summaries. */
export const short = (v: number): string => compact.format(v);

/** 42%, 7.5%, 0.4%: one decimal under 10 %. */
export function percent(p: number): string {
  if (!Number.isFinite(p)) return '—';
  return `${p > 0 && p < 10 ? p.toFixed(1) : Math.round(p).toString()}%`;
}

export function ms(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`;
}

const dayFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const dayLongFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
const timeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const clockFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** 'YYYY-MM-DD' (a calendar day, not an instant) → 'Mar 20'. */
export const day = (key: string): string => dayFmt.format(new Date(`${key}T00:00:00Z`));
export const dayLong = (key: string): string => dayLongFmt.format(new Date(`${key}T00:00:00Z`));
export const dateTime = (iso: string): string => timeFmt.format(new Date(iso));
export const clock = (iso: string): string => clockFmt.format(new Date(iso));

export { auditActionLabel, auditDetailText } from '../core/auditLabels';
