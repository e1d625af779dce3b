import { createHash } from 'node:crypto';
import type * as vscode from 'vscode';

/**
 * Which share of the all-workspaces usage this window writes: one per workspace (its storage
 * folder is unique to it), so two windows never write the same value. Windows with no folder
 * open share one, as they share their usage history.
 */
export function usageShareOf(context: Pick<vscode.ExtensionContext, 'storageUri'>): string {
  const where = context.storageUri?.toString();
  return where ? createHash('sha256').update(where).digest('hex').slice(0, 16) : 'no-folder';
}
