// The panel's tables: usage by model (sortable), key health per provider, recent requests, audit trail.
import type { DashboardModel } from './protocol';
import { colorSlot } from './chart';
import { h } from './dom';
import * as fmt from './format';
import { emptyRow, statusBadge } from './widgets';

/** How the tables name a provider id. */
export type ProviderNames = (id: string) => string;

type SortKey = 'model' | 'requests' | 'inputTokens' | 'outputTokens' | 'cacheReadTokens' | 'costUsd' | 'successRate' | 'meanLatencyMs';

let sort: { key: SortKey; desc: boolean } = { key: 'costUsd', desc: true };

/** Usage by model; a column header sorts it and redraws it inside `container`. */
export function modelsTable(model: DashboardModel, providerName: ProviderNames, container: HTMLElement): HTMLElement {
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
        container.replaceChildren(modelsTable(model, providerName, container));
        (container.querySelector(`[data-focus-id="sort-${c.key}"]`) as HTMLElement | null)?.focus();
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

export function healthTable(model: DashboardModel): HTMLElement {
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

function failedResult(label: 'Failed' | 'Incomplete', error: string | undefined): HTMLElement {
  return h('div', { class: 'result-failed' }, statusBadge(label === 'Incomplete' ? 'warn' : 'error', label), error ? h('span', { class: 'error-text', title: error }, error) : null);
}

const PRICE_NOTE: Record<NonNullable<DashboardModel['recent'][number]['pricedBy']>, [string, string]> = {
  provider: ["provider's figure", 'The cost the provider reported in its reply'],
  override: ['your price', 'Priced with your override (aiKeyManager.pricing.overrides)'],
  correction: ['corrected price', 'Priced with a dated correction shipped with AI Key Manager: the price data is out of date for this model'],
  local: ['local', 'A local model: no charge'],
  none: ['no price known', 'No price is known for this model: recorded at $0. Add a price override to count it'],
};

/** The cost of a recent request, and what priced it when not the price data. */
function costCell(r: DashboardModel['recent'][number]): HTMLElement {
  const note = r.pricedBy && PRICE_NOTE[r.pricedBy];
  const title = note && (r.estimatedCostUsd !== undefined ? `${note[1]}; our estimate was ${fmt.usd(r.estimatedCostUsd)}` : note[1]);
  return h('td', { class: 'num' }, fmt.usd(r.costUsd), note ? h('span', { class: 'price-note', title }, note[0]) : null);
}

export function recentTable(model: DashboardModel, providerName: ProviderNames): HTMLElement {
  const body = h('tbody');
  for (const r of model.recent) {
    // A failure's message can be long: one line, cut with an ellipsis; the whole text stays in the
    // DOM (screen readers read it) and in the title (hover).
    const result = r.cached
      ? statusBadge('ok', 'Cached')
      : r.success
        ? statusBadge('ok', 'OK')
        : failedResult(r.incomplete ? 'Incomplete' : 'Failed', r.incomplete ? r.error?.replace(/^incomplete: /, '') : r.error);
    const retried = r.retries ? h('span', { class: 'retries' }, ` after ${fmt.int(r.retries)} ${r.retries === 1 ? 'retry' : 'retries'}`) : null;
    body.append(
      h(
        'tr',
        { 'data-provider': r.provider },
        h('td', { class: 'nowrap' }, h('time', { datetime: r.at }, fmt.dateTime(r.at))),
        h(
          'th',
          { scope: 'row', class: 'model-cell' },
          h('span', { class: 'model-name' }, r.model),
          h('span', { class: 'provider-name' }, providerName(r.provider)),
          r.key ? h('span', { class: 'key-name' }, h('span', { class: 'sr-only' }, 'key '), h('code', { class: 'masked' }, r.key)) : null,
        ),
        h('td', { class: 'num' }, `${fmt.short(r.inputTokens)} / ${fmt.short(r.outputTokens)}`),
        costCell(r),
        h('td', { class: 'num' }, fmt.ms(r.latencyMs)),
        h('td', { class: 'result' }, result, retried),
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

export function auditTable(model: DashboardModel, providerName: ProviderNames): HTMLElement {
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
