// The gateway's edges, driven like real clients would (official SDKs, or raw HTTP where the test needs
// control of the bytes): foreign web origins, bodies over the limit sent chunked, a Gemini key the
// provider rejects, Ollama retried and Ollama not running, an enforced budget that spares local models,
// an upstream stream cut mid-way, and no stored key in any log line, reply, ledger or state.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway/server';
import { maskKey } from '../../src/core/redact';
import { startFakeProviders, type FakeKeyScript, type FakeProviders, type FakeProvidersOptions } from '../fakes/providers';
import { makeTestCore, type TestCoreParts } from '../support/core';
import { assertNoLeak } from '../support/leaks';
import { waitFor } from '../support/waitFor';
import { baseUrlEnv } from '../mcp/helpers';

const TOKEN = 'aikm-gw-edges-token-0123456789abcdefghijklmnopqrstuv';
const KEYS = {
  openai: 'sk-proj-CANARYedgA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9',
  openaiBad: 'sk-proj-CANARYedgBadZ9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4',
  anthropic: 'sk-ant-api03-CANARYedgAntA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8-zz',
  googleGood: 'AIzaCANARYedgGoodQ1w2E3r4T5y6U7i8O9p0A1',
  googleBad: 'AIzaCANARYedgBadZq9W8e7R6t5Y4u3I2o1P0zX',
  mistral: 'CANARYedgMistral7Q2w3E4r5T6y7U8i',
  deepseek: 'sk-c0ffee1d2e3f4a5b6c7d8e9fa0b1c2d3',
};
const USAGE = { inputTokens: 1234, outputTokens: 56, cacheReadTokens: 0, cacheWriteTokens: 0 };
const REPLY = 'one two three four five six seven eight nine ten';
const FAST_RETRY = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
const AUTH = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

interface Rig {
  fake: FakeProviders;
  t: TestCoreParts;
  gw: Gateway;
  /** The fake's behaviour per key, changeable between requests. */
  keys: Record<string, FakeKeyScript>;
  close(): Promise<void>;
}

/** Fake providers, a core whose base URLs all point at them (unless `env` says otherwise), its keys, and a gateway. */
async function rig(o: { keys?: Partial<Record<keyof typeof KEYS, FakeKeyScript>>; store?: (keyof typeof KEYS)[]; fake?: FakeProvidersOptions; env?: Record<string, string>; gateway?: Partial<GatewayOptions> } = {}): Promise<Rig> {
  const keys: Record<string, FakeKeyScript> = {};
  for (const [name, b] of Object.entries(o.keys ?? {})) keys[KEYS[name as keyof typeof KEYS]] = b;
  const fake = await startFakeProviders({ keys, usage: USAGE, replyText: REPLY, ...o.fake });
  const t = makeTestCore({ env: { ...baseUrlEnv(fake.url), ...o.env } });
  const providerOf: Record<keyof typeof KEYS, string> = { openai: 'openai', openaiBad: 'openai', anthropic: 'anthropic', googleGood: 'google', googleBad: 'google', mistral: 'mistral', deepseek: 'deepseek' };
  let gw: Gateway;
  try {
    for (const name of o.store ?? []) await t.core.addKey(providerOf[name], { apiKey: KEYS[name] }, { label: name }, 'command');
    gw = await startGateway({ core: t.core, token: TOKEN, port: 0, retry: FAST_RETRY, ...o.gateway });
  } catch (err) {
    await fake.close();
    throw err;
  }
  return {
    fake,
    t,
    gw,
    keys,
    close: async () => {
      await gw.close();
      await fake.close();
    },
  };
}

interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with node:http, headers exactly as given (Host included when set). */
function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * A POST whose body goes out chunked (no content-length), `piece` bytes at a time with a pause
 * between, and stops sending once an answer arrives.
 */
function chunkedPost(url: string, headers: Record<string, string>, body: Buffer, piece = 500): Promise<RawReply & { sent: number }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    let sent = 0;
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, sent }));
      res.on('error', reject);
    });
    assert.equal(req.getHeader('content-length'), undefined);
    // Once answered, a write into the closed connection may fail: that is not the test's concern.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const next = (): void => {
      if (answered || req.destroyed) return;
      if (sent >= body.length) return void req.end();
      const part = body.subarray(sent, sent + piece);
      sent += part.length;
      req.write(part);
      setTimeout(next, 5);
    };
    next();
  });
}

/** A chat request body in OpenAI's format of exactly `bytes` bytes. */
function openAiBodyOf(bytes: number): Buffer {
  const empty = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: '' }] });
  const pad = bytes - Buffer.byteLength(empty);
  assert.ok(pad >= 0, `a body of ${bytes} bytes cannot be made`);
  const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(pad) }] }));
  assert.equal(body.length, bytes);
  return body;
}

/** A URL on 127.0.0.1 where nothing listens: a port a server had a moment ago. */
async function closedUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const chat = (model: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello?' }], ...extra });

describe('gateway edges: a foreign web Origin', () => {
  let r: Rig;
  before(async () => {
    r = await rig({ keys: { openai: 'valid' }, store: ['openai'] });
  });
  after(() => r?.close());

  const post = (origin: string | undefined) =>
    raw(`${r.gw.url}/openai/v1/chat/completions`, { method: 'POST', headers: { ...AUTH, ...(origin !== undefined && { origin }) }, body: chat('gpt-4o-mini') });

  it('is refused with 403 before anything goes upstream, even with the right token', async () => {
    const before = r.fake.requests.length;
    // localGuard.foreignRequest: only http(s)://127.0.0.1 or localhost (any port) and vscode-* origins pass.
    for (const origin of ['https://evil.example', 'http://evil.example:80', 'null', 'http://127.0.0.1.evil.example', `http://localhost.evil.example:${r.gw.port}`, `http://localhost:${r.gw.port}.evil.example`, 'file://', 'http://[::1]:3000']) {
      const res = await post(origin);
      assert.equal(res.status, 403, `Origin ${origin}`);
      assert.equal(res.body, 'Forbidden: cross-origin request.', `Origin ${origin}`);
      assert.equal(res.headers['access-control-allow-origin'], undefined, 'no CORS grant');
    }
    // The 403 comes before the token check: a page that guesses nothing learns nothing.
    const noToken = await raw(`${r.gw.url}/openai/v1/models`, { headers: { origin: 'https://evil.example' } });
    assert.equal(noToken.status, 403);
    assert.equal(r.fake.requests.length, before, 'nothing went upstream');
    assert.equal(r.t.core.usage({ days: 1 }).totals.requests, 0, 'nothing recorded');
  });

  it('the gateway’s own origins pass (127.0.0.1 and localhost, any port; VS Code webviews), as does no Origin at all', async () => {
    const accepted = [`http://127.0.0.1:${r.gw.port}`, `http://localhost:${r.gw.port}`, 'http://localhost:3000', 'https://127.0.0.1', 'vscode-webview://0a1b2c3d', undefined];
    for (const [i, origin] of accepted.entries()) {
      const before = r.fake.requests.length;
      const res = await post(origin);
      assert.equal(res.status, 200, `Origin ${String(origin)}: ${res.body}`);
      assert.equal((JSON.parse(res.body) as OpenAI.ChatCompletion).choices[0].message.content, REPLY);
      assert.equal(r.fake.requests.length, before + 1, `Origin ${String(origin)} went upstream`);
      assert.equal(r.t.core.usage({ days: 1 }).totals.requests, i + 1);
    }
  });
});

describe('gateway edges: a body over the limit, sent chunked', () => {
  const LIMIT = 1000;
  let r: Rig;
  before(async () => {
    r = await rig({ keys: { openai: 'valid', anthropic: 'valid' }, store: ['openai', 'anthropic'], gateway: { maxBodyBytes: LIMIT } });
  });
  after(() => r?.close());

  it('5000 bytes without a content-length: 413 in the provider’s error shape, the connection closed, nothing upstream', async () => {
    const before = r.fake.requests.length;
    const res = await chunkedPost(`${r.gw.url}/openai/v1/chat/completions`, AUTH, openAiBodyOf(5000));
    assert.equal(res.status, 413, res.body);
    assert.deepEqual(JSON.parse(res.body), { error: { message: `AI Key Manager gateway: the request body is larger than ${LIMIT} bytes.`, type: 'invalid_request_error', param: null, code: 'request_too_large' } });
    assert.equal(res.headers.connection, 'close');
    assert.ok(res.sent < 5000, `answered before the whole body was sent (${res.sent} bytes sent)`);

    // Anthropic's path: Anthropic's shape.
    const body = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'y'.repeat(4900) }] }));
    const a = await chunkedPost(`${r.gw.url}/anthropic/v1/messages`, { 'x-api-key': TOKEN, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, body);
    assert.equal(a.status, 413, a.body);
    assert.deepEqual(JSON.parse(a.body), { type: 'error', error: { type: 'request_too_large', message: `AI Key Manager gateway: the request body is larger than ${LIMIT} bytes.` } });

    // One byte over, in a single chunk.
    const over = await chunkedPost(`${r.gw.url}/openai/v1/chat/completions`, AUTH, openAiBodyOf(LIMIT + 1), LIMIT + 1);
    assert.equal(over.status, 413, over.body);

    assert.equal(r.fake.requests.length, before, 'nothing went upstream');
    assert.equal(r.t.core.usage({ days: 1 }).totals.requests, 0, 'nothing recorded');
  });

  it('a chunked body just under the limit, and one of exactly the limit, pass whole', async () => {
    for (const size of [LIMIT - 10, LIMIT]) {
      const before = r.fake.requests.length;
      const body = openAiBodyOf(size);
      const res = await chunkedPost(`${r.gw.url}/openai/v1/chat/completions`, AUTH, body, 300);
      assert.equal(res.status, 200, `${size} bytes: ${res.body}`);
      assert.equal((JSON.parse(res.body) as OpenAI.ChatCompletion).choices[0].message.content, REPLY);
      assert.equal(r.fake.requests.length, before + 1);
      assert.equal(r.fake.requests.at(-1)?.body, body.toString('utf8'), 'the body went upstream unchanged');
    }
  });

  it('the gateway still serves on a new connection after a 413', async () => {
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${r.gw.url}/openai/v1`, maxRetries: 0 });
    const c = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(c.choices[0].message.content, REPLY);
  });
});

describe('gateway edges: Gemini through /gemini with a key the provider rejects', () => {
  let r: Rig;
  before(async () => {
    r = await rig({ keys: { googleGood: 'valid', googleBad: 'unauthorized' }, store: ['googleGood'] });
  });
  after(() => r?.close());

  it('the rejected key is disabled, the second Google key serves the same request, and it is reported once, masked', async () => {
    const google = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: `${r.gw.url}/gemini` } });
    // Use the good key once, so the bad one (never used) is the least recently used and goes first.
    assert.equal((await google.models.generateContent({ model: 'gemini-2.0-flash', contents: 'warm up' })).text, REPLY);
    await r.t.core.addKey('google', { apiKey: KEYS.googleBad }, { label: 'bad' }, 'command');
    const bad = r.t.core.listKeys('google').find((k) => k.label === 'bad')!;
    const disabled: unknown[] = [];
    const off = r.t.core.traffic.onKeyDisabled((e) => disabled.push(e));
    try {
      const before = r.fake.requests.length;
      const g = await google.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Which key?' });
      assert.equal(g.text, REPLY);
      const sent = r.fake.requests.slice(before);
      assert.deepEqual(
        sent.map((x) => [x.headers['x-goog-api-key'], x.status]),
        [
          [KEYS.googleBad, 400],
          [KEYS.googleGood, 200],
        ],
        'the bad key first (Gemini answers 400 API_KEY_INVALID), then the good one',
      );
      assert.equal(sent[0].body, sent[1].body, 'the same request');
      assert.match(sent[0].body, /Which key\?/);
      assert.equal(r.t.core.listKeys('google').find((k) => k.id === bad.id)?.status, 'disabled');
      const served = r.t.core.usageLedger().recent(1)[0];
      assert.deepEqual([served.provider, served.success, served.retries, served.keyId], ['google', true, 1, r.t.core.listKeys('google').find((k) => k.label === 'googleGood')?.id], 'a success after one retry, served by the good key');

      // A second request goes straight to the good key; nothing is reported again.
      const again = r.fake.requests.length;
      assert.equal((await google.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Again?' })).text, REPLY);
      assert.deepEqual(r.fake.requests.slice(again).map((x) => x.headers['x-goog-api-key']), [KEYS.googleGood]);
    } finally {
      off();
    }
    assert.deepEqual(disabled, [{ provider: 'google', keyId: bad.id, masked: maskKey(KEYS.googleBad), status: 400 }]);
    assertNoLeak(disabled, [KEYS.googleBad], 'the key-disabled event');
  });
});

describe('gateway edges: Ollama through /ollama', () => {
  it('a 500 then a 200: the client gets the 200 after one retry', async () => {
    const r = await rig({ fake: { ollama: ['server_error', 'valid'] } });
    try {
      const res = await fetch(`${r.gw.url}/ollama/api/chat`, { method: 'POST', headers: AUTH, body: JSON.stringify({ model: 'llama3.1', stream: false, messages: [{ role: 'user', content: 'x' }] }) });
      assert.equal(res.status, 200);
      const json = (await res.json()) as { message: { content: string }; done: boolean };
      assert.equal(json.message.content, REPLY);
      assert.deepEqual(r.fake.requests.map((x) => [x.path, x.status]), [
        ['/api/chat', 500],
        ['/api/chat', 200],
      ]);
      const e = r.t.core.usageLedger().recent(1)[0];
      assert.deepEqual([e.provider, e.model, e.success, e.retries, e.outputTokens, e.costUsd], ['local', 'llama3.1', true, 1, USAGE.outputTokens, 0]);
    } finally {
      await r.close();
    }
  });

  it(
    'a model Ollama does not have: its 404 passes on, and is recorded as a failed request that leaves health alone',
    async () => {
      const r = await rig();
      try {
        const res = await fetch(`${r.gw.url}/ollama/api/chat`, { method: 'POST', headers: AUTH, body: JSON.stringify({ model: 'mistral-nemo', stream: false, messages: [{ role: 'user', content: 'x' }] }) });
        assert.equal(res.status, 404);
        assert.match(((await res.json()) as { error: string }).error, /model "mistral-nemo" not found/);
        assert.equal(r.fake.requests.length, 1, 'a 4xx is the client’s request: not retried');
        const e = r.t.core.usageLedger().recent(1)[0];
        assert.ok(e, 'the refused request is recorded');
        assert.deepEqual([e.provider, e.model, e.success, e.error], ['local', 'mistral-nemo', false, 'HTTP 404']);
        assert.equal(r.t.core.health.get('local').consecutiveFailures, 0, 'a refused request says nothing about the provider’s health');
      } finally {
        await r.close();
      }
    },
  );

  it('Ollama not running: 502 saying it could not be reached at its address, recorded as a failed request', async () => {
    const nowhere = await closedUrl();
    const lines: string[] = [];
    const r = await rig({ env: { AIKM_LOCAL_BASE_URL: nowhere }, gateway: { log: (l) => lines.push(l) } });
    try {
      assert.equal(r.t.core.baseUrl('local'), nowhere);
      const res = await fetch(`${r.gw.url}/ollama/api/chat`, { method: 'POST', headers: AUTH, body: JSON.stringify({ model: 'llama3.1', messages: [{ role: 'user', content: 'x' }] }) });
      assert.equal(res.status, 502);
      const { error } = (await res.json()) as { error: string };
      assert.equal(typeof error, 'string', 'Ollama’s error shape: { error: "…" }');
      assert.match(error, /could not be reached/);
      assert.ok(error.includes(nowhere), `names the address ${nowhere}: ${error}`);
      assert.match(error, /^Local \(Ollama\)/);
      assert.equal(r.fake.requests.length, 0);
      const e = r.t.core.usageLedger().recent(1)[0];
      assert.equal(e.provider, 'local');
      assert.equal(e.success, false);
      assert.match(e.error ?? '', /could not be reached/);
      assert.equal(r.t.core.usage({ days: 1, provider: 'local' }).totals.failures, 1);
      assert.equal(lines.filter((l) => l.includes('could not be reached')).length, FAST_RETRY.attempts, 'each try is logged');
    } finally {
      await r.close();
    }
  });
});

describe('gateway edges: an enforced budget that is reached', () => {
  let r: Rig;
  before(async () => {
    r = await rig({ keys: { openai: 'valid', anthropic: 'valid' }, store: ['openai', 'anthropic'] });
  });
  after(() => r?.close());

  it('refuses paid providers with 429 naming the budget and "Set Budget"; local models still pass', async () => {
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${r.gw.url}/openai/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    assert.ok(r.t.core.usage({ days: 1 }).totals.costUsd > 0.0001, 'the paid request cost more than the budget');
    await r.t.settings.setBudget({ daily: 0.0001, enforce: true });
    try {
      const before = r.fake.requests.length;
      const err = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }).then(
        () => assert.fail('expected a 429'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.match(err.message, /daily budget \$0\.0001 reached/);
      assert.match(err.message, /Set Budget/);
      const anthropic = new Anthropic({ apiKey: TOKEN, baseURL: `${r.gw.url}/anthropic`, maxRetries: 0 });
      await assert.rejects(anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => e instanceof Anthropic.RateLimitError && /budget/.test(e.message));
      assert.equal(r.fake.requests.length, before, 'no paid request went upstream');

      const local = await fetch(`${r.gw.url}/ollama/api/chat`, { method: 'POST', headers: AUTH, body: JSON.stringify({ model: 'llama3.1', stream: false, messages: [{ role: 'user', content: 'x' }] }) });
      assert.equal(local.status, 200, await local.clone().text());
      assert.equal(((await local.json()) as { message: { content: string } }).message.content, REPLY);
      assert.equal(r.fake.requests.length, before + 1);
      assert.equal(r.fake.requests.at(-1)?.path, '/api/chat');
    } finally {
      await r.t.settings.setBudget({ daily: 0, enforce: false });
    }
    // Budget off again: paid requests pass.
    const ok = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(ok.choices[0].message.content, REPLY);
  });
});

describe('gateway edges: an upstream stream cut mid-way', () => {
  let r: Rig;
  before(async () => {
    r = await rig({ keys: { openai: { cutAfterChunks: 2 } }, store: ['openai'], fake: { streamChunks: 5, chunkDelayMs: 10 } });
  });
  after(() => r?.close());

  it('is recorded as incomplete, not a success, and counts against the provider’s health', async () => {
    const healthBefore = r.t.core.health.get('openai');
    assert.equal(healthBefore.consecutiveFailures, 0);
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${r.gw.url}/openai/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'count' }] });
    let text = '';
    let failed: unknown;
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    } catch (err) {
      failed = err;
    }
    assert.ok(text.length < REPLY.length, `the client did not get the whole reply (got '${text}')`);
    assert.ok(failed !== undefined, 'the client is told the stream broke (not a clean end)');
    assert.equal(r.fake.requests.length, 1, 'nothing is retried once bytes went to the client');

    const e = await waitFor(() => r.t.core.usageLedger().recent(1)[0], 'the cut stream to be recorded');
    assert.equal(e.incomplete, true);
    assert.equal(e.success, false);
    assert.match(e.error ?? '', /^incomplete: the upstream connection failed/);
    assert.equal(e.keyId, r.t.core.listKeys('openai')[0].id);

    const health = r.t.core.health.get('openai');
    assert.equal(health.consecutiveFailures, healthBefore.consecutiveFailures + 1, 'a cut by the provider is the provider’s failure');
    assert.match(health.lastError ?? '', /incomplete/);
    const stats = r.t.core.providerStats('openai')[0];
    assert.equal(stats.requests, 1);
    assert.equal(stats.successRate, 0);
    assert.equal(r.t.core.listKeys('openai')[0].status, 'healthy', 'a cut says nothing about the key');
  });

  it('a plain JSON reply cut half-way is the same: the client gets an error, the ledger an incomplete failure', async () => {
    const failures = r.t.core.health.get('openai').consecutiveFailures;
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${r.gw.url}/openai/v1`, maxRetries: 0 });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }));
    const e = await waitFor(() => r.t.core.usageLedger().recent(2).length === 2 && r.t.core.usageLedger().recent(1)[0], 'the cut reply to be recorded');
    assert.deepEqual([e.success, e.incomplete], [false, true]);
    assert.equal(r.t.core.health.get('openai').consecutiveFailures, failures + 1);
  });
});

describe('gateway edges: no stored key in the log, the replies, the ledger or the state', () => {
  let r: Rig;
  let echo: http.Server;
  const lines: string[] = [];
  const bodies: string[] = [];
  /** What the echo upstream was sent as keys. */
  const echoed: string[] = [];

  before(async () => {
    // An OpenAI-compatible upstream whose error bodies quote the key they were sent (the fake never does).
    echo = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        const auth = req.headers.authorization ?? '';
        const key = auth.replace(/^Bearer /, '');
        echoed.push(key);
        const model = (JSON.parse(raw || '{}') as { model?: string }).model ?? '';
        const json = (status: number, message: string, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify({ error: { message, type: 'invalid_request_error', key } }));
        };
        if (model === 'echo-400') return json(400, `Invalid model for key ${key} (Authorization: ${auth}).`);
        if (model === 'echo-500') return json(500, `Internal error while serving ${key}`);
        if (model === 'echo-gzip') {
          res.writeHead(400, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          return void res.end(zlib.gzipSync(JSON.stringify({ error: { message: `Bad request with api_key=${key}` } })));
        }
        if (model === 'echo-text') {
          res.writeHead(502, { 'content-type': 'text/plain' });
          return void res.end(`upstream proxy: could not forward "${auth}"`);
        }
        if (model === 'echo-429') return json(429, `Rate limit reached for key ${key}`, { 'retry-after': '7' });
        json(404, `The model ${model} does not exist (key ${key}).`);
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    r = await rig({
      keys: { openai: 'valid', openaiBad: 'unauthorized', anthropic: 'reset' },
      store: ['openaiBad', 'anthropic', 'mistral', 'deepseek'],
      env: { AIKM_MISTRAL_BASE_URL: echoUrl, AIKM_DEEPSEEK_BASE_URL: await closedUrl() },
      gateway: { log: (l) => lines.push(l) },
    });
  });

  after(async () => {
    echo.closeAllConnections();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
    await r?.close();
  });

  const send = async (path: string, body: string, headers: Record<string, string> = AUTH) => {
    const res = await raw(`${r.gw.url}${path}`, { method: 'POST', headers, body });
    bodies.push(res.body);
    return res;
  };

  it('failure paths: a rejected key, 500s, a reset connection, an unreachable provider, error bodies that quote the key', async () => {
    // 401: the key is disabled, the client gets the gateway's own message.
    const rejected = await send('/openai/v1/chat/completions', chat('gpt-4o-mini'));
    assert.equal(rejected.status, 502, rejected.body);
    assert.match(rejected.body, /OpenAI rejected its key \(HTTP 401\)/);
    assert.equal(r.t.core.listKeys('openai')[0].status, 'disabled');
    // No usable key now: 503.
    assert.equal((await send('/openai/v1/chat/completions', chat('gpt-4o-mini'))).status, 503);

    // Connection reset on every try.
    const reset = await send('/anthropic/v1/messages', JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), { 'x-api-key': TOKEN, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' });
    assert.equal(reset.status, 502, reset.body);
    assert.match(reset.body, /Anthropic could not be reached/);
    // 500s on every try, then a 200 later.
    r.keys[KEYS.anthropic] = ['server_error', 'server_error', 'server_error', 'valid'];
    const fiveHundred = await send('/anthropic/v1/messages', JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), { 'x-api-key': TOKEN, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' });
    assert.equal(fiveHundred.status, 500);

    // Unreachable.
    const unreachable = await send('/deepseek/v1/chat/completions', chat('deepseek-chat'));
    assert.equal(unreachable.status, 502);
    assert.match(unreachable.body, /DeepSeek could not be reached/);

    // Error bodies that quote the key: passed on (4xx), or held and passed on after the retries (5xx).
    const masked = maskKey(KEYS.mistral);
    for (const [model, status] of [
      ['echo-400', 400],
      ['echo-500', 500],
      ['echo-gzip', 400],
      ['echo-text', 502],
      ['echo-404', 404],
    ] as const) {
      const res = await send('/mistral/v1/chat/completions', chat(model));
      assert.equal(res.status, status, `${model}: ${res.body}`);
      assert.ok(res.body.includes(masked), `${model}: the quoted key is shown masked (${res.body})`);
    }
    // The router: the provider's message inside the router's own error.
    const routed = await send('/v1/chat/completions', chat('mistral/echo-400'));
    assert.equal(routed.status, 400, routed.body);
    assert.ok(routed.body.includes(masked), routed.body);
    // Last (the key then rests): a 429 that quotes the key, passed on when every key rests.
    const limited = await send('/mistral/v1/chat/completions', chat('echo-429'));
    assert.equal(limited.status, 429, limited.body);
    assert.ok(limited.body.includes(masked), limited.body);

    assert.ok(echoed.length >= 8 && echoed.every((k) => k === KEYS.mistral), 'the echo upstream was sent the stored key');
    assert.ok(lines.some((l) => l.includes('could not be reached')), `the log has the unreachable provider: ${lines.join('\n')}`);
    assert.ok(lines.some((l) => l.includes('gateway router: mistral/echo-400 failed')), 'the log has the router’s failure, with the provider’s message');
  });

  it('and no stored key appears anywhere', async () => {
    await r.t.core.flush();
    const stored = Object.values(KEYS);
    assert.ok(lines.length > 0 && bodies.length > 0);
    assertNoLeak(lines.join('\n'), stored, 'the log');
    for (const b of bodies) assertNoLeak(b, stored, `a reply body (${b.slice(0, 80)}…)`);
    assertNoLeak(r.t.ledgerState.dump(), stored, 'the usage ledger');
    assertNoLeak(r.t.state.dump(), stored, 'the state (key metadata, audit)');
    assertNoLeak(r.t.core.providerStats(), stored, 'provider stats and health');
    assertNoLeak(r.t.core.auditEntries({ limit: 500 }), stored, 'the audit');
  });
});
