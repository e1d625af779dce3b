// The gateway driven by the official SDKs (openai, @anthropic-ai/sdk, @google/genai) against the fake
// providers: the stored key is injected, the client's token never goes upstream, usage is recorded
// from the provider's own figures, and keys rest, get disabled and fail over as the answers say.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { startGateway, type Gateway } from '../../src/gateway/server';
import { startFakeProviders, type FakeKeyScript, type FakeProviders } from '../fakes/providers';
import { secretName } from '../../src/core/keys';
import { waitFor } from '../support/waitFor';
import { makeTestCore, type TestCoreParts } from '../support/core';
import { assertNoLeak } from '../support/leaks';
import { baseUrlEnv } from '../mcp/helpers';

const TOKEN = 'aikm-gw-test-token-0123456789abcdefghijklmnopqrstuvwxyz';
const KEYS = {
  openaiA: 'sk-proj-CANARYgwA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9',
  openaiB: 'sk-proj-CANARYgwB9z8Y7x6W5v4U3t2S1r0Q9p8O7n6M5l4K3j2I1',
  anthropicA: 'sk-ant-api03-CANARYgwAntA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8-zz',
  anthropicB: 'sk-ant-api03-CANARYgwAntB9z8Y7x6W5v4U3t2S1r0Q9p8O7n6M5l4K3j2-yy',
  google: 'AIzaCANARYgwGoogleQ1w2E3r4T5y6U7i8O9p0A',
};
const USAGE = { inputTokens: 1234, outputTokens: 56, cacheReadTokens: 0, cacheWriteTokens: 0 };

describe('gateway: official SDKs through to the providers, with the stored keys', () => {
  let fake: FakeProviders;
  let t: TestCoreParts;
  let gw: Gateway;
  const behaviour: Record<string, FakeKeyScript> = {};

  before(async () => {
    Object.assign(behaviour, { [KEYS.openaiA]: 'valid', [KEYS.openaiB]: 'valid', [KEYS.anthropicA]: 'valid', [KEYS.anthropicB]: 'valid', [KEYS.google]: 'valid' });
    fake = await startFakeProviders({ keys: behaviour, usage: USAGE, replyText: 'Hi from upstream.' });
    t = makeTestCore({ env: baseUrlEnv(fake.url) });
    await t.core.addKey('openai', { apiKey: KEYS.openaiA }, { label: 'A' }, 'command');
    await t.core.addKey('anthropic', { apiKey: KEYS.anthropicA }, { label: 'A' }, 'command');
    await t.core.addKey('google', { apiKey: KEYS.google }, {}, 'command');
    gw = await startGateway({ core: t.core, token: TOKEN, port: 0, retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
  });

  after(async () => {
    await gw.close();
    await fake.close();
  });

  const requestsSince = (n: number) => fake.requests.slice(n);
  const usageOf = (provider: string) => t.core.usage({ days: 1, provider, groupBy: 'model' });

  it('OpenAI SDK: the reply passes through, the stored key goes upstream, the usage is recorded', async () => {
    const before = fake.requests.length;
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello?' }] });
    assert.equal(r.choices[0].message.content, 'Hi from upstream.');
    assert.equal(r.usage?.prompt_tokens, USAGE.inputTokens);
    const sent = requestsSince(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].headers.authorization, `Bearer ${KEYS.openaiA}`);
    assert.ok(!JSON.stringify(sent[0].headers).includes(TOKEN), 'the gateway token never goes upstream');
    const u = usageOf('openai');
    assert.equal(u.totals.requests, 1);
    assert.equal(u.totals.inputTokens, USAGE.inputTokens);
    assert.equal(u.totals.outputTokens, USAGE.outputTokens);
    assert.equal(u.groups[0].model, 'gpt-4o');
    assert.ok(u.totals.costUsd > 0, 'priced from the database');
  });

  it('Anthropic SDK and Gemini SDK work the same way', async () => {
    const anthropic = new Anthropic({ apiKey: TOKEN, baseURL: `${gw.url}/anthropic`, maxRetries: 0 });
    const m = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hello?' }] });
    assert.equal(m.content[0].type === 'text' ? m.content[0].text : '', 'Hi from upstream.');
    assert.equal(fake.requests.at(-1)?.headers['x-api-key'], KEYS.anthropicA);
    assert.equal(usageOf('anthropic').totals.inputTokens, USAGE.inputTokens);

    const google = new GoogleGenAI({ apiKey: TOKEN, httpOptions: { baseUrl: `${gw.url}/gemini` } });
    const g = await google.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Hello?' });
    assert.equal(g.text, 'Hi from upstream.');
    const last = fake.requests.at(-1)!;
    assert.equal(last.headers['x-goog-api-key'], KEYS.google);
    assert.ok(!last.path.includes(TOKEN) && !last.path.includes('key='), 'no token in the upstream query');
    assert.equal(usageOf('google').totals.requests, 1);
  });

  it('a wrong or missing token gets 401 in the provider’s error shape, and nothing goes upstream', async () => {
    const before = fake.requests.length;
    const client = new OpenAI({ apiKey: 'not-the-token-0123456789abcdefghijkl', baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => e instanceof OpenAI.AuthenticationError && /gateway token/.test(e.message));
    const anthropic = new Anthropic({ apiKey: 'wrong', baseURL: `${gw.url}/anthropic`, maxRetries: 0 });
    await assert.rejects(anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => e instanceof Anthropic.AuthenticationError);
    assert.equal(fake.requests.length, before);
  });

  it('Claude Code with a real key in x-api-key and the gateway token as Bearer is let in; the real key never goes upstream', async () => {
    const real = 'sk-ant-api03-CANARYgwRealUserKeyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6-zz';
    const res = await fetch(`${gw.url}/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': real, authorization: `Bearer ${TOKEN}`, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const sent = fake.requests.at(-1)!;
    assert.notEqual(sent.headers['x-api-key'], real);
    assert.ok(!JSON.stringify(sent.headers).includes(real));
  });

  it('a foreign Host gets 403 (DNS rebinding), an unknown path 404 naming the base URLs', async () => {
    const raw = (path: string, headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(`${gw.url}${path}`, { headers }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    assert.equal((await raw('/openai/v1/models', { host: 'evil.example:80', authorization: `Bearer ${TOKEN}` })).status, 403);
    const nf = await raw('/nowhere', { authorization: `Bearer ${TOKEN}` });
    assert.equal(nf.status, 404);
    assert.match(nf.body, /\/openai\/v1/);
  });

  it('429 on one key: it rests and the next key serves the same request', async () => {
    await t.core.addKey('openai', { apiKey: KEYS.openaiB }, { label: 'B' }, 'command');
    behaviour[KEYS.openaiA] = { retryAfter: 30 };
    behaviour[KEYS.openaiB] = 'valid';
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    // Least recently used first: B was never used, so make A the one tried first by using B once.
    for (let i = 0; i < 2; i++) {
      const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
      assert.equal(r.choices[0].message.content, 'Hi from upstream.');
    }
    const a = t.core.listKeys('openai').find((k) => k.label === 'A')!;
    assert.equal(a.status, 'resting');
    assert.ok(Date.parse(a.restingUntil!) - t.clock.now().getTime() >= 30_000, 'rests as long as Retry-After said');
    behaviour[KEYS.openaiA] = 'valid';
  });

  it('every key resting: 429 with Retry-After, in the provider’s shape', async () => {
    behaviour[KEYS.openaiB] = { retryAfter: 45 };
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).then(
      () => assert.fail('expected a 429'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    // A rests 30 s (the test before), B now 45 s: the clock stands still, so A is back in 30 s.
    const wait = Number(err.headers?.get('retry-after'));
    assert.equal(wait, 30, 'Retry-After says when the first key is back');
    // Nothing was usable: the next request is refused without reaching the provider.
    const before = fake.requests.length;
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }), OpenAI.RateLimitError);
    assert.equal(fake.requests.length, before);
  });

  it('a rejected key is disabled and the next one serves; 5xx is retried, then another key', async () => {
    const anthropic = new Anthropic({ apiKey: TOKEN, baseURL: `${gw.url}/anthropic`, maxRetries: 0 });
    await t.core.addKey('anthropic', { apiKey: KEYS.anthropicB }, { label: 'B' }, 'command');
    delete behaviour[KEYS.anthropicA]; // the fake now answers 401 invalid x-api-key for A
    behaviour[KEYS.anthropicB] = 'valid';
    const disabled: unknown[] = [];
    const off = t.core.traffic.onKeyDisabled((e) => disabled.push(e));
    for (let i = 0; i < 2; i++) {
      const m = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
      assert.equal(m.content[0].type === 'text' ? m.content[0].text : '', 'Hi from upstream.');
    }
    const keyA = t.core.listKeys('anthropic').find((k) => k.label === 'A');
    assert.equal(keyA?.status, 'disabled');
    off();
    // Said once (the surfaces notify on it), with the key masked.
    assert.deepEqual(disabled, [{ provider: 'anthropic', keyId: keyA.id, masked: keyA.masked, status: 401 }]);

    behaviour[KEYS.anthropicB] = 'server_error';
    const before = fake.requests.length;
    await assert.rejects(anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => e instanceof Anthropic.InternalServerError);
    assert.equal(fake.requests.length - before, 3, 'three tries on the one usable key, then the 500 is passed on');
    behaviour[KEYS.anthropicB] = 'valid';
  });

  it('an enforced budget that is reached refuses paid models with a clear message', async () => {
    await t.settings.setBudget({ daily: 0.01, enforce: true });
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    behaviour[KEYS.openaiA] = 'valid';
    behaviour[KEYS.openaiB] = 'valid';
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => e instanceof OpenAI.RateLimitError && /daily budget \$0\.01 reached/.test(e.message));
    await t.settings.setBudget({ daily: 0, enforce: false });
  });

  it('a 403 moves on to the next key without disabling any, and the client gets the gateway’s own message', async () => {
    behaviour[KEYS.openaiA] = 'forbidden';
    behaviour[KEYS.openaiB] = 'forbidden';
    for (const k of t.core.listKeys('openai')) await t.core.keys.setStatus(k.id, 'healthy');
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).then(
      () => assert.fail('expected a 403'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.PermissionDeniedError, String(err));
    assert.match(err.message, /OpenAI rejected all 2 keys \(HTTP 403\)/);
    assert.deepEqual(t.core.listKeys('openai').map((k) => k.status), ['healthy', 'healthy'], 'a 403 may be about the account, not the key');
    behaviour[KEYS.openaiA] = 'valid';
    behaviour[KEYS.openaiB] = 'valid';
  });

  it('a key whose secret is gone is skipped at once; the next key serves', async () => {
    const [first] = t.core.traffic.keysFor('openai');
    const secret = await t.vault.get(secretName(first.id));
    await t.vault.delete(secretName(first.id));
    const before = fake.requests.length;
    const started = Date.now();
    const client = new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openai/v1`, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.choices[0].message.content, 'Hi from upstream.');
    assert.equal(fake.requests.length - before, 1, 'one upstream request, with the other key');
    assert.ok(Date.now() - started < 1000, 'no backoff for a key that cannot be read');
    await t.vault.store(secretName(first.id), secret!);
  });

  it('a client that gives up before the upstream answers frees the upstream', async () => {
    behaviour[KEYS.openaiA] = 'hang';
    behaviour[KEYS.openaiB] = 'hang';
    const count = fake.requests.length;
    const controller = new AbortController();
    const pending = fetch(`${gw.url}/openai/v1/chat/completions`, {
      method: 'POST',
      signal: controller.signal,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    }).catch(() => undefined);
    const upstream = await waitFor(() => fake.requests[count], 'the upstream request');
    controller.abort();
    await pending;
    await waitFor(() => upstream.aborted, 'the gateway to close the upstream request', { timeoutMs: 3000 });
    behaviour[KEYS.openaiA] = 'valid';
    behaviour[KEYS.openaiB] = 'valid';
  });

  it('model lists and Gemini ?key= pass; neither is recorded as a request', async () => {
    const before = t.core.usage({ days: 1 }).totals.requests;
    const models = await new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}/openai/v1`, maxRetries: 0 }).models.list();
    assert.ok(models.data.length > 0);
    const r = await fetch(`${gw.url}/gemini/v1beta/models?key=${TOKEN}`);
    assert.equal(r.status, 200);
    const sent = fake.requests.at(-1)!;
    assert.ok(!sent.path.includes('key='), sent.path);
    assert.equal(sent.headers['x-goog-api-key'], KEYS.google);
    assert.equal(t.core.usage({ days: 1 }).totals.requests, before, 'nothing generated, nothing recorded');
  });

  it('no stored key appears in any reply, the ledger or the state', async () => {
    await t.core.flush();
    const stored = Object.values(KEYS);
    assertNoLeak(t.state.dump(), stored, 'state (keys metadata, audit)');
    assertNoLeak(t.ledgerState.dump(), stored, 'usage ledger');
    assertNoLeak(JSON.stringify(t.core.auditEntries({ limit: 500 })), stored, 'audit');
  });
});
