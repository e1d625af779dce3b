// The gateway's exact-match response cache: off by default; when on, a repeated non-streamed request
// is answered from it (x-aikm-cache: hit) without going upstream and recorded as a cached request
// at $0; streams, failures, other bodies and Cache-Control: no-cache always go upstream.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startGateway, type Gateway } from '../../src/gateway/server';
import { startFakeProviders, type FakeKeyScript, type FakeProviders } from '../fakes/providers';
import { makeTestCore, type TestCoreParts } from '../support/core';
import { baseUrlEnv } from '../mcp/helpers';

const TOKEN = 'aikm-cache-test-token-0123456789abcdefghijklmnopqrstuvwxyz';
const KEYS = { openai: 'sk-proj-CANARYcaA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9', anthropic: 'sk-ant-api03-CANARYcaAntA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8-zz' };
const ASK = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Same question' }] };

describe('gateway response cache', () => {
  let fake: FakeProviders;
  let t: TestCoreParts;
  let cached: Gateway;
  let plain: Gateway;
  const behaviour: Record<string, FakeKeyScript> = {};
  const client = (gw: Gateway, path = '/openai/v1') => new OpenAI({ apiKey: TOKEN, baseURL: `${gw.url}${path}`, maxRetries: 0 });

  before(async () => {
    Object.assign(behaviour, { [KEYS.openai]: 'valid', [KEYS.anthropic]: 'valid' });
    fake = await startFakeProviders({ keys: behaviour, usage: { inputTokens: 100_000, outputTokens: 10_000 } });
    t = makeTestCore({ env: baseUrlEnv(fake.url) });
    await t.core.addKey('openai', { apiKey: KEYS.openai }, {}, 'command');
    await t.core.addKey('anthropic', { apiKey: KEYS.anthropic }, {}, 'command');
    cached = await startGateway({ core: t.core, token: TOKEN, port: 0, cache: { ttlMs: 60_000, maxBytes: 1_000_000 }, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    plain = await startGateway({ core: t.core, token: TOKEN, port: 0 });
  });

  after(async () => {
    await cached.close();
    await plain.close();
    await fake.close();
  });

  it('is off by default: the same request goes upstream twice', async () => {
    const before = fake.requests.length;
    for (let i = 0; i < 2; i++) {
      const { response } = await client(plain).chat.completions.create({ ...ASK, messages: [{ role: 'user', content: 'off by default' }] }).withResponse();
      assert.equal(response.headers.get('x-aikm-cache'), null);
    }
    assert.equal(fake.requests.length - before, 2);
  });

  it('model lists are kept for five minutes even with the cache off', async () => {
    const before = fake.requests.length;
    const recorded = t.core.usage({ days: 1 }).totals.requests;
    const first = await client(plain).models.list().withResponse();
    const second = await client(plain).models.list().withResponse();
    assert.deepEqual(second.data.data.map((m) => m.id), first.data.data.map((m) => m.id));
    assert.deepEqual([first.response.headers.get('x-aikm-cache'), second.response.headers.get('x-aikm-cache')], ['miss', 'hit']);
    const anthropic = new Anthropic({ apiKey: TOKEN, baseURL: `${plain.url}/anthropic`, maxRetries: 0 });
    await anthropic.models.list();
    await anthropic.models.list();
    assert.deepEqual(fake.requests.slice(before).map((r) => r.path), ['/v1/models', '/v1/models'], 'one upstream call per provider');
    assert.equal(t.core.usage({ days: 1 }).totals.requests, recorded, 'listing models is not a request that costs');
  });

  it('a repeated request is answered from the cache, not sent upstream, and recorded as cached at $0', async () => {
    const before = fake.requests.length;
    const spentBefore = t.core.usage({ days: 1 }).totals;
    const first = await client(cached).chat.completions.create(ASK).withResponse();
    const second = await client(cached).chat.completions.create(ASK).withResponse();
    assert.equal(first.response.headers.get('x-aikm-cache'), 'miss');
    assert.equal(second.response.headers.get('x-aikm-cache'), 'hit');
    assert.deepEqual(second.data, first.data, 'the same reply');
    assert.equal(fake.requests.length - before, 1, 'one request upstream');
    const [hit, miss] = t.core.usageLedger().recent(2);
    assert.equal(hit.cached, true);
    assert.equal(hit.costUsd, 0);
    assert.equal(hit.inputTokens, 0, 'nothing billed, nothing counted');
    assert.equal(miss.cached, undefined);
    const totals = t.core.usage({ days: 1 }).totals;
    assert.equal(totals.requests, spentBefore.requests + 2);
    // gpt-4o: 100,000 in at $2.50/M + 10,000 out at $10/M, once.
    assert.ok(Math.abs(totals.costUsd - spentBefore.costUsd - 0.35) < 1e-9, `${totals.costUsd - spentBefore.costUsd}`);
  });

  it('other bodies, streams and Cache-Control: no-cache go upstream; failures are not kept', async () => {
    const before = fake.requests.length;
    await client(cached).chat.completions.create({ ...ASK, messages: [{ role: 'user', content: 'Another question' }] });
    for (let i = 0; i < 2; i++) for await (const _ of await client(cached).chat.completions.create({ ...ASK, stream: true })) void _;
    const { response } = await client(cached).chat.completions.create(ASK, { headers: { 'cache-control': 'no-cache' } }).withResponse();
    assert.equal(response.headers.get('x-aikm-cache'), null);
    assert.equal(fake.requests.length - before, 4);

    behaviour[KEYS.openai] = 'server_error';
    const failing = { ...ASK, messages: [{ role: 'user' as const, content: 'fails once' }] };
    await assert.rejects(client(cached).chat.completions.create(failing), OpenAI.InternalServerError);
    behaviour[KEYS.openai] = 'valid';
    const { response: after } = await client(cached).chat.completions.create(failing).withResponse();
    assert.equal(after.headers.get('x-aikm-cache'), 'miss', 'the 500 was not kept');
  });

  it('update() swaps the token and the cache settings in place: same port, old token refused, cache emptied only when its settings change', async () => {
    const ask = { ...ASK, messages: [{ role: 'user' as const, content: 'kept across updates?' }] };
    await client(cached).chat.completions.create(ask);
    const NEW = 'aikm-cache-test-token-NEW-0123456789abcdefghijklmnopqrstuvwxyz';
    cached.update({ token: NEW, cache: { ttlMs: 60_000, maxBytes: 1_000_000 } });
    await assert.rejects(client(cached).chat.completions.create(ask), OpenAI.AuthenticationError);
    const fresh = new OpenAI({ apiKey: NEW, baseURL: `${cached.url}/openai/v1`, maxRetries: 0 });
    assert.equal((await fresh.chat.completions.create(ask).withResponse()).response.headers.get('x-aikm-cache'), 'hit', 'same settings: the cache is kept');
    cached.update({ cache: { ttlMs: 30_000, maxBytes: 1_000_000 } });
    assert.equal((await fresh.chat.completions.create(ask).withResponse()).response.headers.get('x-aikm-cache'), 'miss', 'new settings: a new cache');
    cached.update({ cache: null });
    assert.equal((await fresh.chat.completions.create(ask).withResponse()).response.headers.get('x-aikm-cache'), null, 'off');
    assert.throws(() => cached.update({ token: 'short' }), /at least 32 characters/);
    cached.update({ token: TOKEN, cache: { ttlMs: 60_000, maxBytes: 1_000_000 } });
  });

  it('the router is cached too, and a hit is served over an enforced budget (it costs nothing)', async () => {
    const ask = { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user' as const, content: 'Routed and cached' }] };
    const first = await client(cached, '/v1').chat.completions.create(ask);
    await t.settings.setBudget({ daily: 0.0001, enforce: true });
    try {
      const { data, response } = await client(cached, '/v1').chat.completions.create(ask).withResponse();
      assert.equal(response.headers.get('x-aikm-cache'), 'hit');
      assert.equal(response.headers.get('x-aikm-provider'), 'anthropic');
      assert.equal(data.choices[0].message.content, first.choices[0].message.content);
      assert.notEqual(data.id, first.id, 'a new reply id');
      await assert.rejects(client(cached, '/v1').chat.completions.create({ ...ask, messages: [{ role: 'user', content: 'not cached' }] }), OpenAI.RateLimitError);
    } finally {
      await t.settings.setBudget({ daily: 0, enforce: false });
    }
  });
});
