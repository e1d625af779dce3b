import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import type { AiKeyManagerApi, AiKeyManagerTestApi } from '../../src/extension';

export const EXTENSION_ID = 'aikm.ai-key-manager';

export async function activateExtension(): Promise<{ ext: vscode.Extension<AiKeyManagerApi>; api: AiKeyManagerTestApi }> {
  const ext = vscode.extensions.getExtension<AiKeyManagerApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not known to the host`);
  const api = await ext.activate();
  assert.ok(api, 'the extension exports its test API only in extension test mode; this host is not in it');
  return { ext, api };
}

/** Stand-ins for vscode.window prompts; each declares the arguments it reads. */
export type PromptStubs = Partial<Record<'showInputBox' | 'showQuickPick' | 'showWarningMessage' | 'showInformationMessage', (...args: never[]) => unknown>>;

export type QuickPickItems = readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>;

/**
 * Replaces vscode.window prompts until the returned function is called. The extension gets the same
 * API object as its tests, so its commands see the stubs: the test answers the prompts and records
 * what they offered (titles, prefilled values, items, validation).
 */
export function stubPrompts(stubs: PromptStubs): () => void {
  // The API object is a plain mutable object; cast only to assign by name.
  const win = vscode.window as unknown as Record<string, unknown>;
  const saved = new Map<string, unknown>();
  for (const [name, fn] of Object.entries(stubs)) {
    saved.set(name, win[name]);
    win[name] = fn;
  }
  return () => {
    for (const [name, fn] of saved) win[name] = fn;
  };
}
