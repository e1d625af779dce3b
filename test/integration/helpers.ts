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
