import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ollama } from '../../../src/gateway/wire/ollama';
import { valueAfterKey, JsonTap } from '../../../src/gateway/wire/streams';
import { WIRE_FORMATS } from '../../../src/gateway/wire/index';
import { dec, enc, garbage, NOW, run, splitInvariant, url } from './helpers';

const CHAT = '/api/chat';

// Shapes from Ollama's docs/api.md: a stream of JSON objects, one a line; the last has done: true
// with prompt_eval_count and eval_count.
const lines = [
  { model: 'llama3.2', created_at: '2023-08-04T08:52:19.385406455-07:00', message: { role: 'assistant', content: 'Der Himmel ' }, done: false },
  { model: 'llama3.2', created_at: '2023-08-04T08:52:19.385406455-07:00', message: { role: 'assistant', content: 'ist blau — 空は青い 🌌' }, done: false },
  {
    model: 'llama3.2', created_at: '2023-08-04T19:22:45.499127Z', message: { role: 'assistant', content: '' }, done_reason: 'stop', done: true,
    total_duration: 4883583458, load_duration: 1334875, prompt_eval_count: 26, prompt_eval_duration: 342546000, eval_count: 282, eval_duration: 4535599000,
  },
];
const ndjson = lines.map((l) => JSON.stringify(l) + '\n').join('');
const expected = { inputTokens: 26, outputTokens: 282, cacheReadTokens: 0, cacheWriteTokens: 0 };
const streamTap = () => ollama.responseTap(CHAT, 200, 'application/x-ndjson', { streaming: true });

describe('ollama stream tap', () => {
  it('reads the done line (prompt_eval_count, eval_count), split at every byte', () => {
    const whole = splitInvariant(streamTap, enc(ndjson));
    assert.equal(dec(whole.out), ndjson);
    assert.deepEqual(whole.result, { usage: expected, model: 'llama3.2', complete: true });
  });

  it('reads a final line that lacks its newline, and a stream sent without the NDJSON content type', () => {
    const r = run(streamTap(), [enc(ndjson.slice(0, -1))]);
    assert.deepEqual(r.result.usage, expected);
    const bare = run(ollama.responseTap('/api/generate', 200, undefined, { streaming: true }), [enc(ndjson)]);
    assert.deepEqual(bare.result, { usage: expected, model: 'llama3.2', complete: true });
  });

  it('reports a stream cut before done as incomplete, and an error line as not done', () => {
    const cut = run(streamTap(), [enc(ndjson.slice(0, ndjson.indexOf('"done":true') - 5))]);
    assert.deepEqual(cut.result, { model: 'llama3.2', complete: false });
    const error = run(streamTap(), [enc(JSON.stringify(lines[0]) + '\n{"error":"model runner has unexpectedly stopped"}\n')]);
    assert.deepEqual(error.result, { model: 'llama3.2', complete: false });
  });

  it('never throws on garbage', () => {
    for (const ct of ['application/x-ndjson', 'application/json', undefined]) {
      for (const path of [CHAT, '/api/embed', '/api/pull', '/api/tags']) {
        const r = run(ollama.responseTap(path, 200, ct, { streaming: true }), [garbage(11, 2000), enc('\n{"done":true,"eval_count":"x"}\n[]\n')]);
        assert.ok(r.result.usage === undefined || r.result.usage.outputTokens === 0);
      }
    }
  });
});

describe('ollama requests and JSON bodies', () => {
  it('streams /api/chat and /api/generate unless stream is false; /api/embed never streams', () => {
    const p = (path: string, body: unknown) => ollama.prepare(path, enc(JSON.stringify(body)), url(path));
    assert.equal(p(CHAT, { model: 'llama3.2', messages: [] }).streaming, true);
    assert.equal(p('/api/generate', { model: 'llama3.2', prompt: 'hi', stream: false }).streaming, false);
    assert.equal(p('/api/embed', { model: 'all-minilm', input: 'hi' }).streaming, false);
    assert.equal(p('/api/pull', { model: 'llama3.2' }).streaming, true);
    assert.equal(p(CHAT, { model: 'llama3.2', messages: [] }).model, 'llama3.2');
    const g = garbage(12, 30);
    assert.equal(ollama.prepare(CHAT, g, url(CHAT)).body, g);
  });

  it('reads stream:false bodies and /api/embed prompt_eval_count', () => {
    const json = (path: string, body: unknown) => run(ollama.responseTap(path, 200, 'application/json; charset=utf-8', { streaming: false }), [enc(JSON.stringify(body))]).result;
    const generate = { model: 'llama3.2', created_at: '2023-08-04T19:22:45.499127Z', response: 'The sky is blue because…', done: true, context: [1, 2, 3], prompt_eval_count: 26, eval_count: 290 };
    assert.deepEqual(json('/api/generate', generate), { usage: { ...expected, outputTokens: 290 }, model: 'llama3.2', complete: true });
    const embed = { model: 'all-minilm', embeddings: [[0.010071029, -0.0017594862]], total_duration: 14143917, load_duration: 1019500, prompt_eval_count: 8 };
    assert.deepEqual(json('/api/embed', embed), { usage: { inputTokens: 8, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, model: 'all-minilm', complete: true });
    assert.deepEqual(json('/api/tags', { models: [{ name: 'llama3:latest' }] }), { complete: true });
    assert.deepEqual(json(CHAT, ollama.errorBody(404, 'model "x" not found')), { complete: true });
  });

  it('answers errors as {error}, rejects keys on 401/403, reads Retry-After, takes Bearer tokens', () => {
    assert.deepEqual(ollama.errorBody(401, 'Wrong gateway token'), { error: 'Wrong gateway token' });
    assert.equal(ollama.keyRejected(401, { error: 'unauthorized' }), true);
    assert.equal(ollama.keyRejected(403, undefined), true);
    assert.equal(ollama.keyRejected(429, undefined), false);
    assert.equal(ollama.keyRejected(500, { error: 'x' }), false);
    assert.equal(ollama.retryAfterMs(429, { 'retry-after': '2' }, undefined, NOW), 2000);
    assert.equal(ollama.retryAfterMs(503, {}, { error: 'busy' }, NOW), undefined);
    assert.equal(ollama.clientToken({ authorization: 'Bearer gw-o' }, url(CHAT)), 'gw-o');
    assert.equal(ollama.clientToken({ 'x-api-key': 'gw-o' }, url(CHAT)), undefined);
    assert.deepEqual(ollama.upstreamHeaders({ authorization: 'Bearer gw', host: 'h', 'content-type': 'application/json' }), { 'content-type': 'application/json' });
  });
});

describe('shared pieces', () => {
  it('WIRE_FORMATS holds the four wires under their ids', () => {
    assert.deepEqual(Object.keys(WIRE_FORMATS).sort(), ['anthropic', 'gemini', 'ollama', 'openai']);
    for (const [id, w] of Object.entries(WIRE_FORMATS)) assert.equal(w.id, id);
  });

  it('every wire strips every credential and hop-by-hop header', () => {
    const client = {
      authorization: 'Bearer gw', 'x-api-key': 'gw', 'x-goog-api-key': 'gw', host: 'h', connection: 'keep-alive', 'keep-alive': 't',
      'proxy-authorization': 'p', te: 'trailers', upgrade: 'h2c', 'transfer-encoding': 'chunked', 'content-type': 'application/json', 'x-request-id': 'r',
    };
    for (const w of Object.values(WIRE_FORMATS)) {
      assert.deepEqual(w.upstreamHeaders(client), { 'content-type': 'application/json', 'x-request-id': 'r' }, w.id);
    }
  });

  it('reads usage from the tail of a body too large to keep whole', () => {
    const big = JSON.stringify({ object: 'list', data: [{ embedding: 'A'.repeat(5000) }], model: 'text-embedding-3-large', usage: { prompt_tokens: 77, total_tokens: 77 } });
    const seen: unknown[] = [];
    const tap = new JsonTap((j) => (seen.push(j), { complete: true }), ['usage', 'model'], 1000);
    const r = run(tap, [enc(big.slice(0, 3000)), enc(big.slice(3000))]);
    assert.equal(dec(r.out), big);
    assert.deepEqual(seen, [{ usage: { prompt_tokens: 77, total_tokens: 77 }, model: 'text-embedding-3-large' }]);
    assert.deepEqual(valueAfterKey('{"a":{"b":"}"},"n":5}', 'a'), { b: '}' });
    assert.equal(valueAfterKey('{"n": 12}', 'n'), 12);
    assert.equal(valueAfterKey('{"a":{"b":', 'a'), undefined);
  });
});
