import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { extractUsage, findProvider } from '@pydantic/genai-prices';
import { getProvider } from '../../src/core/providers';
import { parseRetryAfter, validateKeyLive } from '../../src/core/validate';
import { startFakeProviders, type FakeProviders } from '../fakes/providers';

const fill = (n: number): string =>
  Array.from({ length: n }, (_, i) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[(i * 11 + 5) % 62]).join('');

const KEYS = {
  anthropicGood: `sk-ant-api03-${fill(93)}AA`,
  anthropicBad: `sk-ant-api03-${fill(90)}BAD`,
  anthropicLimited: `sk-ant-api03-${fill(88)}LIMIT`,
  anthropicHang: `sk-ant-api03-${fill(89)}HANG`,
  anthropicBroken: `sk-ant-api03-${fill(87)}BROKEN`,
  openaiGood: `sk-proj-${fill(120)}`,
  openaiBad: `sk-proj-${fill(117)}BAD`,
  openaiQuota: `sk-proj-${fill(115)}QUOTA`,
  openaiDated: `sk-proj-${fill(115)}DATED`,
  geminiGood: `AIza${fill(35)}`,
  geminiBad: `AIza${fill(32)}BAD`,
  groqGood: `gsk_${fill(52)}`,
  openrouterGood: `sk-or-v1-${fill(64)}`,
  openrouterBad: `sk-or-v1-${fill(61)}BAD`,
};

// A fixed clock makes HTTP-date Retry-After exact.
const NOW = Date.parse('2025-06-01T12:00:00Z');

function noKeyIn(message: string): void {
  for (const key of Object.values(KEYS)) assert.ok(!message.includes(key), `message leaks a key: ${message}`);
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('validateKeyLive against the fake providers', () => {
  let fake: FakeProviders;

  before(async () => {
    fake = await startFakeProviders({
      keys: {
        [KEYS.anthropicGood]: 'valid',
        [KEYS.anthropicLimited]: { retryAfter: 17 },
        [KEYS.anthropicHang]: 'hang',
        [KEYS.anthropicBroken]: 'server_error',
        [KEYS.openaiGood]: 'valid',
        [KEYS.openaiQuota]: 'quota_exceeded',
        [KEYS.openaiDated]: { retryAfter: new Date(NOW + 120_000).toUTCString() },
        [KEYS.geminiGood]: 'valid',
        [KEYS.groqGood]: 'valid',
        [KEYS.openrouterGood]: 'valid',
      },
      models: { openai: ['gpt-4o', 'gpt-4o-mini'] },
    });
  });
  after(async () => {
    await fake.close();
  });

  const last = () => {
    const r = fake.requests.at(-1);
    assert.ok(r, 'the fake saw no request');
    return r;
  };

  it('anthropic: a good key is valid, sent as x-api-key with anthropic-version', async () => {
    const r = await validateKeyLive(getProvider('anthropic'), KEYS.anthropicGood, { baseUrl: fake.url });
    assert.equal(r.outcome, 'valid', r.message);
    assert.equal(r.httpStatus, 200);
    assert.equal(r.modelsAvailable, 3);
    assert.ok(r.latencyMs >= 0);
    const req = last();
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/v1/models');
    assert.equal(req.headers['x-api-key'], KEYS.anthropicGood);
    assert.equal(req.headers['anthropic-version'], '2023-06-01');
    assert.equal(req.headers['authorization'], undefined);
    noKeyIn(r.message);
  });

  it('anthropic: a bad key is invalid (401)', async () => {
    const r = await validateKeyLive(getProvider('anthropic'), KEYS.anthropicBad, { baseUrl: fake.url });
    assert.equal(r.outcome, 'invalid');
    assert.equal(r.httpStatus, 401);
    assert.match(r.message, /rejected the key/);
    noKeyIn(r.message);
  });

  it('429 with Retry-After seconds is rate_limited with the wait', async () => {
    const r = await validateKeyLive(getProvider('anthropic'), KEYS.anthropicLimited, { baseUrl: fake.url });
    assert.equal(r.outcome, 'rate_limited');
    assert.equal(r.httpStatus, 429);
    assert.equal(r.retryAfterSeconds, 17);
    assert.match(r.message, /17 s/);
    noKeyIn(r.message);
  });

  it('429 with an HTTP-date Retry-After is converted to seconds from now', async () => {
    const r = await validateKeyLive(getProvider('openai'), KEYS.openaiDated, { baseUrl: fake.url, now: () => NOW });
    assert.equal(r.outcome, 'rate_limited');
    assert.equal(r.retryAfterSeconds, 120);
    assert.equal(r.latencyMs, 0);
  });

  it('an OpenAI quota 429 says the account is out of quota', async () => {
    const r = await validateKeyLive(getProvider('openai'), KEYS.openaiQuota, { baseUrl: fake.url });
    assert.equal(r.outcome, 'rate_limited');
    assert.equal(r.retryAfterSeconds, undefined);
    assert.match(r.message, /out of quota/);
  });

  it('a request that hangs past the timeout is unreachable and says it timed out', async () => {
    const t0 = Date.now();
    const r = await validateKeyLive(getProvider('anthropic'), KEYS.anthropicHang, { baseUrl: fake.url, timeoutMs: 150 });
    assert.equal(r.outcome, 'unreachable');
    assert.equal(r.httpStatus, undefined);
    assert.match(r.message, /Timed out after 150 ms/);
    assert.ok(r.message.includes(new URL(fake.url).host));
    assert.ok(Date.now() - t0 < 3000, 'the timeout did not fire');
    assert.ok(r.latencyMs >= 100);
    noKeyIn(r.message);
  });

  it('a 500 is unreachable with the status', async () => {
    const r = await validateKeyLive(getProvider('anthropic'), KEYS.anthropicBroken, { baseUrl: fake.url });
    assert.equal(r.outcome, 'unreachable');
    assert.equal(r.httpStatus, 500);
    assert.match(r.message, /HTTP 500/);
  });

  it('connection refused on a closed port is unreachable and names the host', async () => {
    const port = await closedPort();
    const r = await validateKeyLive(getProvider('openai'), KEYS.openaiGood, { baseUrl: `http://127.0.0.1:${port}` });
    assert.equal(r.outcome, 'unreachable');
    assert.match(r.message, /Connection refused/);
    assert.ok(r.message.includes(`127.0.0.1:${port}`));
    noKeyIn(r.message);
  });

  it('openai: Bearer auth, valid key counts the listed models; a bad key is invalid', async () => {
    const ok = await validateKeyLive(getProvider('openai'), KEYS.openaiGood, { baseUrl: fake.url });
    assert.equal(ok.outcome, 'valid');
    assert.equal(ok.modelsAvailable, 2);
    assert.equal(last().headers['authorization'], `Bearer ${KEYS.openaiGood}`);
    assert.equal(last().headers['x-api-key'], undefined);

    const bad = await validateKeyLive(getProvider('openai'), KEYS.openaiBad, { baseUrl: fake.url });
    assert.equal(bad.outcome, 'invalid');
    assert.equal(bad.httpStatus, 401);
    noKeyIn(bad.message);
  });

  it('gemini: x-goog-api-key header; a bad key (400 API_KEY_INVALID) is invalid', async () => {
    const ok = await validateKeyLive(getProvider('google'), KEYS.geminiGood, { baseUrl: fake.url });
    assert.equal(ok.outcome, 'valid');
    assert.equal(ok.modelsAvailable, 3);
    assert.equal(last().path, '/v1beta/models');
    assert.equal(last().headers['x-goog-api-key'], KEYS.geminiGood);

    const bad = await validateKeyLive(getProvider('google'), KEYS.geminiBad, { baseUrl: fake.url });
    assert.equal(bad.outcome, 'invalid');
    assert.equal(bad.httpStatus, 400);
    assert.ok(!last().path.includes('key='), 'the key must not travel in the URL');
  });

  it('local: no key, GET /api/tags, counts models', async () => {
    const r = await validateKeyLive(getProvider('local'), undefined, { baseUrl: fake.url });
    assert.equal(r.outcome, 'valid');
    assert.equal(r.modelsAvailable, 3);
    assert.match(r.message, /running/);
    assert.equal(last().path, '/api/tags');
    assert.equal(last().headers['authorization'], undefined);
  });

  it('openai-compatible: groq uses /v1/models, openrouter checks /v1/key', async () => {
    const groq = await validateKeyLive(getProvider('groq'), KEYS.groqGood, { baseUrl: fake.url });
    assert.equal(groq.outcome, 'valid');
    assert.equal(last().path, '/v1/models');

    const or = await validateKeyLive(getProvider('openrouter'), KEYS.openrouterGood, { baseUrl: fake.url });
    assert.equal(or.outcome, 'valid');
    assert.equal(or.modelsAvailable, undefined);
    assert.equal(last().path, '/v1/key');
    assert.equal(last().headers['authorization'], `Bearer ${KEYS.openrouterGood}`);

    const orBad = await validateKeyLive(getProvider('openrouter'), KEYS.openrouterBad, { baseUrl: fake.url });
    assert.equal(orBad.outcome, 'invalid');
  });

  it('a missing key for a keyed provider is invalid without any request', async () => {
    const before = fake.requests.length;
    const r = await validateKeyLive(getProvider('anthropic'), undefined, { baseUrl: fake.url });
    assert.equal(r.outcome, 'invalid');
    assert.match(r.message, /ANTHROPIC_API_KEY/);
    assert.equal(fake.requests.length, before);
  });

  it('a wrong base path (404) is unreachable and points at the base URL', async () => {
    const r = await validateKeyLive(getProvider('openai'), KEYS.openaiGood, { baseUrl: `${fake.url}/nowhere` });
    assert.equal(r.outcome, 'unreachable');
    assert.equal(r.httpStatus, 404);
    assert.match(r.message, /base URL/);
  });

  it('uses the injected fetch and does not follow redirects', async () => {
    const calls: Array<{ url: string; init?: RequestInit }> = [];
    const fetchImpl: typeof fetch = async (input, init) => {
      calls.push({ url: String(input), init });
      return new Response(null, { status: 307, headers: { location: 'https://elsewhere.example/v1/models' } });
    };
    const r = await validateKeyLive(getProvider('openai'), KEYS.openaiGood, { baseUrl: 'https://api.openai.com', fetchImpl });
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.url, 'https://api.openai.com/v1/models');
    assert.equal(calls[0]?.init?.redirect, 'manual');
    assert.equal(r.outcome, 'unreachable');
    assert.match(r.message, /elsewhere\.example/);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, ignores junk', () => {
    assert.equal(parseRetryAfter('30', NOW), 30);
    assert.equal(parseRetryAfter('1.5', NOW), 2);
    assert.equal(parseRetryAfter(new Date(NOW + 45_000).toUTCString(), NOW), 45);
    assert.equal(parseRetryAfter(new Date(NOW - 45_000).toUTCString(), NOW), 0);
    assert.equal(parseRetryAfter('soon', NOW), undefined);
    assert.equal(parseRetryAfter(null, NOW), undefined);
  });
});

describe('fake provider chat endpoints speak the real wire formats', () => {
  let fake: FakeProviders;
  const KEY = 'chat-test-key';
  before(async () => {
    fake = await startFakeProviders({
      keys: { [KEY]: 'valid' },
      usage: { inputTokens: 100, outputTokens: 20, cacheReadTokens: 30, cacheWriteTokens: 5 },
    });
  });
  after(async () => {
    await fake.close();
  });

  const post = async (path: string, headers: Record<string, string>, body: unknown): Promise<[number, unknown]> => {
    const res = await fetch(fake.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return [res.status, JSON.parse(await res.text())];
  };
  const usageOf = (providerId: string, body: unknown, flavor?: string) => {
    const provider = findProvider({ providerId });
    assert.ok(provider);
    return extractUsage(provider, body, flavor);
  };
  const messages = [{ role: 'user', content: 'hi' }];

  it('Anthropic /v1/messages usage is read by genai-prices', async () => {
    const [status, body] = await post('/v1/messages', { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' }, { model: 'claude-sonnet-4-5', max_tokens: 8, messages });
    assert.equal(status, 200);
    const u = usageOf('anthropic', body);
    assert.equal(u.model, 'claude-sonnet-4-5');
    assert.deepEqual([u.usage.output_tokens, u.usage.cache_read_tokens, u.usage.cache_write_tokens], [20, 30, 5]);
  });

  it('OpenAI /v1/chat/completions usage is read by genai-prices; a bad key gets 401', async () => {
    const [status, body] = await post('/v1/chat/completions', { authorization: `Bearer ${KEY}` }, { model: 'gpt-4o', messages });
    assert.equal(status, 200);
    const u = usageOf('openai', body, 'chat');
    assert.deepEqual([u.usage.input_tokens, u.usage.output_tokens, u.usage.cache_read_tokens], [100, 20, 30]);
    const [bad] = await post('/v1/chat/completions', { authorization: 'Bearer nope' }, { model: 'gpt-4o', messages });
    assert.equal(bad, 401);
  });

  it('Gemini generateContent usageMetadata is read by genai-prices', async () => {
    const [status, body] = await post('/v1beta/models/gemini-2.5-flash:generateContent', { 'x-goog-api-key': KEY }, { contents: [{ parts: [{ text: 'hi' }] }] });
    assert.equal(status, 200);
    const u = usageOf('google', body);
    assert.equal(u.model, 'gemini-2.5-flash');
    assert.deepEqual([u.usage.input_tokens, u.usage.output_tokens], [100, 20]);
  });

  it('Ollama /api/chat reports prompt_eval_count and eval_count; unknown models are 404', async () => {
    const [status, body] = await post('/api/chat', {}, { model: 'llama3.1', messages, stream: false });
    assert.equal(status, 200);
    const b = body as { prompt_eval_count: number; eval_count: number; done: boolean };
    assert.deepEqual([b.prompt_eval_count, b.eval_count, b.done], [100, 20, true]);
    const [missing] = await post('/api/chat', {}, { model: 'not-pulled', messages, stream: false });
    assert.equal(missing, 404);
  });
});
