import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { activateExtension, stubPrompts, type QuickPickItems } from './helpers';
import { startFakeProviders, type FakeProviders } from '../fakes/providers';
import type { AiKeyManagerTestApi } from '../../src/extension';
import type { KeyView } from '../../src/core/keys';
import type { ValidateResult } from '../../src/core/service';
import type { UsageExportJson } from '../../src/core/exportUsage';
import { assertNoLeak, type Canary } from '../support/leaks';
import { waitFor } from '../support/waitFor';

/** Random letters and digits, so canaries look like real keys (never like placeholders). */
function alnum(n: number): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(n)].map((b) => abc[b % abc.length]).join('');
}
const canary = {
  anthropic: () => `sk-ant-api03-CANARY${alnum(40)}`,
  openai: () => `sk-proj-CANARY${alnum(40)}`,
  google: () => `AIza${alnum(35)}`,
  groq: () => `gsk_${alnum(52)}`,
};

// Commands return plain objects; the tests read the fields they assert on.
type R = Record<string, unknown> & { error?: string; cancelled?: boolean };
const run = async <T = R>(id: string, args?: object): Promise<T> => (await vscode.commands.executeCommand(`aiKeyManager.${id}`, args)) as T;

// The canaries' public prefixes may be printed ('sk-ant-api03-' is in the Anthropic format hint):
// any 12 characters after them, or a whole key, is a leak.
const PUBLIC_PREFIX = /^(?:sk-ant-api03-|sk-proj-|AIza|gsk_)/;
const canaries = (keys: string[]): Canary[] => keys.map((key) => ({ key, from: PUBLIC_PREFIX.exec(key)?.[0].length ?? 0 }));

/** The note the scan leaves above a line it took a key out of (src/core/leakScan.ts movedNote). */
const NOTE = (name: string, provider: string) =>
  new RegExp(`^# AI Key Manager moved ${name} \\(the ${provider} key [\\w-]+…\\w{4}\\) into VS Code's secret storage on \\d{4}-\\d\\d-\\d\\d; apps that read this file now get an empty value\\. To put it back here, run 'AI Keys: Restore Moved Key' \\(key id [\\w:-]+, column \\d+\\)\\.$`);

/** `text` without the scan's notes, after checking there is one per name in `expect` (in order). */
function withoutNotes(text: string, expect: [name: string, provider: string][]): string {
  const lines = text.split('\n');
  const notes = lines.filter((l) => l.startsWith('# AI Key Manager moved'));
  assert.equal(notes.length, expect.length, `notes: ${JSON.stringify(notes)}`);
  expect.forEach(([name, provider], i) => assert.match(notes[i], NOTE(name, provider)));
  return lines.filter((l) => !l.startsWith('# AI Key Manager moved')).join('\n');
}

describe('commands', () => {
  let api: AiKeyManagerTestApi;
  const secrets: string[] = [];
  const mint = (p: keyof typeof canary): string => {
    const k = canary[p]();
    secrets.push(k);
    return k;
  };

  before(async () => {
    ({ api } = await activateExtension());
  });

  after(async () => {
    await api.core.flush();
    assertNoLeak(api.stateDump(), canaries(secrets), 'extension state');
    const c = vscode.workspace.getConfiguration('aiKeyManager');
    for (const k of ['budget.daily', 'budget.monthly', 'budget.alertThreshold', 'budget.enforce']) await c.update(k, undefined, vscode.ConfigurationTarget.Global);
  });

  it('addKey stores the key in SecretStorage only and returns it masked', async () => {
    const key = mint('anthropic');
    const r = await run<{ key: KeyView; format: { ok: boolean } }>('addKey', { provider: 'anthropic', apiKey: key, label: 'cmd-test' });
    assert.equal(r.format.ok, true);
    assert.equal(r.key.provider, 'anthropic');
    assert.equal(r.key.label, 'cmd-test');
    assert.match(r.key.masked, /^sk-ant…/);
    assertNoLeak(r, canaries([key]), 'addKey result');
    assert.equal(await api.vault.get(`key/${r.key.id}`), key);
    await api.core.flush();
    const state = JSON.stringify(api.stateDump());
    assert.ok(state.includes(r.key.id), 'metadata is in state');
    assertNoLeak(state, canaries([key]), 'state');
  });

  it('the key box refuses an empty key instead of cancelling silently', async () => {
    let validate: vscode.InputBoxOptions['validateInput'];
    let password: boolean | undefined;
    const restore = stubPrompts({
      showInputBox: async (o?: vscode.InputBoxOptions) => {
        validate = o?.validateInput;
        password = o?.password;
        return undefined; // then Escape
      },
    });
    let r: R;
    try {
      r = await run('addKey', { provider: 'openai' });
    } finally {
      restore();
    }
    assert.equal(r.cancelled, true);
    assert.equal(password, true, 'the key is asked for in a password box');
    assert.ok(validate, 'the key box validates its input');
    for (const empty of ['', '   ']) assert.match(String(await validate(empty)), /^Enter a key: paste your OpenAI API key, or press Escape to cancel\.$/);
    // One rule: a key of no known shape is an error (Enter does nothing), another provider's key a
    // warning (Enter stores it there), a good one an information line. The real box: firstRun.test.ts.
    const odd = (await validate('not-a-real-key')) as vscode.InputBoxValidationMessage;
    assert.equal(odd.severity, vscode.InputBoxValidationSeverity.Error);
    const other = (await validate(canary.anthropic())) as vscode.InputBoxValidationMessage;
    assert.equal(other.severity, vscode.InputBoxValidationSeverity.Warning);
    assert.match(other.message, /looks like an Anthropic key/);
    const good = (await validate(canary.openai())) as vscode.InputBoxValidationMessage;
    assert.equal(good.severity, vscode.InputBoxValidationSeverity.Info);
    assert.match(good.message, /^Looks like an OpenAI key/);
  });

  it('addKey detects the provider from the key when none is given', async () => {
    const key = mint('groq');
    const r = await run<{ key: KeyView }>('addKey', { apiKey: key });
    assert.equal(r.key.provider, 'groq');
    assert.equal(await api.vault.get(`key/${r.key.id}`), key);
  });

  it('reports errors as { error } with a plain message instead of throwing', async () => {
    const r = await run('addKey', { provider: 'nosuchai', apiKey: 'whatever-123456789' });
    assert.match(r.error ?? '', /provider must be one of: anthropic, .* \(got "nosuchai"\)/);
    const dup = secrets[0];
    const again = await run('addKey', { provider: 'anthropic', apiKey: dup });
    assert.match(again.error ?? '', /already stored/);
    assertNoLeak(again, canaries([dup]), 'error');
    const bad = await run('setBudget', { daily: -5 });
    assert.match(bad.error ?? '', /daily must be 0 or more \(got -5\)/);
  });

  it("checks arguments with the MCP tools' schemas: a bad one gives { error } naming it and what it must be, and changes nothing", async () => {
    const keysBefore = api.core.listKeys().length;
    const key = mint('openai');
    const wrongType = await run('addKey', { provider: 'openai', apiKey: key, label: 42 });
    assert.equal(wrongType.error, 'label must be text (got 42).');
    // A secret argument's value is never repeated, not even when it is not a key.
    const tooLong = await run('addKey', { provider: 'openai', apiKey: key + 'x'.repeat(500) });
    assert.equal(tooLong.error, 'apiKey must be at most 500 characters long.');
    assertNoLeak([wrongType, tooLong], canaries([key]), 'argument error');
    assert.equal(api.core.listKeys().length, keysBefore);
    const budgetBefore = api.core.budgetSettings();
    const budget = await run('setBudget', { daily: '5', alertThreshold: 2 });
    assert.equal(budget.error, 'daily must be a number (got "5"). alertThreshold must be 1 or less (got 2).');
    assert.deepEqual(api.core.budgetSettings(), budgetBefore);
    const action = await run('listKeys', { action: 'delete' });
    assert.equal(action.error, "action must be 'validate', 'rotate' or 'remove' (got \"delete\").");
  });

  it('rotateKey replaces the secret and keeps the old one for rollback', async () => {
    const first = mint('openai');
    const added = await run<{ key: KeyView }>('addKey', { provider: 'openai', apiKey: first });
    const next = mint('openai');
    const r = await run<{ key: KeyView; previousMasked: string; rollbackUntil: string }>('rotateKey', { keyId: added.key.id, newKey: next });
    assert.equal(r.key.id, added.key.id);
    assert.equal(r.previousMasked, added.key.masked);
    assert.notEqual(r.key.masked, added.key.masked);
    assert.ok(Date.parse(r.rollbackUntil) > Date.now());
    assert.equal(await api.vault.get(`key/${added.key.id}`), next);
    assertNoLeak(r, canaries([first, next]), 'rotateKey result');
  });

  it('removeKey asks for confirmation (a dismissed dialog keeps the key) and removes with confirm: true', async () => {
    const key = mint('google');
    const added = await run<{ key: KeyView }>('addKey', { provider: 'google', apiKey: key });
    const dismissed = await run('removeKey', { keyId: added.key.id });
    assert.equal(dismissed.cancelled, true);
    assert.equal(await api.vault.get(`key/${added.key.id}`), key);
    const r = await run<{ removed: { id: string; masked: string } }>('removeKey', { keyId: added.key.id, confirm: true });
    assert.equal(r.removed.id, added.key.id);
    assert.equal(await api.vault.get(`key/${added.key.id}`), undefined);
    assert.ok(!api.core.listKeys('google').some((k) => k.id === added.key.id));
    const missing = await run('removeKey', { keyId: added.key.id, confirm: true });
    assert.match(missing.error ?? '', /No key with id/);
  });

  it('listKeys returns the keys masked without prompting when pick is false', async () => {
    const r = await run<{ keys: KeyView[] }>('listKeys', { pick: false });
    assert.deepEqual(
      r.keys.map((k) => k.id).sort(),
      api.core.listKeys().map((k) => k.id).sort(),
    );
    assert.ok(r.keys.length >= 3);
    assertNoLeak(r, canaries(secrets), 'listKeys result');
  });

  it('setBudget writes the settings', async () => {
    const r = await run<{ budget: { day: { limit: number }; month: { limit: number } } }>('setBudget', { daily: 12.5, monthly: 300, alertThreshold: 0.75, enforce: true });
    const c = vscode.workspace.getConfiguration('aiKeyManager');
    assert.deepEqual([c.get('budget.daily'), c.get('budget.monthly'), c.get('budget.alertThreshold'), c.get('budget.enforce')], [12.5, 300, 0.75, true]);
    assert.equal(r.budget.day.limit, 12.5);
    assert.equal(r.budget.month.limit, 300);
    // Only the given fields change.
    await run('setBudget', { enforce: false });
    const after = vscode.workspace.getConfiguration('aiKeyManager');
    assert.deepEqual([after.get('budget.daily'), after.get('budget.enforce')], [12.5, false]);
  });

  it('Set Budget prompts start from the current settings, so Enter through them changes nothing', async () => {
    const c = () => vscode.workspace.getConfiguration('aiKeyManager');
    const settings = () => [c().get('budget.daily'), c().get('budget.monthly'), c().get('budget.alertThreshold'), c().get('budget.enforce')];
    for (const [enforce, first] of [[true, 'Enforce'], [false, 'Warn only']] as const) {
      await run('setBudget', { daily: 12.5, monthly: 300, alertThreshold: 0.75, enforce });
      const boxes: { title?: string; value?: string; problem: unknown }[] = [];
      const picks: string[][] = [];
      const restore = stubPrompts({
        // Enter on what each box shows…
        showInputBox: async (o?: vscode.InputBoxOptions) => {
          boxes.push({ title: o?.title, value: o?.value, problem: await o?.validateInput?.(o.value ?? '') });
          return o?.value;
        },
        // …and on the item the selection starts on: the first.
        showQuickPick: async (items: QuickPickItems) => {
          const list = await items;
          picks.push(list.map((i) => i.label));
          return list[0];
        },
      });
      let r: R;
      try {
        r = await run('setBudget');
      } finally {
        restore();
      }
      assert.equal(r.error, undefined);
      assert.deepEqual(
        boxes.map((b) => [b.title, b.value, b.problem]),
        [
          ['Set Budget (1/4): the daily limit', '12.5', undefined],
          ['Set Budget (2/4): the monthly limit', '300', undefined],
          ['Set Budget (3/4): the alert threshold', '75%', undefined],
        ],
      );
      assert.equal(picks.length, 1);
      assert.equal(picks[0][0], first, 'the current enforcement choice is where the selection starts');
      assert.deepEqual(settings(), [12.5, 300, 0.75, enforce], 'accepting every prompt as shown keeps the settings');
    }
  });

  it('recordUsage records a request in the ledger', async () => {
    const before = api.core.usage({ days: 1 }).totals.requests;
    const r = await run<{ event: { model: string; costUsd: number }; cost: { totalCost: number } }>('recordUsage', {
      provider: 'openai',
      model: 'gpt-4o',
      inputTokens: 1000,
      outputTokens: 500,
      latencyMs: 321,
      taskType: 'chat',
    });
    assert.equal(r.event.model, 'gpt-4o');
    assert.ok(r.cost.totalCost > 0);
    const last = api.core.ledger.recent(1)[0];
    assert.deepEqual([last.provider, last.model, last.inputTokens, last.outputTokens, last.latencyMs, last.success], ['openai', 'gpt-4o', 1000, 500, 321, true]);
    assert.equal(api.core.usage({ days: 1 }).totals.requests, before + 1);
    const bad = await run('recordUsage', { provider: 'openai', model: 'gpt-4o', inputTokens: 1.5, outputTokens: 0 });
    assert.match(bad.error ?? '', /inputTokens must be a whole number \(got 1\.5\)/);
    // A model with no known price is still recorded, at $0, with a warning.
    const unpriced = await run<{ priced: boolean; warning?: string; event: { costUsd: number } }>('recordUsage', { provider: 'openai', model: 'gpt-in-house-x', inputTokens: 10, outputTokens: 5 });
    assert.equal(unpriced.priced, false);
    assert.equal(unpriced.event.costUsd, 0);
    assert.match(unpriced.warning ?? '', /No price known for model "gpt-in-house-x".*\$0/);
    assert.equal(api.core.usage({ days: 1 }).totals.requests, before + 2);
  });

  it('exportUsage writes CSV and JSON files that contain the recorded rows, with key-shaped names masked', async () => {
    await run('recordUsage', { provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 2000, outputTokens: 100, success: false });
    await run('recordUsage', { provider: 'openai', model: 'gpt-4o', inputTokens: 1000, outputTokens: 500 });
    // A model "named" with a key (a paste into the wrong field) is the one way a key reaches the ledger.
    const pasted = canary.openai(); // not in `secrets`: the ledger keeps it until resetUsage below
    const config = vscode.workspace.getConfiguration('aiKeyManager');
    await config.update('pricing.overrides', [{ model: pasted, provider: 'openai', inputPerMTok: 1, outputPerMTok: 1 }], vscode.ConfigurationTarget.Global);
    await waitFor(() => {
      try {
        return api.core.estimateCost({ model: pasted, provider: 'openai', inputTokens: 1 }).cost.source === 'override';
      } catch {
        return false;
      }
    }, 'the price override');
    const recorded = await run('recordUsage', { provider: 'openai', model: pasted, inputTokens: 1000, outputTokens: 10 });
    assert.equal(recorded.error, undefined);
    // Masked when recorded; the export masks again (unit-tested in exportUsage.test.ts) for ledgers of older builds.
    assert.ok(!api.core.ledger.export().some((r) => r.model.includes(pasted.slice(8, 24))), 'the ledger kept the key-shaped name unmasked');
    assert.ok(api.core.ledger.export().some((r) => r.model === `${pasted.slice(0, 6)}…${pasted.slice(-4)}`), 'the request is in the ledger under the masked name');
    await config.update('pricing.overrides', undefined, vscode.ConfigurationTarget.Global);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aikm-export-'));
    const csvPath = path.join(dir, 'usage.csv');
    const csv = await run<{ uri: string; rows: number; format: string }>('exportUsage', { format: 'csv', uri: csvPath });
    assert.equal(csv.format, 'csv');
    assert.equal(vscode.Uri.parse(csv.uri).fsPath, csvPath);
    const lines = fs.readFileSync(csvPath, 'utf8').trimEnd().split('\r\n');
    assert.equal(lines[0], 'period,granularity,provider,model,requests,failures,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd,unpriced_requests,unpriced_tokens,mean_latency_ms,price_source');
    assert.equal(lines.length - 1, csv.rows);
    const claude = lines.find((l) => l.includes(',anthropic,claude-sonnet-4-5,'))?.split(',');
    assert.ok(claude, 'the anthropic row is exported');
    assert.ok(Number(claude[5]) >= 1, 'the failure is counted');
    assert.ok(lines.some((l) => l.includes(',openai,gpt-4o,')));
    // What priced the row, with the data's version or refresh date.
    assert.match(lines.find((l) => l.includes(',openai,gpt-4o,'))?.split(',').at(-1) ?? '', /^price data \(at export: genai-prices (\S+ bundled|refreshed \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC)\)$/);

    // Format from the file extension, path given as a URI.
    const jsonPath = path.join(dir, 'usage.json');
    const js = await run<{ rows: number; format: string }>('exportUsage', { uri: vscode.Uri.file(jsonPath).toString() });
    assert.equal(js.format, 'json');
    const text = fs.readFileSync(jsonPath, 'utf8');
    const json = JSON.parse(text) as UsageExportJson;
    assert.equal(json.rows.length, js.rows);
    assert.ok(json.rows.some((r) => r.provider === 'openai' && r.model === 'gpt-4o' && r.inputTokens >= 1000));
    assert.equal(json.totals.requests, json.rows.reduce((s, r) => s + r.requests, 0));
    assert.ok(json.totals.requests >= 2);
    const masked = json.rows.find((r) => r.provider === 'openai' && /^sk-pro…[A-Za-z0-9]{4}$/.test(r.model));
    assert.ok(masked, 'the key-shaped model name is exported masked');
    assert.ok(fs.readFileSync(csvPath, 'utf8').includes(`,openai,${masked.model},`), 'and masked the same way in the CSV');
    assertNoLeak(text + fs.readFileSync(csvPath, 'utf8'), canaries([...secrets, pasted]), 'export');
    fs.rmSync(dir, { recursive: true, force: true });
    const bad = await run('exportUsage', { format: 'xml', uri: csvPath });
    assert.match(bad.error ?? '', /format must be 'csv' or 'json'/);
  });

  it('resetUsage asks for confirmation and resets with confirm: true', async () => {
    assert.ok(api.core.usage({ days: 1 }).totals.requests > 0);
    assert.equal((await run('resetUsage')).cancelled, true);
    assert.ok(api.core.usage({ days: 1 }).totals.requests > 0, 'a dismissed dialog resets nothing');
    assert.deepEqual(await run('resetUsage', { confirm: true }), { reset: true });
    assert.equal(api.core.usage({ days: 1 }).totals.requests, 0);
    assert.equal(api.core.ledger.export().length, 0);
  });

  it('scanForLeakedKeys finds keys in workspace files and with autoFix moves them into SecretStorage', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test host opens a folder');
    const openai = mint('openai');
    const google = mint('google');
    const envFile = path.join(folder.uri.fsPath, '.env.aikm-test');
    const jsonFile = path.join(folder.uri.fsPath, 'config', 'aikm-test.json');
    const ignored = path.join(folder.uri.fsPath, 'node_modules', 'pkg', 'aikm.json');
    fs.mkdirSync(path.dirname(jsonFile), { recursive: true });
    fs.mkdirSync(path.dirname(ignored), { recursive: true });
    fs.writeFileSync(envFile, `# local\nOPENAI_API_KEY=${openai}\nDEBUG=true\n`);
    fs.writeFileSync(jsonFile, JSON.stringify({ name: 'demo', llm: { apiKey: google, retries: 3 } }, null, 2) + '\n');
    fs.writeFileSync(ignored, JSON.stringify({ key: mint('google') }));
    try {
      type Finding = { file: string; line: number; provider: string; masked: string };
      const dry = await run<{ findings: Finding[]; moved: number }>('scanForLeakedKeys', { dryRun: true });
      assert.equal(dry.moved, 0);
      assert.ok(fs.readFileSync(envFile, 'utf8').includes(openai), 'a dry run changes nothing');

      const r = await run<{ findings: Finding[]; moved: number; stored: number; errors: string[] }>('scanForLeakedKeys', { autoFix: true });
      assertNoLeak(r, canaries(secrets), 'scan result');
      const mine = r.findings.filter((f) => f.file.includes('aikm-test')).map((f) => [f.file.replace(/\\/g, '/'), f.line, f.provider]);
      assert.deepEqual(mine.sort(), [['.env.aikm-test', 2, 'openai'], ['config/aikm-test.json', 4, 'google']]);
      assert.ok(!r.findings.some((f) => f.file.includes('node_modules')), 'node_modules is not scanned');
      assert.deepEqual(r.errors, []);
      assert.ok(r.moved >= 2);
      assert.deepEqual(dry.findings, r.findings);

      const env = fs.readFileSync(envFile, 'utf8');
      assert.equal(withoutNotes(env, [['OPENAI_API_KEY', 'OpenAI']]), '# local\nOPENAI_API_KEY=\nDEBUG=true\n');
      assert.ok(env.indexOf('# AI Key Manager moved') < env.indexOf('OPENAI_API_KEY='), 'the note is above the line');
      const json = JSON.parse(fs.readFileSync(jsonFile, 'utf8'));
      assert.deepEqual(json, { name: 'demo', llm: { apiKey: '', retries: 3 } });
      for (const [provider, secret] of [['openai', openai], ['google', google]] as const) {
        const stored = api.core.listKeys(provider).filter((k) => k.label?.includes('aikm-test'));
        assert.equal(stored.length, 1, `one ${provider} key was added`);
        assert.equal(await api.vault.get(`key/${stored[0].id}`), secret);
      }
      const again = await run<{ findings: Finding[] }>('scanForLeakedKeys', { dryRun: true });
      assert.ok(!again.findings.some((f) => f.file.includes('aikm-test')), 'nothing left to find');

      // Restore Moved Key undoes it from the note: asked first (a dialog that cannot show is a no)…
      const asked = await run('restoreMovedKey', { file: envFile });
      assert.equal(asked.cancelled, true);
      assert.ok(!fs.readFileSync(envFile, 'utf8').includes(openai), 'nothing is put back without a yes');
      const back = await run<{ restored: boolean; message: string }>('restoreMovedKey', { file: envFile, confirm: true });
      assert.equal(back.restored, true);
      assert.equal(fs.readFileSync(envFile, 'utf8'), `# local\nOPENAI_API_KEY=${openai}\nDEBUG=true\n`, 'the file is as it was before the move');
      assert.match(back.message, /^The OpenAI key sk-pro…\w{4} \(from \.env\.aikm-test \(OPENAI_API_KEY\)\) is back in \.env\.aikm-test \(OPENAI_API_KEY\)\. It is also still in secret storage\.$/);
      assertNoLeak(back, canaries(secrets), 'restore result');
      const none = await run<{ restored: boolean; message: string }>('restoreMovedKey', { file: envFile, confirm: true });
      assert.equal(none.restored, false);
      assert.match(none.message, /^No moved key to restore/);

      // Back in the very place: after `export`, before a trailing comment.
      const exported = path.join(folder.uri.fsPath, '.env.aikm-export');
      const before = `A=1\nexport OPENAI_API_KEY=${openai} # prod\n`;
      fs.writeFileSync(exported, before);
      try {
        await run('scanForLeakedKeys', { autoFix: true });
        assert.equal(withoutNotes(fs.readFileSync(exported, 'utf8'), [['OPENAI_API_KEY', 'OpenAI']]), 'A=1\nexport OPENAI_API_KEY= # prod\n');
        assert.equal((await run<{ restored: boolean }>('restoreMovedKey', { file: exported, confirm: true })).restored, true);
        assert.equal(fs.readFileSync(exported, 'utf8'), before);
        // The line under the note was edited since: no guessing, nothing changed.
        await run('scanForLeakedKeys', { autoFix: true });
        const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(exported));
        const line = doc.lineAt(doc.lineCount - 2);
        assert.equal(line.text, 'export OPENAI_API_KEY= # prod');
        const change = new vscode.WorkspaceEdit();
        change.replace(doc.uri, line.range, 'B=2');
        assert.ok(await vscode.workspace.applyEdit(change));
        assert.ok(await doc.save());
        const edited = fs.readFileSync(exported, 'utf8');
        assert.ok(edited.endsWith('\nB=2\n'));
        const refused = await run('restoreMovedKey', { file: exported, confirm: true });
        assert.match(refused.error ?? '', /^The line under the note in \.env\.aikm-export changed after the key was taken out, so it is not clear where the key goes\. Nothing was changed/);
        assert.equal(fs.readFileSync(exported, 'utf8'), edited);
      } finally {
        fs.rmSync(exported, { force: true });
      }
    } finally {
      fs.rmSync(envFile, { force: true });
      fs.rmSync(path.dirname(jsonFile), { recursive: true, force: true });
      fs.rmSync(path.join(folder.uri.fsPath, 'node_modules'), { recursive: true, force: true });
    }
  });

  it('scan review: opening a file keeps the review going, and leaving it says how many keys are left', async () => {
    const folder = vscode.workspace.workspaceFolders![0];
    const openai = mint('openai');
    const groq = mint('groq');
    const openFile = path.join(folder.uri.fsPath, '.env.aikm-open');
    const leftFile = path.join(folder.uri.fsPath, '.env.aikm-left');
    fs.writeFileSync(openFile, `OPENAI_API_KEY=${openai}\n`);
    fs.writeFileSync(leftFile, `GROQ_API_KEY=${groq}\n`);
    const lists: string[][] = [];
    const actions: string[] = [];
    const warnings: string[] = [];
    // The user opens the OpenAI key's file, then moves that key, then leaves the list with the Groq key in it.
    const plan = ['Open the file at the key', 'Move to SecretStorage and remove from file'];
    const restore = stubPrompts({
      showQuickPick: async (items: QuickPickItems, o?: vscode.QuickPickOptions) => {
        const list = await items;
        if (/in plain text in workspace files/.test(o?.title ?? '')) {
          const mine = list.filter((i) => /^\.env\.aikm-(open|left):/.test(i.description ?? ''));
          lists.push(mine.map((i) => i.description ?? '').sort().reverse()); // files come in no set order
          return plan.length ? mine.find((i) => i.description?.startsWith('.env.aikm-open:')) : undefined;
        }
        const want = plan.shift();
        const action = list.find((i) => want && i.label.includes(want));
        actions.push(action?.label ?? 'none');
        return action;
      },
      showWarningMessage: async (message: string) => {
        warnings.push(message);
        return undefined;
      },
    });
    let r: R & { moved?: number; left?: number };
    try {
      r = await run('scanForLeakedKeys');
    } finally {
      restore();
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
    try {
      assert.deepEqual(actions, ['$(go-to-file) Open the file at the key', '$(lock) Move to SecretStorage and remove from file']);
      assert.deepEqual(lists, [['.env.aikm-open:1', '.env.aikm-left:1'], ['.env.aikm-open:1', '.env.aikm-left:1'], ['.env.aikm-left:1']], 'the list came back after opening the file');
      assert.equal(r.moved, 1);
      assert.equal(withoutNotes(fs.readFileSync(openFile, 'utf8'), [['OPENAI_API_KEY', 'OpenAI']]), 'OPENAI_API_KEY=\n');
      assert.ok(fs.readFileSync(leftFile, 'utf8').includes(groq), 'the key left alone stays');
      assert.ok((r.left ?? 0) >= 1);
      assert.ok(
        warnings.some((w) => new RegExp(`^${r.left === 1 ? '1 key is' : `${r.left} keys are`} still in plain text in workspace files\\. Run 'AI Keys: Scan Workspace for Leaked Keys' again`).test(w)),
        `no warning about the keys left: ${JSON.stringify(warnings)}`,
      );
      assertNoLeak({ r, lists, actions, warnings }, canaries(secrets), 'scan review');
    } finally {
      fs.rmSync(openFile, { force: true });
      fs.rmSync(leftFile, { force: true });
    }
  });

  it('removing a key from a file with unsaved edits leaves those edits unsaved and says so', async () => {
    const folder = vscode.workspace.workspaceFolders![0];
    const dirtyKey = mint('openai');
    const cleanKey = mint('anthropic');
    const dirtyFile = path.join(folder.uri.fsPath, '.env.aikm-dirty');
    const cleanFile = path.join(folder.uri.fsPath, '.env.aikm-clean');
    fs.writeFileSync(dirtyFile, `A=1\nOPENAI_API_KEY=${dirtyKey}\n`);
    fs.writeFileSync(cleanFile, `ANTHROPIC_API_KEY=${cleanKey}\n`);
    const dirty = await vscode.workspace.openTextDocument(vscode.Uri.file(dirtyFile));
    await vscode.window.showTextDocument(dirty);
    const edit = new vscode.WorkspaceEdit();
    edit.insert(dirty.uri, new vscode.Position(0, 0), '# my unsaved note\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.ok(dirty.isDirty);
    // Opened but not edited: it may be saved.
    const clean = await vscode.workspace.openTextDocument(vscode.Uri.file(cleanFile));
    const warnings: string[] = [];
    const restore = stubPrompts({
      showWarningMessage: async (message: string) => {
        warnings.push(message);
        return undefined;
      },
    });
    try {
      const r = await run<{ moved: number; errors: string[]; unsaved: string[] }>('scanForLeakedKeys', { autoFix: true });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.unsaved, ['.env.aikm-dirty']);
      // The key left the editor's text; the user's note was not saved behind their back.
      assert.equal(withoutNotes(dirty.getText(), [['OPENAI_API_KEY', 'OpenAI']]), '# my unsaved note\nA=1\nOPENAI_API_KEY=\n');
      assert.ok(dirty.isDirty, 'the document is still unsaved');
      assert.equal(fs.readFileSync(dirtyFile, 'utf8'), `A=1\nOPENAI_API_KEY=${dirtyKey}\n`, 'nothing was written to disk');
      // The document that had no unsaved changes was saved.
      assert.equal(clean.isDirty, false);
      assert.equal(withoutNotes(fs.readFileSync(cleanFile, 'utf8'), [['ANTHROPIC_API_KEY', 'Anthropic']]), 'ANTHROPIC_API_KEY=\n');
      assert.ok(
        warnings.some((w) => w.includes('.env.aikm-dirty had other unsaved changes, so it was not saved: save it to take the key off the disk.')),
        `the user is not told: ${JSON.stringify(warnings)}`,
      );
      assertNoLeak({ r, warnings }, canaries(secrets), 'scan result');
    } finally {
      restore();
      await vscode.window.showTextDocument(dirty);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      fs.rmSync(dirtyFile, { force: true });
      fs.rmSync(cleanFile, { force: true });
    }
  });

  describe('validateAllKeys against fake providers', () => {
    let fake: FakeProviders;
    const providers = ['anthropic', 'openai', 'google', 'groq', 'local'];
    const valid = canary.anthropic();
    const limited = canary.openai();
    const unknown = canary.google();

    before(async () => {
      secrets.push(valid, limited, unknown);
      fake = await startFakeProviders({ keys: { [valid]: 'valid', [limited]: { retryAfter: 30 } } });
      const c = vscode.workspace.getConfiguration('aiKeyManager');
      for (const p of providers) await c.update(`providers.${p}.baseUrl`, fake.url, vscode.ConfigurationTarget.Global);
      await waitFor(() => providers.every((p) => api.core.baseUrl(p) === fake.url), 'the base-URL settings');
    });

    after(async () => {
      const c = vscode.workspace.getConfiguration('aiKeyManager');
      for (const p of providers) await c.update(`providers.${p}.baseUrl`, undefined, vscode.ConfigurationTarget.Global);
      await fake.close();
    });

    it('checks every key, reports progress results and updates key status', async () => {
      const ids: Record<string, string> = {};
      for (const [p, k] of [['anthropic', valid], ['openai', limited], ['google', unknown]] as const) {
        ids[p] = (await run<{ key: KeyView }>('addKey', { provider: p, apiKey: k })).key.id;
      }
      const r = await run<{ results: ValidateResult[]; counts: Record<string, number>; summary: string }>('validateAllKeys');
      const byId = (id: string) => r.results.find((x) => x.keyId === id);
      assert.equal(byId(ids.anthropic)?.outcome, 'valid');
      assert.equal(byId(ids.openai)?.outcome, 'rate_limited');
      assert.equal(byId(ids.google)?.outcome, 'invalid');
      assert.equal(r.results.find((x) => x.provider === 'local')?.outcome, 'valid');
      assert.equal(r.results.length, api.core.listKeys().length + 1, 'every key and the local server');
      assert.ok(r.counts.valid >= 2 && r.counts.invalid >= 1);
      assert.match(r.summary, /\d+ valid/);
      assertNoLeak(r, canaries(secrets), 'validateAllKeys result');
      const status = Object.fromEntries(api.core.listKeys().map((k) => [k.id, k.status]));
      assert.deepEqual([status[ids.anthropic], status[ids.openai], status[ids.google]], ['healthy', 'resting', 'disabled']);
      assert.ok(fake.requests.some((q) => q.headers['x-api-key'] === valid), 'the fake was asked');

      // One key through listKeys, without prompts.
      const one = await run<{ action: string; result: ValidateResult }>('listKeys', { keyId: ids.anthropic, action: 'validate' });
      assert.equal(one.result.outcome, 'valid');
    });
  });
});
