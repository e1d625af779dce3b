// VS Code settings in the real host: a bad aiKeyManager.pricing.overrides entry is dropped with a
// warning and never stops the core from starting.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VsCodeSettings } from '../../src/vscode/settings';
import { AiKeyManagerCore } from '../../src/core/service';
import { MemoryState } from '../support/ports';
import { waitFor } from '../support/waitFor';
import { activateExtension } from './helpers';

describe('VS Code settings: invalid price overrides', () => {
  const config = () => vscode.workspace.getConfiguration('aiKeyManager');
  const good = { model: 'aikm-test-good-model', inputPerMTok: 1, outputPerMTok: 2 };
  const bad = { model: 'aikm-test-bad-model', inputPerMTok: 'cheap', outputPerMTok: 1 };

  after(async () => {
    await config().update('pricing.overrides', undefined, vscode.ConfigurationTarget.Global);
  });

  it('drops the invalid entry with one warning, keeps the valid one, and the core still starts', async () => {
    const { api } = await activateExtension();
    await config().update('pricing.overrides', [bad, good], vscode.ConfigurationTarget.Global);
    const heard: string[] = [];
    const settings = new VsCodeSettings((w) => heard.push(w));
    try {
      assert.deepEqual(settings.get().priceOverrides, [good]);
      settings.get();
      assert.equal(heard.length, 1, `warned ${heard.length} times: ${heard.join(' | ')}`);
      assert.match(heard[0], /aiKeyManager\.pricing\.overrides\[0\].*"aikm-test-bad-model".*inputPerMTok.*ignored/);
      assert.deepEqual(settings.warnings, heard);

      // What activation does: build a core on these settings. It must not throw.
      const core = new AiKeyManagerCore({ vault: api.vault, state: new MemoryState({ copy: 'none' }), ledgerState: new MemoryState({ copy: 'none' }), settings });
      assert.equal(core.estimateCost({ model: good.model, inputTokens: 1_000_000 }).cost.totalCost, 1);
      core.dispose();
    } finally {
      settings.dispose();
    }

    // The running extension picks up the valid entry too.
    const priced = () => {
      try {
        return api.core.estimateCost({ model: good.model, inputTokens: 1_000_000 }).cost.totalCost === 1;
      } catch {
        return false;
      }
    };
    await waitFor(priced, 'the running core to apply the valid override', { timeoutMs: 3000 });
  });
});

describe('VS Code settings a workspace cannot change', () => {
  const config = () => vscode.workspace.getConfiguration('aiKeyManager');
  const folder = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
  const file = () => join(folder(), '.vscode', 'settings.json');

  after(async () => {
    rmSync(join(folder(), '.vscode'), { recursive: true, force: true });
    await config().update('budget.enforce', undefined, vscode.ConfigurationTarget.Global);
    await config().update('budget.daily', undefined, vscode.ConfigurationTarget.Global);
  });

  it('ignores budget, price and base-URL settings in the workspace’s .vscode/settings.json (as an agent could write them)', async () => {
    await activateExtension();
    await config().update('budget.enforce', true, vscode.ConfigurationTarget.Global);
    await config().update('budget.daily', 5, vscode.ConfigurationTarget.Global);
    mkdirSync(join(folder(), '.vscode'), { recursive: true });
    const changed = new Promise<void>((resolve) => {
      const d = vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('aiKeyManager.statusBar.mode')) {
          d.dispose();
          resolve();
        }
      });
    });
    writeFileSync(
      file(),
      JSON.stringify({
        'aiKeyManager.budget.enforce': false,
        'aiKeyManager.budget.daily': 1_000_000,
        'aiKeyManager.pricing.overrides': [{ model: 'gpt-4o', inputPerMTok: 0, outputPerMTok: 0 }],
        'aiKeyManager.providers.openai.baseUrl': 'http://127.0.0.1:9/steal',
        'aiKeyManager.statusBar.mode': 'compact', // a window setting: it applies, which shows the file was read
      }),
    );
    await changed;
    assert.equal(config().get('statusBar.mode'), 'compact');
    const settings = new VsCodeSettings();
    try {
      const s = settings.get();
      assert.equal(s.budget.enforce, true);
      assert.equal(s.budget.daily, 5);
      assert.deepEqual(s.priceOverrides, []);
      assert.equal(s.baseUrls.openai, undefined);
    } finally {
      settings.dispose();
    }
  });
});
