// The fake providers, driven by the official SDKs: whatever the fake sends, the SDKs must parse.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI } from '@google/genai';
import { startFakeProviders, type FakeProviders, type FakeProvidersOptions } from './providers';
import { embedding } from './wire';

const TEXT = 'The quick brown fox jumps over the lazy dog again and again.';
const USAGE = { inputTokens: 120, outputTokens: 40, cacheReadTokens: 100, cacheWriteTokens: 7, reasoningTokens: 12 };

const K = {
  good: 'sk-good',
  bad: 'sk-not-listed',
  forbidden: 'sk-forbidden',
  limited: 'sk-limited',
  script: 'sk-script',
  retried: 'sk-retried',
  reset: 'sk-reset',
  cut: 'sk-cut',
  overloaded: 'sk-overloaded',
  waitThenOk: 'sk-wait-then-ok',
  waitThenOkAnthropic: 'sk-ant-wait-then-ok',
  hang: 'sk-hang',
};

const OPTIONS: FakeProvidersOptions = {
  replyText: TEXT,
  usage: USAGE,
  streamChunks: 4,
  chunkDelayMs: 1,
  keys: {
    [K.good]: 'valid',
    [K.forbidden]: 'forbidden',
    [K.limited]: { retryAfter: 3 },
    [K.script]: ['server_error', 'server_error', 'valid'],
    [K.retried]: ['server_error', 'server_error', 'valid'],
    [K.reset]: ['reset', 'valid'],
    [K.cut]: { cutAfterChunks: 2 },
    [K.overloaded]: 'overloaded',
    [K.waitThenOk]: [{ retryAfter: 1.2 }, 'valid'],
    [K.waitThenOkAnthropic]: [{ retryAfter: 1.2 }, 'valid'],
    [K.hang]: 'hang',
  },
};

let fake: FakeProviders;
before(async () => {
  fake = await startFakeProviders(OPTIONS);
});
after(() => fake.close());

const lastFor = (key: string): FakeProviders['requests'] =>
  fake.requests.filter((r) => r.headers['authorization'] === `Bearer ${key}` || r.headers['x-api-key'] === key || r.headers['x-goog-api-key'] === key);

const openai = (apiKey: string, maxRetries = 0): OpenAI => new OpenAI({ apiKey, baseURL: `${fake.url}/v1`, maxRetries });
const anthropic = (apiKey: string, maxRetries = 0): Anthropic => new Anthropic({ apiKey, baseURL: fake.url, maxRetries });
const gemini = (apiKey: string): GoogleGenAI => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: fake.url } });
const messages = [{ role: 'user' as const, content: 'Hi' }];

describe('fake OpenAI, through the openai SDK', () => {
  it('a chat completion carries text and usage with cached and reasoning tokens', async () => {
    const c = await openai(K.good).chat.completions.create({ model: 'gpt-4o', messages });
    assert.equal(c.choices[0]?.message.content, TEXT);
    assert.deepEqual(
      [c.usage?.prompt_tokens, c.usage?.completion_tokens, c.usage?.total_tokens, c.usage?.prompt_tokens_details?.cached_tokens, c.usage?.completion_tokens_details?.reasoning_tokens],
      [120, 40, 160, 100, 12],
    );
  });

  it('a stream with include_usage ends with a usage chunk with no choices, then [DONE]', async () => {
    const stream = await openai(K.good).chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
    let text = '';
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.equal(text, TEXT);
    assert.ok(chunks.length >= 6, `several chunks, got ${chunks.length}`);
    const last = chunks.at(-1);
    assert.deepEqual(last?.choices, []);
    assert.deepEqual([last?.usage?.prompt_tokens, last?.usage?.completion_tokens, last?.usage?.prompt_tokens_details?.cached_tokens, last?.usage?.completion_tokens_details?.reasoning_tokens], [120, 40, 100, 12]);
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), 'earlier chunks carry usage: null');
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
  });

  it('a stream without include_usage has no usage chunk', async () => {
    const stream = await openai(K.good).chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.every((c) => c.usage == null && c.choices.length === 1));
  });

  it('the Responses API: output_text and usage, plain and streamed', async () => {
    const r = await openai(K.good).responses.create({ model: 'gpt-4o', input: 'Hi' });
    assert.equal(r.output_text, TEXT);
    assert.deepEqual(r.usage, { input_tokens: 120, input_tokens_details: { cached_tokens: 100 }, output_tokens: 40, output_tokens_details: { reasoning_tokens: 12 }, total_tokens: 160 });
    const stream = await openai(K.good).responses.create({ model: 'gpt-4o', input: 'Hi', stream: true });
    const types: string[] = [];
    let text = '';
    let usage: OpenAI.Responses.ResponseUsage | null | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
      if (ev.type === 'response.completed') usage = ev.response.usage;
    }
    assert.equal(text, TEXT);
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    assert.equal(types.filter((t) => t === 'response.output_text.delta').length, 4);
    assert.equal(usage?.output_tokens_details.reasoning_tokens, 12);
    assert.equal(usage?.input_tokens_details.cached_tokens, 100);
  });

  it('embeddings: the SDK decodes the base64 vectors it asks for; usage has prompt and total tokens', async () => {
    const e = await openai(K.good).embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    assert.equal(e.data.length, 2);
    assert.deepEqual(e.data[1]?.embedding.map((x) => Number(x.toFixed(5))), embedding('b').map((x) => Number(x.toFixed(5))));
    assert.deepEqual(e.usage, { prompt_tokens: 120, total_tokens: 120 });
  });

  it('errors are the SDK typed errors with the right status and headers', async () => {
    await assert.rejects(openai(K.bad).chat.completions.create({ model: 'gpt-4o', messages }), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    await assert.rejects(openai(K.forbidden).chat.completions.create({ model: 'gpt-4o', messages }), (e) => e instanceof OpenAI.PermissionDeniedError && e.status === 403);
    await assert.rejects(openai(K.overloaded).chat.completions.create({ model: 'gpt-4o', messages }), (e) => e instanceof OpenAI.InternalServerError && e.status === 503);
    await assert.rejects(openai(K.limited).chat.completions.create({ model: 'gpt-4o', messages }), (e) => {
      assert.ok(e instanceof OpenAI.RateLimitError);
      assert.equal(e.status, 429);
      assert.equal(e.headers?.get('retry-after'), '3');
      assert.equal(e.headers?.get('retry-after-ms'), '3000');
      assert.equal(e.code, 'rate_limit_exceeded');
      return true;
    });
  });

  it('a success carries the x-ratelimit-* headers and a request id', async () => {
    const { response } = await openai(K.good).chat.completions.create({ model: 'gpt-4o', messages }).withResponse();
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), '10000');
    assert.match(response.headers.get('x-request-id') ?? '', /^req_/);
  });

  it('the SDK waits as long as retry-after-ms says, then succeeds', async () => {
    const t0 = Date.now();
    const c = await openai(K.waitThenOk, 1).chat.completions.create({ model: 'gpt-4o', messages });
    assert.equal(c.choices[0]?.message.content, TEXT);
    assert.ok(Date.now() - t0 >= 1100, `waited ${Date.now() - t0} ms`);
    assert.deepEqual(lastFor(K.waitThenOk).map((r) => r.status), [429, 200]);
  });

  it('a failure script runs one behaviour per request, in order', async () => {
    const client = openai(K.script);
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages }), (e) => e instanceof OpenAI.InternalServerError);
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages }), (e) => e instanceof OpenAI.InternalServerError);
    const c = await client.chat.completions.create({ model: 'gpt-4o', messages });
    assert.equal(c.choices[0]?.message.content, TEXT);
    assert.deepEqual(lastFor(K.script).map((r) => r.status), [500, 500, 200]);
  });

  it('OpenRouter-style usage.cost when the fake is asked for it', async () => {
    const priced = await startFakeProviders({ keys: { [K.good]: 'valid' }, cost: 0.00123 });
    try {
      const client = new OpenAI({ apiKey: K.good, baseURL: `${priced.url}/v1`, maxRetries: 0 });
      const c = await client.chat.completions.create({ model: 'openai/gpt-4o', messages });
      assert.equal((c.usage as unknown as { cost?: number }).cost, 0.00123);
      const plain = await openai(K.good).chat.completions.create({ model: 'gpt-4o', messages });
      assert.equal((plain.usage as unknown as { cost?: number }).cost, undefined);
    } finally {
      await priced.close();
    }
  });

  it('a connection reset before any byte is a connection error; the next request works', async () => {
    await assert.rejects(openai(K.reset).chat.completions.create({ model: 'gpt-4o', messages }), (e) => e instanceof OpenAI.APIConnectionError);
    const c = await openai(K.reset).chat.completions.create({ model: 'gpt-4o', messages });
    assert.equal(c.choices[0]?.message.content, TEXT);
    assert.deepEqual(lastFor(K.reset).map((r) => r.status), [undefined, 200]);
  });

  it('a stream cut after N chunks fails mid-way, after the first chunks arrived', async () => {
    const stream = await openai(K.cut).chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    const got: string[] = [];
    await assert.rejects(async () => {
      for await (const chunk of stream) got.push(chunk.choices[0]?.delta.content ?? '');
    });
    assert.equal(got.length, 2);
    assert.equal(lastFor(K.cut).at(-1)?.aborted, false, 'the fake closed it, not the client');
  });

  it('a plain reply cut mid-way: headers and half a body, then the connection closes (the body read fails)', async () => {
    await assert.rejects(openai(K.cut).chat.completions.create({ model: 'gpt-4o', messages }), /terminated/);
    assert.equal(lastFor(K.cut).at(-1)?.status, 200);
  });

  it('records a client that gives up on a hanging request', async () => {
    const ac = new AbortController();
    const pending = openai(K.hang).chat.completions.create({ model: 'gpt-4o', messages }, { signal: ac.signal });
    while (lastFor(K.hang).length === 0) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await assert.rejects(pending, (e) => e instanceof OpenAI.APIUserAbortError);
    const rec = lastFor(K.hang)[0];
    for (let i = 0; i < 100 && rec?.aborted !== true; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(rec?.aborted, true);
    assert.equal(rec?.status, undefined);
  });

  it('records a client that disconnects mid-stream, and one that reads to the end', async () => {
    const slow = await startFakeProviders({ keys: { [K.good]: 'valid' }, replyText: 'one two three four five six seven eight', streamChunks: 8, chunkDelayMs: 40 });
    try {
      const client = new OpenAI({ apiKey: K.good, baseURL: `${slow.url}/v1`, maxRetries: 0 });
      const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
      for await (const _chunk of stream) {
        stream.controller.abort();
        break;
      }
      await slow.settled();
      assert.equal(slow.requests[0]?.aborted, true);
      for await (const _chunk of await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true })) {
        // read to the end
      }
      await slow.settled();
      assert.equal(slow.requests[1]?.aborted, false);
    } finally {
      await slow.close();
    }
  });
});

describe('fake Anthropic, through the @anthropic-ai/sdk SDK', () => {
  it('a message carries text and usage with cache reads and writes', async () => {
    const m = await anthropic(K.good).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages });
    assert.deepEqual(m.content, [{ type: 'text', text: TEXT }]);
    assert.deepEqual([m.usage.input_tokens, m.usage.output_tokens, m.usage.cache_read_input_tokens, m.usage.cache_creation_input_tokens], [120, 40, 100, 7]);
    assert.deepEqual([m.usage.cache_creation?.ephemeral_5m_input_tokens, m.usage.output_tokens_details?.thinking_tokens], [7, 12]);
  });

  it('a stream sends the real event sequence; the SDK accumulates text and final usage', async () => {
    const raw = await anthropic(K.good).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages, stream: true });
    const types: string[] = [];
    for await (const ev of raw) {
      types.push(ev.type);
      if (ev.type === 'message_start') assert.deepEqual([ev.message.usage.input_tokens, ev.message.usage.cache_read_input_tokens, ev.message.usage.output_tokens], [120, 100, 1]);
      if (ev.type === 'message_delta') assert.deepEqual([ev.usage.input_tokens, ev.usage.cache_read_input_tokens, ev.usage.output_tokens, ev.usage.output_tokens_details?.thinking_tokens], [120, 100, 40, 12]);
    }
    assert.deepEqual(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    const stream = anthropic(K.good).messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages });
    let text = '';
    stream.on('text', (t) => (text += t));
    const final = await stream.finalMessage();
    assert.equal(text, TEXT);
    assert.deepEqual([final.usage.input_tokens, final.usage.output_tokens, final.usage.cache_creation_input_tokens, final.usage.cache_read_input_tokens], [120, 40, 7, 100]);
    assert.equal(final.stop_reason, 'end_turn');
  });

  it('the stream contains a ping event (the SDK skips it)', async () => {
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': K.good, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages, stream: true }),
    });
    const body = await res.text();
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.match(body, /^event: message_start\ndata: \{/);
    assert.match(body, /\n\nevent: ping\ndata: \{"type":"ping"\}\n\n/);
  });

  it('count_tokens answers input_tokens', async () => {
    const r = await anthropic(K.good).messages.countTokens({ model: 'claude-sonnet-4-5', messages });
    assert.deepEqual(r, { input_tokens: 120 });
  });

  it('errors are typed, with status and retry-after; 529 is overloaded', async () => {
    await assert.rejects(anthropic(K.bad).messages.create({ model: 'm', max_tokens: 1, messages }), (e) => e instanceof Anthropic.AuthenticationError && e.status === 401);
    await assert.rejects(anthropic(K.forbidden).messages.create({ model: 'm', max_tokens: 1, messages }), (e) => e instanceof Anthropic.PermissionDeniedError && e.status === 403);
    await assert.rejects(anthropic(K.overloaded).messages.create({ model: 'm', max_tokens: 1, messages }), (e) => e instanceof Anthropic.APIError && e.status === 529 && /overloaded_error/.test(e.message));
    await assert.rejects(anthropic(K.limited).messages.create({ model: 'm', max_tokens: 1, messages }), (e) => {
      assert.ok(e instanceof Anthropic.RateLimitError);
      assert.equal(e.headers?.get('retry-after'), '3');
      assert.equal(e.headers?.get('anthropic-ratelimit-requests-remaining'), '0');
      return true;
    });
  });

  it("the SDK's own retries go through a failure script to the 200", async () => {
    const m = await anthropic(K.retried, 2).messages.create({ model: 'm', max_tokens: 1, messages });
    assert.equal(m.content[0]?.type, 'text');
    assert.deepEqual(lastFor(K.retried).map((r) => r.status), [500, 500, 200]);
  });

  it('the SDK waits as long as retry-after says, then succeeds', async () => {
    const t0 = Date.now();
    const m = await anthropic(K.waitThenOkAnthropic, 1).messages.create({ model: 'm', max_tokens: 1, messages });
    assert.equal(m.content[0]?.type, 'text');
    assert.ok(Date.now() - t0 >= 1100, `waited ${Date.now() - t0} ms`);
    assert.deepEqual(lastFor(K.waitThenOkAnthropic).map((r) => r.status), [429, 200]);
  });

  it('a stream cut mid-way is an error after the first events', async () => {
    const stream = await anthropic(K.cut).messages.create({ model: 'm', max_tokens: 1, messages, stream: true });
    const types: string[] = [];
    await assert.rejects(async () => {
      for await (const ev of stream) types.push(ev.type);
    });
    assert.deepEqual(types, ['message_start', 'content_block_start']);
  });
});

describe('fake Gemini, through the @google/genai SDK', () => {
  it('generateContent: text and usageMetadata with cached and thought tokens', async () => {
    const r = await gemini(K.good).models.generateContent({ model: 'gemini-2.5-pro', contents: 'Hi' });
    assert.equal(r.text, TEXT);
    const u = r.usageMetadata;
    assert.deepEqual([u?.promptTokenCount, u?.candidatesTokenCount, u?.cachedContentTokenCount, u?.thoughtsTokenCount, u?.totalTokenCount], [120, 40, 100, 12, 172]);
  });

  it('streamGenerateContent (alt=sse): several chunks, cumulative usage ending at the totals', async () => {
    const stream = await gemini(K.good).models.generateContentStream({ model: 'gemini-2.5-pro', contents: 'Hi' });
    let text = '';
    const counts: (number | undefined)[] = [];
    let last: { promptTokenCount?: number; totalTokenCount?: number; thoughtsTokenCount?: number; cachedContentTokenCount?: number } | undefined;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      counts.push(chunk.usageMetadata?.candidatesTokenCount);
      last = chunk.usageMetadata;
    }
    assert.equal(text, TEXT);
    assert.deepEqual(counts, [10, 20, 30, 40]);
    assert.deepEqual([last?.promptTokenCount, last?.cachedContentTokenCount, last?.thoughtsTokenCount, last?.totalTokenCount], [120, 100, 12, 172]);
    assert.match(lastFor(K.good).at(-1)?.path ?? '', /:streamGenerateContent\?alt=sse$/);
  });

  it('streamGenerateContent without alt=sse streams one JSON array', async () => {
    const res = await fetch(`${fake.url}/v1beta/models/gemini-2.5-pro:streamGenerateContent`, { method: 'POST', headers: { 'x-goog-api-key': K.good }, body: '{}' });
    const arr = (await res.json()) as { candidates: { content: { parts: { text: string }[] } }[]; usageMetadata: { candidatesTokenCount: number } }[];
    assert.equal(arr.length, 4);
    assert.equal(arr.map((c) => c.candidates[0]?.content.parts[0]?.text).join(''), TEXT);
    assert.equal(arr.at(-1)?.usageMetadata.candidatesTokenCount, 40);
  });

  it('countTokens and embedContent', async () => {
    const c = await gemini(K.good).models.countTokens({ model: 'gemini-2.5-pro', contents: 'Hi' });
    assert.equal(c.totalTokens, 120);
    const e = await gemini(K.good).models.embedContent({ model: 'gemini-embedding-001', contents: ['a', 'b'] });
    assert.equal(e.embeddings?.length, 2);
    assert.equal(e.embeddings?.[0]?.values?.length, 8);
  });

  it('the key may come as ?key= instead of x-goog-api-key', async () => {
    const res = await fetch(`${fake.url}/v1beta/models/gemini-2.5-pro:generateContent?key=${K.good}`, { method: 'POST', body: JSON.stringify({ contents: [] }) });
    assert.equal(res.status, 200);
    const bad = await fetch(`${fake.url}/v1beta/models/gemini-2.5-pro:generateContent?key=${K.bad}`, { method: 'POST', body: '{}' });
    assert.equal(bad.status, 400);
  });

  it('errors are ApiError with the status; a 429 carries google.rpc.RetryInfo', async () => {
    await assert.rejects(gemini(K.bad).models.generateContent({ model: 'gemini-2.5-pro', contents: 'Hi' }), (e) => e instanceof ApiError && e.status === 400 && /API_KEY_INVALID/.test(e.message));
    await assert.rejects(gemini(K.forbidden).models.generateContent({ model: 'gemini-2.5-pro', contents: 'Hi' }), (e) => e instanceof ApiError && e.status === 403);
    await assert.rejects(gemini(K.limited).models.generateContent({ model: 'gemini-2.5-pro', contents: 'Hi' }), (e) => {
      assert.ok(e instanceof ApiError);
      assert.equal(e.status, 429);
      assert.match(e.message, /"@type":"type\.googleapis\.com\/google\.rpc\.RetryInfo","retryDelay":"3s"/);
      return true;
    });
  });

  it('a stream cut mid-way is an error after the first chunks', async () => {
    const stream = await gemini(K.cut).models.generateContentStream({ model: 'gemini-2.5-pro', contents: 'Hi' });
    let n = 0;
    await assert.rejects(async () => {
      for await (const _chunk of stream) n++;
    });
    assert.equal(n, 2);
  });
});

describe('fake Ollama (NDJSON over fetch)', () => {
  const post = (path: string, body: unknown): Promise<Response> => fetch(`${fake.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const lines = async (res: Response): Promise<Record<string, unknown>[]> =>
    (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

  it('/api/chat streams by default: NDJSON pieces, the last done with the counts', async () => {
    const res = await post('/api/chat', { model: 'llama3.1', messages });
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
    const ls = await lines(res);
    assert.equal(ls.length, 5);
    assert.equal(ls.slice(0, -1).map((l) => (l['message'] as { content: string }).content).join(''), TEXT);
    assert.deepEqual([ls.at(-1)?.['done'], ls.at(-1)?.['prompt_eval_count'], ls.at(-1)?.['eval_count']], [true, 120, 40]);
    assert.ok(ls.slice(0, -1).every((l) => l['done'] === false));
  });

  it('/api/generate streams `response` pieces; stream: false is one JSON', async () => {
    const ls = await lines(await post('/api/generate', { model: 'llama3.1', prompt: 'Hi' }));
    assert.equal(ls.slice(0, -1).map((l) => l['response']).join(''), TEXT);
    assert.equal(ls.at(-1)?.['eval_count'], 40);
    const one = (await (await post('/api/generate', { model: 'llama3.1', prompt: 'Hi', stream: false })).json()) as Record<string, unknown>;
    assert.deepEqual([one['response'], one['done'], one['prompt_eval_count']], [TEXT, true, 120]);
  });

  it('/api/embed and /api/tags', async () => {
    const e = (await (await post('/api/embed', { model: 'nomic-embed-text', input: ['a', 'b'] })).json()) as { embeddings: number[][]; prompt_eval_count: number };
    assert.deepEqual(e.embeddings, [embedding('a'), embedding('b')]);
    assert.equal(e.prompt_eval_count, 120);
    const t = (await (await fetch(`${fake.url}/api/tags`)).json()) as { models: { name: string }[] };
    assert.ok(t.models.some((m) => m.name === 'llama3.1:latest'));
  });

  it('a large streamed reply goes through the backpressure path intact', { timeout: 20_000 }, async () => {
    const big = 'word '.repeat(800_000);
    const o = await startFakeProviders({ replyText: big, streamChunks: 4, chunkDelayMs: 0 });
    try {
      const ls = await lines(await fetch(`${o.url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'llama3.1', prompt: 'Hi' }) }));
      assert.equal(ls.length, 5);
      assert.equal(ls.slice(0, -1).map((l) => l['response']).join(''), big);
    } finally {
      await o.close();
    }
  });

  it('Ollama takes a script too', async () => {
    const o = await startFakeProviders({ ollama: ['server_error', 'valid'] });
    try {
      const a = await fetch(`${o.url}/api/tags`);
      const b = await fetch(`${o.url}/api/tags`);
      assert.deepEqual([a.status, b.status], [500, 200]);
    } finally {
      await o.close();
    }
  });
});
