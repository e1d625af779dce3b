// MCP tool round trip over loopback HTTP (real SDK client → Streamable HTTP host → core). Prints figures.
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AiKeyManagerCore } from '../../src/core/service';
import type { SecretVault, StateStore } from '../../src/core/ports';
import { createMcpServer } from '../../src/mcp/server';
import { startHttpHost } from '../../src/mcp/httpHost';
import { DEFAULT_BUDGET } from '../../src/headless/settings';

class Memory implements StateStore {
  private readonly m = new Map<string, unknown>();
  get<T>(k: string): T | undefined {
    return this.m.get(k) as T | undefined;
  }
  async update(k: string, v: unknown): Promise<void> {
    this.m.set(k, v);
  }
}

class MemoryVault implements SecretVault {
  private readonly m = new Map<string, string>();
  async get(k: string): Promise<string | undefined> {
    return this.m.get(k);
  }
  async store(k: string, v: string): Promise<void> {
    this.m.set(k, v);
  }
  async delete(k: string): Promise<void> {
    this.m.delete(k);
  }
}

/** The SDK client shares one AbortSignal across requests and undici leaves a listener on it per fetch. */
const isolatedFetch: typeof fetch = (url, init) => fetch(url, { ...init, signal: undefined });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const core = new AiKeyManagerCore({
    vault: new MemoryVault(),
    state: new Memory(),
    ledgerState: new Memory(),
    settings: { get: () => ({ budget: { ...DEFAULT_BUDGET, daily: 10, monthly: 100 }, baseUrls: {}, priceOverrides: [], disabledProviders: [] }), setBudget: async () => undefined, onDidChange: () => () => undefined },
  });
  const host = await startHttpHost({ createServer: () => createMcpServer({ core, via: 'tool' }) });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(host.url), { fetch: isolatedFetch, requestInit: { headers: { Authorization: `Bearer ${host.token}` } } }));

  for (const [tool, args] of [
    ['check_budget', {}],
    ['track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 1000, output_tokens: 200 }],
  ] as const) {
    for (let i = 0; i < 200; i++) await client.callTool({ name: tool, arguments: args }); // warm-up
    const times: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = performance.now();
      await client.callTool({ name: tool, arguments: args });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    console.log(`MCP ${tool.padEnd(13)} round trip over loopback HTTP: p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms (n=2000)`);
  }
  await client.close();
  await host.close();
  await core.flush();
  core.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
