// VS Code settings in the real host: a bad aiKeyManager.pricing.overrides entry is dropped with a
// warning and never stops the core from starting.
import * as vscode from 'vscode';
import * as assert from 'node:assert/strict';
import { VsCodeSettings } from '../../src/vscode/settings';
import { AiKeyManagerCore } from '../../src/core/service';
import { MemoryState } from '../support/ports';
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
    const end = Date.now() + 3000;
    const priced = () => {
      try {
        return api.core.estimateCost({ model: good.model, inputTokens: 1_000_000 }).cost.totalCost === 1;
      } catch {
        return false;
      }
    };
    while (!priced() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
    assert.ok(priced(), 'the running core applies the valid override');
  });
});
