// Keys the server never stored (so it cannot know them as secrets) must still never appear in a
// reply: an agent may paste one into a track_request error, a prompt argument or a model name.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getProvider } from '../../src/core/providers';
import { FAILURE_LIMIT } from '../../src/core/health';
import { assertNoLeak } from '../support/leaks';
import { openMcpSession, textOf, type McpSession, type TestCore, type ToolResult } from './helpers';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const rand = (n: number, alphabet = ALNUM): string => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');

/** A mask shows at most 4 characters of a key's private part: any 8 of them in a reply is a leak. */
const PIECE = { piece: 8 };

/** One unstored canary per provider key shape; `from` is where its private part starts. */
export function unstoredCanaries(): { provider: string; key: string; from: number }[] {
  return [
    { provider: 'anthropic', key: `sk-ant-api03-CANARY${rand(40)}`, from: 13 },
    { provider: 'openai', key: `sk-proj-CANARY${rand(40)}`, from: 8 },
    { provider: 'google', key: `AIzaCANARY${rand(29)}`, from: 4 },
    { provider: 'openrouter', key: `sk-or-v1-CANARY${rand(48, HEX)}`, from: 9 },
    { provider: 'groq', key: `gsk_CANARY${rand(46)}`, from: 4 },
    { provider: 'mistral', key: `CANARY${rand(26)}`, from: 0 },
    { provider: 'deepseek', key: `sk-${rand(32, HEX)}`, from: 3 },
  ];
}

describe('unstored keys are masked in every reply (track_request error, prompts, resources)', () => {
  let session: McpSession;
  let t: TestCore;
  let client: Client;
  const canaries = unstoredCanaries();

  before(async () => {
    session = await openMcpSession();
    ({ t, client } = session);
  });

  after(() => session.close());

  it('core: a key inside a track_request error never reaches provider health (last error, skip reasons, recommendations)', () => {
    for (const c of canaries) {
      const spec = getProvider(c.provider);
      const model = Object.values(spec.models).flat().find((m) => t.core.pricing.has(m, spec.id));
      assert.ok(model, `no priced model for ${spec.id}`);
      // The key after a line break and a tab, too: those become escapes once the reply is JSON.
      for (let i = 0; i < FAILURE_LIMIT; i++) {
        t.core.track({ provider: spec.id, model, inputTokens: 1, outputTokens: 1, success: false, error: `HTTP 401 invalid key ${c.key}\n${c.key}\t${c.key}` }, 'tool');
      }
      const health = t.core.health.get(spec.id);
      assert.equal(health.healthy, false, `${spec.id} should cool down after ${FAILURE_LIMIT} failures`);
      assert.match(health.lastError ?? '', /HTTP 401 invalid key/);
    }
    const views = {
      health: canaries.map((c) => t.core.health.get(c.provider)),
      stats: t.core.providerStats(),
      route: t.core.route({ taskType: 'chat' }),
      recommendations: t.core.recommendations(),
      providers: t.core.providersOverview(),
      routing: t.core.routingOverview(),
    };
    for (const [name, v] of Object.entries(views)) assertNoLeak(JSON.stringify(v), canaries, `core ${name}`, PIECE);
    assert.ok(views.route.skipped.some((s) => s.provider === 'anthropic' && /unhealthy.*HTTP 401 invalid key sk-ant…/.test(s.why)), JSON.stringify(views.route.skipped));
  });

  it('MCP: tool replies, resources and prompts mask an unstored key of every provider shape', async () => {
    const seen: string[] = [];
    const call = async (name: string, args: Record<string, unknown> = {}): Promise<ToolResult> => {
      const r = (await client.callTool({ name, arguments: args })) as ToolResult;
      seen.push(`${name}: ${JSON.stringify(r)}`);
      return r;
    };
    for (const name of ['get_provider_stats', 'get_routing_recommendations', 'list_api_keys', 'get_usage', 'check_budget', 'get_audit_log']) await call(name);
    const route = await call('route_request', { task_type: 'code_generation' });
    assert.ok(!route.isError, textOf(route));
    assert.match(textOf(route), /unhealthy/);
    for (const uri of ['api://providers', 'api://usage', 'api://routing']) seen.push(JSON.stringify(await client.readResource({ uri })));
    for (const name of ['api-config', 'api-usage', 'api-costs']) seen.push(JSON.stringify(await client.getPrompt({ name, arguments: {} })));
    // Arguments the server echoes back: a prompt argument and an unknown model name.
    for (const c of canaries) {
      const p = await client.getPrompt({ name: 'api-costs', arguments: { model: `${c.key}` } });
      const text = (p.messages[0].content as { text: string }).text;
      assert.match(text, /Compare .*…/, 'the model argument is still named, masked');
      seen.push(JSON.stringify(p));
      const r = await call('estimate_cost', { model: c.key, input_tokens: 1 });
      assert.equal(r.isError, true);
    }
    assert.ok(seen.length > 20);
    for (const s of seen) assertNoLeak(s, canaries, `reply ${s.slice(0, 50)}`, PIECE);
  });
});

