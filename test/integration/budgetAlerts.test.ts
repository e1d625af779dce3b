// Budget notifications in the real host: once at the alert threshold, once when exceeded.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension } from './helpers';
import type { AiKeyManagerTestApi } from '../../src/extension';
import { waitUntil } from '../support/waitFor';

const shown = async (): Promise<string[]> => (await vscode.commands.executeCommand('aiKeyManager.debug.budgetAlerts')) as string[];

/** Polls the notifications shown until there are `count`; fails after 2 s, showing those so far. */
const untilShown = (count: number, what: string): Promise<string[]> => waitUntil(shown, (s) => s.length >= count, `the ${what} notification`, { timeoutMs: 2000, intervalMs: 25 });

describe('budget notifications', () => {
  let api: AiKeyManagerTestApi;
  const config = () => vscode.workspace.getConfiguration('aiKeyManager');
  // Each request: 100,000 gpt-4o input tokens at the database price; the budget is 10 of them.
  const track = (inputTokens: number) => api.core.track({ provider: 'openai', model: 'gpt-4o', inputTokens, outputTokens: 0 }, 'tool');

  before(async () => {
    ({ api } = await activateExtension());
    await api.core.resetUsage('system');
    await config().update('budget.monthly', undefined, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    for (const k of ['budget.daily', 'budget.alertThreshold', 'budget.notifications']) await config().update(k, undefined, vscode.ConfigurationTarget.Global);
    await api.core.resetUsage('system');
  });

  it('warns once at the alert threshold and once more when the daily budget is exceeded', async () => {
    const unit = api.core.estimateCost({ model: 'gpt-4o', provider: 'openai', inputTokens: 100_000, outputTokens: 0 }).cost.totalCost;
    await vscode.commands.executeCommand('aiKeyManager.setBudget', { daily: unit * 10, alertThreshold: 0.8 });
    const before = (await shown()).length;

    for (let i = 0; i < 7; i++) track(100_000);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await shown()).length, before, 'no notification at 70 %');

    track(100_000);
    const atAlert = await untilShown(before + 1, 'alert');
    assert.match(atAlert[before], /^AI spend today is \$[\d.]+ of your \$[\d.]+ daily budget \(80%\)\. At the last 7 days' average \(\$[\d.]+\/day\) it reaches \$/);

    track(100_000);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await shown()).length, before + 1, 'the alert is raised once, not for every request above it');

    for (let i = 0; i < 3; i++) track(100_000);
    const atLimit = await untilShown(before + 2, 'exceeded');
    assert.match(atLimit[before + 1], /daily budget \(1[0-9]{2}%\)\. Budget enforcement is off/);

    track(100_000);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await shown()).length, before + 2, 'exceeded is raised once');
  });

  it('stays quiet when notifications are turned off', async () => {
    await api.core.resetUsage('system');
    await config().update('budget.notifications', false, vscode.ConfigurationTarget.Global);
    await new Promise((r) => setTimeout(r, 600)); // the check sees the reset and forgets what it raised
    const before = (await shown()).length;
    for (let i = 0; i < 12; i++) track(100_000);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal((await shown()).length, before);
  });

  it('alerts again after the usage ledger was reset the same day', async () => {
    await config().update('budget.notifications', undefined, vscode.ConfigurationTarget.Global);
    await api.core.resetUsage('system');
    await new Promise((r) => setTimeout(r, 600));
    const before = (await shown()).length;
    for (let i = 0; i < 8; i++) track(100_000);
    const after = await untilShown(before + 1, 'alert after the reset');
    assert.match(after[before], /daily budget \(80%\)/);
  });
});
