// Notifies once when today's or this month's spend crosses the alert threshold, and once more
// when it goes over the limit. Budgets count every window of the profile, so what was raised is kept
// in globalState: a reload, or another window, stays quiet about it.
import * as vscode from 'vscode';
import type { SurfaceDeps } from './deps';
import { MementoState } from './mementoState';
import { alertMessage, budgetAlerts, type RaisedAlerts } from '../core/budgetAlerts';

export const DEBUG_BUDGET_ALERTS_COMMAND = 'aiKeyManager.debug.budgetAlerts';
const RAISED_KEY = 'aikm.budgetAlerts.raised';
const SETTING = 'aiKeyManager.budget.notifications';
const CHECK_DELAY_MS = 200;

export function registerBudgetAlerts(deps: SurfaceDeps): vscode.Disposable[] {
  const { core, log } = deps;
  const raisedState = new MementoState(deps.context.globalState);
  const shown: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const check = async (): Promise<void> => {
    timer = undefined;
    try {
      const before = raisedState.get<RaisedAlerts>(RAISED_KEY) ?? {};
      const { alerts, raised } = budgetAlerts(core.budget(), before);
      // Also when nothing is raised: a reset or a new period forgets what was.
      if (JSON.stringify(raised) !== JSON.stringify(before)) await raisedState.update(RAISED_KEY, raised);
      if (alerts.length === 0) return;
      if (!vscode.workspace.getConfiguration().get<boolean>(SETTING, true)) return;
      for (const a of alerts) {
        const text = alertMessage(a);
        shown.push(text);
        log.warn(`budget: ${text}`);
        const show = a.level === 'exceeded' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
        void show(text, 'Open Usage Panel', 'Set Budget').then((choice) => {
          if (choice === 'Open Usage Panel') void vscode.commands.executeCommand('aiKeyManager.showPanel');
          else if (choice === 'Set Budget') void vscode.commands.executeCommand('aiKeyManager.setBudget');
        });
      }
    } catch (err) {
      log.warn(`budget alerts: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  // A burst of requests leads to one check.
  const schedule = (): void => {
    timer ??= setTimeout(() => void check(), CHECK_DELAY_MS);
  };

  schedule();
  const unsubscribe = core.onDidChange((kind) => {
    if (kind === 'usage' || kind === 'settings') schedule();
  });
  const disposables: vscode.Disposable[] = [
    { dispose: unsubscribe },
    { dispose: () => timer && clearTimeout(timer) },
  ];
  if (deps.context.extensionMode === vscode.ExtensionMode.Test) {
    disposables.push(vscode.commands.registerCommand(DEBUG_BUDGET_ALERTS_COMMAND, () => [...shown]));
  }
  return disposables;
}
