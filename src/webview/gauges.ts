// The budget gauges (today, this month) and the totals card at the top of the panel.
import type { BurnRate, PeriodStatus } from '../core/budget';
import type { DashboardModel } from './protocol';
import { h, icon } from './dom';
import * as fmt from './format';
import { ICON, button } from './widgets';

/** A budget gauge; `onSetBudget` runs when a period without a limit offers to set one. */
export function gauge(period: 'day' | 'month', s: PeriodStatus, rate: BurnRate, onSetBudget: () => void): HTMLElement {
  const card = gaugeCard(period, s, rate, onSetBudget);
  // Requests the spend cannot include: their models have no known price.
  if (s.unpriced.requests > 0) {
    card.append(
      h(
        'p',
        { class: 'foot unpriced', 'data-requests': s.unpriced.requests, 'data-tokens': s.unpriced.tokens },
        icon(ICON.warning),
        ` Not in this amount: ${fmt.int(s.unpriced.requests)} request${s.unpriced.requests === 1 ? '' : 's'} (${fmt.int(s.unpriced.tokens)} tokens) to models with no known price. Add a price override to count them.`,
      ),
    );
  }
  return card;
}

function gaugeCard(period: 'day' | 'month', s: PeriodStatus, rate: BurnRate, onSetBudget: () => void): HTMLElement {
  // What the projection is based on, in the title of every projected amount.
  const basis = `At the last ${rate.days} days' average: ${fmt.usd(rate.usdPerDay)}/day`;
  const title = period === 'day' ? 'Today' : 'This month';
  const periodWord = period === 'day' ? 'day' : 'month';
  const level = s.exceeded ? 'exceeded' : s.alert ? 'alert' : 'ok';
  const card = h('article', { class: `card gauge ${s.limit === null ? 'no-limit' : level}`, id: `gauge-${period}`, 'aria-labelledby': `gauge-${period}-title` });
  const head = h('div', { class: 'card-head' }, h('h2', { id: `gauge-${period}-title` }, title));
  card.append(head);
  const spent = h('span', { class: 'spent', 'data-value': s.spent }, fmt.usd(s.spent));
  if (s.limit === null || s.percent === null) {
    card.append(
      h('p', { class: 'amount' }, spent, h('span', { class: 'of' }, ' spent')),
      h('p', { class: 'foot' }, `No ${period === 'day' ? 'daily' : 'monthly'} limit. Projected `, h('strong', { class: 'projected', 'data-value': s.projected, title: basis }, fmt.usd(s.projected)), ` by end of ${periodWord}`, h('span', { class: 'basis' }, ` (at ${fmt.usd(rate.usdPerDay)}/day, the last ${rate.days} days' average)`), '.'),
      h('div', { class: 'actions' }, button('Set budget', { secondary: true, 'data-focus-id': `set-budget-${period}` }, onSetBudget)),
    );
    return card;
  }
  const pct = s.percent;
  head.append(
    h(
      'span',
      { class: `badge ${level}`, 'data-value': pct },
      level === 'ok' ? null : icon(level === 'exceeded' ? ICON.error : ICON.warning),
      h('span', { class: 'percent' }, fmt.percent(pct)),
    ),
  );
  const fill = h('div', { class: 'meter-fill' });
  fill.style.width = `${Math.min(100, pct)}%`;
  const projPct = s.limit > 0 ? (s.projected / s.limit) * 100 : 0;
  const proj = h('div', { class: 'meter-projected' });
  proj.style.width = `${Math.min(100, Math.max(pct, projPct))}%`;
  const meter = h(
    'div',
    {
      class: 'meter',
      role: 'meter',
      'aria-label': `${title}: spend against the ${period === 'day' ? 'daily' : 'monthly'} budget`,
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': Math.round(Math.min(100, pct) * 10) / 10,
      'aria-valuetext': `${fmt.usd(s.spent)} of ${fmt.usd(s.limit)} (${fmt.percent(pct)}), projected ${fmt.usd(s.projected)}`,
    },
    proj,
    fill,
  );
  const remaining = s.remaining ?? 0;
  card.append(
    h('p', { class: 'amount' }, spent, h('span', { class: 'of' }, ' of ', h('span', { class: 'limit', 'data-value': s.limit }, fmt.usd(s.limit)))),
    meter,
    h(
      'p',
      { class: 'foot' },
      'Projected ',
      h('strong', { class: `projected ${s.projected > s.limit ? 'over' : ''}`, 'data-value': s.projected, title: basis }, fmt.usd(s.projected)),
      ` by end of ${periodWord}`,
      h('span', { class: 'basis' }, ` at ${fmt.usd(rate.usdPerDay)}/day`),
      ' · ',
      s.exceeded ? h('span', { class: 'over' }, `${fmt.usd(s.spent - s.limit)} over`) : h('span', { class: 'remaining', 'data-value': remaining }, `${fmt.usd(remaining)} left`),
    ),
  );
  return card;
}

export function totalsCard(model: DashboardModel): HTMLElement {
  const t = model.totals;
  const stat = (label: string, value: string, cls: string, raw: number) =>
    h('div', { class: 'stat' }, h('dt', null, label), h('dd', { class: cls, 'data-value': raw }, value));
  return h(
    'article',
    { class: 'card gauge totals', id: 'totals', 'aria-labelledby': 'totals-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'totals-title' }, `Last ${model.filter.days} days`)),
    h('p', { class: 'amount' }, h('span', { class: 'spent total-cost', 'data-value': t.costUsd }, fmt.usd(t.costUsd))),
    h(
      'dl',
      { class: 'stats' },
      stat('Requests', fmt.int(t.requests), 'total-requests', t.requests),
      stat('Tokens in / out', `${fmt.short(t.inputTokens)} / ${fmt.short(t.outputTokens)}`, 'total-tokens', t.inputTokens + t.outputTokens),
      stat('Success', t.requests ? fmt.percent(t.successRate * 100) : '—', 'total-success', t.successRate),
    ),
  );
}
