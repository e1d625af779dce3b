// MCP tool round trip over loopback HTTP (real SDK client → Streamable HTTP host → core). Prints figures.
// Run: node esbuild.mjs --tests && node out/test/bench/mcp.bench.js
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { createMcpServer } from '../../src/mcp/server';
import { startHttpHost } from '../../src/mcp/httpHost';
import { MemoryState } from '../support/ports';
import { makeTestCore } from '../support/core';

/** The SDK client shares one AbortSignal across requests and undici leaves a listener on it per fetch. */
const isolatedFetch: typeof fetch = (url, init) => fetch(url, { ...init, signal: undefined });

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Measured rounds per tool (env BENCH_ROUNDS) after a warm-up; figures are medians over rounds. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS) || 5);
const CALLS = 1000;
const WARMUP = 500;

/**
 * The same SDK client against an HTTP responder that replays canned replies without any MCP
 * server behind it: the part of the round trip that is the client's, Node's and this machine's.
 */
async function clientFloor(replies: Record<string, unknown>): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: number; method: string; params?: { name?: string; protocolVersion?: string } };
      if (msg.id === undefined) {
        res.writeHead(202).end();
        return;
      }
      const result =
        msg.method === 'initialize'
          ? { protocolVersion: msg.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'floor', version: '1' } }
          : replies[msg.params?.name ?? ''];
      const body = JSON.stringify({ jsonrpc: '2.0', id: msg.id, result });
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'floor', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

type Args = Record<string, unknown>;
const TOOLS: ReadonlyArray<readonly [string, Args]> = [
  ['check_budget', {}],
  ['track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 1000, output_tokens: 200 }],
];

type Call = (tool: string, args: Args) => Promise<unknown>;

/**
 * A lean client for the same session: one keep-alive connection, a JSON-RPC POST per call, the
 * JSON reply read whole. What the server costs with little client overhead on top.
 */
function rawCaller(url: string, token: string, sessionId: string, protocolVersion: string): Call {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  let id = 1_000_000;
  return (tool, args) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: tool, arguments: args } });
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'mcp-session-id': sessionId,
            'mcp-protocol-version': protocolVersion,
            accept: 'application/json, text/event-stream',
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${text}`));
            else {
              const reply = JSON.parse(text) as { error?: unknown; result?: { isError?: boolean } };
              if (reply.error || reply.result?.isError) reject(new Error(`${tool} failed: ${text}`));
              else resolve(reply.result);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

async function measure(label: string, client: Client | Call, tool: string, args: Args): Promise<void> {
  const call: Call = typeof client === 'function' ? client : (t, a) => client.callTool({ name: t, arguments: a });
  for (let i = 0; i < WARMUP; i++) await call(tool, args);
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const times: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t = performance.now();
      await call(tool, args);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    p50s.push(percentile(times, 50));
    p99s.push(percentile(times, 99));
  }
  const range = (xs: number[]) => `${median(xs).toFixed(2)} ms (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
  console.log(`${label} ${tool.padEnd(13)} p50 ${range(p50s)}, p99 ${range(p99s)}`);
}

async function main(): Promise<void> {
  const { core } = makeTestCore({
    state: new MemoryState({ copy: 'none' }),
    ledgerState: new MemoryState({ copy: 'none' }),
    settings: { budget: { daily: 10, monthly: 100 } },
  });
  // Replies are scrubbed of every stored secret, so measure with keys stored, as a user would have.
  await core.addKey('anthropic', { apiKey: 'sk-ant-api03-BENCHbenchBENCHbench0123456789abcdefABCDEF-xyz' }, {}, 'tool');
  await core.addKey('openai', { apiKey: 'sk-proj-BENCHbenchBENCHbench0123456789abcdefABCDEF' }, {}, 'tool');
  const host = await startHttpHost({ createServer: () => createMcpServer({ core, via: 'tool' }) });
  const client = new Client({ name: 'bench', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(host.url), { fetch: isolatedFetch, requestInit: { headers: { Authorization: `Bearer ${host.token}` } } });
  await client.connect(transport);

  console.log(`MCP tool round trip over loopback HTTP (SDK client and server in one process); ${ROUNDS} rounds of ${CALLS} calls after ${WARMUP} warm-up calls; median over rounds (min–max). Targets: p50 ≤ 1 ms, p99 ≤ 3 ms.`);
  const replies: Record<string, unknown> = {};
  for (const [tool, args] of TOOLS) {
    await measure('MCP   ', client, tool, args);
    replies[tool] = await client.callTool({ name: tool, arguments: args });
  }
  const raw = rawCaller(host.url, host.token, transport.sessionId!, transport.protocolVersion ?? LATEST_PROTOCOL_VERSION);
  for (const [tool, args] of TOOLS) await measure('lean† ', raw, tool, args);
  console.log('† lean: the same session driven by a minimal keep-alive HTTP client (JSON-RPC POST, JSON reply) instead of the SDK client.');
  await client.close();
  await host.close();
  await core.flush();
  core.dispose();

  const floor = await clientFloor(replies);
  const floorClient = new Client({ name: 'bench-floor', version: '1' });
  await floorClient.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${(floor.address() as AddressInfo).port}/mcp`), { fetch: isolatedFetch }));
  for (const [tool, args] of TOOLS) await measure('floor*', floorClient, tool, args);
  console.log('* floor: the same client against canned replies (no MCP server): what the client, Node and this machine cost by themselves.');
  await floorClient.close();
  await new Promise((resolve) => floor.close(resolve));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
