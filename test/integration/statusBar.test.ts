import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { activateExtension } from './helpers';
import type { AiKeyManagerTestApi } from '../../src/extension';
import type { StatusBarSnapshot } from '../../src/vscode/statusBar';
import { formatUsd } from '../../src/core/money';
import { assertNoLeak } from '../support/leaks';
import { waitFor, waitUntil } from '../support/waitFor';

const WARNING = 'statusBarItem.warningBackground';
const ERROR = 'statusBarItem.errorBackground';

const snapshot = async (): Promise<StatusBarSnapshot> =>
  (await vscode.commands.executeCommand('aiKeyManager.debug.statusBar')) as StatusBarSnapshot;

/** Polls the status bar until `cond` holds; fails after `ms`, showing what it last showed. */
const until = (cond: (s: StatusBarSnapshot) => boolean, what: string, ms = 1000): Promise<StatusBarSnapshot> =>
  waitUntil(snapshot, cond, `the status bar to show ${what}`, { timeoutMs: ms });

const money = (v: number): string => `$${v.toFixed(2)}`;

describe('status bar', () => {
  let api: AiKeyManagerTestApi;
  const config = () => vscode.workspace.getConfiguration('aiKeyManager');
  const spentToday = () => api.core.budget().day.spent;
  const track = (inputTokens: number, model = 'gpt-4o') => api.core.track({ provider: 'openai', model, inputTokens, outputTokens: 0 }, 'tool');

  before(async () => {
    ({ api } = await activateExtension());
    await api.core.resetUsage('system');
    for (const k of ['budget.daily', 'budget.monthly', 'budget.alertThreshold', 'statusBar.mode']) await config().update(k, undefined, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    for (const k of ['budget.daily', 'budget.monthly', 'budget.alertThreshold', 'statusBar.mode', 'pricing.overrides']) await config().update(k, undefined, vscode.ConfigurationTarget.Global);
    await api.core.resetUsage('system');
  });

  it('shows a first step, not "$0.00 today", while there is no key, no spend and no budget', async () => {
    for (const k of api.core.listKeys()) if (!k.id.startsWith('env:')) await api.core.removeKey(k.provider, k.id, 'system');
    const s = await until((x) => x.text === '$(key) Add an API key', 'the first step');
    assert.equal(s.command, 'aiKeyManager.addKey', 'a click adds a key');
    assert.match(s.tooltip, /no API keys yet\. Click to add your first key/);
    assert.equal(s.accessibilityLabel, s.tooltip);
    await api.core.addKey('openai', { apiKey: `sk-proj-CANARY${randomBytes(24).toString('hex')}` }, {}, 'system');
    await until((x) => x.text === '$(credit-card) $0.00 today', 'the budget indicator once a key exists');
  });

  it('shows today’s spend without a limit and opens the panel on click', async () => {
    const s = await until((x) => x.text === '$(credit-card) $0.00 today', 'an empty day');
    assert.equal(s.visible, true);
    assert.equal(s.backgroundColor, undefined);
    assert.match(s.tooltip, /Today: \*\*\$0\.00\*\* no limit/);
    assert.match(s.tooltip, /No requests recorded today/);
    assert.equal(s.command, 'aiKeyManager.showPanel', 'a click opens the usage & budget panel');
    // Screen readers hear words, not "$(credit-card)".
    assert.equal(s.accessibilityLabel, 'AI spend today: $0.00, no daily budget. This month: $0.00, no monthly budget. Opens the usage and budget panel.');
  });

  it('moves within a second of a request recorded through core.track', async () => {
    const before = await snapshot();
    const started = Date.now();
    track(200_000); // $0.50 at gpt-4o's $2.50 / MTok input
    const s = await until((x) => x.text !== before.text, 'the new spend');
    assert.ok(Date.now() - started <= 1000);
    assert.equal(s.text, `$(credit-card) ${money(spentToday())} today`);
    assert.ok(spentToday() > 0);
  });

  it('moves within a second of a request recorded by an MCP tool and by the recordUsage command', async () => {
    const [def] = await api.mcp.provideMcpServerDefinitions();
    const resolved = await api.mcp.resolveMcpServerDefinition(def);
    const client = new Client({ name: 'status-bar-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(resolved.uri.toString()), { requestInit: { headers: resolved.headers } }));
    try {
      const before = await snapshot();
      const r = await client.callTool({ name: 'track_request', arguments: { provider: 'openai', model: 'gpt-4o', input_tokens: 400_000, output_tokens: 0 } });
      assert.ok(!r.isError, JSON.stringify(r.content));
      const s = await until((x) => x.text !== before.text, 'the MCP-recorded spend');
      assert.equal(s.text, `$(credit-card) ${money(spentToday())} today`);
    } finally {
      await client.close();
    }
    const before = await snapshot();
    await vscode.commands.executeCommand('aiKeyManager.recordUsage', { provider: 'openai', model: 'gpt-4o', inputTokens: 100_000, outputTokens: 0 });
    await until((x) => x.text !== before.text && x.text.includes(money(spentToday())), 'the command-recorded spend');
  });

  it('throttles bursts of requests to a few renders', async () => {
    const before = await snapshot();
    for (let i = 0; i < 50; i++) track(1000);
    const s = await until((x) => x.text.includes(money(spentToday())), 'the burst total');
    await new Promise((r) => setTimeout(r, 300));
    const after = await snapshot();
    assert.ok(after.renders - before.renders <= 3, `${after.renders - before.renders} renders for 50 requests`);
    assert.equal(after.text, s.text);
  });

  it('shows the daily limit, then warning and error backgrounds at the alert threshold and when exceeded', async () => {
    const spent = spentToday();
    await vscode.commands.executeCommand('aiKeyManager.setBudget', { daily: 1000, alertThreshold: 0.8 });
    let s = await until((x) => x.text === `$(credit-card) ${money(spent)} / $1,000`, 'the daily limit');
    assert.equal(s.backgroundColor, undefined);
    assert.match(s.tooltip, /of \$1,000 \(\d+%\)/);

    await vscode.commands.executeCommand('aiKeyManager.setBudget', { daily: Math.round((spent / 0.9) * 100) / 100 });
    s = await until((x) => x.backgroundColor === WARNING, 'the alert background');
    assert.match(s.tooltip, /alert/);
    assert.match(s.accessibilityLabel ?? '', /^AI spend today: \$[\d.,]+ of the \$[\d.,]+ daily budget \(\d+%\)\. .* Budget alert\. Opens the usage and budget panel\.$/);

    await vscode.commands.executeCommand('aiKeyManager.setBudget', { daily: Math.round((spent / 0.9) * 100) / 100 + 10 });
    await until((x) => x.backgroundColor === undefined, 'no background under the threshold');

    // A request takes today's spend over the limit.
    await vscode.commands.executeCommand('aiKeyManager.setBudget', { daily: Math.ceil(spent) + 1 });
    await until((x) => x.backgroundColor === undefined, 'no background before the request');
    track(1_000_000); // $2.50
    s = await until((x) => x.backgroundColor === ERROR, 'the exceeded background');
    assert.match(s.tooltip, /exceeded/);

    // The monthly budget alone also colours it.
    await config().update('budget.daily', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('aiKeyManager.setBudget', { monthly: 1 });
    s = await until((x) => x.backgroundColor === ERROR && x.text.endsWith(' today'), 'the exceeded monthly budget');
    assert.match(s.tooltip, /This month \(\d{4}-\d{2}\): \*\*\$[\d.,]+\*\* of \$1 \(\d+%\) — \*\*exceeded\*\*/);
    assert.match(s.tooltip, /projected \$/);
    await config().update('budget.monthly', undefined, vscode.ConfigurationTarget.Global);
    await until((x) => x.backgroundColor === undefined, 'no background without budgets');
  });

  it('projects from the last 7 days’ average, not this period’s pace, and says so', async () => {
    await api.core.resetUsage('system');
    // $7 three days ago, nothing since: a day's burn is about $1, whatever the hour or the date.
    const at = new Date(Date.now() - 3 * 86_400_000).toISOString();
    // Budgets count every workspace of the profile (core.allUsage), as track does.
    assert.ok(api.core.allUsage, 'VS Code keeps the all-workspaces usage');
    for (const l of [api.core.ledger, api.core.allUsage]) l.record({ at, provider: 'openai', model: 'gpt-4o', inputTokens: 10, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 7, success: true });
    track(200); // a $0.0005 request now, which also makes the status bar render
    const b = api.core.budget();
    assert.ok(b.burnRate.windowDays > 6 && b.burnRate.windowDays <= 7, `window ${b.burnRate.windowDays} days`);
    assert.ok(Math.abs(b.burnRate.usdPerDay - 7.0005 / b.burnRate.windowDays) < 1e-3, `rate ${b.burnRate.usdPerDay}`);
    const basis = `Projections assume the last 7 days' average: ${formatUsd(b.burnRate.usdPerDay)}/day.`;
    const s = await until((x) => x.tooltip.includes(basis), `"${basis}" in the tooltip`);
    // Today: $0.0005 spent plus the rest of the day at ~$1/day, never 0.0005 × (24 h / hours elapsed).
    assert.ok(b.day.projected <= 0.0005 + b.burnRate.usdPerDay + 1e-9, `today projects to ${b.day.projected}`);
    assert.ok(s.tooltip.includes(`projected ${formatUsd(b.day.projected)}`), s.tooltip);
    await api.core.resetUsage('system');
  });

  it('follows the statusBar.mode setting', async () => {
    await config().update('statusBar.mode', 'compact', vscode.ConfigurationTarget.Global);
    const s = await until((x) => !x.text.includes('today'), 'compact mode');
    assert.equal(s.text, `$(credit-card) ${money(spentToday())}`);
    await config().update('statusBar.mode', 'hidden', vscode.ConfigurationTarget.Global);
    await until((x) => !x.visible, 'hidden mode');
    await config().update('statusBar.mode', undefined, vscode.ConfigurationTarget.Global);
    await until((x) => x.visible && x.text.endsWith(' today'), 'full mode again');
  });

  it('lists the top 3 models of today in the tooltip and never shows a key in it', async () => {
    const key = `sk-ant-api03-CANARY${[...randomBytes(40)].map((b) => 'abcdefghijkmnopqrstuvwxyzABCDEFGH0123456789'[b % 43]).join('')}`;
    const added = (await vscode.commands.executeCommand('aiKeyManager.addKey', { provider: 'anthropic', apiKey: key })) as { key?: { id: string } };
    assert.ok(added.key, 'key added');
    // A model named like a key (a paste mistake) must show masked.
    await config().update('pricing.overrides', [{ model: key, provider: 'openai', inputPerMTok: 1, outputPerMTok: 1 }], vscode.ConfigurationTarget.Global);
    const priced = () => {
      try {
        return api.core.estimateCost({ model: key, provider: 'openai', inputTokens: 1 }).cost.source === 'override';
      } catch {
        return false;
      }
    };
    await waitFor(priced, 'the price override to take effect', { timeoutMs: 3000 });
    track(200_000_000, key); // $200: the top model today
    track(10_000, 'gpt-4o-mini');
    track(10_000); // gpt-4o: three models today, whatever ran before
    track(10_000, 'gpt-4.1-nano'); // a fourth, which is not listed
    const s = await until((x) => x.tooltip.includes('gpt-4o-mini') && x.tooltip.includes('sk-ant…'), 'the top models');
    const top = s.tooltip.split('Top models today:')[1] ?? '';
    assert.equal(top.split('\n').filter((l) => l.startsWith('- ')).length, 3, 'three models listed');
    assert.match(top, /- openai\/sk-ant…\S+: \$200\.00 \(1 request\)/);
    assertNoLeak(s, [{ key, from: 'sk-ant-api03-'.length }], 'the status bar (text and tooltip)');
    await vscode.commands.executeCommand('aiKeyManager.removeKey', { keyId: added.key.id, confirm: true });
  });
});
