// Registers the user's keys as VS Code chat models (vendor "aikm"). Cheap at activation: the gateway
// code loads with the first request.
import * as vscode from 'vscode';
import type { SurfaceDeps } from '../deps';
import { KeysChatModelProvider, VENDOR } from './provider';

export function registerChatModels(deps: SurfaceDeps): vscode.Disposable[] {
  if (typeof vscode.lm?.registerLanguageModelChatProvider !== 'function') {
    deps.log.info('chat models: this VS Code has no language model provider API (1.104 or later needed)');
    return [];
  }
  const provider = new KeysChatModelProvider({ core: deps.core, log: deps.log, loadGateway: () => import('../../gateway/index') });
  return [provider, vscode.lm.registerLanguageModelChatProvider(VENDOR, provider)];
}
