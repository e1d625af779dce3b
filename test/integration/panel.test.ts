import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension } from './helpers';
import { waitUntil } from '../support/waitFor';
import { DEBUG_PANEL_COMMAND, PANEL_VIEW_TYPE, type PanelSnapshot } from '../../src/vscode/panel';

/** The panel's tabs in every editor group (VS Code prefixes the view type of extension webviews). */
const panelTabs = (): vscode.Tab[] =>
  vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && (t.input.viewType === PANEL_VIEW_TYPE || t.input.viewType.endsWith(`-${PANEL_VIEW_TYPE}`)));

const snapshot = async (): Promise<PanelSnapshot | null> => (await vscode.commands.executeCommand(DEBUG_PANEL_COMMAND)) as PanelSnapshot | null;

/** The panel takes a while to load in a busy host. */
const SLOW = { timeoutMs: 10_000, intervalMs: 50 };

describe('usage & budget panel in VS Code', () => {
  before(async () => {
    await activateExtension();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('showPanel with arguments opens one webview tab with that filter, and its page loads', async () => {
    assert.deepEqual(panelTabs(), [], 'no panel before the command');
    await vscode.commands.executeCommand('aiKeyManager.showPanel', { days: 90, provider: 'openai' });
    const [tab] = await waitUntil(panelTabs, (t) => t.length === 1, 'the panel tab', SLOW);
    assert.equal(tab.label, 'AI Usage & Budget');
    assert.ok(tab.isActive, 'the new panel is the active tab');
    // The page's script ran under the panel's Content Security Policy and asked for its model.
    const s = await waitUntil(snapshot, (x) => (x?.received.ready ?? 0) >= 1 && (x?.posted ?? 0) >= 1, "the page's ready message and the host's model", SLOW);
    assert.deepEqual(s?.filter, { days: 90, provider: 'openai' });
    assert.equal(s?.visible, true);
  });

  it('running showPanel again focuses the same panel and applies the new filter', async () => {
    const [before] = panelTabs();
    assert.ok(before);
    // Another editor in front of it, in the same group.
    const doc = await vscode.workspace.openTextDocument({ content: 'not the panel', language: 'plaintext' });
    await vscode.window.showTextDocument(doc, { viewColumn: before.group.viewColumn, preview: false });
    await waitUntil(panelTabs, (t) => t.length === 1 && !t[0].isActive, 'the panel to be behind the text editor', SLOW);

    await vscode.commands.executeCommand('aiKeyManager.showPanel', { days: 30 });
    const tabs = await waitUntil(panelTabs, (t) => t.length === 1 && t[0].isActive, 'the same panel in front again', SLOW);
    assert.equal(tabs[0].group.viewColumn, before.group.viewColumn, 'revealed where it was, not opened elsewhere');
    const s = await waitUntil(snapshot, (x) => x?.filter.days === 30, 'the new filter', SLOW);
    assert.deepEqual(s?.filter, { days: 30, provider: undefined });
    assert.equal(s?.active, true);

    // Without arguments: focused again, filter kept.
    await vscode.commands.executeCommand('workbench.action.previousEditor');
    await waitUntil(panelTabs, (t) => t.length === 1 && !t[0].isActive, 'the text editor in front', SLOW);
    await vscode.commands.executeCommand('aiKeyManager.showPanel');
    await waitUntil(panelTabs, (t) => t.length === 1 && t[0].isActive, 'the panel in front', SLOW);
    assert.equal(panelTabs().length, 1, 'still a single panel');
    assert.deepEqual((await snapshot())?.filter, { days: 30, provider: undefined });
  });

  it('Refresh (the panel title button) posts a freshly built model at once', async () => {
    const before = await snapshot();
    assert.ok(before);
    await vscode.commands.executeCommand('aiKeyManager.refreshPanel');
    const after = await snapshot();
    assert.equal(after?.posted, before.posted + 1, 'one new model, without waiting for a change');
    assert.equal(panelTabs().length, 1);
  });

  it('closing the tab disposes the panel; showPanel opens a new one', async () => {
    const [tab] = panelTabs();
    assert.ok(await vscode.window.tabGroups.close(tab));
    await waitUntil(snapshot, (x) => x === null, 'the panel to be disposed', SLOW);
    await vscode.commands.executeCommand('aiKeyManager.showPanel');
    await waitUntil(panelTabs, (t) => t.length === 1, 'a new panel tab', SLOW);
    assert.deepEqual((await snapshot())?.filter, { days: 30, provider: undefined }, 'a new panel starts with 30 days, all providers');
  });
});
