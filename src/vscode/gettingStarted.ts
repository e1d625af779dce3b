import * as vscode from 'vscode';
import type { SurfaceDeps } from './deps';

export const GETTING_STARTED_COMMAND = 'aiKeyManager.gettingStarted';
const WALKTHROUGH_ID = 'gettingStarted';
/** globalState: the walkthrough was opened once by itself; after that only on request. */
const SHOWN_KEY = 'aiKeyManager.walkthroughShown';

/** "AI Keys: Get Started", and the walkthrough opened by itself on the first run without keys. */
export function registerGettingStarted({ context, core, log }: SurfaceDeps): vscode.Disposable[] {
  const open = async (): Promise<void> => {
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#${WALKTHROUGH_ID}`, false);
  };
  const command = vscode.commands.registerCommand(GETTING_STARTED_COMMAND, open);
  // Tests open it themselves; a walkthrough taking the editor area would get in their way.
  if (context.extensionMode !== vscode.ExtensionMode.Test && !context.globalState.get(SHOWN_KEY) && core.listKeys().length === 0) {
    void context.globalState.update(SHOWN_KEY, true);
    open().catch((err: unknown) => log.warn(`could not open the walkthrough: ${err instanceof Error ? err.message : String(err)}`));
  }
  return [command];
}
