// Shared parts for the MCP tests: a core on the in-memory ports (test/support/ports) wired to the
// fake providers, an HTTP host with the real SDK client, the CLI over stdio, and canary scanning.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AiKeyManagerCore } from '../../src/core/service';
import type { Clock } from '../../src/core/ports';
import { PROVIDERS } from '../../src/core/providers';
import { createMcpServer } from '../../src/mcp/server';
import { startHttpHost, type HttpHost } from '../../src/mcp/httpHost';
import type { MemorySettings, MemoryState, MemoryVault } from '../support/ports';
import { makeTestCore } from '../support/core';
import { waitFor } from '../support/waitFor';
import { startFakeProviders, type FakeProviders, type FakeProvidersOptions } from '../fakes/providers';

// Canary keys: valid in shape, unique enough that any 12-character piece of one is a leak
// (test/support/leaks.ts assertNoLeak).
export const CANARY = {
  anthropic: 'sk-ant-CANARYmcpA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8-zz',
  anthropicRotated: 'sk-ant-CANARYrotQ9w8E7r6T5y4U3i2O1p0A9s8D7f6G5h4J3k2-yy',
  anthropicBad: 'sk-ant-CANARYbadZ1x2C3v4B5n6M7q8W9e0R1t2Y3u4I5o6P7a8-xx',
  openai: 'sk-proj-CANARYopenaiQ1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9',
  openaiLimited: 'sk-proj-CANARYlimitedZ9x8C7v6B5n4M3q2W1e0R9t8Y7u6I5o4P3a2S1',
  google: 'AIzaCANARYgoogleQ1w2E3r4T5y6U7i8O9p0A1s',
  googleHang: 'AIzaCANARYhangngZ9x8C7v6B5n4M3q2W1e0R9t',
  /** Never stored: the server cannot know it is a secret except by its shape. */
  neverStored: 'sk-ant-CANARYnewP0o9I8u7Y6t5R4e3W2q1A2s3D4f5G6h7J8k9-ww',
} as const;

export const ALL_CANARIES: string[] = Object.values(CANARY);

/** AIKM_<ID>_BASE_URL for every provider, all pointing at `url`. */
export function baseUrlEnv(url: string): Record<string, string> {
  return Object.fromEntries(PROVIDERS.map((p) => [p.baseUrlEnv, url]));
}

export interface TestCore {
  core: AiKeyManagerCore;
  state: MemoryState;
  ledgerState: MemoryState;
  vault: MemoryVault;
  settings: MemorySettings;
  /** state + ledger + vault + budget settings, for before/after comparisons. */
  snapshot(): Promise<string>;
}

export function createTestCore(opts: { fakeUrl: string; env?: Record<string, string>; validationTimeoutMs?: number; clock?: Clock }): TestCore {
  const { core, state, ledgerState, vault, settings } = makeTestCore({
    clock: opts.clock,
    env: { ...baseUrlEnv(opts.fakeUrl), ...opts.env },
    validationTimeoutMs: opts.validationTimeoutMs ?? 2000,
  });
  return {
    core,
    state,
    ledgerState,
    vault,
    settings,
    snapshot: async () => {
      await core.flush();
      return JSON.stringify({ state: state.dump(), ledger: ledgerState.dump(), vault: vault.dump(), settings: settings.get() });
    },
  };
}

export async function startTestHost(core: AiKeyManagerCore): Promise<HttpHost> {
  return startHttpHost({ createServer: () => createMcpServer({ core, via: 'tool' }) });
}

export interface McpSession {
  fake: FakeProviders;
  t: TestCore;
  host: HttpHost;
  client: Client;
  /** Closes the client and the host, disposes of the core and stops the fake providers. */
  close(): Promise<void>;
}

/** Fake providers, a test core that uses them, its HTTP host, and an SDK client connected to it. */
export async function openMcpSession(opts: { fake?: FakeProvidersOptions; env?: Record<string, string>; validationTimeoutMs?: number } = {}): Promise<McpSession> {
  const fake = await startFakeProviders(opts.fake);
  const t = createTestCore({ fakeUrl: fake.url, env: opts.env, validationTimeoutMs: opts.validationTimeoutMs });
  const host = await startTestHost(t.core);
  const { client } = await connectHttp(host);
  return {
    fake,
    t,
    host,
    client,
    close: async () => {
      await client.close();
      await host.close();
      t.core.dispose();
      await fake.close();
    },
  };
}

/** The SDK client shares one AbortSignal across requests and undici leaves a listener on it per fetch. */
const isolatedFetch: typeof fetch = (url, init) => fetch(url, { ...init, signal: undefined });

export async function connectHttp(host: Pick<HttpHost, 'url' | 'token'>, name = 'mcp-test'): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(host.url), {
    fetch: isolatedFetch,
    requestInit: { headers: { Authorization: `Bearer ${host.token}` } },
  });
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

/** The headless CLI as `node esbuild.mjs --tests` builds it (this file runs from out/test/mcp). */
export const CLI = path.resolve(__dirname, '../../../dist/cli.js');

export interface CliProcess {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
  /** Closes the client and waits until the process has exited. */
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `node dist/cli.js mcp` with `env` and connects an SDK client named `name` over stdio. */
export async function spawnCli(env: Record<string, string>, name = 'stdio-test'): Promise<CliProcess> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], env, stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(transport);
  const pid = transport.pid!;
  return {
    client,
    transport,
    stderr: () => err,
    stop: async () => {
      await client.close();
      await waitFor(() => !alive(pid), `the CLI process ${pid} to exit`);
    },
  };
}

export interface ToolResult {
  isError?: boolean;
  content?: unknown;
  structuredContent?: Record<string, unknown>;
}

/** The text of a tool result's content blocks. */
export function textOf(r: ToolResult): string {
  const blocks = Array.isArray(r.content) ? (r.content as { type: string; text?: string }[]) : [];
  return blocks.map((b) => (b.type === 'text' ? (b.text ?? '') : '')).join('\n');
}

/** Calls a tool that must succeed and returns its structured content. */
export async function callOk<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const r = (await client.callTool({ name, arguments: args })) as ToolResult;
  assert.ok(!r.isError, `${name} failed: ${textOf(r)}`);
  assert.ok(r.structuredContent, `${name} returned no structuredContent`);
  return r.structuredContent as T;
}

/** Malformed input for every tool that takes arguments, and the field its error must name. */
export const MALFORMED_CASES: [tool: string, args: Record<string, unknown>, field: RegExp][] = [
  ['add_api_key', {}, /provider/],
  ['add_api_key', { provider: 'acme', api_key: 'sk-whatever-1234567890abcdef' }, /provider/],
  ['add_api_key', { provider: 'anthropic', api_key: 12345 }, /api_key/],
  ['add_api_key', { provider: 'anthropic', api_key: '' }, /api_key/],
  ['add_api_key', { provider: 'anthropic', env_var: 'X', label: 'x'.repeat(61) }, /label/],
  ['add_api_key', { provider: 'anthropic', env_var: 'X', expires_at: 20270131 }, /expires_at/],
  ['remove_api_key', {}, /provider/],
  ['remove_api_key', { provider: 'openai', key_id: 5 }, /key_id/],
  ['rotate_key', { provider: 42 }, /provider/],
  ['rotate_key', { provider: 'anthropic', new_key: ['x'] }, /new_key/],
  ['rollback_key', { provider: 'unknown-co' }, /provider/],
  ['rollback_key', { provider: 'anthropic', key_id: '' }, /key_id/],
  ['list_api_keys', { provider: 'acme' }, /provider/],
  ['validate_key', {}, /provider/],
  ['validate_key', { provider: 'openai', live: 'yes' }, /live/],
  ['route_request', {}, /task_type/],
  ['route_request', { task_type: 'poetry' }, /task_type/],
  ['route_request', { task_type: 'chat', estimated_input_tokens: -5 }, /estimated_input_tokens/],
  ['route_request', { task_type: 'chat', estimated_output_tokens: 1.5 }, /estimated_output_tokens/],
  ['route_request', { task_type: 'chat', max_cost: -1 }, /max_cost/],
  ['route_request', { task_type: 'chat', preferred_provider: 'acme' }, /preferred_provider/],
  ['route_request', { task_type: 'chat', enable_fallback: 'no' }, /enable_fallback/],
  ['get_routing_recommendations', { task_type: 'poetry' }, /task_type/],
  ['get_provider_stats', { provider: 'acme' }, /provider/],
  ['get_usage', { days: 0 }, /days/],
  ['get_usage', { days: 'ten' }, /days/],
  ['get_usage', { group_by: 'week' }, /group_by/],
  ['get_usage', { provider: 'acme' }, /provider/],
  ['estimate_cost', {}, /model/],
  ['estimate_cost', { model: 'gpt-4o', input_tokens: -1 }, /input_tokens/],
  ['estimate_cost', { model: 'gpt-4o', output_tokens: 'many' }, /output_tokens/],
  ['estimate_cost', { model: 'gpt-4o', cache_read_tokens: 1.5 }, /cache_read_tokens/],
  ['estimate_cost', { model: 'gpt-4o', provider: 'acme' }, /provider/],
  ['track_request', {}, /provider/],
  ['track_request', { provider: 'openai', input_tokens: 1, output_tokens: 1 }, /model/],
  ['track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: -10, output_tokens: 5 }, /input_tokens/],
  ['track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 10, output_tokens: -5 }, /output_tokens/],
  ['track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: '10', output_tokens: 5 }, /input_tokens/],
  ['track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 10 }, /output_tokens/],
  ['track_request', { provider: 'acme', model: 'gpt-4o', input_tokens: 10, output_tokens: 5 }, /provider/],
  ['track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 10, output_tokens: 5, task_type: 'poetry' }, /task_type/],
  ['track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 10, output_tokens: 5, success: 'yes' }, /success/],
  ['track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 10, output_tokens: 5, latency_ms: -1 }, /latency_ms/],
  ['track_request', { provider: 'openai', model: '', input_tokens: 10, output_tokens: 5 }, /model/],
  ['set_budget', {}, /daily, monthly, alert_threshold or enforce/],
  ['set_budget', { daily: -1 }, /daily/],
  ['set_budget', { monthly: 'lots' }, /monthly/],
  ['set_budget', { alert_threshold: 0 }, /alert_threshold/],
  ['set_budget', { alert_threshold: 1.5 }, /alert_threshold/],
  ['set_budget', { enforce: 'on' }, /enforce/],
  ['get_audit_log', { limit: 0 }, /limit/],
  ['get_audit_log', { limit: 'all' }, /limit/],
  ['get_audit_log', { provider: 'acme' }, /provider/],
];
