import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { gemini, geminiTarget } from '../../../src/gateway/wire/gemini';
import { dataEvents, dec, enc, garbage, NOW, run, splitInvariant, url } from './helpers';

const STREAM = '/v1beta/models/gemini-2.5-flash:streamGenerateContent';
const GEN = '/v1beta/models/gemini-2.5-flash:generateContent';

// GenerateContentResponse chunks as :streamGenerateContent?alt=sse sends them (the API reference's
// UsageMetadata fields; each chunk's usageMetadata is the running total). Gemini ends its SSE lines with \r\n.
const chunk = (text: string, candidates: number, finish?: string) => ({
  candidates: [{ content: { parts: [{ text }], role: 'model' }, index: 0, ...(finish && { finishReason: finish }) }],
  usageMetadata: {
    promptTokenCount: 1500, cachedContentTokenCount: 1000, candidatesTokenCount: candidates, thoughtsTokenCount: 120, totalTokenCount: 1620 + candidates,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1500 }], cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 1000 }],
  },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'mW8yaPKXNa2nz7IPxPGSsQE',
});
const chunks = [chunk('Das ist ', 3), chunk('schön — 素晴らしい', 40), chunk(' ✓', 80, 'STOP')];
const expected = { inputTokens: 500, outputTokens: 200, cacheReadTokens: 1000, cacheWriteTokens: 0, reasoningTokens: 120 };
const sseTap = () => gemini.responseTap(`${STREAM}`, 200, 'text/event-stream', undefined);

describe('gemini stream tap', () => {
  it('takes the last usageMetadata (cached out of input, thoughts into output), split at every byte', () => {
    const text = dataEvents(chunks, '\r\n');
    const whole = splitInvariant(sseTap, enc(text));
    assert.equal(dec(whole.out), text);
    assert.deepEqual(whole.result, { usage: expected, model: 'gemini-2.5-flash', complete: true });
  });

  it('reports a stream cut before its finishReason as incomplete, with the usage seen so far', () => {
    const r = run(sseTap(), [enc(dataEvents(chunks.slice(0, 2), '\r\n') + 'data: {"candidates":[{"con')]);
    assert.deepEqual(r.result, { usage: { ...expected, outputTokens: 160 }, model: 'gemini-2.5-flash', complete: false });
  });

  it('a prompt blocked by promptFeedback ends properly', () => {
    const blocked = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 }, modelVersion: 'gemini-2.5-flash' };
    const r = run(sseTap(), [enc(dataEvents([blocked], '\r\n'))]);
    assert.deepEqual(r.result, { usage: { inputTokens: 12, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, model: 'gemini-2.5-flash', complete: true });
  });

  it('reads a stream sent without alt=sse (one JSON array), split at every byte', () => {
    const text = '[' + chunks.map((c) => JSON.stringify(c, null, 2)).join('\r\n,\r\n') + ']';
    const whole = splitInvariant(() => gemini.responseTap(STREAM, 200, 'application/json; charset=UTF-8', undefined), enc(text));
    assert.equal(dec(whole.out), text);
    assert.deepEqual(whole.result, { usage: expected, model: 'gemini-2.5-flash', complete: true });
  });

  it('never throws on garbage', () => {
    for (const ct of ['text/event-stream', 'application/json', undefined]) {
      for (const path of [STREAM, GEN, '/v1beta/models/x:countTokens', '/nothing']) {
        const r = run(gemini.responseTap(path, 200, ct, undefined), [garbage(5, 2500), enc('data: {"usageMetadata": 5}\n\ndata: [1]\n\n')]);
        assert.equal(r.result.usage, undefined);
      }
    }
  });
});

describe('gemini JSON bodies', () => {
  const json = (path: string, body: unknown, status = 200) => run(gemini.responseTap(path, status, 'application/json', undefined), [enc(JSON.stringify(body))]).result;

  it('reads generateContent usage', () => {
    assert.deepEqual(json(GEN, chunks[2]), { usage: expected, model: 'gemini-2.5-flash', complete: true });
    const tools = { candidates: [], usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 10, toolUsePromptTokenCount: 30, totalTokenCount: 140 } };
    assert.deepEqual(json(GEN, tools).usage, { inputTokens: 130, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it('finds no usage in countTokens or embedContent answers', () => {
    assert.deepEqual(json('/v1beta/models/gemini-2.5-flash:countTokens', { totalTokens: 31, cachedContentTokenCount: 10, promptTokensDetails: [{ modality: 'TEXT', tokenCount: 31 }] }), { complete: true });
    assert.deepEqual(json('/v1beta/models/gemini-embedding-001:embedContent', { embedding: { values: [0.01, -0.02] } }), { complete: true });
  });
});

describe('gemini requests, errors, keys and retries', () => {
  it('reads the model and streaming from the path; never rewrites the body', () => {
    const bytes = enc('{"contents":[{"parts":[{"text":"hi"}]}]}');
    const p = gemini.prepare(STREAM, bytes, url(`${STREAM}?alt=sse`));
    assert.deepEqual(p, { body: bytes, streaming: true, model: 'gemini-2.5-flash', state: undefined });
    assert.equal(gemini.prepare(GEN, bytes, url(GEN)).streaming, false);
    assert.deepEqual(geminiTarget('/v1beta/tunedModels/my-model-123:generateContent'), { model: 'my-model-123', method: 'generateContent' });
    assert.deepEqual(geminiTarget('/v1beta/models'), {});
    assert.equal(gemini.prepare('/v1beta/models', garbage(2, 10), url('/v1beta/models')).model, undefined);
  });

  it('takes the client token from x-goog-api-key or ?key=, and strips key from the upstream query', () => {
    assert.equal(gemini.clientToken({ 'x-goog-api-key': 'gw-1' }, url(GEN)), 'gw-1');
    assert.equal(gemini.clientToken({}, url(`${STREAM}?alt=sse&key=gw-2`)), 'gw-2');
    assert.equal(gemini.clientToken({ authorization: 'Bearer x' }, url(GEN)), undefined);
    assert.equal(gemini.upstreamSearch?.(url(`${STREAM}?alt=sse&key=gw-2`)), '?alt=sse');
    assert.equal(gemini.upstreamSearch?.(url(`${GEN}?key=gw-2`)), '');
    assert.equal(gemini.upstreamSearch?.(url(`${STREAM}?alt=sse&x=a%20b`)), '?alt=sse&x=a%20b');
    assert.equal(gemini.upstreamSearch?.(url(`${STREAM}?alt=sse`)), '?alt=sse');
  });

  it('strips credentials and hop-by-hop headers', () => {
    const h = gemini.upstreamHeaders({ 'x-goog-api-key': 'gw', host: 'h', connection: 'keep-alive', 'content-type': 'application/json', 'x-goog-api-client': 'google-genai-sdk/1.0.0' });
    assert.deepEqual(h, { 'content-type': 'application/json', 'x-goog-api-client': 'google-genai-sdk/1.0.0' });
  });

  // The error body Gemini sends for a bad key (400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID).
  const badKey = {
    error: {
      code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT',
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } }],
    },
  };
  const rateLimited = {
    error: {
      code: 429, message: 'You exceeded your current quota', status: 'RESOURCE_EXHAUSTED',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' }] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' },
      ],
    },
  };

  it('treats 400 API_KEY_INVALID, 401 and 403 as a rejected key, not other 400s or 429', () => {
    assert.equal(gemini.keyRejected(400, badKey), true);
    assert.equal(gemini.keyRejected(400, enc(JSON.stringify(badKey))), true);
    assert.equal(gemini.keyRejected(400, JSON.stringify([badKey])), true);
    assert.equal(gemini.keyRejected(400, { error: { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' } }), false);
    assert.equal(gemini.keyRejected(404, badKey), false);
    assert.equal(gemini.keyRejected(400, 'plain text'), false);
    assert.equal(gemini.keyRejected(403, { error: { code: 403, status: 'PERMISSION_DENIED', message: 'Your API key was reported as leaked.' } }), true);
    assert.equal(gemini.keyRejected(401, undefined), true);
    assert.equal(gemini.keyRejected(429, rateLimited), false);
  });

  it('reads RetryInfo retryDelay ("3s", "1.5s"), after the headers', () => {
    assert.equal(gemini.retryAfterMs(429, {}, rateLimited, NOW), 3000);
    const half = { error: { ...rateLimited.error, details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }] } };
    assert.equal(gemini.retryAfterMs(429, {}, enc(JSON.stringify(half)), NOW), 1500);
    // streamGenerateContent without alt=sse wraps its error in an array.
    assert.equal(gemini.retryAfterMs(429, {}, enc(JSON.stringify([rateLimited])), NOW), 3000);
    assert.equal(gemini.retryAfterMs(429, { 'retry-after': '9' }, rateLimited, NOW), 9000);
    assert.equal(gemini.retryAfterMs(429, {}, { error: { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: 'soon' }] } }, NOW), undefined);
    assert.equal(gemini.retryAfterMs(429, {}, garbage(4, 40), NOW), undefined);
    assert.equal(gemini.retryAfterMs(429, {}, undefined, NOW), undefined);
  });

  it('answers errors in Gemini shape', () => {
    assert.deepEqual(gemini.errorBody(429, 'All keys are resting'), { error: { code: 429, message: 'All keys are resting', status: 'RESOURCE_EXHAUSTED' } });
    assert.deepEqual(gemini.errorBody(401, 'Wrong gateway token'), { error: { code: 401, message: 'Wrong gateway token', status: 'UNAUTHENTICATED' } });
  });
});
