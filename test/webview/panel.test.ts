// The usage & budget panel in headless Chromium: the page the extension serves (panelHtml +
// dist/webview), fed with models that buildDashboard computes from a seeded core.
import { after, afterEach, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import type { Browser, ElementHandle } from 'playwright-core';
import type { AiKeyManagerCore, TrackInput } from '../../src/core/service';
import { buildDashboard, type DashboardFilter, type DashboardModel } from '../../src/core/dashboard';
import type { PriceOverride } from '../../src/core/pricing';
import type { WebviewMessage } from '../../src/webview/protocol';
import { launchBrowser, makeCore, openPanel, startServer, type PanelPage, type PanelServer } from './harness';
import { TestClock } from '../support/ports';
import { assertNoLeak } from '../support/leaks';
import { THEMES, type ThemeName } from './themes';

const NOW = '2026-03-20T15:00:00.000Z';
const BUDGET = { daily: 2, monthly: 20 };
// Prices (USD per million tokens) as overrides, so every cost below is known exactly.
const PRICES: PriceOverride[] = [
  { provider: 'anthropic', model: 'claude-sonnet-4-5', inputPerMTok: 3, outputPerMTok: 15, cacheReadPerMTok: 0.3, cacheWritePerMTok: 3.75 },
  { provider: 'anthropic', model: 'claude-haiku-4-5', inputPerMTok: 1, outputPerMTok: 5 },
  { provider: 'openai', model: 'gpt-4o', inputPerMTok: 2.5, outputPerMTok: 10 },
  { provider: 'google', model: 'gemini-2.5-flash', inputPerMTok: 0.3, outputPerMTok: 2.5 },
  { provider: 'mistral', model: 'mistral-large-latest', inputPerMTok: 2, outputPerMTok: 6 },
];

/** A core.track() input and the time it is recorded at; `keyOf`: served through the gateway by that provider's first key. */
interface Seed extends TrackInput {
  at: string;
  keyOf?: string;
}

const SEEDS: Seed[] = [
  { at: '2026-03-20T10:00:00Z', provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 200_000, outputTokens: 40_000, cacheReadTokens: 100_000, latencyMs: 1200 },
  { at: '2026-03-20T11:00:00Z', provider: 'openai', model: 'gpt-4o', inputTokens: 100_000, outputTokens: 20_000, latencyMs: 800 },
  { at: '2026-03-20T12:00:00Z', provider: 'openai', model: 'gpt-4o', inputTokens: 40_000, outputTokens: 5_000, success: false, latencyMs: 400, error: 'HTTP 500 from provider: the upstream model is overloaded, please retry the request in a few seconds' },
  // Gateway traffic: served after retries, a cache hit, a stream the client cut.
  { at: '2026-03-20T13:00:00Z', provider: 'openai', model: 'gpt-4o', inputTokens: 10_000, outputTokens: 1_000, latencyMs: 500, keyOf: 'openai', retries: 2 },
  { at: '2026-03-20T13:30:00Z', provider: 'openai', model: 'gpt-4o', inputTokens: 0, outputTokens: 0, latencyMs: 2, cached: true },
  { at: '2026-03-20T14:00:00Z', provider: 'anthropic', model: 'claude-haiku-4-5', inputTokens: 1_000, outputTokens: 200, success: false, latencyMs: 900, keyOf: 'anthropic', incomplete: true, error: 'incomplete: the client closed the connection' },
  { at: '2026-03-19T09:00:00Z', provider: 'anthropic', model: 'claude-haiku-4-5', inputTokens: 300_000, outputTokens: 60_000, latencyMs: 600 },
  { at: '2026-03-19T13:00:00Z', provider: 'google', model: 'gemini-2.5-flash', inputTokens: 1_000_000, outputTokens: 200_000, latencyMs: 300 },
  { at: '2026-03-15T08:30:00Z', provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 500_000, outputTokens: 100_000, cacheWriteTokens: 200_000, latencyMs: 2000 },
  { at: '2026-03-01T16:00:00Z', provider: 'openai', model: 'gpt-4o', inputTokens: 400_000, outputTokens: 80_000, latencyMs: 900 },
  { at: '2026-02-25T12:00:00Z', provider: 'google', model: 'gemini-2.5-flash', inputTokens: 2_000_000, outputTokens: 400_000, latencyMs: 350 },
  // Only inside the 90-day window:
  { at: '2026-02-10T12:00:00Z', provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 100_000, outputTokens: 10_000, latencyMs: 1500 },
  { at: '2026-01-05T12:00:00Z', provider: 'mistral', model: 'mistral-large-latest', inputTokens: 1_000_000, outputTokens: 100_000, latencyMs: 700 },
];

// Canary keys: right shape, and any 12-character piece of one in the page or a message is a leak.
const CANARIES = [
  'sk-proj-CANARYpanelQ1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8',
  'sk-ant-CANARYpanelZ9x8C7v6B5n4M3q2W1e0R9t8Y7u6I5o4P3a2-zz',
  // Used as a model name (a key pasted into the wrong field), see 'masks a key-shaped model name'.
  'sk-proj-CANARYmodelP0o9I8u7Y6t5R4e3W2q1A2s3D4f5G6h7J8k9',
];

function expectedCost(s: Seed): number {
  const p = PRICES.find((x) => x.model === s.model);
  assert.ok(p, `no test price for ${s.model}`);
  return (s.inputTokens * p.inputPerMTok + s.outputTokens * p.outputPerMTok + (s.cacheReadTokens ?? 0) * (p.cacheReadPerMTok ?? p.inputPerMTok) + (s.cacheWriteTokens ?? 0) * (p.cacheWritePerMTok ?? p.inputPerMTok)) / 1e6;
}

const DAY_MS = 86_400_000;
/** Seeds inside the last `days` local (UTC) days up to NOW, optionally of one provider. */
function inWindow(days: number, provider?: string): Seed[] {
  const from = Date.parse(NOW.slice(0, 10)) - (days - 1) * DAY_MS;
  return SEEDS.filter((s) => Date.parse(s.at) >= from && (!provider || s.provider === provider));
}
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: expected ${expected}, got ${actual}`);

async function seededCore(): Promise<{ core: AiKeyManagerCore; clock: TestClock }> {
  const clock = new TestClock(NOW);
  const core = makeCore({ clock, budget: BUDGET, prices: PRICES });
  await core.addKey('openai', { apiKey: CANARIES[0] }, { label: 'work' }, 'command');
  await core.addKey('anthropic', { apiKey: CANARIES[1] }, {}, 'command');
  for (const s of SEEDS) {
    clock.set(s.at);
    const { at: _at, keyOf, ...input } = s;
    core.track({ ...input, ...(keyOf && { keyId: core.listKeys(keyOf)[0].id }) }, 'command');
  }
  clock.set(NOW);
  return { core, clock };
}

/** '#rrggbb' as getComputedStyle reports it. */
function rgb(hex: string | undefined): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex ?? '');
  assert.ok(m, `not an opaque #rrggbb colour: ${hex}`);
  return `rgb(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)})`;
}

const data = async (el: ElementHandle | null): Promise<number> => Number(await el?.getAttribute('data-value'));

describe('usage & budget panel (webview)', () => {
  let browser: Browser;
  let server: PanelServer;
  let core: AiKeyManagerCore;
  let clock: TestClock;
  let panel: PanelPage | undefined;
  const posted: DashboardModel[] = [];

  /** What the host does: build the model for a filter; every model is kept for the canary scan. */
  const model = (filter: DashboardFilter): DashboardModel => {
    const m = buildDashboard(core, filter);
    posted.push(m);
    return m;
  };
  const open = async (filter: DashboardFilter = { days: 30 }, theme: ThemeName = 'dark', width?: number) => {
    const html = server.setState({ filter, model: model(filter) });
    assertNoLeak(html, CANARIES, 'the panel HTML');
    panel = await openPanel(browser, server, { theme, width });
    return panel;
  };

  before(async () => {
    ({ core, clock } = await seededCore());
    [browser, server] = await Promise.all([launchBrowser(), startServer()]);
    mkdirSync('test-results', { recursive: true });
  });

  /** Closes the open panel after checking it for canaries and problems. */
  const closePanel = async () => {
    const p = panel;
    panel = undefined;
    if (!p) return;
    try {
      assertNoLeak(await p.page.content(), CANARIES, 'the rendered page');
      assertNoLeak(JSON.stringify(p.messages), CANARIES, 'the messages the page posted');
    } finally {
      await p.context.close(); // a failed check must not leave the page open (the run would hang)
    }
    assert.deepEqual(p.problems, [], 'console errors, page errors or CSP violations');
  };

  afterEach(closePanel);

  after(async () => {
    try {
      for (const m of posted) assertNoLeak(JSON.stringify(m), CANARIES, 'a model posted to the panel');
    } finally {
      await browser?.close();
      await server?.close();
    }
  });

  it('shows the day and month gauges against their budgets, with the projection', async () => {
    const { page } = await open();
    const m = posted[posted.length - 1];
    const today = sum(inWindow(1).map(expectedCost));
    const month = sum(SEEDS.filter((s) => s.at.startsWith('2026-03')).map(expectedCost));
    close(m.budget.day.spent, today, 'core day spend');
    close(m.budget.month.spent, month, 'core month spend');

    for (const [period, spent, limit] of [['day', today, BUDGET.daily], ['month', month, BUDGET.monthly]] as const) {
      const g = page.locator(`#gauge-${period}`);
      close(Number(await g.locator('.spent').getAttribute('data-value')), spent, `${period} spent`);
      assert.equal(await g.locator('.spent').textContent(), `$${spent.toFixed(2)}`);
      assert.equal(await g.locator('.limit').textContent(), `$${limit.toFixed(2)}`);
      const pct = (spent / limit) * 100;
      const shownPct = Number(await g.locator('.badge').getAttribute('data-value'));
      close(shownPct, pct, `${period} percent`);
      // Rounded from the page's own value: 1.83 / 2 sits on the .5 boundary, where float sums differ.
      assert.equal(await g.locator('.percent').textContent(), `${Math.round(shownPct)}%`);
      const meter = g.getByRole('meter');
      assert.equal(Number(await meter.getAttribute('aria-valuenow')), Math.round(pct * 10) / 10);
      const status = period === 'day' ? m.budget.day : m.budget.month;
      close(Number(await g.locator('.projected').getAttribute('data-value')), status.projected, `${period} projection`);
      assert.ok(status.projected > spent, 'the projection extrapolates the part of the period still to come');
      assert.equal(await g.locator('.projected').textContent(), `$${status.projected.toFixed(2)}`);
    }
    // 1.83 of 2.00 is past the 80 % alert threshold; 8.78 of 20 is not.
    assert.match((await page.locator('#gauge-day').getAttribute('class')) ?? '', /\balert\b/);
    assert.match((await page.locator('#gauge-month').getAttribute('class')) ?? '', /\bok\b/);
    close(await data(await page.$('#totals .total-cost')), sum(inWindow(30).map(expectedCost)), '30-day total');
    assert.equal(await data(await page.$('#totals .total-requests')), inWindow(30).length);
  });

  it('charts daily spend with one dataset per provider and the right daily totals', async () => {
    const { page } = await open();
    const seeds = inWindow(30);
    const providers = [...new Set(seeds.map((s) => s.provider))].sort();
    const legend = await page.locator('#chart-legend .legend-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-provider') ?? ''));
    assert.deepEqual([...legend].sort(), providers, 'one legend entry (dataset) per provider with spend');

    // The data table is the chart's text alternative; it is built from the same datasets.
    const headers = await page.locator('#chart-table thead th[data-provider]').evaluateAll((els) => els.map((e) => e.getAttribute('data-provider') ?? ''));
    assert.deepEqual([...headers].sort(), providers);
    const days = [...new Set(seeds.map((s) => s.at.slice(0, 10)))].sort();
    const rows = await page.locator('#chart-table tbody tr').evaluateAll((els) => els.map((e) => e.getAttribute('data-day')));
    assert.deepEqual(rows, days, 'a row for every day with spend, in order');
    for (const day of days) {
      const row = page.locator(`#chart-table tr[data-day="${day}"]`);
      for (const p of providers) {
        const expected = sum(seeds.filter((s) => s.at.startsWith(day) && s.provider === p).map(expectedCost));
        close(Number(await row.locator(`td[data-provider="${p}"]`).getAttribute('data-value')), expected, `${day} ${p}`);
      }
      close(Number(await row.locator('td.total').getAttribute('data-value')), sum(seeds.filter((s) => s.at.startsWith(day)).map(expectedCost)), `${day} total`);
    }
    // The canvas has a text label and Chart.js has drawn bars on it.
    assert.match((await page.locator('#spend-chart').getAttribute('aria-label')) ?? '', /stacked by provider/);
    await page.waitForFunction(() => {
      const c = document.getElementById('spend-chart') as HTMLCanvasElement;
      const px = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
      let painted = 0;
      for (let i = 3; px && i < px.length; i += 4) if (px[i] > 0) painted++;
      return c.width > 300 && painted > 2000;
    });

    // Hiding a provider through the legend (keyboard) keeps its data in the table.
    const first = page.locator('#chart-legend .legend-item').first();
    await first.focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('#chart-legend .legend-item').first().getAttribute('aria-pressed'), 'false');
  });

  it('lists every model with the seeded requests, tokens, cost, success rate and latency', async () => {
    const { page } = await open();
    const seeds = inWindow(30);
    const models = [...new Set(seeds.map((s) => `${s.provider}/${s.model}`))];
    const rows = page.locator('#models-table tbody tr');
    assert.equal(await rows.count(), models.length);
    for (const key of models) {
      const [provider, name] = key.split('/');
      const mine = seeds.filter((s) => s.provider === provider && s.model === name);
      const row = page.locator(`#models-table tbody tr[data-provider="${provider}"][data-model="${name}"]`);
      const cell = (col: string) => row.locator(`td[data-col="${col}"]`);
      assert.equal(Number(await cell('requests').getAttribute('data-value')), mine.length, `${key} requests`);
      assert.equal(await cell('inputTokens').textContent(), sum(mine.map((s) => s.inputTokens)).toLocaleString('en-US'), `${key} tokens in`);
      assert.equal(await cell('outputTokens').textContent(), sum(mine.map((s) => s.outputTokens)).toLocaleString('en-US'), `${key} tokens out`);
      assert.equal(await cell('cache').getAttribute('data-value'), `${sum(mine.map((s) => s.cacheReadTokens ?? 0))}/${sum(mine.map((s) => s.cacheWriteTokens ?? 0))}`, `${key} cache`);
      close(Number(await cell('costUsd').getAttribute('data-value')), sum(mine.map(expectedCost)), `${key} cost`);
      close(Number(await cell('successRate').getAttribute('data-value')), mine.filter((s) => s.success !== false).length / mine.length, `${key} success`);
      close(Number(await cell('meanLatencyMs').getAttribute('data-value')), sum(mine.map((s) => s.latencyMs ?? 0)) / mine.length, `${key} latency`);
    }
    // Sorted by cost, most expensive first.
    const costs = await rows.evaluateAll((els) => els.map((e) => Number(e.querySelector('[data-col="costUsd"]')?.getAttribute('data-value'))));
    assert.deepEqual(costs, [...costs].sort((a, b) => b - a));
    // Where the prices come from is said under the table.
    assert.match((await page.locator('#prices-note').textContent()) ?? '', /^Prices: genai-prices \S+ \(the snapshot bundled with AI Key Manager\)/);
    // gpt-4o had one failure in five requests.
    assert.equal(await page.locator('#models-table tr[data-model="gpt-4o"] td[data-col="successRate"]').textContent(), '80%');
    // Key health lists masked keys only.
    const openaiKeys = await page.locator('#health-table tr[data-provider="openai"] code.masked').allTextContents();
    assert.equal(openaiKeys.length, 1);
    assert.match(openaiKeys[0], /^sk-pro.*…J7k8$/);
  });

  it('lists recent requests newest first, only inside the period and provider filter', async () => {
    // SEEDS are recorded out of time order (today, yesterday, last week, …, then 90-day-only ones last).
    const recentTimes = (page: PanelPage['page']) => page.locator('#recent-table tbody time').evaluateAll((els) => els.map((e) => e.getAttribute('datetime') ?? ''));
    const newestFirst = (seeds: Seed[]) => seeds.map((s) => new Date(s.at).toISOString()).sort().reverse();

    let { page } = await open({ days: 30 });
    assert.deepEqual(await recentTimes(page), newestFirst(inWindow(30)), 'the last 30 days, newest first');
    assert.ok(!(await page.locator('#recent-table').textContent())?.includes('mistral'), 'a request from January is not in the last 30 days');
    await closePanel();

    ({ page } = await open({ days: 90, provider: 'anthropic' }));
    const anthropic = newestFirst(inWindow(90, 'anthropic'));
    assert.ok(anthropic.length >= 3);
    assert.deepEqual(await recentTimes(page), anthropic, 'Anthropic in the last 90 days, newest first');
    assert.deepEqual([...new Set(await page.locator('#recent-table tbody .provider-name').allTextContents())], ['Anthropic']);
  });

  it('shows gateway traffic: the key that served (masked), retries, a cache hit and a cut response', async () => {
    const { page } = await open({ days: 1 });
    const row = (at: string) => page.locator(`#recent-table tbody tr:has(time[datetime="${new Date(at).toISOString()}"])`);
    const retried = row('2026-03-20T13:00:00Z');
    assert.match((await retried.locator('.key-name code').textContent()) ?? '', /^sk-pro.*…J7k8$/);
    assert.match((await retried.locator('.result').textContent()) ?? '', /OK after 2 retries/);
    // Priced by the test's overrides: the cost says so, and why on hover.
    const note = retried.locator('td.num .price-note');
    assert.equal(await note.textContent(), 'your price');
    assert.match((await note.getAttribute('title')) ?? '', /aiKeyManager\.pricing\.overrides/);
    assert.match((await row('2026-03-20T13:30:00Z').locator('.result').textContent()) ?? '', /Cached/);
    assert.equal(await row('2026-03-20T13:30:00Z').locator('.key-name').count(), 0, 'a cache hit used no key');
    const cut = row('2026-03-20T14:00:00Z');
    assert.match((await cut.locator('.result').textContent()) ?? '', /Incomplete.*client closed/);
    assert.match((await cut.locator('.key-name code').textContent()) ?? '', /^sk-ant…2-zz$/);
    assertNoLeak(await page.content(), CANARIES, 'the panel page');
  });

  for (const width of [1280, 700]) {
    it(`lays out recent requests and the tables readably at ${width} px (screenshot test-results/panel-recent-${width}.png)`, async () => {
      const { page } = await open({ days: 30 }, 'dark', width);
      await page.waitForTimeout(400); // the chart's short animation
      // Nothing makes the page scroll sideways.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the window`);
      // The card spans the content width rather than half of it.
      const [card, app] = await Promise.all([page.locator('#recent-card').boundingBox(), page.locator('#app').boundingBox()]);
      assert.ok(card && app && Math.abs(card.width - app.width) < 2, `the recent requests card is ${card?.width} px wide in a ${app?.width} px page`);
      // Model names never break (e.g. at the hyphen of gpt-4o): one line box each.
      const lines = await page.locator('#recent-table .model-name').evaluateAll((els) => els.map((e) => [e.textContent, e.getClientRects().length] as const));
      assert.ok(lines.length > 0);
      for (const [name, n] of lines) assert.equal(n, 1, `${name} wraps over ${n} lines`);
      // A long error is cut to one line with an ellipsis; the full text is in the title and the DOM (screen readers).
      const failed = SEEDS.find((s) => s.error)!;
      const err = page.locator('#recent-table .error-text', { hasText: failed.error });
      assert.equal(await err.count(), 1);
      assert.equal(await err.getAttribute('title'), failed.error);
      assert.equal(await err.textContent(), failed.error);
      const box = await err.evaluate((e) => ({ lines: e.getClientRects().length, clipped: e.scrollWidth > e.clientWidth, ellipsis: getComputedStyle(e).textOverflow }));
      assert.deepEqual(box, { lines: 1, clipped: true, ellipsis: 'ellipsis' });
      // Every table fits its card: no column is cut off or needs sideways scrolling.
      const tables = await page.locator('.table-wrap').evaluateAll((els) => els.map((e) => [e.querySelector('table')?.id, e.scrollWidth - e.clientWidth] as const));
      assert.ok(tables.length >= 4);
      for (const [id, over] of tables) assert.ok(over <= 0, `#${id} is ${over} px wider than its card`);
      // Model names in the by-model table do not break either.
      for (const [name, n] of await page.locator('#models-table .model-name').evaluateAll((els) => els.map((e) => [e.textContent, e.getClientRects().length] as const))) {
        assert.equal(n, 1, `${name} wraps over ${n} lines in the by-model table`);
      }
      await page.screenshot({ path: `test-results/panel-recent-${width}.png`, fullPage: true });
    });
  }

  it('labels audit actions properly and says "Not checked" until a provider was heard from', async () => {
    const p = await open();
    const { page } = p;
    // Tracked requests are audited too, but the panel lists them under recent requests, not here.
    assert.ok(core.audit.list().some((e) => e.action === 'track_request'), 'the seeded requests were audited');
    assert.deepEqual(await page.locator('#audit-table tbody th').allTextContents(), ['Add API key', 'Add API key']);
    // Ollama needs no key and nothing reached it yet: not "Healthy".
    const local = page.locator('#health-table tr[data-provider="local"] td').first();
    assert.equal((await local.textContent())?.trim(), 'Not checked');
    // The keys were never validated: the key says so; the provider is still known to work through its requests.
    assert.match((await page.locator('#health-table li[data-key-id]').first().textContent()) ?? '', /not validated/);
    core.health.success('local'); // e.g. Validate All reached the server
    await p.send({ type: 'model', model: model({ days: 30 }) });
    await page.waitForFunction(() => document.querySelector('#health-table tr[data-provider="local"] td')?.textContent?.trim() === 'Healthy');
  });

  it('never shows a green Healthy beside an unreachable check, and shows audit details as words', async () => {
    const [key] = core.listKeys('anthropic');
    assert.ok(key, 'the seed has an Anthropic key');
    // As after a reload: the key's last check is stored, the provider's health (in memory) is not.
    await core.keys.recordValidation(key.id, 'unreachable');
    await core.setBudget({ daily: 1, enforce: true }, 'tool');
    const p = await open();
    const { page } = p;
    const row = page.locator('#health-table tr[data-provider="anthropic"]');
    const providerCell = () => row.locator('td').first();
    assert.equal((await providerCell().textContent())?.trim(), 'Not verified: The last check of a key could not reach the provider.');
    assert.equal(await row.locator('td .status').first().getAttribute('class'), 'status warn');
    const badge = row.locator(`li[data-key-id="${key.id}"] .status`);
    assert.equal(await badge.getAttribute('class'), 'status warn');
    assert.match((await badge.textContent()) ?? '', /^not verified: provider unreachable: The last check could not reach the provider, so the key itself was not judged\.$/);
    assert.ok(!((await row.textContent()) ?? '').includes('Healthy'), 'no Healthy in the row');
    const budgetRow = page.locator('#audit-table tbody tr', { has: page.locator('th', { hasText: 'Set budget' }) }).first();
    assert.equal((await budgetRow.locator('td.detail').textContent())?.trim(), 'daily $1, enforced');
    // A failed request or check since start-up says so, with what failed.
    core.health.failure('anthropic', 'Connection refused by 127.0.0.1:9.');
    await p.send({ type: 'model', model: model({ days: 30 }) });
    await page.waitForFunction(() => /^Last request or check failed/.test(document.querySelector('#health-table tr[data-provider="anthropic"] td')?.textContent?.trim() ?? ''));
    assert.equal((await providerCell().textContent())?.trim(), 'Last request or check failed: Connection refused by 127.0.0.1:9.');
    core.health.success('anthropic');
    await core.setBudget({ daily: 0, enforce: false }, 'tool');
  });

  it('the provider filter posts a filter message, and the host’s answer changes the numbers', async () => {
    const p = await open();
    const { page } = p;
    const allCost = await data(await page.$('#totals .total-cost'));
    assert.deepEqual(p.messages[0], { type: 'ready', filter: { days: 30 } });

    const filterMsg = p.nextMessage((m) => m.type === 'filter');
    await page.locator('#provider').click();
    await page.locator('#provider').getByRole('option', { name: 'OpenAI', exact: true }).click();
    const msg = (await filterMsg) as Extract<WebviewMessage, { type: 'filter' }>;
    assert.deepEqual(msg.filter, { days: 30, provider: 'openai' });
    assert.equal(await page.locator('#app').getAttribute('aria-busy'), 'true', 'busy until the host answers');

    await p.send({ type: 'model', model: model(msg.filter) });
    await page.waitForFunction(() => document.getElementById('app')?.getAttribute('aria-busy') === null);
    const openai = inWindow(30, 'openai');
    close(await data(await page.$('#totals .total-cost')), sum(openai.map(expectedCost)), 'OpenAI-only total');
    assert.notEqual(await data(await page.$('#totals .total-cost')), allCost);
    assert.deepEqual(await page.locator('#models-table tbody tr').evaluateAll((els) => els.map((e) => e.getAttribute('data-model'))), ['gpt-4o']);
    assert.deepEqual(await page.locator('#chart-legend .legend-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-provider'))), ['openai']);
    assert.match((await page.locator('#subtitle').textContent()) ?? '', /OpenAI/);

    // A live update computed for the old filter that crosses the change is ignored.
    await p.send({ type: 'model', model: model({ days: 30 }) });
    await page.waitForTimeout(100);
    close(await data(await page.$('#totals .total-cost')), sum(openai.map(expectedCost)), 'still OpenAI-only');
  });

  it('the period filter (keyboard) switches to 90 days and adds older providers', async () => {
    const p = await open();
    const { page } = p;
    await page.locator('vscode-radio[value="30"]').focus();
    const filterMsg = p.nextMessage((m) => m.type === 'filter');
    await page.keyboard.press('ArrowRight');
    const msg = (await filterMsg) as Extract<WebviewMessage, { type: 'filter' }>;
    assert.deepEqual(msg.filter, { days: 90 });
    await p.send({ type: 'model', model: model(msg.filter) });
    await page.waitForFunction(() => document.querySelectorAll('#chart-legend .legend-item').length === 4);
    const providers = [...new Set(inWindow(90).map((s) => s.provider))].sort();
    assert.deepEqual((await page.locator('#chart-legend .legend-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-provider') ?? ''))).sort(), providers);
    close(await data(await page.$('#totals .total-cost')), sum(inWindow(90).map(expectedCost)), '90-day total');
  });

  it('is keyboard accessible: Tab reaches the filters and the export buttons, which post export messages', async () => {
    const p = await open();
    const { page } = p;
    const reached: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      const id = await page.evaluate(() => {
        const a = document.activeElement as HTMLElement | null;
        return a?.id || a?.closest('[id]')?.id || a?.tagName || '';
      });
      reached.push(id);
    }
    for (const id of ['period', 'provider', 'export-csv', 'export-json']) assert.ok(reached.some((r) => r === id), `Tab never reached #${id} (reached ${reached.join(', ')})`);
    assert.ok(reached.indexOf('period') < reached.indexOf('provider'), 'period comes before provider in tab order');

    // Visible focus: reached by keyboard, the export button draws an outline in the theme's focus colour.
    await page.locator('#export-json').focus();
    await page.keyboard.press('Shift+Tab');
    const outline = () =>
      page.locator('#export-csv').evaluate((el) => {
        const cs = getComputedStyle(el);
        return { focused: document.activeElement === el, style: cs.outlineStyle, width: parseFloat(cs.outlineWidth), color: cs.outlineColor };
      });
    const focused = await outline();
    assert.equal(focused.focused, true);
    assert.equal(focused.style, 'solid');
    assert.ok(focused.width >= 1, `outline ${focused.width} px`);
    assert.equal(focused.color, rgb(THEMES.dark.vars['--vscode-focusBorder']));
    await page.locator('#export-json').focus();
    assert.equal((await outline()).style, 'none', 'no outline without focus');
    await page.keyboard.press('Shift+Tab');
    const exportMsg = p.nextMessage((m) => m.type === 'export');
    await page.keyboard.press('Enter');
    assert.deepEqual(await exportMsg, { type: 'export', format: 'csv' });
    const jsonMsg = p.nextMessage((m) => m.type === 'export');
    await page.locator('#export-json').click();
    assert.deepEqual(await jsonMsg, { type: 'export', format: 'json' });

    // Tables have column headers; the chart has a data table alternative.
    for (const t of ['models-table', 'chart-table', 'health-table', 'recent-table', 'audit-table']) {
      assert.ok((await page.locator(`#${t} thead th[scope="col"]`).count()) >= 3, `#${t} has column headers`);
    }
  });

  it('updates live when the host pushes a new model, and restores its filter after a reload', async () => {
    const p = await open();
    const { page } = p;
    const before = await data(await page.$('#gauge-day .spent'));
    clock.set('2026-03-20T14:00:00Z');
    core.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 20_000, outputTokens: 1_000, latencyMs: 500 }, 'command');
    clock.set(NOW);
    SEEDS.push({ at: '2026-03-20T14:00:00Z', provider: 'openai', model: 'gpt-4o', inputTokens: 20_000, outputTokens: 1_000, latencyMs: 500 });
    await p.send({ type: 'model', model: model({ days: 30 }) });
    await page.waitForFunction((b) => Number(document.querySelector('#gauge-day .spent')?.getAttribute('data-value')) !== b, before);
    close(await data(await page.$('#gauge-day .spent')), before + 0.06, 'day spend after a new request');
    // The new request is the newest by time, so it heads the recent requests.
    const first = page.locator('#recent-table tbody tr').first();
    assert.equal(await first.locator('th .model-name').textContent(), 'gpt-4o');
    assert.equal(await first.locator('time').getAttribute('datetime'), '2026-03-20T14:00:00.000Z');

    // Choose a filter, then reload as VS Code does when a hidden panel is shown again.
    const filterMsg = p.nextMessage((m) => m.type === 'filter');
    await page.locator('#provider').click();
    await page.locator('#provider').getByRole('option', { name: 'Google Gemini', exact: true }).click();
    const msg = (await filterMsg) as Extract<WebviewMessage, { type: 'filter' }>;
    await p.send({ type: 'model', model: model(msg.filter) });
    await page.waitForFunction(() => document.getElementById('app')?.getAttribute('aria-busy') === null);
    const ready = p.nextMessage((m) => m.type === 'ready');
    await page.reload();
    assert.deepEqual(((await ready) as Extract<WebviewMessage, { type: 'ready' }>).filter, { days: 30, provider: 'google' });
    close(await data(await page.$('#totals .total-cost')), sum(inWindow(30, 'google').map(expectedCost)), 'restored Google-only total');
    assert.equal(await page.locator('#provider').evaluate((el) => (el as HTMLElement & { value: string }).value), 'google');
  });

  it('shows the empty state with first-step buttons when nothing is recorded', async () => {
    const saved = core;
    const emptyClock = new TestClock(NOW);
    core = makeCore({ clock: emptyClock, budget: BUDGET, prices: PRICES });
    try {
      const p = await open();
      const { page } = p;
      assert.equal(posted[posted.length - 1].empty, true);
      assert.ok(await page.locator('#empty').isVisible());
      assert.ok(await page.locator('#usage').isHidden());
      assert.equal(await page.locator('#empty h2').textContent(), 'No usage recorded yet');
      const record = p.nextMessage((m) => m.type === 'run');
      await page.getByRole('button', { name: 'Record usage' }).click();
      assert.deepEqual(await record, { type: 'run', command: 'recordUsage' });
      const add = p.nextMessage((m) => m.type === 'run');
      await page.getByRole('button', { name: 'Add API key' }).focus();
      await page.keyboard.press('Enter');
      assert.deepEqual(await add, { type: 'run', command: 'addKey' });
      await page.screenshot({ path: 'test-results/panel-empty.png', fullPage: true });
    } finally {
      core = saved;
    }
  });

  it('masks a model name shaped like an API key in the tables', async () => {
    const saved = core;
    const keyModel = CANARIES[2];
    const keyClock = new TestClock(NOW);
    core = makeCore({ clock: keyClock, budget: BUDGET, prices: [...PRICES, { provider: 'openai', model: keyModel, inputPerMTok: 1, outputPerMTok: 1 }] });
    try {
      core.track({ provider: 'openai', model: keyModel, inputTokens: 1000, outputTokens: 100, success: false, error: `model ${keyModel} not found` }, 'command');
      const { page } = await open();
      // The page, the messages and every model posted are scanned for the canary after the test.
      const shown = [...(await page.locator('#models-table .model-name').allTextContents()), ...(await page.locator('#recent-table .model-name').allTextContents())];
      assert.equal(shown.length, 2);
      for (const name of shown) assert.match(name, /^sk-pro…[A-Za-z0-9]{4}$/);
    } finally {
      core = saved;
    }
  });

  for (const theme of ['light', 'dark', 'high-contrast'] as const) {
    it(`renders with the ${theme} theme's colours (screenshot test-results/panel-${theme}.png)`, async () => {
      const { page } = await open({ days: 30 }, theme);
      await page.waitForTimeout(400); // let the chart's short animation finish
      const vars = THEMES[theme].vars;
      const css = await page.evaluate(() => {
        const st = (sel: string) => getComputedStyle(document.querySelector(sel)!);
        const card = st('#recent-card');
        return {
          body: [st('body').backgroundColor, st('body').color],
          card: card.backgroundColor,
          cardBorder: [card.borderTopStyle, parseFloat(card.borderTopWidth), card.borderTopColor],
          cardBorders: Array.from(document.querySelectorAll('.card:not([hidden])')).map((c) => getComputedStyle(c).borderTopColor),
          cellBorders: [...new Set(Array.from(document.querySelectorAll('table.grid tbody td')).map((c) => getComputedStyle(c).borderBottomColor))],
          meterBorder: st('.meter').borderTopColor,
          legendBorders: [...new Set(Array.from(document.querySelectorAll('.legend-item')).map((c) => getComputedStyle(c).borderTopColor))],
          link: st('.data-table summary').color,
          error: st('#recent-table .status.error').color,
        };
      });
      // The page paints with the theme's own variables, not with colours of its own.
      assert.deepEqual(css.body, [rgb(vars['--vscode-editor-background']), rgb(vars['--vscode-foreground'])]);
      assert.equal(css.card, rgb(vars['--vscode-editorWidget-background']));
      assert.equal(css.link, rgb(vars['--vscode-textLink-foreground']));
      assert.equal(css.error, rgb(vars['--vscode-errorForeground']));
      if (theme === 'high-contrast') {
        // High contrast: cards, table rules, the meters and the legend buttons all draw the contrast border.
        const border = rgb(vars['--vscode-contrastBorder']);
        assert.deepEqual(css.cardBorder, ['solid', 1, border]);
        assert.ok(css.cardBorders.length >= 6 && css.cardBorders.every((c) => c === border), JSON.stringify(css.cardBorders));
        assert.deepEqual(css.cellBorders, [border]);
        assert.equal(css.meterBorder, border);
        assert.deepEqual(css.legendBorders, [border]);
      } else {
        assert.equal(css.cardBorder[2], rgb(vars['--vscode-widget-border']));
        assert.deepEqual(css.legendBorders, ['rgba(0, 0, 0, 0)'], 'legend buttons have no border outside high contrast');
      }
      await page.screenshot({ path: `test-results/panel-${theme}.png`, fullPage: true });
    });
  }
});

describe('usage & budget panel (webview): this workspace or all workspaces', () => {
  it('shows whose usage where VS Code keeps workspaces apart, and budgets always count all of them', async () => {
    const clock = new TestClock(NOW);
    const core = makeCore({ clock, budget: BUDGET, prices: PRICES, allUsage: true });
    core.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 100_000, outputTokens: 0 }, 'command'); // this workspace: $0.25
    // Another window's request: in the all-workspaces usage only.
    core.allUsage!.record({ at: NOW, provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 10, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 1.5, success: true });
    const [browser, server] = await Promise.all([launchBrowser(), startServer()]);
    try {
      server.setState({ filter: { days: 30 }, model: buildDashboard(core, { days: 30 }) });
      const p = await openPanel(browser, server);
      const { page } = p;
      await page.waitForSelector('#scope-field:not([hidden])');
      close(await data(await page.$('#totals .total-cost')), 0.25, 'this workspace');
      close(await data(await page.$('#gauge-day .spent')), 1.75, 'the budget gauge counts every workspace');
      assert.match((await page.locator('#subtitle').textContent()) ?? '', /this workspace · updated .* · budgets count all workspaces/);
      const filterMsg = p.nextMessage((m) => m.type === 'filter');
      await page.locator('#scope').click();
      await page.locator('#scope').getByRole('option', { name: 'All workspaces', exact: true }).click();
      const msg = (await filterMsg) as Extract<WebviewMessage, { type: 'filter' }>;
      assert.deepEqual(msg.filter, { days: 30, scope: 'all' });
      await p.send({ type: 'model', model: buildDashboard(core, msg.filter) });
      await page.waitForFunction(() => /all workspaces ·/.test(document.getElementById('subtitle')?.textContent ?? ''));
      close(await data(await page.$('#totals .total-cost')), 1.75, 'all workspaces');
      await p.context.close();
      // Headless (one ledger per AIKM_HOME): no such choice.
      const headless = makeCore({ clock, budget: BUDGET, prices: PRICES });
      server.setState({ filter: { days: 30 }, model: buildDashboard(headless, { days: 30 }) });
      const h = await openPanel(browser, server);
      await h.page.waitForSelector('#app:not(.loading)');
      assert.equal(await h.page.locator('#scope-field').isHidden(), true);
      await h.context.close();
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
