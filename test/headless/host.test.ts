// The headless core over AIKM_HOME: what it does when the encrypted vault cannot be read.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createHeadlessCore } from '../../src/headless/host';
import { tempRoot } from '../support/tmp';

const PASSPHRASE = 'a long passphrase for the headless host tests';
const KEY = 'sk-ant-api03-CANARYlockedQ1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8';

describe('headless host with a locked vault (no AIKM_PASSPHRASE)', () => {
  const tmp = tempRoot('aikm-host-');

  it('treats vault keys as unusable and says to set AIKM_PASSPHRASE', async () => {
    const unlocked = createHeadlessCore({ AIKM_HOME: tmp.path, AIKM_PASSPHRASE: PASSPHRASE });
    await unlocked.core.addKey('anthropic', { apiKey: KEY }, {}, 'cli');
    assert.equal(unlocked.core.keys.usable('anthropic').length, 1);
    assert.equal(unlocked.core.route({ taskType: 'code_generation' }).provider, 'anthropic');
    await unlocked.close();

    const locked = createHeadlessCore({ AIKM_HOME: tmp.path });
    try {
      assert.equal(locked.core.keys.list('anthropic').length, 1, 'the key is still listed');
      assert.deepEqual(locked.core.keys.usable('anthropic'), [], 'a key that cannot be read is not usable');
      const d = locked.core.route({ taskType: 'code_generation' });
      assert.notEqual(d.provider, 'anthropic');
      const why = d.skipped.find((s) => s.provider === 'anthropic')?.why ?? '';
      assert.match(why, /AIKM_PASSPHRASE/, why);
      const overview = locked.core.providersOverview().find((p) => p.id === 'anthropic')!;
      assert.equal(overview.hasKey, true);
      assert.equal(overview.usable, false);
      assert.ok(overview.keys[0].warnings.some((w) => /AIKM_PASSPHRASE/.test(w)), JSON.stringify(overview.keys[0].warnings));
    } finally {
      await locked.close();
    }

    const again = createHeadlessCore({ AIKM_HOME: tmp.path, AIKM_PASSPHRASE: PASSPHRASE });
    assert.equal(again.core.keys.usable('anthropic').length, 1, 'usable again with the passphrase');
    await again.close();
  });
});

describe('headless host with a wrong passphrase or an open AIKM_HOME', () => {
  const tmp = tempRoot('aikm-host-wrong-');

  it('skips the vault keys when routing (vault locked) instead of picking them', async () => {
    const right = createHeadlessCore({ AIKM_HOME: tmp.path, AIKM_PASSPHRASE: PASSPHRASE });
    await right.core.addKey('anthropic', { apiKey: KEY }, {}, 'cli');
    await right.close();
    const wrong = createHeadlessCore({ AIKM_HOME: tmp.path, AIKM_PASSPHRASE: 'a different passphrase entirely' });
    try {
      const notes = await wrong.prepare();
      assert.ok(notes.some((n) => /does not match the vault file/.test(n)), JSON.stringify(notes));
      assert.deepEqual(wrong.core.keys.usable('anthropic'), []);
      const d = wrong.core.route({ taskType: 'code_generation' });
      assert.notEqual(d.provider, 'anthropic');
      assert.match(d.skipped.find((s) => s.provider === 'anthropic')?.why ?? '', /does not open the vault/);
    } finally {
      await wrong.close();
    }
  });

  it('warns when AIKM_HOME can be read by other users', { skip: process.platform === 'win32' }, async () => {
    const home = tmp.unique('home');
    fs.mkdirSync(home, { mode: 0o755 });
    fs.chmodSync(home, 0o755);
    const host = createHeadlessCore({ AIKM_HOME: home, AIKM_PASSPHRASE: PASSPHRASE });
    try {
      assert.deepEqual(await host.prepare(), [`${home} can be read by other users (mode 0755); run: chmod 700 '${home}'`]);
      fs.chmodSync(home, 0o700);
      assert.deepEqual(await host.prepare(), []);
    } finally {
      await host.close();
    }
  });
});
