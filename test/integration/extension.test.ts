import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension } from './helpers';

describe('extension in a real VS Code host', () => {
  it('activates', async () => {
    const { ext } = await activateExtension();
    assert.equal(ext.isActive, true);
  });

  it('runs in VS Code >= 1.105', () => {
    const [major, minor] = vscode.version.split('.').map(Number);
    assert.ok(major > 1 || (major === 1 && minor >= 105), `vscode.version is ${vscode.version}`);
  });

  it('registers every contributed command', async () => {
    const { ext } = await activateExtension();
    const contributed: { command: string }[] = ext.packageJSON.contributes.commands;
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
  });

  it('round-trips a secret through the SecretStorage vault adapter', async () => {
    const { api } = await activateExtension();
    const name = `it-roundtrip-${Date.now()}`;
    const value = 'sk-ant-CANARY-roundtrip-0000';
    await api.vault.store(name, value);
    assert.equal(await api.vault.get(name), value);
    await api.vault.delete(name);
    assert.equal(await api.vault.get(name), undefined);
  });
});
