// The headless CLI: `node dist/cli.js mcp` over stdio with the real SDK client, state persisted in AIKM_HOME.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startFakeProviders, type FakeProviders } from '../fakes/providers';
import { REQUIRED_TOOL_NAMES } from '../../src/mcp/tools';
import { assertNoLeak } from '../support/leaks';
import { CANARY, CLI, MALFORMED_CASES, baseUrlEnv, callOk, spawnCli, textOf, type CliProcess, type ToolResult } from './helpers';

const PASSPHRASE = 'correct horse battery staple for the mcp tests';
const USED = [CANARY.openai, CANARY.anthropic];

describe('stdio MCP server (node dist/cli.js mcp)', () => {
  let fake: FakeProviders;
  let home: string;
  let env: Record<string, string>;
  let anthropicId = '';
  const stderrs: string[] = [];

  before(async () => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run node esbuild.mjs --tests first`);
    fake = await startFakeProviders({ keys: { [CANARY.openai]: 'valid', [CANARY.anthropic]: 'valid' } });
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'aikm-mcp-stdio-'));
    env = {
      ...baseUrlEnv(fake.url),
      AIKM_HOME: home,
      AIKM_PASSPHRASE: PASSPHRASE,
      OPENAI_API_KEY: CANARY.openai,
      AIKM_VALIDATION_TIMEOUT_MS: '3000',
      TZ: 'UTC',
    };
  });

  after(async () => {
    await fake.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('--help documents the mcp command, AIKM_HOME and AIKM_PASSPHRASE', () => {
    const out = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    assert.match(out, /ai-key-manager mcp\s+Serve the MCP server over stdio/);
    assert.match(out, /AIKM_HOME/);
    assert.match(out, /AIKM_PASSPHRASE/);
    assert.match(out, /AIKM_<PROVIDER>_BASE_URL/);
  });

  it('serves tools, resources and prompts; adds, validates live and tracks; then exits cleanly', async () => {
    const p = await spawnCli(env);
    try {
      const { tools } = await p.client.listTools();
      assert.ok(tools.length >= 13);
      for (const n of REQUIRED_TOOL_NAMES) assert.ok(tools.some((x) => x.name === n), `missing ${n}`);
      const { resources } = await p.client.listResources();
      assert.deepEqual(resources.map((r) => r.uri).sort(), ['api://providers', 'api://routing', 'api://usage']);
      const { prompts } = await p.client.listPrompts();
      assert.deepEqual(prompts.map((x) => x.name).sort(), ['api-config', 'api-costs', 'api-usage']);

      const before = await callOk<{ keys: { id: string; provider: string; source: string; masked: string }[] }>(p.client, 'list_api_keys');
      assert.deepEqual(
        before.keys.map((k) => [k.id, k.provider, k.source]),
        [['env:OPENAI_API_KEY', 'openai', 'env']],
        'OPENAI_API_KEY is discovered from the environment',
      );

      const added = await callOk<{ key: { id: string; masked: string; source: string } }>(p.client, 'add_api_key', { provider: 'anthropic', api_key: CANARY.anthropic, label: 'cli' });
      assert.equal(added.key.source, 'vault');
      anthropicId = added.key.id;

      const v = await callOk<{ result: string; http_status: number; key_status: string }>(p.client, 'validate_key', { provider: 'anthropic' });
      assert.deepEqual([v.result, v.http_status, v.key_status], ['valid', 200, 'healthy']);
      assert.ok(fake.requests.some((r) => r.headers['x-api-key'] === CANARY.anthropic), 'the live check reached the fake via AIKM_ANTHROPIC_BASE_URL');
      const vo = await callOk<{ result: string }>(p.client, 'validate_key', { provider: 'openai' });
      assert.equal(vo.result, 'valid');
      assert.ok(fake.requests.some((r) => r.headers.authorization === `Bearer ${CANARY.openai}`));

      const tr = await callOk<{ recorded: { cost: number } }>(p.client, 'track_request', { provider: 'anthropic', model: 'claude-3-5-sonnet', input_tokens: 5000, output_tokens: 2000 });
      assert.ok(Math.abs(tr.recorded.cost - 0.045) < 1e-9);
      await callOk(p.client, 'set_budget', { daily: 5, monthly: 50 });

      const usage = await p.client.readResource({ uri: 'api://usage' });
      assert.equal((JSON.parse(String((usage.contents[0] as { text: string }).text)) as { today: { requests: number } }).today.requests, 1);
    } finally {
      await p.stop();
      stderrs.push(p.stderr());
    }
    assert.match(stderrs[0], /MCP server on stdio/);
  });

  it('keeps keys encrypted and state, ledger and config free of key material on disk', () => {
    const files = fs.readdirSync(home).sort();
    for (const f of ['config.json', 'ledger.json', 'state.json', 'vault.json']) assert.ok(files.includes(f), `${f} not written (have ${files.join(', ')})`);
    const vault = fs.readFileSync(path.join(home, 'vault.json'), 'utf8');
    assert.match(vault, /"cipher"/);
    assertNoLeak(vault, USED, 'vault.json');
    if (process.platform !== 'win32') assert.equal(fs.statSync(path.join(home, 'vault.json')).mode & 0o777, 0o600);
    const state = fs.readFileSync(path.join(home, 'state.json'), 'utf8');
    assert.ok(state.includes(anthropicId), 'state.json holds the key metadata');
    assertNoLeak(state, USED, 'state.json');
    const ledger = fs.readFileSync(path.join(home, 'ledger.json'), 'utf8');
    assert.ok(ledger.includes('claude-3-5-sonnet'), 'ledger.json holds the tracked request');
    assertNoLeak(ledger, USED, 'ledger.json');
    assertNoLeak(fs.readFileSync(path.join(home, 'config.json'), 'utf8'), USED, 'config.json');
    for (const s of stderrs) assertNoLeak(s, USED, 'stderr');
  });

  it('a new process sees the key, its validation, the usage and the budget', async () => {
    const p = await spawnCli(env);
    try {
      const list = await callOk<{ keys: { id: string; provider: string; masked: string; last_validation: string | null }[] }>(p.client, 'list_api_keys', { provider: 'anthropic' });
      assert.equal(list.keys.length, 1);
      assert.equal(list.keys[0].id, anthropicId);
      assert.equal(list.keys[0].last_validation, 'valid');
      assert.equal(list.keys[0].masked, `${CANARY.anthropic.slice(0, 6)}…${CANARY.anthropic.slice(-4)}`);
      const v = await callOk<{ result: string }>(p.client, 'validate_key', { provider: 'anthropic', key_id: anthropicId });
      assert.equal(v.result, 'valid', 'the secret was read back from the encrypted vault');
      const u = await callOk<{ totals: { requests: number; cost_usd: number } }>(p.client, 'get_usage', { days: 1 });
      assert.equal(u.totals.requests, 1);
      assert.ok(Math.abs(u.totals.cost_usd - 0.045) < 1e-9);
      const b = await callOk<{ day: { limit: number | null }; month: { limit: number | null } }>(p.client, 'check_budget');
      assert.equal(b.day.limit, 5);
      assert.equal(b.month.limit, 50);
      const audit = await callOk<{ entries: { action: string }[] }>(p.client, 'get_audit_log');
      assert.ok(audit.entries.some((e) => e.action === 'add_api_key'), 'the audit log persisted');
    } finally {
      await p.stop();
      stderrs.push(p.stderr());
    }
  });

  it('without AIKM_PASSPHRASE, add_api_key fails saying to set it, and the rest still works', async () => {
    const { AIKM_PASSPHRASE: _omit, ...noPass } = env;
    void _omit;
    const p = await spawnCli(noPass);
    try {
      const r = (await p.client.callTool({ name: 'add_api_key', arguments: { provider: 'google', api_key: CANARY.google } })) as ToolResult;
      assert.equal(r.isError, true);
      assert.match(textOf(r), /Set AIKM_PASSPHRASE/);
      assertNoLeak(JSON.stringify(r), [CANARY.google], 'add_api_key error');
      const list = await callOk<{ keys: { id: string }[] }>(p.client, 'list_api_keys');
      assert.deepEqual(list.keys.map((k) => k.id).sort(), [anthropicId, 'env:OPENAI_API_KEY'].sort(), 'stored metadata is still listed');
      const b = await callOk<{ day: { limit: number | null } }>(p.client, 'check_budget');
      assert.equal(b.day.limit, 5);
      const providers = await p.client.readResource({ uri: 'api://providers' });
      assertNoLeak(JSON.stringify(providers), USED, 'api://providers');
    } finally {
      await p.stop();
      stderrs.push(p.stderr());
    }
    const state = fs.readFileSync(path.join(home, 'state.json'), 'utf8');
    assert.ok(!state.includes('google-'), 'the failed add left no metadata');
  });
});

describe('stdio MCP server: every tool, resource and prompt, and malformed input', () => {
  let fake: FakeProviders;
  let home: string;
  let p: CliProcess;
  const SECRETS = [CANARY.anthropic, CANARY.anthropicRotated, CANARY.openai];

  /** Every file in AIKM_HOME with its content, to prove malformed input changed nothing. */
  // Every file under the home (lock files come and go while a save runs), with its content.
  const disk = (): string =>
    JSON.stringify(
      fs
        .readdirSync(home, { recursive: true })
        .map(String)
        .filter((f) => !f.endsWith('.lock'))
        .sort()
        .flatMap((f) => (fs.statSync(path.join(home, f), { throwIfNoEntry: false })?.isFile() ? [[f, fs.readFileSync(path.join(home, f), 'utf8')]] : [])),
    );

  before(async () => {
    fake = await startFakeProviders({ keys: { [CANARY.anthropic]: 'valid', [CANARY.anthropicRotated]: 'valid', [CANARY.openai]: 'valid' } });
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'aikm-mcp-stdio-all-'));
    p = await spawnCli({ ...baseUrlEnv(fake.url), AIKM_HOME: home, AIKM_PASSPHRASE: PASSPHRASE, AIKM_VALIDATION_TIMEOUT_MS: '3000', TZ: 'UTC' });
  });

  after(async () => {
    await p?.stop();
    assertNoLeak(p.stderr(), SECRETS, 'stderr');
    await fake.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  it('answers all 13 tools with structured results', async () => {
    const c = p.client;
    const seen = new Set<string>();
    const ok = async <T>(name: string, args: Record<string, unknown> = {}): Promise<T> => {
      seen.add(name);
      const r = (await c.callTool({ name, arguments: args })) as ToolResult;
      assert.ok(!r.isError, `${name} failed: ${textOf(r)}`);
      assert.ok(textOf(r).length > 0, `${name} has a readable text`);
      assertNoLeak(JSON.stringify(r), SECRETS, `${name} reply`);
      return r.structuredContent as T;
    };

    const added = await ok<{ key: { id: string; masked: string } }>('add_api_key', { provider: 'anthropic', api_key: CANARY.anthropic });
    assert.equal(added.key.masked, `${CANARY.anthropic.slice(0, 6)}…${CANARY.anthropic.slice(-4)}`);
    const listed = await ok<{ keys: { id: string }[] }>('list_api_keys', { provider: 'anthropic' });
    assert.deepEqual(listed.keys.map((k) => k.id), [added.key.id]);
    assert.equal((await ok<{ result: string }>('validate_key', { provider: 'anthropic' })).result, 'valid');
    const all = await ok<{ results: { provider: string; result: string }[] }>('validate_all_keys');
    assert.ok(all.results.some((r) => r.provider === 'anthropic' && r.result === 'valid'), JSON.stringify(all.results));
    const route = await ok<{ provider: string; model: string }>('route_request', { task_type: 'code_review' });
    assert.equal(route.provider, 'anthropic', 'the only keyed provider with a valid key wins code review');
    const recs = await ok<{ recommendations: { task_type: string }[] }>('get_routing_recommendations', { task_type: 'chat' });
    assert.deepEqual(recs.recommendations.map((r) => r.task_type), ['chat']);
    const tracked = await ok<{ recorded: { cost: number } }>('track_request', { provider: 'anthropic', model: 'claude-3-5-sonnet', input_tokens: 5000, output_tokens: 2000, latency_ms: 900 });
    assert.ok(Math.abs(tracked.recorded.cost - 0.045) < 1e-9);
    const stats = await ok<{ providers: { provider: string; requests: number }[] }>('get_provider_stats', { provider: 'anthropic' });
    assert.equal(stats.providers[0].requests, 1);
    const usage = await ok<{ totals: { requests: number; cost_usd: number } }>('get_usage', { days: 1, group_by: 'model' });
    assert.equal(usage.totals.requests, 1);
    const est = await ok<{ total_cost: number }>('estimate_cost', { model: 'gpt-4-turbo', input_tokens: 5000, output_tokens: 2000 });
    assert.ok(Math.abs(est.total_cost - 0.11) < 1e-9, `gpt-4-turbo: ${est.total_cost}`);
    const budget = await ok<{ day: { spent: number } }>('check_budget');
    assert.ok(Math.abs(budget.day.spent - 0.045) < 1e-9);
    const rotated = await ok<{ key: { masked: string } }>('rotate_key', { provider: 'anthropic', new_key: CANARY.anthropicRotated });
    assert.equal(rotated.key.masked, `${CANARY.anthropicRotated.slice(0, 6)}…${CANARY.anthropicRotated.slice(-4)}`);
    await ok('remove_api_key', { provider: 'anthropic', key_id: added.key.id });
    assert.deepEqual((await ok<{ keys: unknown[] }>('list_api_keys', { provider: 'anthropic' })).keys, []);
    for (const n of REQUIRED_TOOL_NAMES) assert.ok(seen.has(n), `${n} was not called over stdio`);
  });

  it('reads the three resources and gets the three prompts', async () => {
    const c = p.client;
    for (const uri of ['api://providers', 'api://usage', 'api://routing']) {
      const r = await c.readResource({ uri });
      const text = String((r.contents[0] as { text: string }).text);
      assert.doesNotThrow(() => JSON.parse(text), `${uri} is JSON`);
      assertNoLeak(text, SECRETS, uri);
    }
    const usage = JSON.parse(String(((await c.readResource({ uri: 'api://usage' })).contents[0] as { text: string }).text)) as { today: { requests: number } };
    assert.equal(usage.today.requests, 1);
    for (const name of ['api-config', 'api-usage', 'api-costs']) {
      const r = await c.getPrompt({ name, arguments: {} });
      assert.ok(r.messages.length > 0, `${name} has messages`);
      const text = JSON.stringify(r.messages);
      assert.ok(text.length > 100, `${name} says something`);
      assertNoLeak(text, SECRETS, name);
    }
  });

  /** The files once the server's coalesced writes from earlier calls have landed (unchanged for longer than a save's 250 ms delay). */
  const settledDisk = async (): Promise<string> => {
    let last = disk();
    let same = 0;
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const now = disk();
      same = now === last ? same + 1 : 0;
      if (same >= 3) return now;
      last = now;
    }
    return assert.fail('AIKM_HOME kept changing for 20 s');
  };

  it('rejects malformed input to every tool with a message naming the field, and writes nothing', async () => {
    const before = await settledDisk();
    const requests = fake.requests.length;
    for (const [tool, args, field] of MALFORMED_CASES) {
      const r = (await p.client.callTool({ name: tool, arguments: args })) as ToolResult;
      assert.equal(r.isError, true, `${tool} ${JSON.stringify(args)} was accepted over stdio`);
      assert.match(textOf(r), field, `${tool} ${JSON.stringify(args)}: ${textOf(r)}`);
    }
    for (const tool of ['check_budget', 'validate_all_keys']) {
      const r = (await p.client.callTool({ name: tool, arguments: { extra_arg: 1 } })) as ToolResult;
      assert.equal(r.isError, true, `${tool} accepted an unknown argument`);
    }
    assert.equal(await settledDisk(), before, 'malformed input changed a file in AIKM_HOME');
    assert.equal(fake.requests.length, requests, 'malformed input reached a provider');
  });
});
