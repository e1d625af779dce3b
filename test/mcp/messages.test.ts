// What the key tools say: error messages with the provider's own names, and key ages.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { TOOLS, type ToolContext } from '../../src/mcp/tools';
import { checkKeyFormat } from '../../src/core/providers';
import { createTestCore } from './helpers';
import { makeTestCore } from '../support/core';

async function errorOf(tool: string, args: Record<string, unknown>, ctx: ToolContext): Promise<string> {
  const def = TOOLS.find((t) => t.name === tool)!;
  try {
    await (def.handler as (a: unknown, c: ToolContext) => Promise<unknown>)(args, ctx);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  assert.fail(`${tool} ${JSON.stringify(args)} succeeded`);
}

describe('key tool messages', () => {
  const t = createTestCore({ fakeUrl: 'http://127.0.0.1:9' });
  const ctx: ToolContext = { core: t.core, via: 'tool' };

  it('headless without a key: names the tool’s own argument and the provider’s own env var', async () => {
    for (const [provider, envVar] of [['anthropic', 'ANTHROPIC_API_KEY'], ['openai', 'OPENAI_API_KEY'], ['gemini', 'GEMINI_API_KEY'], ['groq', 'GROQ_API_KEY']]) {
      const add = await errorOf('add_api_key', { provider }, ctx);
      assert.match(add, new RegExp(`pass api_key or env_var.*"${envVar}"`), add);
      assert.doesNotMatch(add, /new_key/);
      const rotate = await errorOf('rotate_key', { provider }, ctx);
      assert.match(rotate, new RegExp(`pass new_key or env_var.*"${envVar}"`), rotate);
      assert.doesNotMatch(rotate, /api_key \(/);
    }
  });

  it('Ollama (local): add, remove, rotate and rollback say it needs no key', async () => {
    for (const tool of ['add_api_key', 'remove_api_key', 'rotate_key', 'rollback_key']) {
      const msg = await errorOf(tool, { provider: 'local' }, ctx);
      assert.match(msg, /Ollama.*does not use an API key/, `${tool}: ${msg}`);
      assert.doesNotMatch(msg, /Add API Key|No key stored/, `${tool}: ${msg}`);
    }
  });

  it('a key with the right start that is too short is called incomplete, not wrongly prefixed', () => {
    for (const [provider, key] of [['anthropic', 'sk-ant-api03-abc'], ['google', 'AIzaSyA1b2C3'], ['groq', 'gsk_abc123'], ['openrouter', 'sk-or-v1-abc'], ['openai', 'sk-proj-abc']]) {
      const r = checkKeyFormat(provider, key);
      assert.equal(r.ok, false);
      assert.match(r.message, /too short|incomplete/, `${provider}: ${r.message}`);
      assert.match(r.message, new RegExp(`${key.length} characters`), `${provider}: ${r.message}`);
      assert.doesNotMatch(r.message, /expected a key that starts with/, `${provider}: ${r.message}`);
    }
    // A key with the wrong start still gets the format hint.
    assert.match(checkKeyFormat('anthropic', 'ant-api03-abcdefghijklmnopqrstuvwxyz0123456789').message, /starts with sk-ant-/);
  });
});

describe('list_api_keys', () => {
  it('shows an env-discovered key with an unknown age (null), not ~20,000 days', async () => {
    const key = 'sk-proj-CANARYageQ1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6';
    const { core } = makeTestCore({ env: { OPENAI_API_KEY: key }, discoverEnvKeys: true });
    const list = TOOLS.find((t) => t.name === 'list_api_keys')!;
    const r = (await (list.handler as (a: unknown, c: ToolContext) => Promise<{ structured: { keys: { id: string; age_days: number | null; created_at: string | null }[] }; text: string }>)({}, { core, via: 'tool' }));
    assert.deepEqual(r.structured.keys.map((k) => [k.id, k.age_days, k.created_at]), [['env:OPENAI_API_KEY', null, null]]);
    assert.match(r.text, /age unknown/);
    assert.doesNotMatch(r.text, /\d{4,} d old/);
    // The output schema accepts it.
    const { z } = await import('zod');
    z.object(list.output).parse(r.structured);
    core.dispose();
  });
});
