// Streams through the gateway with the official SDKs: text passes through unchanged, usage is
// recorded from the provider's own stream events (asked for where the client did not), a client that
// hangs up frees the upstream and is recorded as incomplete, and retries happen before the first byte.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { startGateway, type Gateway } from '../../src/gateway/server';
import { startFakeProviders, type FakeProviders, type FakeKeyScript } from '../fakes/providers';
import { makeTestCore, type TestCoreParts } from '../support/core';
import { waitFor } from '../support/waitFor';
import { baseUrlEnv } from '../mcp/helpers';

const TOKEN = 'aikm-gw-stream-token-0123456789abcdefghijklmnopqrstuv';
const KEYS = {
  openai: 'sk-proj-CANARYstrA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9',
  anthropic: 'sk-ant-api03-CANARYstrAntA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8-zz',
  google: 'AIzaCANARYstrGoogleQ1w2E3r4T5y6U7i8O9p0',
  openrouter: `sk-or-v1-${'ab12'.repeat(16)}`,
};
const USAGE = { inputTokens: 2000, outputTokens: 300, cacheReadTokens: 500, cacheWriteTokens: 0, reasoningTokens: 40 };
const REPLY = 'one two three four five six seven eight nine ten';

describe('gateway: streams, usage from the stream, disconnects, retries', () => {
  let fake: FakeProviders;
  let t: TestCoreParts;
  let gw: Gateway;
  const keys: Record<string, FakeKeyScript> = {};

  before(async () => {
    Object.assign(keys, { [KEYS.openai]: 'valid', [KEYS.anthropic]: 'valid', [KEYS.google]: 'valid', [KEYS.openrouter]: 'valid' });
    fake = await startFakeProviders({ keys, usage: USAGE, replyText: REPLY, streamChunks: 5, chunkDelayMs: 30, cost: 0.0123 });
    t = makeTestCore({ env: baseUrlEnv(fake.url) });
    for (const [p, k] of Object.entries(KEYS)) await t.core.addKey(p, { apiKey: k }, {}, 'command');
    gw = await startGateway({ core: t.core, token: TOKEN, port: 0, retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
  });

  after(async () => {
    await gw.close();
    await fake.close();
  });

  const totals = (provider: string) => t.core.usage({ days: 1, provider }).totals;
  const openai = () => new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });

  it('OpenAI stream without include_usage: the gateway asks for usage, records it, and the client never sees the extra chunk', async () => {
    const stream = await openai().chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'count' }] });
    let text = '';
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usageChunks++;
    }
    assert.equal(text, REPLY);
    assert.equal(usageChunks, 0, 'the usage chunk the gateway asked for is not passed on');
    assert.match(fake.requests.at(-1)!.body, /"include_usage":true/, 'asked upstream for usage');
    await waitFor(() => totals('openai').requests === 1, 'the stream to be recorded');
    const u = totals('openai');
    // OpenAI counts cached tokens inside prompt_tokens; the ledger keeps them apart.
    assert.deepEqual([u.inputTokens, u.cacheReadTokens, u.outputTokens, u.failures], [USAGE.inputTokens - USAGE.cacheReadTokens, USAGE.cacheReadTokens, USAGE.outputTokens, 0]);
  });

  it('OpenAI stream with include_usage: the client gets its usage chunk, recorded once', async () => {
    const stream = await openai().chat.completions.create({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'x' }] });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    assert.equal(usage?.prompt_tokens, USAGE.inputTokens);
    await waitFor(() => totals('openai').requests === 2, 'the second stream to be recorded');
  });

  it('Anthropic and Gemini streams: text through, usage from message_start/message_delta and the last usageMetadata', async () => {
    const anthropic = new Anthropic({ apiKey: TOKEN, baseURL: `${gw.url}/anthropic`, maxRetries: 0 });
    const s = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'x' }] });
    let text = '';
    for await (const e of s) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
    assert.equal(text, REPLY);
    await waitFor(() => totals('anthropic').requests === 1, 'the Anthropic stream to be recorded');
    assert.equal(totals('anthropic').outputTokens, USAGE.outputTokens, 'cumulative output tokens, not summed per event');
    assert.equal(totals('anthropic').cacheReadTokens, USAGE.cacheReadTokens);

    const google = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: `${gw.url}/gemini` } });
    let gtext = '';
    for await (const c of await google.models.generateContentStream({ model: 'gemini-2.0-flash', contents: 'x' })) gtext += c.text ?? '';
    assert.equal(gtext, REPLY);
    await waitFor(() => totals('google').requests === 1, 'the Gemini stream to be recorded');
    const g = totals('google');
    assert.equal(g.inputTokens + g.cacheReadTokens, USAGE.inputTokens);
    assert.ok(g.outputTokens >= USAGE.outputTokens, 'thinking tokens count as output');
  });

  it('Ollama NDJSON stream through /ollama: prompt_eval_count and eval_count recorded', async () => {
    const r = await fetch(`${gw.url}/ollama/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'llama3.1', messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(r.status, 200);
    const lines = (await r.text()).trim().split('\n').map((l) => JSON.parse(l) as { done: boolean; message?: { content: string } });
    assert.equal(lines.map((l) => l.message?.content ?? '').join(''), REPLY);
    assert.equal(lines.at(-1)?.done, true);
    await waitFor(() => totals('local').requests === 1, 'the Ollama stream to be recorded');
    assert.equal(totals('local').outputTokens, USAGE.outputTokens);
  });

  it('a client that hangs up mid-stream frees the upstream and is recorded as incomplete', async () => {
    const before = totals('openai');
    const controller = new AbortController();
    const stream = await openai().chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'x' }] }, { signal: controller.signal });
    let seen = '';
    try {
      for await (const chunk of stream) {
        seen += chunk.choices[0]?.delta?.content ?? '';
        if (seen) {
          controller.abort();
          break;
        }
      }
    } catch {
      // the SDK may say it was aborted
    }
    assert.ok(seen.length > 0 && seen.length < REPLY.length, 'hung up after the first piece');
    const upstream = fake.requests.at(-1)!;
    await waitFor(() => upstream.aborted, 'the upstream request to be closed');
    await waitFor(() => totals('openai').requests === before.requests + 1, 'the cut stream to be recorded');
    assert.equal(totals('openai').failures, before.failures + 1, 'recorded as not complete');
    const recent = t.core.usageLedger().recent(1)[0];
    assert.match(recent.error ?? '', /incomplete: the client closed the connection/);
    assert.equal(recent.incomplete, true);
    assert.equal(recent.keyId, t.core.listKeys('openai')[0].id, 'the key that served, by id');
  });

  it('500, 500, 200 before the first byte: the client gets the 200', async () => {
    keys[KEYS.openai] = ['server_error', 'server_error', 'valid'];
    const before = fake.requests.length;
    const r = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.choices[0].message.content, REPLY);
    assert.deepEqual(fake.requests.slice(before).map((x) => x.status), [500, 500, 200]);
    const last = t.core.usageLedger().recent(1)[0];
    assert.equal(last.retries, 2);
    assert.equal(last.success, true);
    assert.equal(last.incomplete, undefined);
    keys[KEYS.openai] = 'valid';
  });

  it('no new try starts after retry.maxTotalMs: the client gets the last error, not a long wait', async () => {
    keys[KEYS.openai] = 'server_error';
    gw.update({ retry: { attempts: 50, baseDelayMs: 40, maxDelayMs: 40, maxTotalMs: 100 } });
    try {
      const before = fake.requests.length;
      await assert.rejects(openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), OpenAI.InternalServerError);
      const tries = fake.requests.length - before;
      assert.ok(tries >= 2 && tries < 50, `${tries} tries in a 100 ms window with up to 40 ms pauses`);
      const last = t.core.usageLedger().recent(1)[0];
      assert.equal(last.retries, tries - 1);
    } finally {
      keys[KEYS.openai] = 'valid';
      gw.update({ retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
    }
  });

  it('OpenRouter’s own usage.cost is what is recorded', async () => {
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openrouter/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'anthropic/claude-sonnet-4.5', messages: [{ role: 'user', content: 'x' }] });
    await waitFor(() => totals('openrouter').requests === 1, 'the OpenRouter request to be recorded');
    assert.ok(Math.abs(totals('openrouter').costUsd - 0.0123) < 1e-9, `recorded ${totals('openrouter').costUsd}`);
    // Our estimate is kept beside the provider's figure, to compare.
    const last = t.core.usageLedger().recent(1)[0];
    assert.equal(last.costUsd, 0.0123);
    assert.ok(last.estimatedCostUsd !== undefined && last.estimatedCostUsd > 0 && last.estimatedCostUsd !== 0.0123, `estimate ${last.estimatedCostUsd}`);
  });
});
