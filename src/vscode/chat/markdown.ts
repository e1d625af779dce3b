// Markdown pieces shared by the @keys answers: numbers, escaping, key cells and budget lines.
import type { AiKeyManagerCore } from '../../core/service';
import type { BudgetStatus, PeriodStatus } from '../../core/budget';
import type { KeyView } from '../../core/keys';
import { findProvider } from '../../core/providers';
import { formatUsd as usd } from '../../core/money';

export { usd };

export function n(x: number): string {
  return x.toLocaleString('en-US');
}

export function pct(p: number | null): string {
  if (p === null) return '—';
  if (p > 0 && p < 0.1) return '<0.1%';
  return `${p >= 10 || p === 0 ? Math.round(p) : p.toFixed(1)}%`;
}

export function providerName(id: string): string {
  return findProvider(id)?.displayName ?? id;
}

export function escapeMd(s: string): string {
  return s.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

/** A table cell: markdown escaped, no line breaks. */
export function cell(s: string): string {
  return escapeMd(s.replace(/\s+/g, ' '));
}

export function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function ago(core: AiKeyManagerCore, iso: string): string {
  const ms = core.clock.now().getTime() - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const min = Math.round(ms / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

export function keyCell(k: KeyView): string {
  const label = k.label ? ` (${escapeMd(k.label)})` : '';
  const env = k.source === 'env' ? ` from ${k.envVar ?? 'env'}` : '';
  return `\`${k.masked}\`${label}${env}`;
}

export function statusText(k: KeyView): string {
  return [k.status, ...k.warnings.filter((w) => !w.startsWith('disabled') && !w.startsWith('rate limited'))].join('; ') + (k.status === 'resting' && k.restingUntil ? ` until ${k.restingUntil}` : '');
}

export function validationText(core: AiKeyManagerCore, k: KeyView): string {
  if (!k.lastValidation || !k.lastValidatedAt) return 'never validated';
  return `${k.lastValidation.replace(/_/g, ' ')}, ${ago(core, k.lastValidatedAt)}`;
}

export function budgetLines(b: BudgetStatus): string[] {
  const period = (p: PeriodStatus, name: string): string => {
    const flag = p.exceeded ? ' **exceeded**' : p.alert ? ' **near the limit**' : '';
    const unpriced = p.unpriced.requests > 0 ? `; plus ${n(p.unpriced.requests)} request(s) (${n(p.unpriced.tokens)} tokens) to models with no known price, not counted` : '';
    if (p.limit === null) return `- ${name}: ${usd(p.spent)} spent, no limit (projected ${usd(p.projected)})${unpriced}`;
    return `- ${name}: ${usd(p.spent)} of ${usd(p.limit)} (${pct(p.percent)}), ${usd(p.remaining ?? 0)} left, projected ${usd(p.projected)}${flag}${unpriced}`;
  };
  return [
    period(b.day, `Today (${b.day.key})`),
    period(b.month, `This month (${b.month.key})`),
    `- Projections assume the last ${b.burnRate.days} days' average: ${usd(b.burnRate.usdPerDay)}/day`,
    `- Enforcement: ${b.enforce ? 'on (routing skips paid providers once a limit is reached)' : 'off (limits only warn)'}`,
  ];
}
