// The router endpoint driven by the official OpenAI SDK: /v1/chat/completions serves any provider in
// OpenAI's format (translated for Anthropic, Gemini and Ollama), says what served it, falls back
// across providers before the first byte, records the provider's own usage; /v1/models lists what
// can be served now.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startGateway, type Gateway } from '../../src/gateway/server';
import { startFakeProviders, type FakeKeyScript, type FakeProviders } from '../fakes/providers';
import { makeTestCore, type TestCoreParts } from '../support/core';
import { assertNoLeak } from '../support/leaks';
import { baseUrlEnv } from '../mcp/helpers';

const TOKEN = 'aikm-router-test-token-0123456789abcdefghijklmnopqrstuvwxyz';
const KEYS = {
  openai: 'sk-proj-CANARYrtA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9',
  anthropic: 'sk-ant-api03-CANARYrtAntA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8-zz',
  google: 'AIzaCANARYrtGoogleQ1w2E3r4T5y6U7i8O9p0A',
};
const USAGE = { inputTokens: 1200, outputTokens: 34, cacheReadTokens: 200, cacheWriteTokens: 0 };
const WEATHER: OpenAI.ChatCompletionTool = { type: 'function', function: { name: 'weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };

describe('gateway router: /v1/chat/completions for every provider through the OpenAI SDK', () => {
  let fake: FakeProviders;
  let t: TestCoreParts;
  let gw: Gateway;
  let client: OpenAI;
  const behaviour: Record<string, FakeKeyScript> = {};
  const replies: string[] = [];

  before(async () => {
    Object.assign(behaviour, { [KEYS.openai]: 'valid', [KEYS.anthropic]: 'valid', [KEYS.google]: 'valid' });
    fake = await startFakeProviders({ keys: behaviour, usage: USAGE, replyText: 'Routed reply, in three parts.', toolCall: { name: 'weather', arguments: { city: 'Paris' } } });
    t = makeTestCore({ env: baseUrlEnv(fake.url) });
    await t.core.addKey('openai', { apiKey: KEYS.openai }, {}, 'command');
    await t.core.addKey('anthropic', { apiKey: KEYS.anthropic }, {}, 'command');
    await t.core.addKey('google', { apiKey: KEYS.google }, {}, 'command');
    gw = await startGateway({ core: t.core, token: TOKEN, port: 0, retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 } });
    client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });

  after(async () => {
    for (const r of replies) assertNoLeak(r, Object.values(KEYS), 'router replies');
    assertNoLeak(t.state.dump() + t.ledgerState.dump(), Object.values(KEYS), "stored state");
    await gw.close();
    await fake.close();
  });

  const totals = (provider: string) => t.core.usage({ days: 1, provider }).totals;

  it('anthropic/<model>: translated both ways, says what served it, records the provider usage', async () => {
    const before = fake.requests.length;
    const { data, response } = await client.chat.completions.create({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello?' }] }).withResponse();
    replies.push(JSON.stringify(data));
    assert.equal(data.choices[0].message.content, 'Routed reply, in three parts.');
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.equal(data.model, 'claude-sonnet-4-5');
    assert.equal(response.headers.get('x-aikm-provider'), 'anthropic');
    assert.equal(response.headers.get('x-aikm-model'), 'anthropic/claude-sonnet-4-5');
    // Anthropic's input excludes cache reads; OpenAI's prompt_tokens includes them.
    assert.deepEqual(data.usage, { prompt_tokens: 1400, completion_tokens: 34, total_tokens: 1434, prompt_tokens_details: { cached_tokens: 200 } });
    const sent = fake.requests.slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].path, '/v1/messages');
    assert.equal(sent[0].headers['x-api-key'], KEYS.anthropic);
    const body = JSON.parse(sent[0].body) as { system: string; max_tokens: number; messages: unknown[] };
    assert.equal(body.system, 'Be brief.');
    assert.ok(body.max_tokens > 0);
    const u = totals('anthropic');
    assert.equal(u.requests, 1);
    assert.equal(u.inputTokens, USAGE.inputTokens);
    assert.equal(u.cacheReadTokens, USAGE.cacheReadTokens);
    assert.equal(u.outputTokens, USAGE.outputTokens);
  });

  it('streams: text arrives in pieces, usage only when asked, and the ledger gets it either way', async () => {
    const before = totals('anthropic').requests;
    const stream = await client.chat.completions.create({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Stream?' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    let pieces = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const d = chunk.choices[0]?.delta.content;
      if (d) {
        text += d;
        pieces++;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'Routed reply, in three parts.');
    assert.ok(pieces >= 2, `streamed in ${pieces} pieces`);
    assert.equal(usage?.prompt_tokens, 1400);
    assert.equal(usage?.completion_tokens, 34);

    const quiet = await client.chat.completions.create({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Stream?' }], stream: true });
    let sawUsage = false;
    for await (const chunk of quiet) if (chunk.usage) sawUsage = true;
    assert.equal(sawUsage, false);
    assert.equal(totals('anthropic').requests, before + 2);
  });

  it('tool calls both ways: the call comes back parsed, the tool result reaches the provider in its own format', async () => {
    const first = await client.chat.completions.create({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER] });
    const call = first.choices[0].message.tool_calls?.[0];
    assert.equal(first.choices[0].finish_reason, 'tool_calls');
    assert.ok(call && call.type === 'function');
    assert.equal(call.function.name, 'weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });

    const stream = client.chat.completions.stream({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER] });
    const final = await stream.finalChatCompletion();
    const streamed = final.choices[0].message.tool_calls?.[0];
    assert.ok(streamed && streamed.type === 'function');
    assert.deepEqual(JSON.parse(streamed.function.arguments), { city: 'Paris' });

    const before = fake.requests.length;
    const second = await client.chat.completions.create({
      model: 'anthropic/claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Weather in Paris?' }, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '18C, sunny' }],
      tools: [WEATHER],
    });
    assert.equal(second.choices[0].message.content, 'Routed reply, in three parts.');
    const sent = JSON.parse(fake.requests[before].body) as { messages: { role: string; content: { type: string; tool_use_id?: string; content?: string; input?: unknown }[] }[] };
    assert.deepEqual(sent.messages[1].content[0], { type: 'tool_use', id: call.id, name: 'weather', input: { city: 'Paris' } });
    assert.deepEqual(sent.messages[2], { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18C, sunny' }] });
  });

  for (const [model, provider, path] of [
    ['gemini/gemini-2.0-flash', 'google', /^\/v1beta\/models\/gemini-2\.0-flash:(generateContent|streamGenerateContent\?alt=sse)$/],
    ['ollama/llama3.1', 'local', /^\/api\/chat$/],
  ] as const) {
    it(`${model}: text and tool calls, plain and streamed, with the provider's usage recorded`, async () => {
      const was = totals(provider);
      const before = fake.requests.length;
      const plain = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello?' }] });
      replies.push(JSON.stringify(plain));
      assert.equal(plain.choices[0].message.content, 'Routed reply, in three parts.');
      assert.match(fake.requests[before].path, path);
      let text = '';
      for await (const chunk of await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello?' }], stream: true })) text += chunk.choices[0]?.delta.content ?? '';
      assert.equal(text, 'Routed reply, in three parts.');
      assert.match(fake.requests[before + 1].path, path);

      const final = await client.chat.completions.stream({ model, messages: [{ role: 'user', content: 'Weather?' }], tools: [WEATHER] }).finalChatCompletion();
      const call = final.choices[0].message.tool_calls?.[0];
      assert.ok(call && call.type === 'function');
      assert.equal(call.function.name, 'weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
      const answer = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Weather?' }, final.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '18C' }], tools: [WEATHER] });
      assert.equal(answer.choices[0].message.content, 'Routed reply, in three parts.');
      assert.ok(fake.requests.at(-1)!.body.includes('18C'), 'the tool result reached the provider');

      const u = totals(provider);
      assert.equal(u.requests, was.requests + 4);
      assert.equal(u.outputTokens - was.outputTokens, 4 * USAGE.outputTokens, "the fake's output tokens, recorded exactly");
    });
  }

  it('with the budget reached and enforced, auto serves from a local model and paid models are refused', async () => {
    await t.settings.setBudget({ daily: 0.0001, enforce: true });
    try {
      const { response } = await client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
      assert.equal(response.headers.get('x-aikm-provider'), 'local');
      await assert.rejects(client.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Hi' }] }), (e: unknown) => e instanceof OpenAI.RateLimitError && /daily budget .* reached.*Set Budget/.test(e.message));
    } finally {
      await t.settings.setBudget({ daily: 0, enforce: false });
    }
  });

  it('openai/<model> passes through with the provider model; a bare name or unknown provider gets a clear 400', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).withResponse();
    assert.equal(data.choices[0].message.content, 'Routed reply, in three parts.');
    assert.equal(response.headers.get('x-aikm-model'), 'openai/gpt-4o-mini');
    assert.equal(JSON.parse(fake.requests.at(-1)!.body).model, 'gpt-4o-mini');
    for (const model of ['gpt-4o', 'nosuch/model', 'anthropic/']) {
      await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] }), (e: unknown) => e instanceof OpenAI.BadRequestError && /provider\/model/.test(e.message));
    }
    await assert.rejects(client.chat.completions.create({ model: 'auto:poetry', messages: [{ role: 'user', content: 'Hi' }] }), (e: unknown) => e instanceof OpenAI.BadRequestError && /code_generation/.test(e.message));
  });

  it('a provider without a key answers 503 naming what to do', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'Hi' }] }), (e: unknown) => e instanceof OpenAI.APIError && e.status === 503 && /No key stored for Groq.*Add API Key/.test(e.message));
  });

  it('auto falls back to the next provider when the first fails before the first byte', async () => {
    behaviour[KEYS.anthropic] = 'server_error';
    try {
      const failedBefore = t.core.usage({ days: 1, provider: 'anthropic' }).totals.failures;
      const { data, response } = await client.chat.completions.create({ model: 'auto:code_generation', messages: [{ role: 'user', content: 'Write code' }] }).withResponse();
      assert.equal(data.choices[0].message.content, 'Routed reply, in three parts.');
      const served = response.headers.get('x-aikm-provider');
      assert.ok(served && served !== 'anthropic', `served by ${served}`);
      assert.match(response.headers.get('x-aikm-model') ?? '', new RegExp(`^${served}/`));
      assert.equal(t.core.usage({ days: 1, provider: 'anthropic' }).totals.failures, failedBefore + 1, 'the failed try is recorded');
      const last = t.core.ledger.recent(1)[0];
      assert.equal(last.provider, served);
      assert.equal(last.taskType, 'code_generation');
    } finally {
      behaviour[KEYS.anthropic] = 'valid';
    }
  });

  it('an explicit provider/model does not fall back: its failure comes back in OpenAI shape', async () => {
    behaviour[KEYS.anthropic] = 'unauthorized';
    try {
      await assert.rejects(client.chat.completions.create({ model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }] }), (e: unknown) => e instanceof OpenAI.APIError && e.status === 502 && /rejected its key/.test(e.message));
    } finally {
      behaviour[KEYS.anthropic] = 'valid';
      const key = t.core.keys.list('anthropic')[0];
      await t.core.keys.setStatus(key.id, 'healthy');
    }
  });

  it('/v1/models lists auto, the tasks and the models that can be served now', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    assert.ok(ids.includes('auto'));
    assert.ok(ids.includes('auto:code_review'));
    assert.ok(ids.some((id) => id.startsWith('anthropic/')));
    assert.ok(ids.some((id) => id.startsWith('openai/')));
    assert.ok(!ids.some((id) => id.startsWith('groq/')), 'no key, not listed');
  });

  it('a wrong token gets 401 in OpenAI shape', async () => {
    const bad = new OpenAI({ apiKey: 'wrong-token', baseURL: `${gw.url}/v1`, maxRetries: 0 });
    await assert.rejects(bad.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Hi' }] }), (e: unknown) => e instanceof OpenAI.AuthenticationError && /gateway token/.test(e.message));
  });
});
