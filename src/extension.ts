import * as vscode from 'vscode';
import { SecretStorageVault } from './vscode/secretVault';
import { MementoState } from './vscode/mementoState';
import { usageShareOf } from './vscode/usageShare';
import { VsCodeSettings } from './vscode/settings';
import { McpServerController, MCP_PROVIDER_ID } from './vscode/mcpProvider';
import { AiKeyManagerCore } from './core/service';
import type { SurfaceDeps } from './vscode/deps';
import { registerCommands } from './vscode/commands';
import { registerStatusBar } from './vscode/statusBar';
import { registerChat } from './vscode/chat/participant';
import { registerPanel } from './vscode/panel';
import { registerBudgetAlerts } from './vscode/budgetAlerts';
import { registerGettingStarted } from './vscode/gettingStarted';
import { GatewayController, registerGateway } from './vscode/gateway';
import { registerChatModels } from './vscode/chatModels/register';
import { registerPriceRefresh } from './vscode/priceRefresh';

/** Exported to integration tests only (extension mode Test): other extensions get nothing. */
export interface AiKeyManagerTestApi {
  readonly vault: SecretStorageVault;
  readonly core: AiKeyManagerCore;
  readonly mcp: McpServerController;
  readonly gateway: GatewayController;
  /** The terminal variables aiKeyManager.gateway.terminalEnv sets. */
  readonly terminalEnv: vscode.GlobalEnvironmentVariableCollection;
  /** The extension's globalState, for tests of the state adapter. */
  readonly globalState: vscode.Memento;
  /** Everything the extension keeps in workspaceState and globalState, for leak scans. */
  stateDump(): Record<string, unknown>;
}
export type AiKeyManagerApi = AiKeyManagerTestApi | undefined;

let core: AiKeyManagerCore | undefined;
let mcp: McpServerController | undefined;
let gatewayController: GatewayController | undefined;

export function activate(context: vscode.ExtensionContext): AiKeyManagerApi {
  const log = vscode.window.createOutputChannel('AI Key Manager', { log: true });
  const vault = new SecretStorageVault(context.secrets);
  // A bad setting must never stop activation: it is dropped, logged and shown once.
  const settings = new VsCodeSettings((w) => {
    log.warn(w);
    void vscode.window.showWarningMessage(`AI Key Manager: ${w}`);
  });
  // The ledger is per workspace; with no folder open it falls back to global state.
  const hasFolder = (vscode.workspace.workspaceFolders?.length ?? 0) > 0;
  const ledgerState = new MementoState(hasFolder ? context.workspaceState : context.globalState);
  core = new AiKeyManagerCore({
    vault,
    state: new MementoState(context.globalState),
    ledgerState,
    // Budgets are per person: every window of this profile adds its usage here too.
    allUsageState: new MementoState(context.globalState),
    allUsageShare: usageShareOf(context, hasFolder),
    settings,
    env: process.env,
  });
  // Problems with stored data (rows left out after a copy was kept, a newer version's history): logged, and shown once.
  const problems = core.storedDataWarnings();
  for (const w of problems) log.warn(w);
  if (problems.length > 0) {
    void vscode.window.showWarningMessage(`AI Key Manager: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more in the log)` : ''}`, 'Show Log').then((c) => c && log.show());
  }
  // A failed background save is retried with the next one: every failure is logged, the first is shown.
  let saveErrorShown = false;
  const offSaveError = core.onSaveError((err) => {
    log.error(err.message);
    if (saveErrorShown) return;
    saveErrorShown = true;
    void vscode.window.showErrorMessage(`AI Key Manager: ${err.message} Further failures go to the log only.`, 'Show Log').then((c) => c && log.show());
  });
  mcp = new McpServerController(core, log, context.extension.packageJSON.version as string);
  const c = core;
  const m = mcp;

  context.subscriptions.push(
    log,
    settings,
    m,
    vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, m),
    vscode.commands.registerCommand('aiKeyManager.showLog', () => log.show()),
    vscode.commands.registerCommand('aiKeyManager.copyMcpConfig', async () => {
      const cfg = await m.clientConfig();
      await vscode.env.clipboard.writeText(cfg.json);
      void vscode.window.showInformationMessage(
        `MCP config for Claude Code / Cursor copied (${cfg.url}). It includes this window's access token; it changes when VS Code restarts.`,
      );
      return { url: cfg.url };
    }),
    vscode.commands.registerCommand('aiKeyManager.restartMcpServer', async () => {
      await m.restart();
      void vscode.window.showInformationMessage('AI Key Manager MCP server restarted with a new token.');
    }),
    {
      dispose: () => {
        offSaveError();
        c.dispose();
      },
    },
  );
  const deps: SurfaceDeps = { context, core: c, log, mcp: m, ledgerState };
  const gateway = new GatewayController(c, context.secrets, log);
  gatewayController = gateway;
  context.subscriptions.push(
    ...registerCommands(deps),
    ...registerStatusBar(deps, gateway),
    ...registerChat(deps),
    ...registerChatModels(deps),
    ...registerPriceRefresh(deps),
    ...registerPanel(deps),
    ...registerBudgetAlerts(deps),
    ...registerGettingStarted(deps),
    ...registerGateway(gateway, log, context.environmentVariableCollection),
  );
  log.info(`activated (VS Code ${vscode.version})`);

  if (context.extensionMode !== vscode.ExtensionMode.Test) return undefined;
  return {
    vault,
    core: c,
    mcp: m,
    gateway,
    terminalEnv: context.environmentVariableCollection,
    globalState: context.globalState,
    stateDump: () => {
      const dump: Record<string, unknown> = {};
      for (const [name, memento] of [['workspace', context.workspaceState], ['global', context.globalState]] as const) {
        for (const k of memento.keys()) dump[`${name}:${k}`] = memento.get(k);
      }
      return dump;
    },
  };
}

export async function deactivate(): Promise<void> {
  // Cut requests are recorded before the last save.
  await gatewayController?.close();
  await core?.flush();
  await mcp?.stop();
  core = undefined;
  mcp = undefined;
}
