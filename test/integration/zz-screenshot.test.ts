// Runs last (file order): with --screenshot, shows the extension's surfaces and asks the launcher
// (test/host/run.mjs) to take the workbench screenshot while they are on screen.
import * as vscode from 'vscode';
import { activateExtension } from './helpers';
import { DEBUG_PANEL_COMMAND, type PanelSnapshot } from '../../src/vscode/panel';
import { waitUntil } from '../support/waitFor';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('workbench screenshot', () => {
  before(function () {
    if (process.env.AIKM_TEST_SCREENSHOT !== '1') this.skip();
  });

  it('shows the usage panel and the status bar, then asks for the picture', async () => {
    const { api } = await activateExtension();
    await vscode.workspace.getConfiguration('aiKeyManager').update('budget.daily', 5, vscode.ConfigurationTarget.Global);
    api.core.track({ provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 120_000, outputTokens: 20_000, latencyMs: 1400 }, 'tool');
    api.core.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 80_000, outputTokens: 9_000, latencyMs: 800 }, 'tool');
    await vscode.commands.executeCommand('aiKeyManager.showPanel', { days: 30 });
    const panel = async (): Promise<PanelSnapshot | null> => (await vscode.commands.executeCommand(DEBUG_PANEL_COMMAND)) as PanelSnapshot | null;
    await waitUntil(panel, (p) => p !== null && (p.received.ready ?? 0) > 0 && p.posted > 0, 'the usage panel to load', { timeoutMs: 15_000, intervalMs: 100 });
    await sleep(1500); // let the chart draw
    console.log('AIKM_SCREENSHOT_NOW');
    await sleep(2000); // the launcher takes it meanwhile
    await vscode.workspace.getConfiguration('aiKeyManager').update('budget.daily', undefined, vscode.ConfigurationTarget.Global);
  });
});
