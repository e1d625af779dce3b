import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';

const SHARE_ID_KEY = 'aiKeyManager.usageShare';

/**
 * Which share of the all-workspaces usage this window writes: one per workspace, a random id kept
 * in its workspaceState (it moves with the workspace's history, e.g. when an untitled workspace is
 * saved), so two windows never write the same value. Windows with no folder open share one, as
 * they share their usage history (`hasFolder` must be what chose the ledger's store).
 */
export function usageShareOf(context: Pick<vscode.ExtensionContext, 'workspaceState'>, hasFolder: boolean): string {
  if (!hasFolder) return 'no-folder';
  const kept = context.workspaceState.get<unknown>(SHARE_ID_KEY);
  if (typeof kept === 'string' && /^ws-[0-9a-f]{16}$/.test(kept)) return kept;
  const id = `ws-${randomBytes(8).toString('hex')}`;
  void context.workspaceState.update(SHARE_ID_KEY, id);
  return id;
}
