import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { anthropic } from '../../../src/gateway/wire/anthropic';
import { dec, enc, garbage, NOW, run, splitInvariant, sse, url } from './helpers';

const MSG = '/v1/messages';

// The event flow of Anthropic's "Streaming Messages" docs: message_start (usage with input and
// cache counts), content blocks, ping, message_delta with cumulative usage, message_stop.
const ev = (type: string, data: object) => [`event: ${type}`, `data: ${JSON.stringify({ type, ...data })}`];
const start = ev('message_start', {
  message: {
    id: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY', type: 'message', role: 'assistant', content: [], model: 'claude-sonnet-4-5-20250929',
    stop_reason: null, stop_sequence: null,
    usage: { input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, output_tokens: 1, service_tier: 'standard' },
  },
});
const blocks = [
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ev('ping', {}),
  ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Héllo ✓ 🌍' } }),
  ev('content_block_stop', { index: 0 }),
];
const delta1 = ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 15 } });
const delta2 = ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 40 } });
const stop = ev('message_stop', {});
const expected = { inputTokens: 25, outputTokens: 40, cacheReadTokens: 2000, cacheWriteTokens: 100 };

const streamTap = () => anthropic.responseTap(MSG, 200, 'text/event-stream; charset=utf-8', undefined);

describe('anthropic stream tap', () => {
  it('takes message_start input and cache counts and the LAST cumulative output_tokens, split at every byte', () => {
    const text = sse([start, ...blocks, delta1, delta2, stop]);
    const whole = splitInvariant(streamTap, enc(text));
    assert.equal(dec(whole.out), text);
    assert.deepEqual(whole.result, { usage: expected, model: 'claude-sonnet-4-5-20250929', complete: true });
  });

  it('lets a message_delta that repeats input and cache counts replace them', () => {
    const full = ev('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 30, cache_creation_input_tokens: 0, cache_read_input_tokens: 2000, output_tokens: 41 } });
    const r = run(streamTap(), [enc(sse([start, ...blocks, full, stop]))]);
    assert.deepEqual(r.result.usage, { inputTokens: 30, outputTokens: 41, cacheReadTokens: 2000, cacheWriteTokens: 0 });
  });

  it('reports a stream cut before message_stop as incomplete, with the usage seen so far', () => {
    const cut = run(streamTap(), [enc(sse([start, ...blocks, delta1]))]);
    assert.deepEqual(cut.result, { usage: { ...expected, outputTokens: 15 }, model: 'claude-sonnet-4-5-20250929', complete: false });
    const early = run(streamTap(), [enc(sse([start, ...blocks.slice(0, 2)]).slice(0, -30))]);
    assert.deepEqual(early.result, { usage: { ...expected, outputTokens: 1 }, model: 'claude-sonnet-4-5-20250929', complete: false });
  });

  it('an error event instead of message_stop is not a proper end', () => {
    const error = ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
    const r = run(streamTap(), [enc(sse([start, ...blocks, error]))]);
    assert.equal(r.result.complete, false);
    assert.equal(r.result.usage?.inputTokens, 25);
  });

  it('never throws on garbage', () => {
    for (const ct of ['text/event-stream', 'application/json', undefined]) {
      const r = run(anthropic.responseTap(MSG, 200, ct, undefined), [garbage(3, 3000), enc('event: message_start\ndata: {"type":"message_start","message":7}\n\n')]);
      assert.equal(r.result.usage, undefined);
    }
  });
});

describe('anthropic JSON bodies', () => {
  const json = (path: string, body: unknown, status = 200) => run(anthropic.responseTap(path, status, 'application/json', undefined), [enc(JSON.stringify(body))]).result;

  it('reads a Message body as it is: input already excludes the cache', () => {
    // Shape of the Messages API reference's response example.
    const body = {
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF', type: 'message', role: 'assistant', model: 'claude-opus-4-1-20250805',
      content: [{ type: 'text', text: 'Hi! My name is Claude.' }], stop_reason: 'end_turn', stop_sequence: null,
      usage: { input_tokens: 2095, output_tokens: 503, cache_creation_input_tokens: 2051, cache_read_input_tokens: 0 },
    };
    assert.deepEqual(json(MSG, body), { usage: { inputTokens: 2095, outputTokens: 503, cacheReadTokens: 0, cacheWriteTokens: 2051 }, model: 'claude-opus-4-1-20250805', complete: true });
  });

  it('finds no usage in count_tokens (its input_tokens is a count, not usage) or models', () => {
    assert.deepEqual(json('/v1/messages/count_tokens', { input_tokens: 14 }), { complete: true });
    assert.deepEqual(json('/v1/models', { data: [{ id: 'claude-sonnet-4-5', type: 'model' }], has_more: false }), { complete: true });
  });

  it('reads nothing from an error body, and a cut body is incomplete', () => {
    assert.deepEqual(json(MSG, anthropic.errorBody(529, 'Overloaded'), 529), { complete: true });
    assert.deepEqual(run(anthropic.responseTap(MSG, 200, 'application/json', undefined), [enc('{"usage":{"input_tok')]).result, { complete: false });
  });
});

describe('anthropic requests, errors, keys and retries', () => {
  it('prepare reads stream and model and never rewrites the body', () => {
    const bytes = enc(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, stream: true, messages: [] }));
    const p = anthropic.prepare(MSG, bytes, url(MSG));
    assert.equal(p.body, bytes);
    assert.equal(p.streaming, true);
    assert.equal(p.model, 'claude-sonnet-4-5');
    const g = garbage(9, 50);
    assert.deepEqual(anthropic.prepare(MSG, g, url(MSG)), { body: g, streaming: false, state: undefined });
  });

  it('answers errors in Anthropic shape', () => {
    assert.deepEqual(anthropic.errorBody(401, 'Wrong gateway token'), { type: 'error', error: { type: 'authentication_error', message: 'Wrong gateway token' } });
    assert.deepEqual(anthropic.errorBody(413, 'Too big'), { type: 'error', error: { type: 'request_too_large', message: 'Too big' } });
    assert.deepEqual(anthropic.errorBody(429, 'Resting'), { type: 'error', error: { type: 'rate_limit_error', message: 'Resting' } });
  });

  it('treats 401 and 403 as a rejected key, not 429 or 529', () => {
    const auth = { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } };
    assert.equal(anthropic.keyRejected(401, auth), true);
    assert.equal(anthropic.keyRejected(403, undefined), true);
    assert.equal(anthropic.keyRejected(429, anthropic.errorBody(429, 'x')), false);
    assert.equal(anthropic.keyRejected(529, undefined), false);
  });

  it('reads Retry-After', () => {
    assert.equal(anthropic.retryAfterMs(429, { 'retry-after': '7' }, undefined, NOW), 7000);
    assert.equal(anthropic.retryAfterMs(429, { 'retry-after': 'Tue, 01 Dec 2026 12:01:00 GMT' }, undefined, NOW), 60_000);
    assert.equal(anthropic.retryAfterMs(429, {}, anthropic.errorBody(429, 'x'), NOW), undefined);
  });

  it('takes the client token from x-api-key, or Bearer (ANTHROPIC_AUTH_TOKEN)', () => {
    assert.equal(anthropic.clientToken({ 'x-api-key': 'gw-1' }, url(MSG)), 'gw-1');
    assert.equal(anthropic.clientToken({ authorization: 'Bearer gw-2' }, url(MSG)), 'gw-2');
    assert.equal(anthropic.clientToken({ 'x-api-key': 'gw-1', authorization: 'Bearer gw-2' }, url(MSG)), 'gw-1');
    assert.equal(anthropic.clientToken({}, url(MSG)), undefined);
  });

  it('strips credentials and hop-by-hop headers, keeps anthropic-version, anthropic-beta and content-type', () => {
    const h = anthropic.upstreamHeaders({
      'x-api-key': 'gw', authorization: 'Bearer gw', host: 'localhost', connection: 'close', 'transfer-encoding': 'chunked',
      'anthropic-version': '2023-06-01', 'anthropic-beta': 'prompt-caching-2024-07-31', 'content-type': 'application/json',
      'x-goog-api-key': 'g',
    });
    assert.deepEqual(h, { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'prompt-caching-2024-07-31', 'content-type': 'application/json' });
  });
});
