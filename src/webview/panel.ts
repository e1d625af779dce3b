// The usage & budget panel (runs in the webview): renders the host's DashboardModel, sends filter,
// export and command requests back, and keeps its state through vscode.getState/setState.
// esbuild.mjs bundles this file, the CSS it imports and its libraries (vscode-elements, Chart.js)
// into dist/webview/, which the panel serves as a local resource root next to media/: the page
// loads nothing remote (no CDN, web font or image URL), and its CSP would refuse it anyway.
import './litNonce';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-radio-group/index.js';
import '@vscode-elements/elements/dist/vscode-radio/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import './panel.css';
import type { BurnRate, PeriodStatus } from '../core/budget';
import type { DashboardFilter, DashboardModel, HostMessage, PanelCommand, PanelState, WebviewMessage } from './protocol';
import { SpendChart, colorSlot } from './chart';
import { h, icon } from './dom';
import * as fmt from './format';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: PanelState): void;
}
declare const acquireVsCodeApi: () => VsCodeApi;

const vscode = acquireVsCodeApi();
const PERIODS = [30, 90] as const;

// Codicon paths (MIT, microsoft/vscode-codicons), drawn inline so no font or remote file is needed.
const ICON = {
  graph: 'M1.5 14h13v1h-13a.5.5 0 0 1-.5-.5v-13h1V14zm2-2V8h2v4h-2zm3 0V5h2v7h-2zm3 0V3h2v9h-2zm3 0V7h2v5h-2z',
  key: 'M10.5 1a4.5 4.5 0 0 0-4.36 5.64L1 11.8V15h3.2v-1.6h1.6v-1.6h1.6l1.56-1.56A4.5 4.5 0 1 0 10.5 1zm1.2 4.6a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6z',
  check: 'M6.27 10.87h.71l4.56-4.56-.71-.71-4.2 4.21-1.92-1.92L4 8.6l2.27 2.27z',
  error: 'M8.6 1c1.6.1 3.1.9 4.2 2 1.3 1.4 2 3.1 2 5.1 0 1.6-.6 3.1-1.6 4.4-1 1.2-2.4 2.1-4 2.4-1.6.3-3.2.1-4.6-.7-1.4-.8-2.5-2-3.1-3.5C.9 9.2.8 7.5 1.3 6c.5-1.6 1.4-2.9 2.8-3.8C5.4 1.3 7 .9 8.6 1zm.5 12.9c1.3-.3 2.5-1 3.4-2.1.8-1.1 1.3-2.4 1.2-3.8 0-1.6-.6-3.2-1.7-4.3-1-1-2.2-1.6-3.6-1.7-1.3-.1-2.7.2-3.8 1-1.1.8-1.9 1.9-2.3 3.3-.4 1.3-.4 2.7.2 4 .6 1.3 1.5 2.3 2.7 3 1.2.7 2.6.9 3.9.6zM7.9 7.5L10.3 5l.7.7-2.4 2.5 2.4 2.5-.7.7-2.4-2.5-2.4 2.5-.7-.7 2.4-2.5-2.4-2.5.7-.7 2.4 2.5z',
  warning: 'M7.56 1h.88l6.54 12.26-.44.74H1.44L1 13.26 7.56 1zM8 2.28L2.28 13H13.7L8 2.28zM8.625 12v-1h-1.25v1h1.25zm-1.25-2V6h1.25v4h-1.25z',
};

// --- state -----------------------------------------------------------------------------------

function readInitialState(): PanelState {
  const el = document.getElementById('aikm-initial-state');
  try {
    const parsed = JSON.parse(el?.textContent ?? 'null') as PanelState | null;
    if (parsed && typeof parsed === 'object' && parsed.filter) return parsed;
  } catch {
    /* fall through to the default */
  }
  return { filter: { days: 30 } };
}

const initial = readInitialState();
const saved = vscode.getState() as PanelState | undefined;
// After being hidden the page reloads with the HTML it was created with; the saved state is newer.
let state: PanelState = saved && saved.filter ? { ...saved, model: saved.model ?? initial.model } : initial;
let sort: { key: SortKey; desc: boolean } = { key: 'costUsd', desc: true };

function save(): void {
  vscode.setState(state);
}

const sameFilter = (a: DashboardFilter, b: DashboardFilter): boolean => a.days === b.days && (a.provider ?? '') === (b.provider ?? '') && (a.scope ?? 'workspace') === (b.scope ?? 'workspace');
// Names come with the model (a state saved by an older version may lack them: show the id).
const providerName = (id: string): string => state.model?.providerNames?.[id] ?? id;

function post(message: WebviewMessage): void {
  vscode.postMessage(message);
}

function setFilter(filter: DashboardFilter): void {
  if (sameFilter(filter, state.filter)) return;
  state = { ...state, filter };
  save();
  app.classList.add('loading');
  app.setAttribute('aria-busy', 'true');
  post({ type: 'filter', filter });
}

// --- static layout -----------------------------------------------------------------------------

const app = document.getElementById('app') ?? document.body.appendChild(h('main', { id: 'app' }));

const periodGroup = h('vscode-radio-group', { id: 'period', 'aria-label': 'Period' });
for (const d of PERIODS) periodGroup.append(h('vscode-radio', { name: 'period', value: d, label: `${d} days`, checked: state.filter.days === d }));
const radios = () => Array.from(periodGroup.querySelectorAll<HTMLElement & { checked: boolean; value: string }>('vscode-radio'));
const onPeriod = () => {
  const checked = radios().find((r) => r.checked);
  if (checked) setFilter({ ...state.filter, days: Number(checked.value) });
};
periodGroup.addEventListener('change', onPeriod);
// vscode-radio-group moves the checked radio on arrow keys without firing 'change'.
periodGroup.addEventListener('keyup', (e) => {
  if (e.key.startsWith('Arrow')) onPeriod();
});

const providerSelect = h('vscode-single-select', { id: 'provider', 'aria-label': 'Provider' }) as HTMLElement & { value: string };
providerSelect.addEventListener('change', () => setFilter({ ...state.filter, provider: providerSelect.value || undefined }));

// Whose usage the charts and tables show; shown only where VS Code keeps every workspace's apart.
const scopeSelect = h(
  'vscode-single-select',
  { id: 'scope', 'aria-label': 'Usage of' },
  h('vscode-option', { value: 'workspace' }, 'This workspace'),
  h('vscode-option', { value: 'all' }, 'All workspaces'),
) as HTMLElement & { value: string };
scopeSelect.addEventListener('change', () => setFilter({ ...state.filter, scope: scopeSelect.value === 'all' ? 'all' : 'workspace' }));
const scopeField = h('div', { class: 'field', id: 'scope-field', hidden: true }, h('span', { class: 'field-label', 'aria-hidden': 'true' }, 'Usage of'), scopeSelect);
let providerOptionsKey = '';

function syncFilterControls(model: DashboardModel | undefined): void {
  for (const r of radios()) r.checked = Number(r.value) === state.filter.days;
  scopeField.hidden = !model?.scopes;
  scopeSelect.value = state.filter.scope === 'all' ? 'all' : 'workspace';
  const ids = model?.providerIds ?? (state.filter.provider ? [state.filter.provider] : []);
  const key = `${ids.join(',')}|${state.filter.provider ?? ''}`;
  if (key !== providerOptionsKey) {
    providerOptionsKey = key;
    const options = [h('vscode-option', { value: '', selected: !state.filter.provider }, 'All providers')];
    for (const id of ids) options.push(h('vscode-option', { value: id, selected: state.filter.provider === id }, providerName(id)));
    providerSelect.replaceChildren(...options);
  }
}

function button(label: string, attrs: Record<string, string | boolean>, onClick: () => void): HTMLElement {
  const b = h('vscode-button', attrs, label);
  b.addEventListener('click', onClick);
  return b;
}

const subtitle = h('p', { class: 'subtitle', id: 'subtitle' });
const header = h(
  'header',
  { class: 'top' },
  h('div', { class: 'title' }, h('h1', null, icon(ICON.graph, 'icon title-icon'), 'AI usage & budget'), subtitle),
  h(
    'div',
    { class: 'controls', role: 'group', 'aria-label': 'Filters and export' },
    h('div', { class: 'field' }, h('span', { class: 'field-label', 'aria-hidden': 'true' }, 'Period'), periodGroup),
    h('div', { class: 'field' }, h('span', { class: 'field-label', 'aria-hidden': 'true' }, 'Provider'), providerSelect),
    scopeField,
    h(
      'div',
      { class: 'field export' },
      button('Export CSV', { secondary: true, id: 'export-csv', 'aria-label': 'Export usage as CSV' }, () => post({ type: 'export', format: 'csv' })),
      button('Export JSON', { secondary: true, id: 'export-json', 'aria-label': 'Export usage as JSON' }, () => post({ type: 'export', format: 'json' })),
    ),
  ),
);

const run = (command: PanelCommand) => () => post({ type: 'run', command });

const emptyState = h(
  'section',
  { class: 'card empty', id: 'empty', 'aria-labelledby': 'empty-title', hidden: true },
  icon(ICON.graph, 'icon empty-icon'),
  h('h2', { id: 'empty-title' }, 'No usage recorded yet'),
  h(
    'p',
    null,
    'Requests routed through the MCP server, the chat participant or the CLI show up here with their cost. Add a key to start, or record a request by hand.',
  ),
  h(
    'div',
    { class: 'actions' },
    button('Record usage', { id: 'empty-record' }, run('recordUsage')),
    button('Add API key', { id: 'empty-add-key', secondary: true }, run('addKey')),
  ),
);

const gauges = h('section', { class: 'gauges', 'aria-label': 'Budgets and totals' });

const canvas = h('canvas', { id: 'spend-chart', role: 'img' });
const legend = h('ul', { class: 'legend', id: 'chart-legend', 'aria-label': 'Providers in the chart (press to show or hide)' });
const chartTitle = h('h2', { id: 'chart-title' }, 'Daily spend');
const chartTotal = h('span', { class: 'card-meta', id: 'chart-total' });
const chartTable = h('details', { class: 'data-table', id: 'chart-data' });
chartTable.addEventListener('toggle', () => {
  state = { ...state, tableOpen: chartTable.open };
  save();
});
const chartCard = h(
  'section',
  { class: 'card', 'aria-labelledby': 'chart-title' },
  h('div', { class: 'card-head' }, chartTitle, chartTotal),
  legend,
  h('div', { class: 'chart-box' }, canvas),
  chartTable,
);

const modelsBody = h('div', { class: 'table-wrap' });
const modelsCard = h('section', { class: 'card', 'aria-labelledby': 'models-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'models-title' }, 'By model')), modelsBody);
const healthBody = h('div', { class: 'table-wrap' });
const healthCard = h(
  'section',
  { class: 'card', 'aria-labelledby': 'health-title' },
  h(
    'div',
    { class: 'card-head' },
    h('h2', { id: 'health-title' }, 'Key health'),
    button('Validate all', { secondary: true, id: 'validate-all', 'aria-label': 'Validate all keys' }, run('validateAllKeys')),
  ),
  healthBody,
);
const recentBody = h('div', { class: 'table-wrap' });
const recentMeta = h('span', { class: 'card-meta', id: 'recent-meta' });
const recentCard = h(
  'section',
  { class: 'card', id: 'recent-card', 'aria-labelledby': 'recent-title' },
  h('div', { class: 'card-head' }, h('h2', { id: 'recent-title' }, 'Recent requests'), recentMeta),
  recentBody,
);
const auditBody = h('div', { class: 'table-wrap' });
const auditCard = h('section', { class: 'card', 'aria-labelledby': 'audit-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'audit-title' }, 'Audit trail')), auditBody);
const live = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite', id: 'live' });

const usageSections = h('div', { class: 'usage', id: 'usage' }, chartCard, modelsCard);
// Recent requests get the full width (model names and errors need it); health and audit share a row.
app.replaceChildren(header, live, emptyState, gauges, usageSections, recentCard, h('div', { class: 'grid-2' }, healthCard, auditCard));

const chart = new SpendChart({
  canvas,
  legend,
  providerName,
  onToggle: (hidden) => {
    state = { ...state, hiddenSeries: hidden };
    save();
  },
});

// --- rendering ---------------------------------------------------------------------------------

function render(model: DashboardModel): void {
  const focusId = (document.activeElement as HTMLElement | null)?.dataset?.focusId;
  const scope = model.scopes ? (model.filter.scope === 'all' ? ' · all workspaces' : ' · this workspace') : '';
  const filterText = `${model.filter.days} days · ${model.filter.provider ? providerName(model.filter.provider) : 'all providers'}${scope}`;
  // Budgets are per person: where workspaces are kept apart, the gauges count all of them.
  subtitle.textContent = `Last ${filterText} · updated ${fmt.clock(model.generatedAt)}${model.scopes ? ' · budgets count all workspaces' : ''}`;
  syncFilterControls(model);

  emptyState.hidden = !model.empty;
  usageSections.hidden = model.empty;
  gauges.replaceChildren(gauge('day', model.budget.day, model.budget.burnRate), gauge('month', model.budget.month, model.budget.burnRate), totalsCard(model));
  if (!model.empty) {
    renderChart(model);
    modelsBody.replaceChildren(modelsTable(model));
  }
  healthBody.replaceChildren(healthTable(model));
  recentBody.replaceChildren(recentTable(model));
  recentMeta.textContent = model.recent.length ? `${model.recent.length === 1 ? '1 request' : `${model.recent.length} requests`}, newest first` : '';
  auditBody.replaceChildren(auditTable(model));

  if (focusId) (document.querySelector(`[data-focus-id="${CSS.escape(focusId)}"]`) as HTMLElement | null)?.focus();
}

function gauge(period: 'day' | 'month', s: PeriodStatus, rate: BurnRate): HTMLElement {
  const card = gaugeCard(period, s, rate);
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

function gaugeCard(period: 'day' | 'month', s: PeriodStatus, rate: BurnRate): HTMLElement {
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
      h('div', { class: 'actions' }, button('Set budget', { secondary: true, 'data-focus-id': `set-budget-${period}` }, run('setBudget'))),
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

function totalsCard(model: DashboardModel): HTMLElement {
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

function renderChart(model: DashboardModel): void {
  const { days, series } = model.chart;
  const total = series.reduce((s, x) => s + x.costUsd.reduce((a, b) => a + b, 0), 0);
  chartTitle.textContent = `Daily spend, last ${model.filter.days} days`;
  chartTotal.textContent = `${fmt.usd(total)} total`;
  const dayTotals = days.map((_, i) => series.reduce((s, x) => s + (x.costUsd[i] ?? 0), 0));
  let peak = -1;
  dayTotals.forEach((v, i) => {
    if (peak < 0 || v > dayTotals[peak]) peak = i;
  });
  canvas.setAttribute(
    'aria-label',
    series.length === 0
      ? `Daily spend chart: no spend in the last ${model.filter.days} days.`
      : `Daily spend chart stacked by provider (${series.map((s) => providerName(s.provider)).join(', ')}): ${fmt.usd(total)} over ${model.filter.days} days` +
          (peak >= 0 && dayTotals[peak] > 0 ? `, highest ${fmt.usd(dayTotals[peak])} on ${fmt.dayLong(days[peak])}` : '') +
          '. The data table below lists every day.',
  );
  chart.update(model, (state.hiddenSeries ?? []).filter((p) => series.some((s) => s.provider === p)));

  // The chart's text alternative: every day with spend, per provider.
  const table = h('table', { class: 'grid', id: 'chart-table' });
  table.append(h('caption', { class: 'sr-only' }, `Daily spend by provider, last ${model.filter.days} days (days without spend omitted)`));
  table.append(
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Day'), ...series.map((s) => h('th', { scope: 'col', class: 'num', 'data-provider': s.provider }, providerName(s.provider))), h('th', { scope: 'col', class: 'num' }, 'Total'))),
  );
  const body = h('tbody');
  days.forEach((d, i) => {
    if (dayTotals[i] <= 0) return;
    body.append(
      h(
        'tr',
        { 'data-day': d },
        h('th', { scope: 'row' }, fmt.dayLong(d)),
        ...series.map((s) => h('td', { class: 'num', 'data-provider': s.provider, 'data-value': s.costUsd[i] ?? 0 }, s.costUsd[i] ? fmt.usd(s.costUsd[i]) : '—')),
        h('td', { class: 'num total', 'data-value': dayTotals[i] }, fmt.usd(dayTotals[i])),
      ),
    );
  });
  if (!body.children.length) body.append(emptyRow(series.length + 2, 'No spend in this period.'));
  table.append(body);
  chartTable.open = state.tableOpen === true;
  chartTable.replaceChildren(h('summary', { 'data-focus-id': 'chart-data-summary' }, 'Data table'), table);
}

type SortKey = 'model' | 'requests' | 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'costUsd' | 'successRate' | 'meanLatencyMs';

function modelsTable(model: DashboardModel): HTMLElement {
  const cols: { key: SortKey; label: string; num: boolean }[] = [
    { key: 'model', label: 'Model', num: false },
    { key: 'requests', label: 'Requests', num: true },
    { key: 'inputTokens', label: 'Tokens in', num: true },
    { key: 'outputTokens', label: 'Tokens out', num: true },
    { key: 'cacheReadTokens', label: 'Cache read / write', num: true },
    { key: 'costUsd', label: 'Cost', num: true },
    { key: 'successRate', label: 'Success', num: true },
    { key: 'meanLatencyMs', label: 'Mean latency', num: true },
  ];
  const rows = [...model.models].sort((a, b) => {
    const av = sort.key === 'model' ? `${a.provider}/${a.model}` : (a[sort.key] ?? -1);
    const bv = sort.key === 'model' ? `${b.provider}/${b.model}` : (b[sort.key] ?? -1);
    const c = typeof av === 'string' ? av.localeCompare(bv as string) : av - (bv as number);
    return sort.desc ? -c : c;
  });
  const head = h(
    'tr',
    null,
    ...cols.map((c) => {
      const active = sort.key === c.key;
      const b = h(
        'button',
        { type: 'button', class: 'sort', 'data-focus-id': `sort-${c.key}`, title: `Sort by ${c.label.toLowerCase()}` },
        c.label,
        h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (sort.desc ? '▾' : '▴') : ''),
      );
      b.addEventListener('click', () => {
        sort = { key: c.key, desc: active ? !sort.desc : c.key !== 'model' };
        modelsBody.replaceChildren(modelsTable(model));
        (modelsBody.querySelector(`[data-focus-id="sort-${c.key}"]`) as HTMLElement | null)?.focus();
      });
      const col = c.key === 'cacheReadTokens' ? 'cache' : c.key;
      return h('th', { scope: 'col', class: c.num ? 'num' : undefined, 'data-col': col, 'aria-sort': active ? (sort.desc ? 'descending' : 'ascending') : undefined }, b);
    }),
  );
  const ids = model.providerIds;
  const body = h('tbody');
  for (const m of rows) {
    body.append(
      h(
        'tr',
        { 'data-provider': m.provider, 'data-model': m.model },
        h('th', { scope: 'row', class: 'model-cell' }, h('span', { class: `swatch c${colorSlot(m.provider, ids)}`, 'aria-hidden': 'true' }), h('span', { class: 'model-name' }, m.model), h('span', { class: 'provider-name' }, providerName(m.provider))),
        h('td', { class: 'num', 'data-col': 'requests', 'data-value': m.requests }, fmt.int(m.requests)),
        h('td', { class: 'num', 'data-col': 'inputTokens', 'data-value': m.inputTokens }, fmt.int(m.inputTokens)),
        h('td', { class: 'num', 'data-col': 'outputTokens', 'data-value': m.outputTokens }, fmt.int(m.outputTokens)),
        h('td', { class: 'num', 'data-col': 'cache', 'data-value': `${m.cacheReadTokens}/${m.cacheWriteTokens}` }, `${fmt.int(m.cacheReadTokens)} / ${fmt.int(m.cacheWriteTokens)}`),
        h('td', { class: 'num', 'data-col': 'costUsd', 'data-value': m.costUsd }, fmt.usd(m.costUsd)),
        h('td', { class: `num ${m.successRate < 1 ? 'warn' : ''}`, 'data-col': 'successRate', 'data-value': m.successRate }, fmt.percent(m.successRate * 100)),
        h('td', { class: 'num', 'data-col': 'meanLatencyMs', 'data-value': m.meanLatencyMs ?? '' }, fmt.ms(m.meanLatencyMs)),
      ),
    );
  }
  if (!rows.length) body.append(emptyRow(cols.length, 'No requests in this period.'));
  const t = model.totals;
  const foot = h(
    'tfoot',
    null,
    h(
      'tr',
      null,
      h('th', { scope: 'row' }, 'Total'),
      h('td', { class: 'num', 'data-col': 'requests', 'data-value': t.requests }, fmt.int(t.requests)),
      h('td', { class: 'num', 'data-col': 'inputTokens', 'data-value': t.inputTokens }, fmt.int(t.inputTokens)),
      h('td', { class: 'num', 'data-col': 'outputTokens', 'data-value': t.outputTokens }, fmt.int(t.outputTokens)),
      h('td', { class: 'num', 'data-col': 'cache' }, `${fmt.int(t.cacheReadTokens)} / ${fmt.int(t.cacheWriteTokens)}`),
      h('td', { class: 'num', 'data-col': 'costUsd', 'data-value': t.costUsd }, fmt.usd(t.costUsd)),
      h('td', { class: 'num', 'data-col': 'successRate', 'data-value': t.successRate }, t.requests ? fmt.percent(t.successRate * 100) : '—'),
      h('td', { class: 'num', 'data-col': 'meanLatencyMs' }, fmt.ms(t.meanLatencyMs)),
    ),
  );
  return h('table', { class: 'grid', id: 'models-table' }, h('caption', { class: 'sr-only' }, `Usage by model, last ${model.filter.days} days`), h('thead', null, head), body, foot);
}

/** A coloured status with an icon; `why` is shown on hover and read by screen readers after the text. */
function statusBadge(kind: 'ok' | 'warn' | 'error' | 'muted', text: string, why?: string): HTMLElement {
  const path = kind === 'ok' ? ICON.check : kind === 'error' ? ICON.error : kind === 'warn' ? ICON.warning : null;
  return h(
    'span',
    { class: `status ${kind}`, ...(why ? { title: why } : {}) },
    path ? icon(path) : h('span', { class: 'dot', 'aria-hidden': 'true' }),
    text,
    why ? h('span', { class: 'sr-only' }, `: ${why}`) : null,
  );
}

function healthTable(model: DashboardModel): HTMLElement {
  const body = h('tbody');
  for (const p of model.providers) {
    const provider = !p.enabled
      ? statusBadge('muted', 'Disabled')
      : !p.healthy
        ? statusBadge('error', 'Failing, cooling down')
        : p.requiresKey && p.keys.length === 0
          ? statusBadge('muted', 'No key')
          : !p.checked
            ? statusBadge('muted', 'Not checked')
            : p.consecutiveFailures > 0
              ? statusBadge('warn', 'Last request or check failed', p.lastError ?? undefined)
              : p.keys.some((k) => k.lastValidation === 'unreachable')
                ? statusBadge('warn', 'Not verified', 'The last check of a key could not reach the provider.')
                : statusBadge('ok', 'Healthy');
    const keys = p.keys.length
      ? h(
          'ul',
          { class: 'keys' },
          ...p.keys.map((k) =>
            h(
              'li',
              { 'data-key-id': k.id },
              h('code', { class: 'masked' }, k.masked),
              k.label ? h('span', { class: 'key-label' }, k.label) : null,
              k.status === 'healthy' && k.lastValidation === null
                ? statusBadge('muted', 'not validated')
                : k.status === 'healthy' && k.lastValidation === 'unreachable'
                  ? statusBadge('warn', 'not verified: provider unreachable', 'The last check could not reach the provider, so the key itself was not judged.')
                  : statusBadge(k.status === 'healthy' ? 'ok' : k.status === 'disabled' ? 'error' : 'warn', k.status),
              ...k.warnings.map((w) => h('span', { class: 'key-warning' }, w)),
            ),
          ),
        )
      : h('span', { class: 'muted' }, p.requiresKey ? 'No key stored' : 'No key needed');
    body.append(h('tr', { 'data-provider': p.id }, h('th', { scope: 'row' }, p.name), h('td', null, provider), h('td', null, keys)));
  }
  if (!model.providers.length) body.append(emptyRow(3, 'No providers.'));
  return h(
    'table',
    { class: 'grid', id: 'health-table' },
    h('caption', { class: 'sr-only' }, 'Key health per provider'),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Provider'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Keys (masked)'))),
    body,
  );
}

function recentTable(model: DashboardModel): HTMLElement {
  const body = h('tbody');
  for (const r of model.recent) {
    // A failure's message can be long: one line, cut with an ellipsis; the whole text stays in the
    // DOM (screen readers read it) and in the title (hover).
    const result = r.success
      ? statusBadge('ok', 'OK')
      : h('div', { class: 'result-failed' }, statusBadge('error', 'Failed'), r.error ? h('span', { class: 'error-text', title: r.error }, r.error) : null);
    body.append(
      h(
        'tr',
        { 'data-provider': r.provider },
        h('td', { class: 'nowrap' }, h('time', { datetime: r.at }, fmt.dateTime(r.at))),
        h('th', { scope: 'row', class: 'model-cell' }, h('span', { class: 'model-name' }, r.model), h('span', { class: 'provider-name' }, providerName(r.provider))),
        h('td', { class: 'num' }, `${fmt.short(r.inputTokens)} / ${fmt.short(r.outputTokens)}`),
        h('td', { class: 'num' }, fmt.usd(r.costUsd)),
        h('td', { class: 'num' }, fmt.ms(r.latencyMs)),
        h('td', { class: 'result' }, result),
      ),
    );
  }
  if (!model.recent.length) body.append(emptyRow(6, `No requests in the last ${model.filter.days} days.`));
  const cols: [string, string | undefined][] = [['Time', undefined], ['Model', undefined], ['Tokens in / out', 'num'], ['Cost', 'num'], ['Latency', 'num'], ['Result', 'result']];
  return h(
    'table',
    { class: 'grid', id: 'recent-table' },
    h('caption', { class: 'sr-only' }, `Most recent requests, last ${model.filter.days} days, newest first`),
    h('thead', null, h('tr', null, ...cols.map(([c, cls]) => h('th', { scope: 'col', class: cls }, c)))),
    body,
  );
}

function auditTable(model: DashboardModel): HTMLElement {
  const body = h('tbody');
  for (const a of model.audit) {
    body.append(
      h(
        'tr',
        null,
        h('td', { class: 'nowrap' }, h('time', { datetime: a.at }, fmt.dateTime(a.at))),
        h('th', { scope: 'row' }, fmt.auditActionLabel(a.action), a.count && a.count > 1 ? h('span', { class: 'count' }, ` ×${fmt.int(a.count)}`) : null),
        h('td', null, a.provider ? providerName(a.provider) : '—'),
        h('td', null, a.via),
        h('td', null, a.ok ? statusBadge('ok', 'OK') : statusBadge('error', 'Failed')),
        h('td', { class: 'detail' }, fmt.auditDetailText(a.action, a.detail)),
      ),
    );
  }
  if (!model.audit.length) body.append(emptyRow(6, 'No key operations yet.'));
  return h(
    'table',
    { class: 'grid', id: 'audit-table' },
    h('caption', { class: 'sr-only' }, 'Audit trail of key operations'),
    h('thead', null, h('tr', null, ...['Time', 'Action', 'Provider', 'Via', 'Result', 'Detail'].map((c) => h('th', { scope: 'col' }, c)))),
    body,
  );
}

function emptyRow(span: number, text: string): HTMLElement {
  return h('tr', { class: 'empty-row' }, h('td', { colspan: span }, text));
}

// --- wiring ----------------------------------------------------------------------------------

function onModel(msg: HostMessage): void {
  if (msg.setFilter) state = { ...state, filter: msg.model.filter };
  // A live update computed for the previous filter may cross a filter change: wait for ours.
  else if (!sameFilter(msg.model.filter, state.filter)) return;
  const changedFilter = !state.model || !sameFilter(state.model.filter, msg.model.filter);
  state = { ...state, model: msg.model };
  save();
  app.classList.remove('loading');
  app.removeAttribute('aria-busy');
  render(msg.model);
  if (changedFilter) live.textContent = `Showing ${msg.model.filter.provider ? providerName(msg.model.filter.provider) : 'all providers'}, last ${msg.model.filter.days} days.`;
}

window.addEventListener('message', (e: MessageEvent<unknown>) => {
  const msg = e.data as HostMessage | undefined;
  if (msg && msg.type === 'model' && msg.model && typeof msg.model === 'object') onModel(msg);
});

// VS Code updates the theme variables and body classes in place: recolour the chart.
new MutationObserver(() => chart.retheme()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
new MutationObserver(() => chart.retheme()).observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });

let scrollTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('scroll', () => {
  clearTimeout(scrollTimer);
  scrollTimer = setTimeout(() => {
    state = { ...state, scrollY: Math.round(window.scrollY) };
    save();
  }, 200);
});

syncFilterControls(state.model);
if (state.model && sameFilter(state.model.filter, state.filter)) {
  render(state.model);
  if (state.scrollY) requestAnimationFrame(() => window.scrollTo(0, state.scrollY ?? 0));
} else {
  app.classList.add('loading');
  app.setAttribute('aria-busy', 'true');
}
save();
post({ type: 'ready', filter: state.filter });
