// The user's keys as VS Code chat models in the real extension host: vendor "aikm" lists the
// provider's models and Auto, requests stream the provider's text in order, tool calls come back as
// LanguageModelToolCallPart and tool results reach the provider in its format, the ledger records the
// provider's usage exactly, and an enforced budget that is reached stops requests with its message.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { activateExtension } from './helpers';
import type { AiKeyManagerTestApi } from '../../src/extension';
import { startFakeProviders, type FakeProviders } from '../fakes/providers';
import { waitFor, waitUntil } from '../support/waitFor';
import { hasUi, ui } from './ui';
import { assertNoLeak } from '../support/leaks';

const KEY = `sk-proj-CANARYlm${randomBytes(24).toString('hex')}`;
const REPLY = 'First piece, second piece, third piece.';

describe('chat models (vendor aikm) in VS Code', () => {
  let api: AiKeyManagerTestApi;
  let fake: FakeProviders;
  const config = () => vscode.workspace.getConfiguration('aiKeyManager');
  const seen: string[] = [];

  before(async () => {
    ({ api } = await activateExtension());
    fake = await startFakeProviders({ keys: { [KEY]: 'valid' }, usage: { inputTokens: 4321, outputTokens: 123 }, replyText: REPLY, streamChunks: 3, toolCall: { name: 'get_weather', arguments: { city: 'Lima' } } });
    await config().update('providers.openai.baseUrl', fake.url, vscode.ConfigurationTarget.Global);
    await waitFor(() => api.core.baseUrl('openai') === fake.url, 'the base-URL setting');
    await api.core.resetUsage('system');
    const added = (await vscode.commands.executeCommand('aiKeyManager.addKey', { provider: 'openai', apiKey: KEY })) as { key?: { id: string } };
    assert.ok(added.key, JSON.stringify(added));
  });

  after(async () => {
    for (const k of api.core.listKeys('openai')) await api.core.removeKey('openai', k.id, 'system');
    await config().update('providers.openai.baseUrl', undefined, vscode.ConfigurationTarget.Global);
    await config().update('budget.daily', undefined, vscode.ConfigurationTarget.Global);
    await config().update('budget.enforce', undefined, vscode.ConfigurationTarget.Global);
    await api.core.resetUsage('system');
    await fake.close();
    assertNoLeak(seen.join('\n'), [KEY], 'chat model replies and errors');
    assertNoLeak(api.stateDump(), [KEY], 'extension state');
  });

  const models = () => vscode.lm.selectChatModels({ vendor: 'aikm' });

  it('lists the provider’s models and Auto', async () => {
    const list = await waitFor(async () => {
      const m = await models();
      return m.some((x) => x.id === 'openai/gpt-4o') ? m : undefined;
    }, 'the OpenAI models to be offered');
    const ids = list.map((m) => m.id);
    assert.ok(ids.includes('auto'), ids.join(', '));
    assert.ok(!ids.some((id) => id.startsWith('anthropic/')), 'no key, not offered');
    // From the provider's live list (which has no gpt-4.1 and an embedding model), fetched with the stored key.
    assert.ok(ids.includes('openai/gpt-4o-mini'), ids.join(', '));
    assert.ok(!ids.includes('openai/gpt-4.1') && !ids.includes('openai/text-embedding-3-small'), ids.join(', '));
    assert.ok(fake.requests.some((r) => r.method === 'GET' && r.path === '/v1/models' && r.headers.authorization === `Bearer ${KEY}`));
    const gpt = list.find((m) => m.id === 'openai/gpt-4o')!;
    assert.equal(gpt.vendor, 'aikm');
    assert.equal(gpt.family, 'openai');
    assert.ok(gpt.maxInputTokens > 10_000);
  });

  it('streams the provider’s text in order and records its usage exactly', async () => {
    const [model] = await vscode.lm.selectChatModels({ vendor: 'aikm', id: 'openai/gpt-4o' });
    const before = api.core.usage({ days: 1, provider: 'openai' }).totals;
    const res = await model.sendRequest([vscode.LanguageModelChatMessage.User('Count to three')], {}, new vscode.CancellationTokenSource().token);
    const pieces: string[] = [];
    for await (const t of res.text) pieces.push(t);
    seen.push(pieces.join(''));
    assert.equal(pieces.join(''), REPLY);
    assert.ok(pieces.length >= 2, `${pieces.length} pieces`);
    const sent = JSON.parse(fake.requests.at(-1)!.body) as { model: string; stream: boolean; messages: { role: string; content: string }[] };
    assert.equal(sent.model, 'gpt-4o');
    assert.equal(sent.stream, true);
    assert.deepEqual(sent.messages, [{ role: 'user', content: 'Count to three' }]);
    assert.equal(fake.requests.at(-1)!.headers.authorization, `Bearer ${KEY}`);
    await waitFor(() => api.core.usage({ days: 1, provider: 'openai' }).totals.requests === before.requests + 1, 'the request to be recorded');
    const after = api.core.usage({ days: 1, provider: 'openai' }).totals;
    assert.equal(after.inputTokens - before.inputTokens, 4321);
    assert.equal(after.outputTokens - before.outputTokens, 123);
  });

  it('tool calls come back as LanguageModelToolCallPart; the tool result reaches the provider in its format', async () => {
    const [model] = await vscode.lm.selectChatModels({ vendor: 'aikm', id: 'openai/gpt-4o' });
    const tools: vscode.LanguageModelChatTool[] = [{ name: 'get_weather', description: 'Weather for a city', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }];
    const first = await model.sendRequest([vscode.LanguageModelChatMessage.User('Weather in Lima?')], { tools }, new vscode.CancellationTokenSource().token);
    const calls: vscode.LanguageModelToolCallPart[] = [];
    for await (const part of first.stream) if (part instanceof vscode.LanguageModelToolCallPart) calls.push(part);
    assert.equal(calls.length, 1);
    assert.equal(calls[0].name, 'get_weather');
    assert.deepEqual(calls[0].input, { city: 'Lima' });

    const follow = await model.sendRequest(
      [
        vscode.LanguageModelChatMessage.User('Weather in Lima?'),
        vscode.LanguageModelChatMessage.Assistant([calls[0]]),
        vscode.LanguageModelChatMessage.User([new vscode.LanguageModelToolResultPart(calls[0].callId, [new vscode.LanguageModelTextPart('19C, cloudy')])]),
      ],
      { tools },
      new vscode.CancellationTokenSource().token,
    );
    let text = '';
    for await (const t of follow.text) text += t;
    assert.equal(text, REPLY);
    const sent = JSON.parse(fake.requests.at(-1)!.body) as { messages: unknown[] };
    assert.deepEqual(sent.messages.slice(1), [
      { role: 'assistant', content: null, tool_calls: [{ id: calls[0].callId, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lima"}' } }] },
      { role: 'tool', tool_call_id: calls[0].callId, content: '19C, cloudy' },
    ]);
  });

  it('in the workbench: the model picker lists AI Key Manager models, and @keys /config typed in the Chat view answers (screenshot test-results/chat-keys-config.png)', async function () {
    if (!hasUi) this.skip();
    this.timeout(60_000);
    await vscode.commands.executeCommand('workbench.action.chat.open', { mode: 'ask' });
    const rows = () => ui.workbench<string[]>(`return [...document.querySelectorAll('.action-widget .monaco-list-row')].filter((e) => e.getClientRects().length).map((e) => e.getAttribute('aria-label') ?? '')`);
    await waitFor(async () => (await ui.workbench<string>(`return document.querySelector('.model-picker-item')?.textContent ?? ''`)).includes('AI Key Manager'), 'our model in the chat input');
    await ui.click('.model-picker-item .action-label');
    await waitUntil(rows, (r) => r.some((x) => x.startsWith('AI Key Manager: Auto')), 'the model picker to open');
    await ui.click('.action-widget .monaco-list-row[aria-label="Other Models"]');
    const listed = await waitUntil(rows, (r) => r.some((x) => x.startsWith('gpt-4o, OpenAI')), 'the OpenAI models in the picker');
    assert.ok(listed.some((x) => x.startsWith('gpt-4o-mini, OpenAI')), listed.join(' | '));
    await ui.press('Escape');

    await ui.click('.chat-input-container .monaco-editor');
    await ui.type('@keys /config');
    await ui.click('.chat-submit-button .action-label');
    const answer = await waitUntil(
      () => ui.workbench<string>(`return document.querySelector('.interactive-response.chat-most-recent-response')?.textContent ?? ''`),
      (t) => t.includes('sk-pro…') && t.includes('OpenAI'),
      'the /config answer in the Chat view',
      { timeoutMs: 20_000 },
    );
    seen.push(answer);
    const page = await ui.workbench<string>(`return document.body.innerText`);
    assert.ok(!/Language model unavailable/i.test(page), 'no "Language model unavailable"');
    await ui.screenshot('chat-keys-config');
  });

  it('with the budget reached and enforced, a request fails with the budget message', async () => {
    await config().update('budget.daily', 0.000001, vscode.ConfigurationTarget.Global);
    await config().update('budget.enforce', true, vscode.ConfigurationTarget.Global);
    await waitFor(() => api.core.budget().enforce && api.core.budget().day.exceeded, 'the budget to be reached');
    const [model] = await vscode.lm.selectChatModels({ vendor: 'aikm', id: 'openai/gpt-4o' });
    const before = fake.requests.length;
    await assert.rejects(
      (async () => {
        const res = await model.sendRequest([vscode.LanguageModelChatMessage.User('Hi')], {}, new vscode.CancellationTokenSource().token);
        for await (const t of res.text) void t;
      })(),
      (e: unknown) => {
        seen.push(String(e));
        return e instanceof Error && /daily budget .* reached.*Set Budget/.test(e.message);
      },
    );
    assert.equal(fake.requests.length, before, 'nothing was sent');
  });
});
