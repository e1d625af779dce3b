// A new user's first five minutes, driven through the real workbench UI: keys pressed in the real
// quick input, what it shows read from the page (test/integration/ui.ts). Skipped where there is no
// browser to drive (@vscode/test-electron).
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { activateExtension } from './helpers';
import { hasUi, ui } from './ui';
import { startFakeProviders, type FakeProviders } from '../fakes/providers';
import { PROVIDERS } from '../../src/core/providers';
import { waitUntil } from '../support/waitFor';
import type { AiKeyManagerTestApi } from '../../src/extension';
import type { KeyView } from '../../src/core/keys';
import type { ValidateResult } from '../../src/core/service';

function alnum(n: number): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => abc[b % abc.length]).join('');
}

type R = Record<string, unknown> & { error?: string; cancelled?: boolean };
const run = <T = R>(id: string, args?: object): Thenable<T> => vscode.commands.executeCommand<T>(`aiKeyManager.${id}`, args);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const config = () => vscode.workspace.getConfiguration('aiKeyManager');
const KEYED = PROVIDERS.filter((p) => p.requiresKey).map((p) => p.displayName);

/** A port on 127.0.0.1 that nothing listens on: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

(hasUi ? describe : describe.skip)('the first five minutes, in the real workbench UI', function () {
  this.timeout(60_000);
  let api: AiKeyManagerTestApi;
  const anthropic = `sk-ant-api03-CANARY${alnum(40)}`;

  before(async () => {
    ({ api } = await activateExtension());
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const k of api.core.listKeys()) if (!k.id.startsWith('env:')) await api.core.removeKey(k.provider, k.id, 'system');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    for (const k of ['budget.daily', 'budget.monthly', 'budget.alertThreshold', 'budget.enforce', 'providers.anthropic.baseUrl', 'providers.local.baseUrl']) {
      await config().update(k, undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('Add API Key lists providers in catalog order and applies one format rule inside the box', async () => {
    const pending = run<{ key: KeyView; storedUnder?: string; askedFor?: string }>('addKey');
    const pick = await ui.waitFor('Add an API key for which provider?');
    assert.deepEqual(pick.items?.map((i) => i.label), KEYED, 'catalog order');
    assert.ok(pick.items?.every((i) => i.description.includes('no key yet')), JSON.stringify(pick.items));
    assert.equal(pick.items?.find((i) => i.focused)?.label, 'Anthropic', 'the selection starts on the first provider');
    await ui.press('ArrowDown');
    await ui.waitQuickInput((s) => s.items?.find((i) => i.focused)?.label === 'OpenAI', 'OpenAI selected');
    await ui.press('Enter');

    const box = await ui.waitFor('Add OpenAI API key');
    assert.equal(box.password, true, 'keys are typed into a password box');
    // Clearly another provider's key: offered under that provider, before Enter.
    await ui.type(anthropic);
    let s = await ui.waitFor('Add OpenAI API key', /looks like an Anthropic key/);
    assert.equal(s.severity, 'warning');
    assert.match(s.message ?? '', /^This looks like an Anthropic key, not an OpenAI key\. Press Enter to store it as an Anthropic key, or paste an OpenAI key instead\.$/);
    // Fits no shape: refused inside the box; Enter does nothing and the paste stays.
    await ui.fill('hello-not-a-key');
    s = await ui.waitFor('Add OpenAI API key', /does not look like an OpenAI key/);
    assert.equal(s.severity, 'error');
    await ui.press('Enter');
    await sleep(400);
    s = await ui.quickInput();
    assert.equal(s.visible, true, 'Enter on a refused key keeps the box open');
    assert.equal(s.value, 'hello-not-a-key', 'and what was pasted is still there');
    // The Anthropic key again, and Enter: stored under Anthropic, as the box said.
    await ui.fill(anthropic);
    await ui.waitFor('Add OpenAI API key', /looks like an Anthropic key/);
    await ui.press('Enter');
    const r = await pending;
    assert.equal(r.key.provider, 'anthropic');
    assert.deepEqual([r.storedUnder, r.askedFor], ['anthropic', 'openai']);
    assert.equal(await api.vault.get(`key/${r.key.id}`), anthropic);
    await ui.waitHidden();
  });

  it('keeps the provider order after a key was added, and says which providers have one', async () => {
    const pending = run('addKey');
    const pick = await ui.waitFor('Add an API key for which provider?');
    assert.deepEqual(pick.items?.map((i) => i.label), KEYED, 'the same order as before the first key');
    assert.match(pick.items?.[0].description ?? '', /has a key/);
    assert.match(pick.items?.[1].description ?? '', /no key yet/);
    assert.equal(pick.items?.find((i) => i.focused)?.label, 'Anthropic', 'Enter still picks the same provider');
    await ui.press('Escape');
    assert.equal((await pending).cancelled, true);
  });

  it('Set Budget numbers its four steps, and Escape on a later step keeps what the earlier steps set', async () => {
    await config().update('budget.daily', 0, vscode.ConfigurationTarget.Global);
    await config().update('budget.monthly', 0, vscode.ConfigurationTarget.Global);
    await config().update('budget.alertThreshold', 0.8, vscode.ConfigurationTarget.Global);
    const pending = run<R & { saved?: boolean; stoppedAt?: number; shown?: string }>('setBudget');
    await ui.waitFor('Set Budget (1/4): the daily limit');
    await ui.fill('7.5');
    await ui.accept();
    await ui.waitFor('Set Budget (2/4): the monthly limit');
    await ui.fill('150');
    await ui.accept();
    const third = await ui.waitFor('Set Budget (3/4): the alert threshold');
    assert.equal(third.value, '80%', 'each step starts from the current setting');
    await ui.press('Escape');
    const r = await pending;
    assert.deepEqual([r.saved, r.stoppedAt], [true, 3]);
    assert.equal(r.shown, 'Budget saved: daily $7.50, monthly $150. You closed Set Budget at step 3 of 4, so the alert threshold and enforcement stayed as they were.');
    assert.deepEqual([config().get('budget.daily'), config().get('budget.monthly'), config().get('budget.alertThreshold')], [7.5, 150, 0.8]);

    // Escape on the first step is a plain cancel: nothing entered, nothing saved.
    const cancelled = run<R>('setBudget');
    await ui.waitFor('Set Budget (1/4): the daily limit');
    await ui.fill('99');
    await ui.press('Escape');
    assert.equal((await cancelled).cancelled, true);
    assert.equal(config().get('budget.daily'), 7.5);

    // Enter through all four (the last one is a list) changes nothing, and says so.
    const through = run<R & { shown?: string }>('setBudget');
    for (const title of ['Set Budget (1/4): the daily limit', 'Set Budget (2/4): the monthly limit', 'Set Budget (3/4): the alert threshold']) {
      await ui.waitFor(title);
      await ui.press('Enter');
    }
    const last = await ui.waitFor('Set Budget (4/4): enforcement');
    assert.deepEqual(last.items?.map((i) => i.label), ['Warn only', 'Enforce']);
    await ui.press('Enter');
    assert.equal((await through).shown, 'Budget unchanged: the values entered are the ones already set.');
  });

  describe('Validate All Keys', () => {
    let fake: FakeProviders;
    before(async () => {
      fake = await startFakeProviders();
    });
    after(async () => {
      await fake.close();
    });

    it('says why a provider could not be reached and that the key itself was not judged', async () => {
      const port = await closedPort();
      await config().update('providers.anthropic.baseUrl', `http://127.0.0.1:${port}`, vscode.ConfigurationTarget.Global);
      const r = await run<{ results: ValidateResult[]; shown: string }>('validateAllKeys');
      const a = r.results.find((x) => x.provider === 'anthropic');
      assert.ok(a, JSON.stringify(r.results));
      assert.deepEqual([a.outcome, a.reason], ['unreachable', 'refused']);
      assert.match(a.message, new RegExp(`^Connection refused by 127\\.0\\.0\\.1:${port}\\. .* The key itself was not checked: it may be fine\\.$`));
      assert.match(r.shown, /^Key check: 1 unreachable\. Anthropic sk-ant…\w{4}: not checked, the provider could not be reached \(connection refused; check that the server runs and the base URL is right\)\. The key itself may be fine\.$/);
      const key = api.core.listKeys('anthropic')[0];
      assert.equal(key.status, 'healthy', 'an unreachable provider does not count against the key');
      assert.equal(key.lastValidation, 'unreachable');
    });

    it('checks Ollama when its URL is set, and not when it was never set up and is not running', async () => {
      const ollamaRunning = await new Promise<boolean>((done) => {
        const c = net.connect(11434, '127.0.0.1', () => (c.destroy(), done(true)));
        c.on('error', () => done(false));
      });
      const unset = await run<{ results: ValidateResult[] }>('validateAllKeys');
      if (!ollamaRunning) assert.ok(!unset.results.some((x) => x.provider === 'local'), `an Ollama never set up was checked: ${JSON.stringify(unset.results)}`);
      await config().update('providers.local.baseUrl', fake.url, vscode.ConfigurationTarget.Global);
      const set = await run<{ results: ValidateResult[] }>('validateAllKeys');
      assert.equal(set.results.find((x) => x.provider === 'local')?.outcome, 'valid');
    });
  });

  it('the panel’s chart takes the colours of a theme chosen while it is open', async () => {
    await config().update('budget.daily', 0, vscode.ConfigurationTarget.Global);
    // Anthropic is first in the catalog, so its bars take the first chart colour: --vscode-charts-blue.
    api.core.track({ provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 400_000, outputTokens: 0 }, 'tool');
    const workbench = vscode.workspace.getConfiguration('workbench');
    await workbench.update('colorTheme', 'Default Dark Modern', vscode.ConfigurationTarget.Global);
    try {
      await run('showPanel', { days: 30 });
      type Seen = { bars: Record<string, string>; blue: string; painted: number; theme: string };
      // The bar colour, the theme's value for it, and how many canvas pixels have exactly that colour.
      const look = () =>
        ui.webview<Seen>(
          `const c = document.getElementById('spend-chart');
           const blue = getComputedStyle(document.documentElement).getPropertyValue('--vscode-charts-blue').trim();
           const probe = document.createElement('canvas').getContext('2d'); probe.fillStyle = blue; probe.fillRect(0, 0, 1, 1);
           const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
           const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
           let painted = 0;
           for (let i = 0; i < px.length; i += 4) if (px[i] === r && px[i + 1] === g && px[i + 2] === b && px[i + 3] === 255) painted++;
           return { bars: JSON.parse(c.dataset.barColors || '{}'), blue, painted, theme: document.body.className };`,
          '#spend-chart',
        );
      const until = async (ok: (s: Seen) => boolean, what: string): Promise<Seen> => {
        const seen = await waitUntil(() => look().catch(() => undefined), (s) => s !== undefined && ok(s), `the panel to show ${what}`, { timeoutMs: 15_000, intervalMs: 100 });
        assert.ok(seen);
        return seen;
      };
      const dark = await until((s) => s.bars.anthropic !== undefined && s.bars.anthropic === s.blue && s.painted > 0 && /vscode-dark/.test(s.theme), 'blue Anthropic bars in the dark theme');
      await workbench.update('colorTheme', 'Default Light Modern', vscode.ConfigurationTarget.Global);
      const light = await until((s) => /vscode-light/.test(s.theme) && s.blue !== dark.blue, 'the light theme');
      assert.notEqual(light.blue, dark.blue, 'the two themes have different blues');
      const after = await until((s) => s.bars.anthropic === s.blue && s.painted > 0, 'the bars repainted in the light theme’s blue');
      assert.equal(after.bars.anthropic, light.blue);
    } finally {
      await workbench.update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});
