import type * as vscode from 'vscode';
import type { AiKeyManagerCore } from '../core/service';
import type { StateStore } from '../core/ports';
import type { McpServerController } from './mcpProvider';

/** What every surface (commands, chat, status bar, panel) is given by activate(). */
export interface SurfaceDeps {
  context: vscode.ExtensionContext;
  core: AiKeyManagerCore;
  log: vscode.LogOutputChannel;
  mcp: McpServerController;
  /** Where the ledger lives: workspaceState, or globalState when no folder is open (through MementoState). */
  ledgerState: StateStore;
}
