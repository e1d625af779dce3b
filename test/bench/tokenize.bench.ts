// Benchmark, not a test: estimate_cost on 2,000,000 characters of several shapes, through core and
// through the MCP HTTP host with the real SDK client, while other calls keep coming. Prints figures.
// Run: node esbuild.mjs --tests && node out/test/bench/tokenize.bench.js
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AiKeyManagerCore } from '../../src/core/service';
import { createMcpServer } from '../../src/mcp/server';
import { startHttpHost } from '../../src/mcp/httpHost';
import { MAX_TEXT_BYTES, MAX_TEXT_CHARS } from '../../src/core/tokenize';
import { MemoryState } from '../support/ports';
import { makeTestCore } from '../support/core';
import { rng } from '../support/rng';


function shapes(): Record<string, string> {
  const r = rng(1);
  const pick = (n: number, f: () => string) => Array.from({ length: n }, f).join('');
  const words = ['the', 'budget', 'of', 'a', 'request', 'is', 'counted', 'in', 'tokens,', 'not', 'characters.', 'API', '2026', 'keys\n'];
  return {
    'prose (words and spaces)': pick(400_000, () => words[Math.floor(r() * words.length)] + ' ').slice(0, MAX_TEXT_CHARS),
    'one letter repeated': 'x'.repeat(MAX_TEXT_CHARS),
    'random letters, no spaces': pick(MAX_TEXT_CHARS, () => String.fromCharCode(97 + Math.floor(r() * 26))),
    base64: randomBytes(1_500_000).toString('base64').slice(0, MAX_TEXT_CHARS),
    'CSV with CRLF line ends': Array.from({ length: 120_000 }, (_, i) => `${i},item${i},${(r() * 100).toFixed(2)}`).join('\r\n').slice(0, MAX_TEXT_CHARS),
    'double-spaced words': pick(300_000, () => words[Math.floor(r() * words.length)].trim() + '  ').slice(0, MAX_TEXT_CHARS),
    'minified JSON': JSON.stringify(Array.from({ length: 60_000 }, (_, i) => ({ id: i, name: `item${i}`, v: i * 1.5 }))).slice(0, MAX_TEXT_CHARS),
    [`random CJK (${(MAX_TEXT_BYTES / 1e6).toFixed(0)} MB)`]: pick(Math.floor(MAX_TEXT_BYTES / 3), () => String.fromCharCode(0x4e00 + Math.floor(r() * 20_000))),
  };
}

/** Stores that keep the caller's objects, so copying is not what is measured. */
function core(): AiKeyManagerCore {
  return makeTestCore({
    state: new MemoryState({ copy: 'none' }),
    ledgerState: new MemoryState({ copy: 'none' }),
    settings: { budget: { daily: 0, monthly: 0, alertThreshold: 0.8, enforce: false } },
  }).core;
}

async function main(): Promise<void> {
  const c = core();
  console.log(`estimate_cost on ${MAX_TEXT_CHARS.toLocaleString('en-US')} characters (gpt-4o, o200k_base), core.estimateCostAsync`);
  console.log('shape                          chars       time      tokens     cuts  longest event-loop block');
  await c.estimateCostAsync({ model: 'gpt-4o', text: 'warm up the tokenizer' });
  const texts = shapes();
  for (const [name, text] of Object.entries(texts)) {
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const t = performance.now();
    const r = await c.estimateCostAsync({ model: 'gpt-4o', text });
    const ms = performance.now() - t;
    h.disable();
    console.log(
      `${name.padEnd(30)} ${text.length.toLocaleString('en-US').padStart(9)} ${(ms / 1000).toFixed(2).padStart(7)} s ${r.tokens.inputTokens.toLocaleString('en-US').padStart(11)} ${String(r.tokenizer?.runCuts ?? 0).padStart(7)}  ${(h.max / 1e6).toFixed(0)} ms`,
    );
  }

  // The same through MCP: one client sends 2,000,000 random letters while another asks check_budget every 10 ms.
  const host = await startHttpHost({ createServer: () => createMcpServer({ core: c, via: 'tool' }) });
  const connect = async () => {
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(host.url), { requestInit: { headers: { authorization: `Bearer ${host.token}` } } }));
    return client;
  };
  const [big, small] = await Promise.all([connect(), connect()]);
  const latencies: number[] = [];
  let done = false;
  const poll = (async () => {
    while (!done) {
      const t = performance.now();
      await small.callTool({ name: 'check_budget', arguments: {} });
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  const t = performance.now();
  const reply = await big.callTool({ name: 'estimate_cost', arguments: { model: 'gpt-4o', text: texts['random letters, no spaces'] } }, undefined, { timeout: 120_000 });
  const ms = performance.now() - t;
  done = true;
  await poll;
  latencies.sort((a, b) => a - b);
  console.log(
    `\nMCP estimate_cost, ${MAX_TEXT_CHARS.toLocaleString('en-US')} random letters over HTTP: ${(ms / 1000).toFixed(2)} s (${reply.isError ? 'error' : 'ok'}); ` +
      `${latencies.length} check_budget calls meanwhile, slowest ${latencies[latencies.length - 1]?.toFixed(0)} ms, median ${latencies[latencies.length >> 1]?.toFixed(1)} ms`,
  );
  await Promise.all([big.close(), small.close()]);
  await host.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
