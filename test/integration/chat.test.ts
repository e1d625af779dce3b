import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateExtension } from './helpers';
import type { AiKeyManagerTestApi } from '../../src/extension';
import { formatUsd } from '../../src/core/money';
import { assertNoLeak } from '../support/leaks';
import { waitUntil } from '../support/waitFor';

// Valid in shape for OpenRouter; any 12-character piece of it in chat output is a leak.
const CANARY = 'sk-or-v1-CANARYchatITq1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6';
const PASTED = 'sk-ant-CANARYchatPasteZ9x8C7v6B5n4M3q2W1e0R9t8Y7u6I5o4-pp';

interface Streamed {
  participant: { id: string; iconPath: string; hasFollowupProvider: boolean } | null;
  markdown: string;
  buttons: { title: string; command: string; arguments?: unknown[] }[];
  progress: string[];
  followups: { prompt: string; label?: string; command?: string }[];
  metadata: { command?: string } | null;
}

async function chat(command: string | undefined, prompt: string, references?: { uri: string; range?: [number, number, number, number] }[]): Promise<Streamed> {
  const r = await vscode.commands.executeCommand<Streamed>('aiKeyManager.debug.chat', { command, prompt, references });
  assert.ok(r, 'aiKeyManager.debug.chat returned nothing');
  return r;
}

const usd = formatUsd;

describe('chat participant', () => {
  let api: AiKeyManagerTestApi;
  let keyId: string;

  before(async () => {
    ({ api } = await activateExtension());
    for (const k of api.core.listKeys('openrouter')) if (k.source === 'vault') await api.core.removeKey('openrouter', k.id, 'command');
    const added = await api.core.addKey('openrouter', { apiKey: CANARY }, { label: 'chat-it' }, 'command');
    keyId = added.key.id;
  });

  after(async () => {
    if (keyId) await api.core.removeKey('openrouter', keyId, 'command').catch(() => undefined);
  });

  it('registers @keys with its icon, slash commands and follow-ups', async () => {
    const { ext } = await activateExtension();
    const declared = (ext.packageJSON.contributes.chatParticipants as { id: string; name: string; commands: { name: string }[] }[]).find((p) => p.id === 'aiKeyManager.keys');
    assert.ok(declared, 'package.json declares no aiKeyManager.keys participant');
    assert.equal(declared.name, 'keys');
    assert.deepEqual(declared.commands.map((c) => c.name), ['config', 'usage', 'costs', 'route']);
    const r = await chat('config', '');
    assert.ok(r.participant, 'the participant was not created (vscode.chat.createChatParticipant failed)');
    assert.equal(r.participant.id, 'aiKeyManager.keys');
    assert.match(r.participant.iconPath, /media\/keys\.svg$/);
    assert.equal(r.participant.hasFollowupProvider, true);
    assert.ok(r.followups.length > 0, 'no follow-ups suggested');
    assert.ok(r.followups.every((f) => f.prompt && f.label));
  });

  it('/config shows the key masked with its status, budgets and routing, and the action buttons', async () => {
    const r = await chat('config', '');
    const masked = api.core.listKeys('openrouter').find((k) => k.id === keyId)!.masked;
    assert.ok(r.markdown.includes(`| OpenRouter | \`${masked}\` (chat-it) | healthy | never validated |`), r.markdown);
    assert.match(r.markdown, /### Budgets/);
    assert.match(r.markdown, /### Routing now/);
    const commands = r.buttons.map((b) => b.command);
    for (const c of ['aiKeyManager.addKey', 'aiKeyManager.rotateKey', 'aiKeyManager.validateAllKeys', 'aiKeyManager.showPanel']) assert.ok(commands.includes(c), `no ${c} button`);
    assert.ok(r.progress.length > 0, 'no progress shown');
    assertNoLeak(r, [CANARY, PASTED], 'chat output');
  });

  it('maps free text to the key action and says which command answered', async () => {
    const r = await chat(undefined, 'rotate my openrouter key');
    assert.match(r.markdown, /Answering with \*\*\/config\*\*/);
    assert.deepEqual(r.buttons.map((b) => [b.command, b.arguments]), [['aiKeyManager.rotateKey', [{ provider: 'openrouter', keyId }]]]);
    const add = await chat('config', 'add an anthropic key');
    assert.deepEqual(add.buttons[0].arguments, [{ provider: 'anthropic' }]);
    assertNoLeak(r, [CANARY, PASTED], 'chat output');
  });

  it('refuses to echo a pasted key', async () => {
    for (const cmd of [undefined, 'config', 'costs']) {
      const r = await chat(cmd, `please store ${PASTED} for me`);
      assert.match(r.markdown, /looks like an Anthropic API key/);
      assert.equal(r.buttons[0].command, 'aiKeyManager.addKey');
      assertNoLeak(r, [CANARY, PASTED], 'chat output');
    }
  });

  it('/usage today has the tracked requests per provider and model', async () => {
    api.core.track({ provider: 'mistral', model: 'mistral-small-latest', inputTokens: 1234, outputTokens: 567 }, 'command');
    api.core.track({ provider: 'mistral', model: 'mistral-small-latest', inputTokens: 1000, outputTokens: 100 }, 'command');
    const r = await chat('usage', 'today mistral');
    const g = api.core.usage({ days: 1, provider: 'mistral', groupBy: 'model' }).groups.find((x) => x.model === 'mistral-small-latest');
    assert.ok(g && g.requests >= 2);
    assert.match(r.markdown, /### Usage today for Mistral AI/);
    const n = (x: number) => x.toLocaleString('en-US');
    assert.ok(r.markdown.includes(`| mistral-small-latest | mistral | ${n(g.requests)} | ${n(g.inputTokens)} | ${n(g.outputTokens)} | ${usd(g.costUsd)} |`), r.markdown);
    assert.ok(r.markdown.includes('| Mistral AI |'));
  });

  it('/costs estimates a model and token counts, with budget and cheaper alternatives', async () => {
    const r = await chat('costs', 'gpt-4o 5000 in 1000 out');
    const expected = api.core.estimateCost({ model: 'gpt-4o', inputTokens: 5000, outputTokens: 1000 }).cost.totalCost;
    assert.ok(r.markdown.includes(`5,000 input + 1,000 output tokens → **${usd(expected)}**`), r.markdown);
    assert.match(r.markdown, /\*\*Cheaper for chat\*\*/);
    assert.match(r.markdown, /### Budget/);
    const unknown = await chat('costs', 'gpt-5o-turbo 100 in');
    assert.match(unknown.markdown, /I don't know a price for \*\*gpt-5o-turbo\*\*/);
    assert.match(unknown.markdown, /Close matches:/);
  });

  it('/costs counts the tokens of an attached file and of a range', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aikm-chat-'));
    const file = path.join(dir, 'sample.ts');
    const text = 'export const greet = (name: string) => `hello ${name}`;\n'.repeat(50);
    fs.writeFileSync(file, text);
    try {
      const uri = vscode.Uri.file(file).toString();
      const whole = await chat('costs', 'gpt-4o', [{ uri }]);
      const tokens = api.core.estimateCost({ model: 'gpt-4o', text }).tokenizer!.tokens;
      assert.ok(whole.markdown.includes(`sample.ts: ${tokens.toLocaleString('en-US')} tokens`), whole.markdown);
      assert.ok(!whole.markdown.includes('hello'), 'the file text is never echoed');
      const firstLine = text.split('\n')[0];
      const part = await chat('costs', 'gpt-4o', [{ uri, range: [0, 0, 0, firstLine.length] }]);
      const partTokens = api.core.estimateCost({ model: 'gpt-4o', text: firstLine }).tokenizer!.tokens;
      assert.ok(part.markdown.includes(`sample.ts (line 1): ${partTokens} tokens`), part.markdown);
      const missing = await chat('costs', 'gpt-4o', [{ uri: vscode.Uri.file(path.join(dir, 'gone.ts')).toString() }]);
      assert.match(missing.markdown, /I could not read gone\.ts: it does not exist/);
      assert.doesNotMatch(missing.markdown, /\n\s+at /, 'a stack trace reached the user');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('/route names the choice, fallbacks and skipped providers; unknown tasks list the types', async () => {
    // Seeded so every part of the answer is there: Anthropic first for code review, OpenRouter
    // (added in before()) as a fallback, DeepSeek disabled and so skipped.
    const anthropic = 'sk-ant-api03-CANARYchatRouteK9j8H7g6F5d4S3a2Q1w2E3r4T5y6U7i8O9p0-rr';
    const added = await api.core.addKey('anthropic', { apiKey: anthropic }, { label: 'chat-route' }, 'command');
    const config = vscode.workspace.getConfiguration('aiKeyManager');
    await config.update('providers.disabled', ['deepseek'], vscode.ConfigurationTarget.Global);
    try {
      const d = await waitUntil(() => api.core.route({ taskType: 'code_review' }), (x) => x.skipped.some((s) => s.provider === 'deepseek'), 'DeepSeek disabled in the routing', { timeoutMs: 3000 });
      assert.equal(d.provider, 'anthropic');
      assert.ok(d.fallbacks.some((f) => f.provider === 'openrouter'), `OpenRouter is not a fallback: ${JSON.stringify(d.fallbacks)}`);
      const deepseek = d.skipped.find((s) => s.provider === 'deepseek');
      assert.equal(deepseek?.why, 'disabled in settings');
      const r = await chat('route', 'code review');
      assert.ok(r.markdown.includes(`### code_review: anthropic / ${d.model}`), r.markdown);
      assert.match(r.markdown, /Why: /);
      assert.match(r.markdown, /\*\*Fallback chain\*\*/);
      d.fallbacks.forEach((f, i) => assert.ok(r.markdown.includes(`${i + 1}. ${f.provider} / ${f.model}: ${usd(f.estimatedCost)}`), `fallback ${i + 1} missing:\n${r.markdown}`));
      assert.match(r.markdown, /\*\*Skipped\*\*/);
      assert.ok(r.markdown.includes('- DeepSeek: disabled in settings'), r.markdown);
      assertNoLeak(r, [CANARY, PASTED, anthropic], 'chat output');
    } finally {
      await config.update('providers.disabled', undefined, vscode.ConfigurationTarget.Global);
      await api.core.removeKey('anthropic', added.key.id, 'command');
    }
    const unknown = await chat('route', 'make coffee');
    assert.match(unknown.markdown, /I don't know the task "make coffee"/);
    assert.match(unknown.markdown, /`code_review`/);
  });

  it('routes a question without a command by its keywords', async () => {
    const r = await chat(undefined, 'how much did I spend today');
    assert.match(r.markdown, /Answering with \*\*\/usage\*\*/);
    assert.equal(r.metadata?.command, 'usage');
  });
});
