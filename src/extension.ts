import * as vscode from 'vscode';
import { SecretStorageVault } from './vscode/secretVault';

/** What activate() returns: used by integration tests and by other extensions. */
export interface AiKeyManagerApi {
  readonly vault: SecretStorageVault;
}

let log: vscode.LogOutputChannel | undefined;

export function activate(context: vscode.ExtensionContext): AiKeyManagerApi {
  log = vscode.window.createOutputChannel('AI Key Manager', { log: true });
  const vault = new SecretStorageVault(context.secrets);
  context.subscriptions.push(
    log,
    vscode.commands.registerCommand('aiKeyManager.showLog', () => log?.show()),
  );
  log.info(`activated (VS Code ${vscode.version})`);
  return { vault };
}

export function deactivate(): void {
  log = undefined;
}
