// The router in process (what VS Code's chat models use): the same dispatch, keys, fallback, budget
// and usage capture as over HTTP, the reply handed over as text deltas and whole tool calls.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { dispatchContext } from '../../src/gateway/server';
import { chatInProcess, InProcessChatError } from '../../src/gateway/inProcess';
import type { DispatchContext } from '../../src/gateway/dispatch';
import { startFakeProviders, type FakeKeyScript, type FakeProviders } from '../fakes/providers';
import { makeTestCore, type TestCoreParts } from '../support/core';
import { waitFor } from '../support/waitFor';
import { baseUrlEnv } from '../mcp/helpers';

const KEYS = { openai: 'sk-proj-CANARYipA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9', anthropic: 'sk-ant-api03-CANARYipAntA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8-zz' };
const TOOLS = [{ type: 'function' as const, function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];

describe('gateway router in process', () => {
  let fake: FakeProviders;
  let t: TestCoreParts;
  let ctx: DispatchContext;
  const behaviour: Record<string, FakeKeyScript> = {};
  const collect = () => {
    const got = { text: [] as string[], calls: [] as { id: string; name: string; arguments: string }[] };
    return { got, on: { text: (d: string) => got.text.push(d), toolCall: (c: { id: string; name: string; arguments: string }) => got.calls.push(c) } };
  };

  before(async () => {
    Object.assign(behaviour, { [KEYS.openai]: 'valid', [KEYS.anthropic]: 'valid' });
    fake = await startFakeProviders({ keys: behaviour, usage: { inputTokens: 300, outputTokens: 20 }, replyText: 'One two three four five six.', streamChunks: 3, chunkDelayMs: 20, toolCall: { name: 'weather', arguments: { city: 'Oslo' } } });
    t = makeTestCore({ env: baseUrlEnv(fake.url) });
    await t.core.addKey('openai', { apiKey: KEYS.openai }, {}, 'command');
    await t.core.addKey('anthropic', { apiKey: KEYS.anthropic }, {}, 'command');
    ctx = dispatchContext({ core: t.core, retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
  });

  after(() => fake.close());

  it('streams text in pieces, says what served it and records the provider usage', async () => {
    const { got, on } = collect();
    const out = await chatInProcess(ctx, { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'Count' }] }, undefined, on);
    assert.equal(got.text.join(''), 'One two three four five six.');
    assert.ok(got.text.length >= 3, `${got.text.length} pieces`);
    assert.deepEqual([out.provider, out.model, out.finishReason], ['anthropic', 'anthropic/claude-sonnet-4-5', 'stop']);
    assert.equal(out.usage?.prompt_tokens, 300);
    const last = t.core.usageLedger().recent(1)[0];
    assert.deepEqual([last.provider, last.inputTokens, last.outputTokens], ['anthropic', 300, 20]);
  });

  for (const model of ['anthropic/claude-sonnet-4-5', 'openai/gpt-4o']) {
    it(`${model}: a tool call comes back whole, with its arguments`, async () => {
      const { got, on } = collect();
      const out = await chatInProcess(ctx, { model, messages: [{ role: 'user', content: 'Weather?' }], tools: TOOLS }, undefined, on);
      assert.equal(out.finishReason, 'tool_calls');
      assert.equal(got.calls.length, 1);
      assert.equal(got.calls[0].name, 'weather');
      assert.deepEqual(JSON.parse(got.calls[0].arguments), { city: 'Oslo' });
      assert.ok(got.calls[0].id);
    });
  }

  it('fails with a message a person can act on: no key, budget reached', async () => {
    await assert.rejects(chatInProcess(ctx, { model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'x' }] }, undefined, collect().on), (e: unknown) => e instanceof InProcessChatError && e.status === 503 && /No key stored for Groq/.test(e.message));
    await t.settings.setBudget({ daily: 0.000001, enforce: true });
    try {
      await assert.rejects(chatInProcess(ctx, { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }] }, undefined, collect().on), (e: unknown) => e instanceof InProcessChatError && e.status === 429 && /daily budget .* reached/.test(e.message));
    } finally {
      await t.settings.setBudget({ daily: 0, enforce: false });
    }
  });

  it('a reply the provider cuts is an error naming the cut (not a cancel), and counts against its health', async () => {
    behaviour[KEYS.openai] = { cutAfterChunks: 1 };
    const failuresBefore = t.core.health.get('openai').consecutiveFailures;
    try {
      await assert.rejects(chatInProcess(ctx, { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'x' }] }, undefined, collect().on), (e: unknown) => e instanceof InProcessChatError && e.status === 502 && /cut/.test(e.message) && !/cancel/.test(e.message));
      const last = t.core.usageLedger().recent(1)[0];
      assert.equal(last.incomplete, true);
      assert.doesNotMatch(last.error ?? '', /client closed/);
      assert.equal(t.core.health.get('openai').consecutiveFailures, failuresBefore + 1);
    } finally {
      behaviour[KEYS.openai] = 'valid';
    }
  });

  it('cancelling stops the upstream request and records it as cut by the client', async () => {
    const { got, on } = collect();
    const ac = new AbortController();
    const run = chatInProcess(ctx, { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'Long answer' }] }, ac.signal, { ...on, text: (d) => (got.text.push(d), ac.abort()) });
    await assert.rejects(run, (e: unknown) => e instanceof InProcessChatError && /cancelled/.test(e.message));
    const upstream = fake.requests.at(-1)!;
    await waitFor(() => upstream.aborted, 'the upstream request to be closed');
    await waitFor(() => t.core.usageLedger().recent(1)[0].incomplete === true, 'the cut request to be recorded');
    assert.equal(got.text.length, 1);
  });
});
