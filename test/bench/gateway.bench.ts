// The gateway's added latency and throughput against a minimal OpenAI-style upstream on the same
// machine (the same shape as ../shared/bench/portkey/upstream.js, so figures sit beside Portkey's):
// direct vs through the gateway (key injected, usage tapped and recorded in the ledger). The upstream,
// the gateway and the client each run in their own process, as in the Portkey bench. Prints figures.
// Run: node esbuild.mjs --tests && node out/test/bench/gateway.bench.js
import * as http from 'node:http';
import { fork, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { MemoryState } from '../support/ports';
import { makeTestCore } from '../support/core';
import { startGateway } from '../../src/gateway/server';

const KEY = 'sk-proj-BENCHa1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0';
const TOKEN = 'aikm-gw-bench-token-0123456789abcdefghijklmnopqrstuvwxyz';
const SEQ = Number(process.env.BENCH_SEQ) || 3000;
const STREAMS = Number(process.env.BENCH_STREAMS) || 300;
const LOAD_MS = Number(process.env.BENCH_LOAD_MS) || 5000;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 3;
const STREAM_GAP_MS = 5;

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, how can I help?' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
});
const chunk = (delta: object, extra: object = {}) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
const STREAM_EVENTS = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Hello' }),
  chunk({ content: ' there' }),
  chunk({ content: '!' }),
  chunk({}, { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } })}\n\n`,
  'data: [DONE]\n\n',
];

function upstream(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (!body.includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(COMPLETION) });
        res.end(COMPLETION);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const next = () => {
        res.write(STREAM_EVENTS[i++]);
        if (i < STREAM_EVENTS.length) setTimeout(next, STREAM_GAP_MS);
        else res.end();
      };
      next();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Say hello' }] });

/** One request; resolves with [time to first body byte, total] in ms. */
function request(agent: http.Agent, url: string, body: string, auth: string): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let first = 0;
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: auth, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => {
        if (!first) first = Number(process.hrtime.bigint() - t0) / 1e6;
      });
      res.on('end', () => (res.statusCode === 200 ? resolve([first, Number(process.hrtime.bigint() - t0) / 1e6]) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const median = (xs: number[]) => pct(xs, 50);

async function sequential(url: string, auth: string, n: number, body: string): Promise<{ ttfb: number[]; total: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const ttfb: number[] = [];
  const total: number[] = [];
  for (let i = 0; i < n; i++) {
    const [a, b] = await request(agent, url, body, auth);
    ttfb.push(a);
    total.push(b);
  }
  agent.destroy();
  return { ttfb, total };
}

async function load(url: string, auth: string, connections: number, ms: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let done = 0;
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        await request(agent, url, BODY, auth);
        done++;
      }
    }),
  );
  agent.destroy();
  return done / (ms / 1000);
}

/**
 * The floor: a pass-through proxy that does nothing but forward (no token, no key, no usage), on the
 * same Node http stack and keep-alive agent. What the gateway adds beyond it is its own work.
 */
function bareProxy(upUrl: string): Promise<http.Server> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(upUrl);
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const path = (req.url ?? '/').replace(/^\/openai/, '');
      const up = http.request({ host: target.hostname, port: target.port, path, method: req.method, agent, headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: `Bearer ${KEY}` } }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, { 'content-type': ur.headers['content-type'] ?? 'application/json' });
        ur.pipe(res);
      });
      up.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Runs this file again as a child in `role`; resolves with the URL it prints. */
function child(role: 'upstream' | 'gateway' | 'bare', env: Record<string, string> = {}): Promise<{ proc: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    // BENCH_CPU_PROF=<dir>: a CPU profile of the gateway process, for finding where its time goes.
    const prof = role === 'gateway' && process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const proc = fork(__filename, [role], { env: { ...process.env, ...env }, execArgv: [...process.execArgv, ...prof], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0];
      if (url) resolve({ proc, url });
    });
    proc.on('exit', (code) => reject(new Error(`${role} exited (${code})`)));
  });
}

async function serveGateway(upUrl: string): Promise<void> {
  const { core } = makeTestCore({
    env: { AIKM_OPENAI_BASE_URL: upUrl },
    clock: { now: () => new Date() },
    ledgerState: new MemoryState({ copy: 'none' }),
    state: new MemoryState({ copy: 'none' }),
  });
  await core.addKey('openai', { apiKey: KEY }, {}, 'command');
  const gw = await startGateway({ core, token: TOKEN, port: 0 });
  process.on('message', (m) => (m === 'exit' ? process.exit(0) : process.send?.({ recorded: core.usage({ days: 1 }).totals.requests })));
  process.stdout.write(`${gw.url}\n`);
}

async function main(): Promise<void> {
  const up = await child('upstream');
  const upUrl = up.url;
  const gwc = await child('gateway', { BENCH_UPSTREAM: upUrl });
  const bare = await child('bare', { BENCH_UPSTREAM: upUrl });
  const direct = { url: `${upUrl}/v1/chat/completions`, auth: `Bearer ${KEY}` };
  const via = { url: `${gwc.url}/openai/v1/chat/completions`, auth: `Bearer ${TOKEN}` };
  const floor = { url: `${bare.url}/openai/v1/chat/completions`, auth: 'Bearer none' };
  // Warm-up (JIT, sockets).
  await sequential(direct.url, direct.auth, 300, BODY);
  await sequential(via.url, via.auth, 300, BODY);
  await sequential(floor.url, floor.auth, 300, BODY);

  const rows: Record<string, number[]> = { dP50: [], dP99: [], gP50: [], gP99: [], bP50: [], bP99: [], dRps: [], gRps: [], bRps: [], dTtfb: [], gTtfb: [], bTtfb: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const d = await sequential(direct.url, direct.auth, SEQ, BODY);
    const g = await sequential(via.url, via.auth, SEQ, BODY);
    rows.dP50.push(median(d.total));
    rows.dP99.push(pct(d.total, 99));
    rows.gP50.push(median(g.total));
    rows.gP99.push(pct(g.total, 99));
    const b = await sequential(floor.url, floor.auth, SEQ, BODY);
    rows.bP50.push(median(b.total));
    rows.bP99.push(pct(b.total, 99));
    rows.dRps.push(await load(direct.url, direct.auth, 10, LOAD_MS));
    rows.gRps.push(await load(via.url, via.auth, 10, LOAD_MS));
    rows.bRps.push(await load(floor.url, floor.auth, 10, LOAD_MS));
    const ds = await sequential(direct.url, direct.auth, STREAMS, STREAM_BODY);
    const gs = await sequential(via.url, via.auth, STREAMS, STREAM_BODY);
    rows.dTtfb.push(median(ds.ttfb));
    rows.gTtfb.push(median(gs.ttfb));
    rows.bTtfb.push(median((await sequential(floor.url, floor.auth, STREAMS, STREAM_BODY)).ttfb));
  }
  const m = (k: string) => median(rows[k]);
  const f = (x: number) => x.toFixed(3);
  const recorded = await new Promise<number>((resolve) => {
    gwc.proc.once('message', (m: { recorded: number }) => resolve(m.recorded));
    gwc.proc.send('count');
  });
  process.stdout.write(
    [
      `gateway overhead (${ROUNDS} rounds, medians; ${SEQ} sequential requests, 10 connections for ${LOAD_MS / 1000} s, ${STREAMS} streams)`,
      `  sequential JSON   direct p50 ${f(m('dP50'))} ms p99 ${f(m('dP99'))} ms | gateway p50 ${f(m('gP50'))} ms p99 ${f(m('gP99'))} ms | added p50 +${f(m('gP50') - m('dP50'))} ms p99 +${f(m('gP99') - m('dP99'))} ms`,
      `  throughput        direct ${Math.round(m('dRps'))} req/s | gateway ${Math.round(m('gRps'))} req/s (one process, key injected, usage recorded)`,
      `  stream TTFB       direct ${f(m('dTtfb'))} ms | gateway ${f(m('gTtfb'))} ms | added +${f(m('gTtfb') - m('dTtfb'))} ms`,
      `  floor: a bare pass-through proxy on the same Node http stack adds p50 +${f(m('bP50') - m('dP50'))} ms, p99 +${f(m('bP99') - m('dP99'))} ms, TTFB +${f(m('bTtfb') - m('dTtfb'))} ms, and serves ${Math.round(m('bRps'))} req/s`,
      `  requests recorded in the ledger: ${recorded}`,
      '',
    ].join('\n'),
  );
  // Asked to exit (not killed), so a CPU profile is written.
  gwc.proc.send('exit');
  await new Promise((r) => gwc.proc.once('exit', r));
  up.proc.kill();
  bare.proc.kill();
}

const role = process.argv[2];
const printUrl = (s: http.Server) => void process.stdout.write(`http://127.0.0.1:${(s.address() as AddressInfo).port}\n`);
const run =
  role === 'upstream' ? upstream().then(printUrl) : role === 'bare' ? bareProxy(process.env.BENCH_UPSTREAM ?? '').then(printUrl) : role === 'gateway' ? serveGateway(process.env.BENCH_UPSTREAM ?? '') : main();
void run.then(
  () => {
    if (!role) process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
