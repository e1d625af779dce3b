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
import type { DashboardFilter, DashboardModel, HostMessage, PanelCommand, PanelState, WebviewMessage } from './protocol';
import { SpendChart } from './chart';
import { h, icon } from './dom';
import * as fmt from './format';
import { gauge, totalsCard } from './gauges';
import { auditTable, healthTable, modelsTable, recentTable } from './tables';
import { ICON, button, emptyRow } from './widgets';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: PanelState): void;
}
declare const acquireVsCodeApi: () => VsCodeApi;

const vscode = acquireVsCodeApi();
const PERIODS = [30, 90] as const;

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
const pricesNote = h('p', { class: 'prices-note', id: 'prices-note' });
const modelsCard = h('section', { class: 'card', 'aria-labelledby': 'models-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'models-title' }, 'By model')), modelsBody, pricesNote);
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
  gauges.replaceChildren(gauge('day', model.budget.day, model.budget.burnRate, run('setBudget')), gauge('month', model.budget.month, model.budget.burnRate, run('setBudget')), totalsCard(model));
  if (!model.empty) {
    renderChart(model);
    modelsBody.replaceChildren(modelsTable(model, providerName, modelsBody));
    pricesNote.textContent = `Prices: ${model.prices}. Each cost was priced when its request was recorded.`;
  }
  healthBody.replaceChildren(healthTable(model));
  recentBody.replaceChildren(recentTable(model, providerName));
  recentMeta.textContent = model.recent.length ? `${model.recent.length === 1 ? '1 request' : `${model.recent.length} requests`}, newest first` : '';
  auditBody.replaceChildren(auditTable(model, providerName));

  if (focusId) (document.querySelector(`[data-focus-id="${CSS.escape(focusId)}"]`) as HTMLElement | null)?.focus();
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
