import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { openai } from '../../../src/gateway/wire/openai';
import { dataEvents, dec, enc, garbage, NOW, run, splitInvariant, sse, url } from './helpers';

const CHAT = '/v1/chat/completions';

// Chunk shapes from the OpenAI API reference (chat.completion.chunk; ChatCompletionStreamOptions:
// with include_usage every chunk has "usage": null and one extra chunk with "choices": [] and the
// request's usage comes before data: [DONE]).
const base = { id: 'chatcmpl-123', object: 'chat.completion.chunk', created: 1694268190, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_44709d6fcb' };
const contentChunks = [
  { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], usage: null },
  { ...base, choices: [{ index: 0, delta: { content: 'Grüße 👋 — ' }, logprobs: null, finish_reason: null }], usage: null },
  { ...base, choices: [{ index: 0, delta: { content: '日本語' }, logprobs: null, finish_reason: null }], usage: null },
  { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: null },
];
const usageChunk = {
  ...base,
  choices: [],
  usage: {
    prompt_tokens: 1200,
    completion_tokens: 300,
    total_tokens: 1500,
    prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 256, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  },
};
const expectedUsage = { inputTokens: 176, outputTokens: 300, cacheReadTokens: 1024, cacheWriteTokens: 0, reasoningTokens: 256 };

function chatStream(eol = '\n'): { full: string; withoutUsage: string } {
  return {
    full: dataEvents([...contentChunks, usageChunk, '[DONE]'], eol),
    withoutUsage: dataEvents([...contentChunks, '[DONE]'], eol),
  };
}

describe('openai prepare', () => {
  it('adds stream_options.include_usage to a chat stream and keeps the rest of the body', () => {
    const body = { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const p = openai.prepare(CHAT, enc(JSON.stringify(body)), url(CHAT));
    assert.equal(p.streaming, true);
    assert.equal(p.model, 'gpt-4o-mini');
    assert.deepEqual(JSON.parse(dec(p.body)), { ...body, stream_options: { include_usage: true } });
    assert.deepEqual(p.state, { dropUsageChunk: true });
  });

  it('merges into existing stream_options, and also covers legacy completions', () => {
    const body = { model: 'gpt-3.5-turbo-instruct', stream: true, prompt: 'x', stream_options: { include_obfuscation: false } };
    const p = openai.prepare('/v1/completions', enc(JSON.stringify(body)), url('/v1/completions'));
    assert.deepEqual(JSON.parse(dec(p.body)).stream_options, { include_obfuscation: false, include_usage: true });
    assert.deepEqual(p.state, { dropUsageChunk: true });
  });

  it('leaves the body as it is when the client already asked for usage, did not stream, or used another endpoint', () => {
    const cases: [string, unknown][] = [
      [CHAT, { model: 'm', stream: true, stream_options: { include_usage: true }, messages: [] }],
      [CHAT, { model: 'm', messages: [] }],
      [CHAT, { model: 'm', stream: false, messages: [] }],
      ['/v1/responses', { model: 'o4-mini', stream: true, input: 'hi' }],
      ['/v1/embeddings', { model: 'text-embedding-3-small', input: 'hi' }],
    ];
    for (const [path, body] of cases) {
      const bytes = enc(JSON.stringify(body));
      const p = openai.prepare(path, bytes, url(path));
      assert.equal(p.body, bytes, `${path} ${JSON.stringify(body)}`);
      assert.deepEqual(p.state, { dropUsageChunk: false });
    }
  });

  it('does not add stream_options when told the upstream rejects it (Mistral)', () => {
    const bytes = enc(JSON.stringify({ model: 'mistral-large-latest', stream: true, messages: [] }));
    const p = openai.prepare(CHAT, bytes, url(CHAT), { addStreamUsage: false });
    assert.equal(p.body, bytes);
    assert.equal(p.streaming, true);
    assert.deepEqual(p.state, { dropUsageChunk: false });
    // One that has it (the router's in-process requests ask for usage) gets it removed: Mistral answers 422 to it.
    const asked = openai.prepare(CHAT, enc(JSON.stringify({ model: 'mistral-small-latest', stream: true, stream_options: { include_usage: true }, messages: [] })), url(CHAT), { addStreamUsage: false });
    assert.equal(JSON.parse(new TextDecoder().decode(asked.body)).stream_options, undefined);
  });

  it('passes a body that is not JSON unchanged', () => {
    for (const bytes of [enc('not json {'), new Uint8Array(0), garbage(1, 300), enc('[1,2]')]) {
      const p = openai.prepare(CHAT, bytes, url(CHAT));
      assert.equal(p.body, bytes);
      assert.equal(p.streaming, false);
      assert.equal(p.model, undefined);
    }
  });
});

describe('openai chat stream tap', () => {
  const tap = (state: unknown) => () => openai.responseTap(CHAT, 200, 'text/event-stream; charset=utf-8', state);
  const drop = { dropUsageChunk: true };

  for (const eol of ['\n', '\r\n', '\r']) {
    it(`drops the usage chunk the gateway asked for, split at every byte (${JSON.stringify(eol)} line ends)`, () => {
      const { full, withoutUsage } = chatStream(eol);
      const whole = splitInvariant(tap(drop), enc(full));
      assert.equal(dec(whole.out), withoutUsage);
      assert.deepEqual(whole.result, { usage: expectedUsage, model: 'gpt-4o-mini-2024-07-18', complete: true });
    });
  }

  it('passes every byte on when the client asked for usage itself', () => {
    const { full } = chatStream();
    const whole = splitInvariant(tap({ dropUsageChunk: false }), enc(full));
    assert.equal(dec(whole.out), full);
    assert.deepEqual(whole.result.usage, expectedUsage);
  });

  it('keeps usage that rides on a chunk with choices, and keeps that chunk', () => {
    // OpenRouter-style last chunk: finish_reason and usage together, cost in USD.
    const last = { ...contentChunks[3], usage: { prompt_tokens: 50, completion_tokens: 10, total_tokens: 60, cost: 0.00042 } };
    const text = dataEvents([contentChunks[1], last, '[DONE]']);
    const whole = splitInvariant(tap(drop), enc(text));
    assert.equal(dec(whole.out), text);
    assert.deepEqual(whole.result.usage, { inputTokens: 50, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.00042 });
  });

  it('reads Groq usage from x_groq and keeps comment lines (OpenRouter keep-alives)', () => {
    const last = { ...contentChunks[3], x_groq: { id: 'req_1', usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 } } };
    const text = ': OPENROUTER PROCESSING\n\n' + dataEvents([contentChunks[1], last, '[DONE]']);
    const whole = splitInvariant(tap(drop), enc(text));
    assert.equal(dec(whole.out), text);
    assert.deepEqual(whole.result.usage, { inputTokens: 20, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('reports a stream cut before [DONE] as incomplete, with the usage seen so far', () => {
    const { full } = chatStream();
    const cutAfterUsage = full.slice(0, full.indexOf('data: [DONE]'));
    const a = run(tap(drop)(), [enc(cutAfterUsage)]);
    assert.deepEqual(a.result, { usage: expectedUsage, model: 'gpt-4o-mini-2024-07-18', complete: false });
    const cutMidway = full.slice(0, full.indexOf('日本語') + 2);
    const b = run(tap(drop)(), [enc(cutMidway)]);
    assert.deepEqual(b.result, { model: 'gpt-4o-mini-2024-07-18', complete: false });
  });

  it('sends on an unterminated last line at flush, and never drops a usage chunk that spans lines', () => {
    const text = 'data: {"choices":[],\ndata: "usage":{"prompt_tokens":1}}\n\ndata: [DONE]';
    const r = run(tap(drop)(), [enc(text)]);
    assert.equal(dec(r.out), text);
  });

  it('decodes UTF-8 split anywhere in the fields it reads (a local server\'s model id)', () => {
    const local = contentChunks.map((c) => ({ ...c, model: 'local/modèle-✓-日本' }));
    const whole = splitInvariant(tap({ dropUsageChunk: false }), enc(dataEvents([...local, '[DONE]'])));
    assert.equal(whole.result.model, 'local/modèle-✓-日本');
  });

  it('drops a usage chunk behind a comment line, but not one whose data line is not the event\'s first', () => {
    const usageData = `data: ${JSON.stringify(usageChunk)}`;
    const behindComment = `${dataEvents([contentChunks[3]])}: keep-alive\n${usageData}\n\ndata: [DONE]\n\n`;
    const a = splitInvariant(tap(drop), enc(behindComment));
    assert.equal(dec(a.out), `${dataEvents([contentChunks[3]])}: keep-alive\ndata: [DONE]\n\n`);
    assert.deepEqual(a.result.usage, expectedUsage);
    const named = `event: chunk\n${usageData}\n\ndata: [DONE]\n\n`;
    assert.equal(dec(run(tap(drop)(), [enc(named)]).out), named);
  });

  it('never throws on garbage, in any content type', () => {
    for (const ct of ['text/event-stream', 'application/json', undefined, 'text/html']) {
      for (const state of [{ dropUsageChunk: true }, undefined, 'x']) {
        const r = run(openai.responseTap(CHAT, 200, ct, state), [garbage(7, 2000), enc('\r\n\r\ndata: {\n\n'), garbage(8, 100)]);
        assert.equal(r.result.usage, undefined);
      }
    }
  });
});

describe('openai responses API', () => {
  const RESP = '/v1/responses';
  // Event shapes from the OpenAI Responses streaming reference: named events whose data repeats the type.
  const response = { id: 'resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654', object: 'response', created_at: 1741290958, model: 'o4-mini-2025-04-16', status: 'in_progress', output: [], usage: null };
  const finalUsage = { input_tokens: 5000, input_tokens_details: { cached_tokens: 4096 }, output_tokens: 1200, output_tokens_details: { reasoning_tokens: 1000 }, total_tokens: 6200 };
  const events = [
    ['event: response.created', `data: ${JSON.stringify({ type: 'response.created', sequence_number: 0, response })}`],
    ['event: response.output_text.delta', `data: ${JSON.stringify({ type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Ça va ✓' })}`],
    ['event: response.completed', `data: ${JSON.stringify({ type: 'response.completed', sequence_number: 2, response: { ...response, status: 'completed', usage: finalUsage } })}`],
  ];
  const expected = { inputTokens: 904, outputTokens: 1200, cacheReadTokens: 4096, cacheWriteTokens: 0, reasoningTokens: 1000 };
  const tap = () => openai.responseTap(RESP, 200, 'text/event-stream', { dropUsageChunk: false });

  it('reads response.completed usage (cached and reasoning tokens), split at every byte', () => {
    const text = sse(events);
    const whole = splitInvariant(tap, enc(text));
    assert.equal(dec(whole.out), text);
    assert.deepEqual(whole.result, { usage: expected, model: 'o4-mini-2025-04-16', complete: true });
  });

  it('is incomplete without response.completed, and response.failed is not a proper end', () => {
    const cut = run(tap(), [enc(sse(events.slice(0, 2)))]);
    assert.deepEqual(cut.result, { model: 'o4-mini-2025-04-16', complete: false });
    const failed = [['event: response.failed', `data: ${JSON.stringify({ type: 'response.failed', response: { ...response, status: 'failed' } })}`]];
    assert.equal(run(tap(), [enc(sse([...events.slice(0, 2), ...failed]))]).result.complete, false);
    const incomplete = [['event: response.incomplete', `data: ${JSON.stringify({ type: 'response.incomplete', response: { ...response, status: 'incomplete', usage: finalUsage } })}`]];
    assert.deepEqual(run(tap(), [enc(sse([...events.slice(0, 2), ...incomplete]))]).result.usage, expected);
  });

  it('reads the usage of a Responses JSON body', () => {
    const body = { ...response, status: 'completed', usage: finalUsage };
    const r = run(openai.responseTap(RESP, 200, 'application/json', undefined), [enc(JSON.stringify(body))]);
    assert.deepEqual(r.result, { usage: expected, model: 'o4-mini-2025-04-16', complete: true });
  });
});

describe('openai JSON bodies', () => {
  const json = (path: string, body: unknown, status = 200) => run(openai.responseTap(path, status, 'application/json', undefined), [enc(JSON.stringify(body))]).result;

  it('normalises chat completion usage: cached out of input, reasoning inside output', () => {
    const body = { id: 'chatcmpl-1', object: 'chat.completion', model: 'gpt-4o-2024-08-06', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: usageChunk.usage };
    assert.deepEqual(json(CHAT, body), { usage: expectedUsage, model: 'gpt-4o-2024-08-06', complete: true });
  });

  it('reads OpenRouter cost and cache writes, and DeepSeek cache hits', () => {
    const openrouter = { model: 'anthropic/claude-sonnet-4', usage: { prompt_tokens: 3000, completion_tokens: 100, total_tokens: 3100, cost: 0.0123, prompt_tokens_details: { cached_tokens: 2000, cache_write_tokens: 500 } } };
    assert.deepEqual(json('/api/v1/chat/completions', openrouter).usage, { inputTokens: 500, outputTokens: 100, cacheReadTokens: 2000, cacheWriteTokens: 500, costUsd: 0.0123 });
    const deepseek = { model: 'deepseek-chat', usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_cache_hit_tokens: 64, prompt_cache_miss_tokens: 36 } };
    assert.deepEqual(json(CHAT, deepseek).usage, { inputTokens: 36, outputTokens: 20, cacheReadTokens: 64, cacheWriteTokens: 0 });
  });

  it('reads embeddings usage, and no usage from models or errors', () => {
    const emb = { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.0023, -0.0094] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 8, total_tokens: 8 } };
    assert.deepEqual(json('/v1/embeddings', emb), { usage: { inputTokens: 8, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, model: 'text-embedding-3-small', complete: true });
    assert.deepEqual(json('/v1/models', { object: 'list', data: [{ id: 'gpt-4o', object: 'model' }] }), { complete: true });
    assert.deepEqual(json(CHAT, openai.errorBody(429, 'slow down'), 429), { complete: true });
  });

  it('passes JSON bytes on unchanged when split anywhere, and a cut body is incomplete', () => {
    const body = enc(JSON.stringify({ model: 'gpt-4o', note: 'Ünïcødé ✓', usage: { prompt_tokens: 5, completion_tokens: 2 } }));
    const whole = splitInvariant(() => openai.responseTap(CHAT, 200, 'application/json', undefined), body);
    assert.deepEqual(whole.out, body);
    assert.equal(whole.result.usage?.inputTokens, 5);
    assert.deepEqual(run(openai.responseTap(CHAT, 200, 'application/json', undefined), [body.slice(0, 20)]).result, { complete: false });
  });
});

describe('openai errors, keys and retries', () => {
  it('answers errors in OpenAI shape', () => {
    assert.deepEqual(openai.errorBody(401, 'Wrong gateway token'), { error: { message: 'Wrong gateway token', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
    assert.deepEqual(openai.errorBody(429, 'All keys are resting'), { error: { message: 'All keys are resting', type: 'requests', param: null, code: 'rate_limit_exceeded' } });
    assert.equal((openai.errorBody(502, 'x') as { error: { type: string } }).error.type, 'server_error');
  });

  it('treats 401 and 403 as a rejected key, not 429 or 400', () => {
    const invalid = { error: { message: 'Incorrect API key provided: sk-abc***', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } };
    assert.equal(openai.keyRejected(401, invalid), true);
    assert.equal(openai.keyRejected(403, undefined), true);
    const quota = { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } };
    assert.equal(openai.keyRejected(429, quota), false);
    assert.equal(openai.keyRejected(400, invalid), false);
  });

  it('reads retry-after-ms, Retry-After seconds and HTTP dates', () => {
    assert.equal(openai.retryAfterMs(429, { 'retry-after-ms': '1500', 'retry-after': '2' }, undefined, NOW), 1500);
    assert.equal(openai.retryAfterMs(429, { 'Retry-After': '20' }, undefined, NOW), 20_000);
    assert.equal(openai.retryAfterMs(429, { 'retry-after': 'Tue, 01 Dec 2026 12:00:30 GMT' }, undefined, NOW), 30_000);
    assert.equal(openai.retryAfterMs(429, { 'retry-after': 'Tue, 01 Dec 2026 11:00:00 GMT' }, undefined, NOW), 0);
    assert.equal(openai.retryAfterMs(429, { 'retry-after': 'soon' }, undefined, NOW), undefined);
    assert.equal(openai.retryAfterMs(429, {}, undefined, NOW), undefined);
  });

  it('takes the client token from Authorization: Bearer only', () => {
    assert.equal(openai.clientToken({ authorization: 'Bearer aikm-gw-123' }, url(CHAT)), 'aikm-gw-123');
    assert.equal(openai.clientToken({ Authorization: ['Bearer first', 'Bearer second'] }, url(CHAT)), 'first');
    assert.equal(openai.clientToken({ authorization: 'bearer lower-case' }, url(CHAT)), 'lower-case');
    assert.equal(openai.clientToken({ 'x-api-key': 'k' }, url(CHAT)), undefined);
    assert.equal(openai.clientToken({ authorization: 'Basic abc' }, url(CHAT)), undefined);
  });

  it('strips credentials and hop-by-hop headers, keeps the rest', () => {
    const h = openai.upstreamHeaders({
      authorization: 'Bearer gw', host: '127.0.0.1:4000', connection: 'keep-alive, x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5',
      'content-type': 'application/json', 'content-length': '99', 'accept-encoding': 'gzip', 'openai-organization': 'org-1',
      'x-stainless-lang': 'js', accept: 'application/json', 'user-agent': 'OpenAI/JS 5.0.0', 'x-multi': ['a', 'b'], 'x-undef': undefined,
    });
    assert.deepEqual(h, { 'content-type': 'application/json', 'x-stainless-lang': 'js', accept: 'application/json', 'user-agent': 'OpenAI/JS 5.0.0', 'x-multi': 'a, b' });
    assert.equal(openai.upstreamSearch?.(url('/v1/models?limit=5')), '?limit=5');
  });
});
