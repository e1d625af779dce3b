// Every MCP tool, resource and prompt through the real SDK client over in-process HTTP, against the
// fake providers: a realistic flow, malformed input, and a canary scan of everything the server says or stores.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { MAX_RUN, MAX_TEXT_CHARS } from '../../src/core/tokenize';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { FakeProviders } from '../fakes/providers';
import { REQUIRED_TOOL_NAMES, TOOLS } from '../../src/mcp/tools';
import { FAILURE_LIMIT } from '../../src/core/health';
import { assertNoLeak } from '../support/leaks';
import { waitFor } from '../support/waitFor';
import { ALL_CANARIES, CANARY, MALFORMED_CASES, openMcpSession, textOf, type McpSession, type TestCore, type ToolResult } from './helpers';
import { FIXED_NOW } from '../support/ports';

const VALIDATION_TIMEOUT_MS = 300;
const OPENAI_ENV_VAR = 'TEST_TEAM_OPENAI_KEY';

const READ_ONLY = ['list_api_keys', 'route_request', 'get_routing_recommendations', 'get_provider_stats', 'get_usage', 'estimate_cost', 'check_budget', 'get_audit_log'];
const DESTRUCTIVE = ['remove_api_key', 'rotate_key', 'rollback_key'];
const OPEN_WORLD = ['validate_key', 'validate_all_keys'];

/** How a key is shown: at most the first 6 and last 4 characters. */
const masked = (k: string) => `${k.slice(0, 6)}…${k.slice(-4)}`;

interface KeyOut {
  id: string;
  provider: string;
  masked: string;
  label: string | null;
  source: 'vault' | 'env';
  status: 'healthy' | 'resting' | 'disabled';
}
interface ValidateOut {
  provider: string;
  key_id: string | null;
  masked: string | null;
  result: string;
  http_status: number | null;
  latency_ms: number | null;
  retry_after_seconds: number | null;
  key_status: string | null;
  message: string;
}
interface Period {
  spent: number;
  limit: number | null;
  remaining: number | null;
  percent: number | null;
  alert: boolean;
  exceeded: boolean;
}
interface BudgetOut {
  day: Period;
  month: Period;
  enforce: boolean;
  any_exceeded: boolean;
  any_alert: boolean;
}
interface RouteOut {
  provider: string;
  model: string;
  reason: string;
  estimated_cost: number;
  fallbacks: { provider: string; model: string; estimated_cost: number }[];
  skipped: { provider: string; code: string; why: string }[];
}

describe('MCP tools, resources and prompts (SDK client over HTTP)', () => {
  let session: McpSession;
  let fake: FakeProviders;
  let t: TestCore;
  let client: Client;
  /** Every reply the server gave, for the canary scan. */
  const seen: string[] = [];
  const ids: Record<string, string> = {};

  const call = async (name: string, args: Record<string, unknown> = {}): Promise<ToolResult> => {
    const r = (await client.callTool({ name, arguments: args })) as ToolResult;
    seen.push(`${name}: ${JSON.stringify(r)}`);
    last = r;
    return r;
  };
  /** The raw result of the latest call. */
  let last: ToolResult | undefined;
  const seenLast = (): ToolResult => last!;
  const ok = async <T>(name: string, args: Record<string, unknown> = {}): Promise<T> => {
    const r = await call(name, args);
    assert.ok(!r.isError, `${name} failed: ${textOf(r)}`);
    assert.ok(r.structuredContent, `${name} gave no structuredContent`);
    return r.structuredContent as T;
  };
  const readJson = async <T>(uri: string): Promise<T> => {
    const r = await client.readResource({ uri });
    seen.push(`${uri}: ${JSON.stringify(r)}`);
    assert.equal(r.contents.length, 1);
    assert.equal(r.contents[0].mimeType, 'application/json');
    return JSON.parse(String((r.contents[0] as { text: string }).text)) as T;
  };

  before(async () => {
    session = await openMcpSession({
      fake: {
        keys: {
          [CANARY.anthropic]: 'valid',
          [CANARY.anthropicRotated]: 'valid',
          [CANARY.openai]: 'valid',
          [CANARY.openaiLimited]: { retryAfter: 120 },
          [CANARY.google]: 'valid',
          [CANARY.googleHang]: 'hang',
        },
      },
      env: { [OPENAI_ENV_VAR]: CANARY.openai },
      validationTimeoutMs: VALIDATION_TIMEOUT_MS,
    });
    ({ fake, t, client } = session);
  });

  after(() => session.close());

  it('lists every required tool and the extras with input and output schemas and the right annotations', async () => {
    const { tools } = await client.listTools();
    seen.push(JSON.stringify(tools));
    const names = tools.map((x) => x.name);
    for (const n of REQUIRED_TOOL_NAMES) assert.ok(names.includes(n), `required tool ${n} missing`);
    for (const n of ['rollback_key', 'set_budget', 'get_audit_log']) assert.ok(names.includes(n), `extra tool ${n} missing`);
    assert.equal(names.length, TOOLS.length);
    assert.ok(names.length >= 16);
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, 'object', `${tool.name} inputSchema`);
      assert.equal(tool.outputSchema?.type, 'object', `${tool.name} outputSchema`);
      assert.ok(Object.keys(tool.outputSchema?.properties ?? {}).length > 0, `${tool.name} outputSchema has no properties`);
      assert.ok(tool.description && tool.description.length > 20, `${tool.name} description`);
      const a = tool.annotations ?? {};
      assert.equal(a.readOnlyHint, READ_ONLY.includes(tool.name), `${tool.name} readOnlyHint`);
      assert.equal(a.destructiveHint, DESTRUCTIVE.includes(tool.name), `${tool.name} destructiveHint`);
      assert.equal(a.openWorldHint, OPEN_WORLD.includes(tool.name), `${tool.name} openWorldHint`);
    }
    const track = tools.find((x) => x.name === 'track_request')!;
    assert.deepEqual([...(track.inputSchema.required ?? [])].sort(), ['input_tokens', 'model', 'output_tokens', 'provider']);
    const route = tools.find((x) => x.name === 'route_request')!;
    const taskProp = (route.inputSchema.properties as Record<string, { enum?: string[] }>).task_type;
    assert.ok(taskProp.enum?.includes('code_generation') && taskProp.enum.includes('embeddings'));
  });

  it('estimate_cost prices from the database: claude-3-5-sonnet 0.045 and gpt-4-turbo 0.11 for 5,000 in + 2,000 out', async () => {
    const sonnet = await ok<{ total_cost: number; input_cost: number; output_cost: number; currency: string; tokens: { input: number; output: number } }>('estimate_cost', {
      model: 'claude-3-5-sonnet',
      input_tokens: 5000,
      output_tokens: 2000,
    });
    assert.ok(Math.abs(sonnet.total_cost - 0.045) < 1e-9, `claude-3-5-sonnet cost ${sonnet.total_cost}`);
    assert.ok(Math.abs(sonnet.input_cost - 0.015) < 1e-9);
    assert.ok(Math.abs(sonnet.output_cost - 0.03) < 1e-9);
    assert.equal(sonnet.currency, 'USD');
    assert.deepEqual([sonnet.tokens.input, sonnet.tokens.output], [5000, 2000]);
    const turbo = await ok<{ total_cost: number; provider: string }>('estimate_cost', { model: 'gpt-4-turbo', input_tokens: 5000, output_tokens: 2000 });
    assert.ok(Math.abs(turbo.total_cost - 0.11) < 1e-9, `gpt-4-turbo cost ${turbo.total_cost}`);
    assert.equal(turbo.provider, 'openai');
    const counted = await ok<{ tokenizer: { exact: boolean; tokens: number } | null; tokens: { input: number } }>('estimate_cost', { model: 'gpt-4o', text: 'hello world, count me' });
    assert.ok(counted.tokenizer?.exact, 'OpenAI models are tokenized exactly');
    assert.equal(counted.tokens.input, counted.tokenizer?.tokens);
    // A shipped correction names itself, its date and its source; a local model says it is free.
    const alias = await ok<{ total_cost: number; model: string; price_source: string; price_data: string }>('estimate_cost', { model: 'mistral-large-latest', provider: 'mistral', input_tokens: 1_000_000, output_tokens: 1_000_000 });
    assert.deepEqual([alias.total_cost, alias.model, alias.price_source], [2, 'mistral-large-2512', 'correction']);
    assert.match(alias.price_data, /Mistral Large 3 .*since 2025-12-02; https:\/\/docs\.mistral\.ai/);
    const local = await ok<{ total_cost: number; price_source: string; price_data: string }>('estimate_cost', { model: 'llama3.2', provider: 'ollama', input_tokens: 1000 });
    assert.deepEqual([local.total_cost, local.price_source, local.price_data], [0, 'local', 'a local model: no charge']);
  });

  it('estimate_cost counts a long run without spaces quickly, says how exact it is, and refuses text over the limit', async () => {
    const run = await ok<{ tokenizer: { exact: boolean; tokens: number; run_cuts: number } }>('estimate_cost', { model: 'gpt-4o', text: 'x'.repeat(200_000) });
    assert.deepEqual([run.tokenizer.exact, run.tokenizer.run_cuts], [false, Math.ceil(200_000 / MAX_RUN) - 1]);
    const reply = await call('estimate_cost', { model: 'gpt-4o', text: 'x'.repeat(200_000) });
    assert.match(textOf(reply), /input counted exactly except at 600 place\(s\) where long text without spaces was cut, about a token each/);
    const tooLong = await call('estimate_cost', { model: 'gpt-4o', text: 'a'.repeat(MAX_TEXT_CHARS + 1) });
    assert.equal(tooLong.isError, true);
    assert.match(textOf(tooLong), /text is longer than 2,000,000 characters: count a part of it, or give input_tokens instead/);
    const tooManyBytes = await call('estimate_cost', { model: 'gpt-4o', text: '语'.repeat(1_340_000) }); // 4,020,000 bytes: under the HTTP body limit, over the text limit
    assert.equal(tooManyBytes.isError, true);
    assert.match(textOf(tooManyBytes), /The text is 4,020,000 bytes of UTF-8; at most 2,000,000 characters and 4,000,000 bytes are counted/);
  });

  it('route_request with no keys skips keyed providers, says why, and falls to the local provider', async () => {
    const r = await ok<RouteOut>('route_request', { task_type: 'code_generation' });
    assert.equal(r.provider, 'local');
    assert.equal(r.estimated_cost, 0);
    for (const p of ['anthropic', 'openai', 'google', 'deepseek']) {
      const s = r.skipped.find((x) => x.provider === p);
      assert.ok(s, `${p} not listed as skipped`);
      assert.deepEqual([s.code, s.why], ['no_key', 'no key']);
    }
    assert.ok(!r.skipped.some((s) => s.provider === 'local'));
    const reply = await call('route_request', { task_type: 'code_generation' });
    assert.match(textOf(reply), /Skipped: anthropic \(no key; add one with add_api_key\)/);
    const none = await call('route_request', { task_type: 'code_generation', preferred_provider: 'anthropic', enable_fallback: false });
    assert.equal(none.isError, true);
    assert.match(textOf(none), /anthropic: no key\..* Add a key with add_api_key\.$/);
  });

  it('add_api_key stores keys (given, or from an env var) in the vault only, masked everywhere else', async () => {
    const a = await ok<{ key: KeyOut; format: { ok: boolean } }>('add_api_key', { provider: 'anthropic', api_key: CANARY.anthropic, label: 'work' });
    assert.equal(a.key.provider, 'anthropic');
    assert.equal(a.key.masked, masked(CANARY.anthropic));
    assert.equal(a.key.source, 'vault');
    assert.equal(a.key.status, 'healthy');
    assert.equal(a.key.label, 'work');
    assert.ok(a.format.ok);
    ids.anthropic = a.key.id;
    assert.equal(await t.vault.get(`key/${a.key.id}`), CANARY.anthropic);

    const e = await ok<{ key: KeyOut }>('add_api_key', { provider: 'openai', env_var: OPENAI_ENV_VAR });
    assert.equal(e.key.source, 'env');
    assert.equal(e.key.masked, masked(CANARY.openai));
    assert.equal(await t.vault.get(`key/${e.key.id}`), undefined, 'an env key is never copied into the vault');
    ids.openaiEnv = e.key.id;

    for (const [name, provider, key] of [
      ['anthropicBad', 'anthropic', CANARY.anthropicBad],
      ['openaiLimited', 'openai', CANARY.openaiLimited],
      ['google', 'gemini', CANARY.google],
      ['googleHang', 'google', CANARY.googleHang],
    ] as const) {
      const r = await ok<{ key: KeyOut }>('add_api_key', { provider, api_key: key });
      ids[name] = r.key.id;
    }
    const list = await ok<{ keys: (KeyOut & { warnings: string[] })[] }>('list_api_keys');
    assert.equal(list.keys.length, 6);
    assert.deepEqual(list.keys.map((k) => k.masked).sort(), Object.values(CANARY).filter((c) => c !== CANARY.anthropicRotated && c !== CANARY.neverStored).map(masked).sort());
    const googleOnly = await ok<{ keys: KeyOut[] }>('list_api_keys', { provider: 'google' });
    assert.deepEqual(googleOnly.keys.map((k) => k.id).sort(), [ids.google, ids.googleHang].sort());
  });

  it('validate_key against the fake: valid → healthy, bad → disabled, 429 → resting, hang → unreachable', async () => {
    const good = await ok<ValidateOut>('validate_key', { provider: 'anthropic', key_id: ids.anthropic });
    assert.equal(good.result, 'valid');
    assert.equal(good.http_status, 200);
    assert.equal(good.key_status, 'healthy');
    assert.equal(good.masked, masked(CANARY.anthropic));
    assert.ok(fake.requests.some((r) => r.path === '/v1/models' && r.headers['x-api-key'] === CANARY.anthropic), 'the fake saw the live check');

    const bad = await ok<ValidateOut>('validate_key', { provider: 'anthropic', key_id: ids.anthropicBad });
    assert.equal(bad.result, 'invalid');
    assert.equal(bad.http_status, 401);
    assert.equal(bad.key_status, 'disabled');

    const limited = await ok<ValidateOut>('validate_key', { provider: 'openai', key_id: ids.openaiLimited });
    assert.equal(limited.result, 'rate_limited');
    assert.equal(limited.http_status, 429);
    assert.equal(limited.retry_after_seconds, 120);
    assert.equal(limited.key_status, 'resting');

    const started = Date.now();
    const hang = await ok<ValidateOut>('validate_key', { provider: 'google', key_id: ids.googleHang });
    assert.equal(hang.result, 'unreachable');
    assert.match(hang.message, /Timed out after 300 ms/);
    assert.ok(Date.now() - started < VALIDATION_TIMEOUT_MS + 2000, 'the timeout was not honoured');
    // One unreachable check is one failure: the provider cools down only after repeated failures.
    const afterHang = await ok<{ providers: { health: { healthy: boolean; consecutive_failures: number } }[] }>('get_provider_stats', { provider: 'google' });
    assert.equal(afterHang.providers[0].health.healthy, true);
    assert.equal(afterHang.providers[0].health.consecutive_failures, 1);

    const formatOnly = await ok<ValidateOut>('validate_key', { provider: 'gemini', key_id: ids.google, live: false });
    assert.equal(formatOnly.result, 'skipped');

    const list = await ok<{ keys: (KeyOut & { last_validation: string | null; warnings: string[] })[] }>('list_api_keys');
    const byId = Object.fromEntries(list.keys.map((k) => [k.id, k]));
    assert.equal(byId[ids.anthropic].status, 'healthy');
    assert.equal(byId[ids.anthropic].last_validation, 'valid');
    assert.equal(byId[ids.anthropicBad].status, 'disabled');
    assert.ok(byId[ids.anthropicBad].warnings.some((w) => /disabled/.test(w)));
    assert.equal(byId[ids.openaiLimited].status, 'resting');
    assert.equal(byId[ids.googleHang].last_validation, 'unreachable');
  });

  it('validate_all_keys checks every key and the local provider, with a summary', async () => {
    const r = await ok<{ results: { provider: string; key_id: string | null; result: string }[]; summary: Record<string, number> }>('validate_all_keys');
    const keyIds = Object.values(ids);
    for (const id of keyIds) assert.ok(r.results.some((x) => x.key_id === id), `key ${id} not validated`);
    assert.ok(r.results.some((x) => x.provider === 'local' && x.result === 'valid'), 'local (Ollama fake) not validated');
    assert.equal(r.results.length, keyIds.length + 1);
    assert.equal(Object.values(r.summary).reduce((a, b) => a + b, 0), r.results.length);
    const resultOf = (id: string) => r.results.find((x) => x.key_id === id)?.result;
    assert.equal(resultOf(ids.anthropic), 'valid');
    assert.equal(resultOf(ids.openaiEnv), 'valid');
    assert.equal(resultOf(ids.anthropicBad), 'invalid');
    assert.equal(resultOf(ids.openaiLimited), 'rate_limited');
    assert.equal(resultOf(ids.googleHang), 'unreachable');
    assert.equal(r.summary.valid, 4);
  });

  it('route_request, recommendations and provider stats follow key status and health', async () => {
    // Google's hanging key fails its checks until the provider cools down (FAILURE_LIMIT in a row).
    const googleHealthy = async () => (await ok<{ providers: { health: { healthy: boolean } }[] }>('get_provider_stats', { provider: 'google' })).providers[0].health.healthy;
    for (let i = 0; i < FAILURE_LIMIT && (await googleHealthy()); i++) await ok('validate_key', { provider: 'google', key_id: ids.googleHang });
    assert.equal(await googleHealthy(), false, `google still healthy after ${FAILURE_LIMIT} more failed checks`);
    const r = await ok<RouteOut>('route_request', { task_type: 'code_generation', estimated_input_tokens: 1000, estimated_output_tokens: 500 });
    assert.equal(r.provider, 'anthropic');
    assert.ok(r.estimated_cost > 0);
    assert.ok(r.fallbacks.some((f) => f.provider === 'openai'), 'openai (env key) is a fallback');
    const google = r.skipped.find((s) => s.provider === 'google');
    assert.ok(google, 'google should be skipped after its check timed out');
    assert.match(google.why, /unhealthy/);
    assert.equal(google.code, 'unhealthy');
    assert.match(r.skipped.find((s) => s.provider === 'groq')?.why ?? '', /no key/);

    const pref = await ok<RouteOut>('route_request', { task_type: 'chat', preferred_provider: 'openai' });
    assert.equal(pref.provider, 'openai');
    assert.match(pref.reason, /preferred/);
    const noFallback = await call('route_request', { task_type: 'summarization', preferred_provider: 'google', enable_fallback: false });
    assert.equal(noFallback.isError, true);
    assert.match(textOf(noFallback), /google: unhealthy/);

    const recs = await ok<{ recommendations: { task_type: string; primary: { provider: string } | null; options: unknown[] }[] }>('get_routing_recommendations', { task_type: 'code_review' });
    assert.equal(recs.recommendations.length, 1);
    assert.equal(recs.recommendations[0].primary?.provider, 'anthropic');
    assert.ok(recs.recommendations[0].options.length > 1);
    const all = await ok<{ recommendations: unknown[] }>('get_routing_recommendations');
    assert.equal(all.recommendations.length, 7);

    const stats = await ok<{ providers: { provider: string; health: { healthy: boolean }; keys: { id: string; status: string }[] }[] }>('get_provider_stats', { provider: 'anthropic' });
    assert.equal(stats.providers.length, 1);
    assert.deepEqual(stats.providers[0].keys.map((k) => [k.id, k.status]).sort(), [[ids.anthropic, 'healthy'], [ids.anthropicBad, 'disabled']].sort());
    const googleStats = await ok<{ providers: { health: { healthy: boolean } }[] }>('get_provider_stats', { provider: 'google' });
    assert.equal(googleStats.providers[0].health.healthy, false);
  });

  it('track_request is priced and then shows in get_usage and get_provider_stats', async () => {
    const r = await ok<{ recorded: { provider: string; model: string; cost: number; at: string; success: boolean } }>('track_request', {
      provider: 'claude',
      model: 'claude-3-5-sonnet',
      input_tokens: 5000,
      output_tokens: 2000,
      latency_ms: 850,
      task_type: 'code_review',
    });
    assert.equal(r.recorded.provider, 'anthropic');
    assert.ok(Math.abs(r.recorded.cost - 0.045) < 1e-9);
    assert.equal(r.recorded.at, FIXED_NOW.toISOString());
    assert.equal(r.recorded.success, true);

    const u = await ok<{ totals: { requests: number; input_tokens: number; output_tokens: number; cost_usd: number }; groups: { key: string; requests: number }[] }>('get_usage', { days: 7, group_by: 'model' });
    assert.equal(u.totals.requests, 1);
    assert.equal(u.totals.input_tokens, 5000);
    assert.equal(u.totals.output_tokens, 2000);
    assert.ok(Math.abs(u.totals.cost_usd - 0.045) < 1e-9);
    assert.ok(u.groups.some((g) => g.key.includes('claude-3-5-sonnet') && g.requests === 1), JSON.stringify(u.groups));
    const other = await ok<{ totals: { requests: number } }>('get_usage', { provider: 'openai' });
    assert.equal(other.totals.requests, 0);
    const stats = await ok<{ providers: { requests: number; mean_latency_ms: number | null }[] }>('get_provider_stats', { provider: 'anthropic' });
    assert.equal(stats.providers[0].requests, 1);
    assert.equal(stats.providers[0].mean_latency_ms, 850);
  });

  it('set_budget then check_budget reports alert, then exceeded; enforcement reroutes', async () => {
    const before = await ok<BudgetOut>('check_budget');
    assert.equal(before.day.limit, null);
    assert.ok(Math.abs(before.day.spent - 0.045) < 1e-9);
    const set = await ok<BudgetOut>('set_budget', { daily: 0.05, monthly: 100, alert_threshold: 0.8 });
    assert.equal(set.day.limit, 0.05);
    assert.equal(set.day.alert, true, '0.045 of 0.05 is 90%, past the 80% threshold');
    assert.equal(set.day.exceeded, false);
    assert.ok(Math.abs((set.day.percent ?? 0) - 90) < 1e-6);
    assert.equal(set.month.alert, false);
    assert.equal(set.any_alert, true);

    const tracked = await ok<{ budget: BudgetOut }>('track_request', { provider: 'anthropic', model: 'claude-3-5-sonnet', input_tokens: 5000, output_tokens: 2000 });
    assert.equal(tracked.budget.day.exceeded, true);
    const b = await ok<BudgetOut>('check_budget');
    assert.equal(b.day.exceeded, true);
    assert.equal(b.any_exceeded, true);
    assert.equal(b.day.remaining, 0);
    assert.ok(Math.abs(b.day.spent - 0.09) < 1e-9);

    await ok('set_budget', { enforce: true });
    const r = await ok<RouteOut>('route_request', { task_type: 'code_generation' });
    assert.equal(r.provider, 'local', 'an exceeded, enforced budget leaves only the free local provider');
    assert.match(r.skipped.find((s) => s.provider === 'anthropic')?.why ?? '', /over budget/);
    // The agent the budget limits cannot lift it (headless: refused unless config.json allows it).
    for (const [args, what] of [
      [{ enforce: false }, /turn budget enforcement off/],
      [{ daily: 0 }, /remove the daily limit of \$0\.05/],
      [{ daily: 1_000_000 }, /raise the daily limit from \$0\.05 to \$1,000,000/],
      [{ monthly: 0, daily: 0.01 }, /remove the monthly limit of \$100/],
      [{ alert_threshold: 1 }, /move the alert from 80% to 100%/],
    ] as const) {
      const refused = await call('set_budget', args);
      assert.equal(refused.isError, true, JSON.stringify(args));
      assert.match(textOf(refused), what);
      assert.match(textOf(refused), /without the user\. Nothing was changed\. The user can change the budget in config\.json in AIKM_HOME, or allow agents to do it with "allowAgentBudgetChanges": true there/);
    }
    assert.deepEqual(t.settings.get().budget, { daily: 0.05, monthly: 100, alertThreshold: 0.8, enforce: true }, 'nothing was loosened');
    // Tightening needs nobody.
    assert.equal((await ok<BudgetOut>('set_budget', { daily: 0.04, monthly: 50 })).day.limit, 0.04);
    // A limit that is not whole cents (1e-320 once broke every budget reply) is refused.
    for (const daily of [1e-320, 0.001, 0.015]) {
      const bad = await call('set_budget', { daily });
      assert.equal(bad.isError, true, String(daily));
      assert.match(textOf(bad), /Budget daily must be (0 \(no limit\) or at least 0\.01|in whole cents)/);
    }
    // With the user's permission in config.json, an agent may loosen it.
    t.settings.update({ allowAgentBudgetChanges: true });
    await ok('set_budget', { enforce: false, daily: 0 });
    assert.equal(t.settings.get().budget.daily, 0);
    t.settings.update({ allowAgentBudgetChanges: false });
  });

  it('rotate_key keeps the previous key for rollback; rollback_key restores it', async () => {
    const r = await ok<{ key: KeyOut; previous_masked: string; rotated_at: string; rollback_until: string }>('rotate_key', {
      provider: 'anthropic',
      key_id: ids.anthropic,
      new_key: CANARY.anthropicRotated,
    });
    assert.equal(r.key.id, ids.anthropic);
    assert.equal(r.previous_masked, masked(CANARY.anthropic));
    assert.equal(r.key.masked, masked(CANARY.anthropicRotated));
    assert.equal(r.rotated_at, FIXED_NOW.toISOString());
    assert.equal(Date.parse(r.rollback_until) - FIXED_NOW.getTime(), 7 * 86_400_000);
    assert.equal(await t.vault.get(`key/${ids.anthropic}`), CANARY.anthropicRotated);
    const v = await ok<ValidateOut>('validate_key', { provider: 'anthropic', key_id: ids.anthropic });
    assert.equal(v.result, 'valid');
    assert.ok(fake.requests.some((q) => q.headers['x-api-key'] === CANARY.anthropicRotated), 'the new key was used');

    const back = await ok<{ key: KeyOut }>('rollback_key', { provider: 'anthropic', key_id: ids.anthropic });
    assert.equal(back.key.masked, masked(CANARY.anthropic));
    assert.equal(await t.vault.get(`key/${ids.anthropic}`), CANARY.anthropic);
    const again = await call('rollback_key', { provider: 'anthropic', key_id: ids.anthropic });
    assert.equal(again.isError, true);
    assert.match(textOf(again), /no previous key/);
  });

  it('remove_api_key deletes the secret and the metadata', async () => {
    const r = await ok<{ removed: { id: string; masked: string }; remaining: number }>('remove_api_key', { provider: 'anthropic', key_id: ids.anthropicBad });
    assert.equal(r.removed.id, ids.anthropicBad);
    assert.equal(r.removed.masked, masked(CANARY.anthropicBad));
    assert.equal(r.remaining, 1);
    assert.equal(await t.vault.get(`key/${ids.anthropicBad}`), undefined);
    const list = await ok<{ keys: KeyOut[] }>('list_api_keys', { provider: 'anthropic' });
    assert.deepEqual(list.keys.map((k) => k.id), [ids.anthropic]);
    const ambiguous = await call('remove_api_key', { provider: 'google' });
    assert.equal(ambiguous.isError, true);
    assert.match(textOf(ambiguous), /key_id/);
  });

  it('get_audit_log lists the key operations, newest first, without key material', async () => {
    const a = await ok<{ entries: { at: string; action: string; via: string; ok: boolean; key_id?: string }[] }>('get_audit_log', { limit: 500 });
    const actions = a.entries.map((e) => e.action);
    for (const act of ['add_api_key', 'validate_key', 'set_budget', 'rotate_key', 'rollback_key', 'remove_api_key', 'track_request']) assert.ok(actions.includes(act), `audit lacks ${act}`);
    const tracked = a.entries.filter((e) => e.action === 'track_request') as { count?: number; provider?: string }[];
    assert.ok(tracked.every((e) => typeof e.count === 'number' && e.count >= 1), 'track_request entries carry a count');
    assert.ok(tracked.some((e) => e.provider === 'anthropic' && (e.count ?? 0) >= 2), 'two claude-3-5-sonnet requests in one minute share an entry');
    assert.equal(actions[0], 'remove_api_key');
    assert.ok(a.entries.every((e) => e.via === 'tool'));
    const failed = a.entries.find((e) => e.action === 'rollback_key' && !e.ok);
    assert.ok(failed, 'the failed rollback is audited');
    const limited = await ok<{ entries: { provider?: string }[] }>('get_audit_log', { limit: 2, provider: 'openai' });
    assert.ok(limited.entries.length <= 2 && limited.entries.length > 0);
    assert.ok(limited.entries.every((e) => e.provider === 'openai'));
  });

  it('resources api://providers, api://usage and api://routing read as JSON', async () => {
    const { resources } = await client.listResources();
    assert.deepEqual(resources.map((r) => r.uri).sort(), ['api://providers', 'api://routing', 'api://usage']);
    const p = await readJson<{ providers: { id: string; has_key: boolean; base_url: string; keys: { masked: string }[] }[] }>('api://providers');
    const anthropic = p.providers.find((x) => x.id === 'anthropic')!;
    assert.equal(anthropic.has_key, true);
    assert.equal(anthropic.base_url, fake.url);
    assert.deepEqual(anthropic.keys.map((k) => k.masked), [masked(CANARY.anthropic)]);
    assert.equal(p.providers.find((x) => x.id === 'groq')?.has_key, false);
    const u = await readJson<{ today: { requests: number; cost_usd: number }; budget: BudgetOut }>('api://usage');
    assert.equal(u.today.requests, 2);
    assert.ok(Math.abs(u.today.cost_usd - 0.09) < 1e-9);
    const r = await readJson<{ tasks: Record<string, { provider: string }[]>; recommendations: unknown[]; budget_enforced: boolean }>('api://routing');
    assert.equal(r.tasks.code_generation[0].provider, 'anthropic');
    assert.equal(r.recommendations.length, 7);
    assert.equal(r.budget_enforced, false);
  });

  it('a subscriber to api://usage is notified after track_request, and not after unsubscribing', async () => {
    const updated: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri);
    });
    await client.subscribeResource({ uri: 'api://usage' });
    await ok('track_request', { provider: 'openai', model: 'gpt-4o-mini', input_tokens: 100, output_tokens: 10 });
    await waitFor(() => updated.includes('api://usage'), 'notifications/resources/updated for api://usage', { timeoutMs: 3000 });
    assert.ok(!updated.includes('api://providers'), 'not subscribed to api://providers');
    const unknown = await client.subscribeResource({ uri: 'api://nope' }).then(
      () => 'subscribed',
      (err: Error) => err.message,
    );
    assert.match(unknown, /Unknown resource/);

    await client.unsubscribeResource({ uri: 'api://usage' });
    const count = updated.length;
    await ok('track_request', { provider: 'openai', model: 'gpt-4o-mini', input_tokens: 100, output_tokens: 10 });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(updated.length, count, 'notified after unsubscribing');
  });

  it('prompts api-config, api-usage and api-costs return messages grounded in current data', async () => {
    const { prompts } = await client.listPrompts();
    assert.deepEqual(prompts.map((p) => p.name).sort(), ['api-config', 'api-costs', 'api-usage']);
    for (const [name, args] of [
      ['api-config', { provider: 'anthropic' }],
      ['api-config', {}],
      ['api-usage', { days: '7' }],
      ['api-costs', { model: 'gpt-4o' }],
    ] as const) {
      const r = await client.getPrompt({ name, arguments: args });
      seen.push(`${name}: ${JSON.stringify(r)}`);
      assert.ok(r.messages.length >= 1, `${name} has no messages`);
      const text = (r.messages[0].content as { type: string; text: string }).text;
      assert.equal(r.messages[0].role, 'user');
      assert.ok(text.includes('```json'), `${name} carries no data`);
      if (name === 'api-config') assert.ok(text.includes(masked(CANARY.anthropic)));
      if (name === 'api-usage') assert.match(text, /last 7 days/);
      if (name === 'api-costs') assert.match(text, /gpt-4o/);
    }
  });

  it('track_request records a model it cannot price at $0 with priced: false and a warning; estimate_cost still refuses it', async () => {
    const r = await ok<{ recorded: { cost: number; priced: boolean; model: string }; warning: string | null }>('track_request', {
      provider: 'anthropic',
      model: 'claude-in-house-9',
      input_tokens: 10,
      output_tokens: 5,
    });
    assert.equal(r.recorded.priced, false);
    assert.equal(r.recorded.cost, 0);
    assert.match(r.warning ?? '', /No price known for model "claude-in-house-9".*\$0/);
    const text = textOf(seenLast());
    assert.match(text, /Warning: No price known/);
    const u = await ok<{ groups: { key: string; requests: number; cost_usd: number }[] }>('get_usage', { days: 1, group_by: 'model' });
    assert.ok(u.groups.some((g) => g.key.includes('claude-in-house-9') && g.requests === 1 && g.cost_usd === 0), JSON.stringify(u.groups));
    const priced = await ok<{ recorded: { priced: boolean }; warning: string | null }>('track_request', { provider: 'openai', model: 'gpt-4o-mini', input_tokens: 10, output_tokens: 5 });
    assert.equal(priced.recorded.priced, true);
    assert.equal(priced.warning, null);
    const est = await call('estimate_cost', { model: 'claude-in-house-9', provider: 'anthropic', input_tokens: 10 });
    assert.equal(est.isError, true);
    assert.match(textOf(est), /No price known for model "claude-in-house-9"/);
    // The budget counts what it cannot price apart, and says so.
    const b = await ok<BudgetOut & { day: { unpriced: { requests: number; tokens: number } }; month: { unpriced: { requests: number; tokens: number } } }>('check_budget');
    assert.deepEqual(b.day.unpriced, { requests: 1, tokens: 15 });
    assert.deepEqual(b.month.unpriced, { requests: 1, tokens: 15 });
    assert.match(textOf(seenLast()), /Today: .* plus 1 request\(s\) \(15 tokens\) to models with no known price, cost unknown/);
    const usage = await ok<{ totals: { unpriced_requests: number; unpriced_tokens: number } }>('get_usage', { days: 1 });
    assert.deepEqual([usage.totals.unpriced_requests, usage.totals.unpriced_tokens], [1, 15]);
    // Under enforcement the reply says the cost cannot count against the budget.
    t.settings.update({ budget: { ...t.settings.get().budget, enforce: true } });
    const enforced = await ok<{ warning: string | null }>('track_request', { provider: 'anthropic', model: 'claude-in-house-9', input_tokens: 100, output_tokens: 0 });
    assert.match(enforced.warning ?? '', /Its cost is unknown, so your enforced budget cannot count it: it is listed apart as unpriced\./);
    t.settings.update({ budget: { ...t.settings.get().budget, enforce: false } });
  });

  it('rejects malformed input to every tool with a message naming the field, and changes nothing', async () => {
    const cases = MALFORMED_CASES;
    const covered = new Set(cases.map(([n]) => n));
    // check_budget and validate_all_keys take no arguments: only unknown ones can be wrong (see the strict-input test).
    for (const n of TOOLS.map((x) => x.name).filter((n) => n !== 'check_budget' && n !== 'validate_all_keys')) assert.ok(covered.has(n), `no malformed case for ${n}`);

    const before = await t.snapshot();
    const requestsBefore = fake.requests.length;
    for (const [tool, args, field] of cases) {
      const r = await call(tool, args);
      assert.equal(r.isError, true, `${tool} ${JSON.stringify(args)} was accepted`);
      assert.match(textOf(r), field, `${tool} ${JSON.stringify(args)}: message does not name the field: ${textOf(r)}`);
      assert.equal(r.structuredContent, undefined);
    }
    assert.equal(await t.snapshot(), before, 'malformed input changed state, ledger, vault or settings');
    assert.equal(fake.requests.length, requestsBefore, 'malformed input reached a provider');
  });

  it('refuses unknown arguments on every tool (strict input), naming the key, with no state change and no network call', async () => {
    // Otherwise valid arguments for each tool, so only the unknown key is wrong.
    const valid: Record<string, Record<string, unknown>> = {
      add_api_key: { provider: 'openai', env_var: OPENAI_ENV_VAR },
      remove_api_key: { provider: 'openai', key_id: ids.openaiLimited },
      rotate_key: { provider: 'anthropic', key_id: ids.anthropic, new_key: CANARY.anthropicRotated },
      rollback_key: { provider: 'anthropic', key_id: ids.anthropic },
      list_api_keys: {},
      validate_key: { provider: 'anthropic', key_id: ids.anthropic },
      validate_all_keys: {},
      route_request: { task_type: 'chat' },
      get_routing_recommendations: {},
      get_provider_stats: {},
      get_usage: {},
      estimate_cost: { model: 'gpt-4o', input_tokens: 1 },
      check_budget: {},
      track_request: { provider: 'openai', model: 'gpt-4o', input_tokens: 1, output_tokens: 1 },
      set_budget: { daily: 3 },
      get_audit_log: {},
    };
    assert.deepEqual(Object.keys(valid).sort(), TOOLS.map((x) => x.name).sort(), 'every tool has a case');
    const before = await t.snapshot();
    const requestsBefore = fake.requests.length;
    for (const [tool, args] of Object.entries(valid)) {
      const r = await call(tool, { ...args, extra_arg: 1 });
      assert.equal(r.isError, true, `${tool} accepted an unknown argument`);
      assert.match(textOf(r), /Unknown argument 'extra_arg'/, `${tool}: ${textOf(r)}`);
      assert.equal(r.structuredContent, undefined);
    }
    // __proto__ as an argument name (JSON.parse makes it an own key) is an unknown argument like any other.
    for (const [tool, args] of Object.entries(valid)) {
      for (const proto of ['{"__proto__": {"enforce": false}}', '{"__proto__": 1}']) {
        const r = await call(tool, { ...args, ...JSON.parse(proto) });
        assert.equal(r.isError, true, `${tool} accepted ${proto}`);
        assert.match(textOf(r), new RegExp(`^Unknown argument '__proto__': ${tool} takes`), `${tool}: ${textOf(r)}`);
      }
    }
    const two = await call('check_budget', { a: 1, b: 2 });
    assert.match(textOf(two), /Unknown arguments 'a', 'b'.*check_budget takes no arguments/);
    const listed = await call('get_usage', { dayz: 7 });
    assert.match(textOf(listed), /get_usage takes: provider, model, days, group_by/);
    // A key pasted as an argument name is not echoed.
    const pasted = await call('check_budget', { [CANARY.neverStored]: true });
    assert.equal(pasted.isError, true);
    assert.ok(!textOf(pasted).includes(CANARY.neverStored.slice(10, 30)), textOf(pasted));
    assert.equal(await t.snapshot(), before, 'an unknown argument changed state, ledger, vault or settings');
    assert.equal(fake.requests.length, requestsBefore, 'an unknown argument reached a provider');
    const { tools } = await client.listTools();
    for (const x of tools) assert.equal((x.inputSchema as { additionalProperties?: unknown }).additionalProperties, false, `${x.name} inputSchema allows extra keys`);
  });

  it('refuses impossible operations without touching keys, vault, ledger or settings (the refusal is audited)', async () => {
    await t.core.flush();
    const keysBefore = JSON.stringify(t.state.get('aikm.keys.v1'));
    const vaultBefore = t.vault.dump();
    const ledgerBefore = t.ledgerState.dump();
    const settingsBefore = JSON.stringify(t.settings.get());
    const auditBefore = t.core.audit.list().length;
    const cases: [tool: string, args: Record<string, unknown>, msg: RegExp][] = [
      ['add_api_key', { provider: 'anthropic', api_key: CANARY.anthropic }, /already stored/],
      ['add_api_key', { provider: 'anthropic', api_key: CANARY.openai }, /OpenAI key/],
      ['add_api_key', { provider: 'anthropic', api_key: CANARY.google, env_var: OPENAI_ENV_VAR }, /either api_key or env_var/],
      ['add_api_key', { provider: 'openai', env_var: 'TEST_UNSET_OPENAI_VAR' }, /TEST_UNSET_OPENAI_VAR is not set/],
      ['add_api_key', { provider: 'openai', env_var: 'AIKM_PASSPHRASE' }, /AIKM_PASSPHRASE is one of AI Key Manager's own variables, not an API key/],
      ['add_api_key', { provider: 'local', api_key: 'whatever-key-123' }, /does not use an API key/],
      ['add_api_key', { provider: 'anthropic', api_key: 'sk-ant-CANARYnotyetQ1w2E3r4T5y6U7i8O9p0A1s2D3f4', expires_at: 'someday' }, /expires_at/],
      ['add_api_key', { provider: 'anthropic' }, /No key given/],
      ['add_api_key', { provider: 'openai', api_key: 'sk-proj-CANARYlabelQ1w2E3r4T5y6U7i8O9p0A1s2D3f4', label: CANARY.google }, /label looks like it contains an API key/],
      ['remove_api_key', { provider: 'openai', key_id: 'openai-nope' }, /No OpenAI key with id 'openai-nope'/],
      ['remove_api_key', { provider: 'groq' }, /No key stored for groq/],
      ['rotate_key', { provider: 'anthropic', new_key: CANARY.anthropic }, /same as the current one/],
      ['rotate_key', { provider: 'openai', key_id: ids.google, new_key: 'sk-proj-Abcdefghijklmnopqrstuvwxyz0123' }, /No OpenAI key with id/],
      ['rollback_key', { provider: 'openai', key_id: ids.openaiLimited }, /no previous key/],
      ['validate_key', { provider: 'mistral' }, /No key stored for mistral/],
    ];
    for (const [tool, args, msg] of cases) {
      const r = await call(tool, args);
      assert.equal(r.isError, true, `${tool} ${JSON.stringify(args)} was accepted`);
      assert.match(textOf(r), msg, `${tool}: ${textOf(r)}`);
    }
    await t.core.flush();
    assert.equal(JSON.stringify(t.state.get('aikm.keys.v1')), keysBefore, 'key metadata changed');
    assert.equal(t.vault.dump(), vaultBefore, 'vault changed');
    assert.equal(t.ledgerState.dump(), ledgerBefore, 'ledger changed');
    assert.equal(JSON.stringify(t.settings.get()), settingsBefore, 'settings changed');
    const newAudit = t.core.audit.list().slice(0, t.core.audit.list().length - auditBefore);
    assert.ok(newAudit.length > 0 && newAudit.every((e) => !e.ok), 'refusals are audited as failures only');
  });

  it('never shows or stores a canary key: replies, resources, prompts, state, audit and ledger', async () => {
    // Ask for everything once more, with every key still stored.
    for (const name of ['list_api_keys', 'get_provider_stats', 'get_routing_recommendations', 'get_usage', 'check_budget', 'validate_all_keys', 'get_audit_log']) await call(name);
    await call('track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 1, output_tokens: 1, success: false, error: `401 for key ${CANARY.openai}` });
    // A key pasted where a variable name belongs must not be echoed back.
    await call('add_api_key', { provider: 'anthropic', env_var: CANARY.anthropic });
    await call('add_api_key', { provider: 'anthropic', env_var: CANARY.neverStored });
    await call('rotate_key', { provider: 'anthropic', env_var: CANARY.neverStored.slice(0, 40) });
    for (const uri of ['api://providers', 'api://usage', 'api://routing']) await readJson(uri);
    for (const name of ['api-config', 'api-usage', 'api-costs']) seen.push(JSON.stringify(await client.getPrompt({ name, arguments: {} })));
    await t.core.flush();

    assert.ok(seen.length > 100, `only ${seen.length} replies were scanned`);
    for (const s of seen) assertNoLeak(s, ALL_CANARIES, `reply ${s.slice(0, 40)}`);
    const state = t.state.dump();
    assert.ok(state.includes(ids.anthropic) && state.includes('aiKeyManager.audit'), 'state holds key metadata and the audit log');
    assertNoLeak(state, ALL_CANARIES, 'state store (key metadata, audit)');
    const ledger = t.ledgerState.dump();
    assert.ok(ledger.length > 50, 'ledger was persisted');
    assertNoLeak(ledger, ALL_CANARIES, 'usage ledger');
    // The scan itself works: the vault does hold the keys.
    assert.throws(() => assertNoLeak(t.vault.dump(), ALL_CANARIES, 'vault'));
  });

  it('speaks snake_case on the wire: every field of every structured reply and resource', async () => {
    // Maps keyed by data (task types, validation results) are snake_case too; model ids are values.
    const replies: [string, unknown][] = [];
    for (const name of ['list_api_keys', 'get_provider_stats', 'get_routing_recommendations', 'get_usage', 'check_budget', 'validate_all_keys', 'get_audit_log'])
      replies.push([name, await ok(name)]);
    replies.push(['get_usage by model', await ok('get_usage', { group_by: 'model' })]);
    replies.push(['route_request', await ok('route_request', { task_type: 'chat' })]);
    replies.push(['estimate_cost', await ok('estimate_cost', { model: 'gpt-4o', text: 'hello there' })]);
    replies.push(['track_request', await ok('track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 3, output_tokens: 4 })]);
    for (const uri of ['api://providers', 'api://usage', 'api://routing']) replies.push([uri, await readJson(uri)]);
    const bad: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
      else if (v !== null && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (!/^[a-z][a-z0-9_]*$/.test(k)) bad.push(`${path}.${k}`);
          walk(x, `${path}.${k}`);
        }
    };
    for (const [where, reply] of replies) walk(reply, where);
    assert.ok(replies.length >= 14);
    assert.deepEqual(bad, [], `fields that are not snake_case: ${bad.join(', ')}`);
  });
});
