// Benchmark, not a test: what the headless server keeps. 10,000 concurrent track_request calls from
// four `dist/cli.js mcp` processes on one AIKM_HOME (totals against the sum of the replies), then
// kill -9 among concurrent calls (acknowledged calls lost). Prints figures.
// Run: node esbuild.mjs --tests && node out/test/bench/durability.bench.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const CLI = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
const MODELS = [
  ['openai', 'text-embedding-3-small'],
  ['openai', 'gpt-4o-mini'],
  ['anthropic', 'claude-3-5-haiku'],
  ['google', 'gemini-2.0-flash'],
] as const;

async function spawn(home: string): Promise<{ client: Client; pid: number }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], env: { AIKM_HOME: home, PATH: process.env.PATH ?? '', TZ: 'UTC' }, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return { client, pid: transport.pid! };
}

/** Calls track_request until `stop()` says so; returns the nano-dollars of the acknowledged replies. */
async function worker(client: Client, count: { sent: number; acked: number; nanos: number }, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const i = count.sent++;
    const [provider, model] = MODELS[i % MODELS.length];
    try {
      const r = (await client.callTool({ name: 'track_request', arguments: { provider, model, input_tokens: 17 + (i % 997), output_tokens: i % 13 } })) as { isError?: boolean; structuredContent?: { recorded: { cost: number } } };
      if (r.isError) throw new Error('track_request failed');
      count.acked++;
      count.nanos += Math.round(r.structuredContent!.recorded.cost * 1e9);
    } catch {
      return;
    }
  }
}

async function totals(home: string): Promise<{ requests: number; nanos: number }> {
  const p = await spawn(home);
  const r = (await p.client.callTool({ name: 'get_usage', arguments: { days: 1 } })) as unknown as { structuredContent: { totals: { requests: number; costUsd: number } } };
  await p.client.close();
  return { requests: r.structuredContent.totals.requests, nanos: Math.round(r.structuredContent.totals.costUsd * 1e9) };
}

async function concurrentTotals(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'aikm-bench-'));
  const N = 10_000;
  const processes = await Promise.all(Array.from({ length: 4 }, () => spawn(home)));
  const count = { sent: 0, acked: 0, nanos: 0 };
  const t = performance.now();
  await Promise.all(processes.flatMap((p) => Array.from({ length: 8 }, () => worker(p.client, count, () => count.sent >= N))));
  const ms = performance.now() - t;
  await Promise.all(processes.map((p) => p.client.close()));
  const stored = await totals(home);
  rmSync(home, { recursive: true, force: true });
  console.log(
    `${count.acked.toLocaleString('en-US')} track_request calls from 4 processes × 8 concurrent callers in ${(ms / 1000).toFixed(1)} s: ` +
      `stored ${stored.requests.toLocaleString('en-US')} requests, $${(stored.nanos / 1e9).toFixed(9)}; sum of the replies $${(count.nanos / 1e9).toFixed(9)}; ` +
      `difference $${(Math.abs(stored.nanos - count.nanos) / 1e9).toFixed(9)}`,
  );
}

async function killNine(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'aikm-bench-'));
  const count = { sent: 0, acked: 0, nanos: 0 };
  const ROUNDS = 5;
  for (let round = 0; round < ROUNDS; round++) {
    const p = await spawn(home);
    let stop = false;
    const workers = Array.from({ length: 8 }, () => worker(p.client, count, () => stop));
    const target = count.acked + 200 + Math.floor(Math.random() * 800);
    while (count.acked < target) await new Promise((r) => setTimeout(r, 1));
    process.kill(p.pid, 'SIGKILL');
    stop = true;
    await Promise.all(workers);
    await p.client.close().catch(() => undefined);
  }
  const stored = await totals(home);
  rmSync(home, { recursive: true, force: true });
  const lost = Math.max(0, count.acked - stored.requests);
  console.log(
    `kill -9 ${ROUNDS} times among 8 concurrent callers: ${count.acked.toLocaleString('en-US')} acknowledged, ${stored.requests.toLocaleString('en-US')} stored, ` +
      `${lost} acknowledged lost; ${Math.max(0, stored.requests - count.acked)} of ${count.sent - count.acked} unacknowledged in-flight calls were recorded`,
  );
}

(async () => {
  await concurrentTotals();
  await killNine();
})().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
