// A local HTTP server that answers like the real provider APIs (Anthropic, OpenAI and
// OpenAI-compatible, Gemini, Ollama). Dependency-free: used by unit, MCP and VS Code tests.
// Each provider's wire format lives in its own module (openai.ts, anthropic.ts, gemini.ts, ollama.ts).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ANTHROPIC_ERRORS, handleAnthropic } from './anthropic';
import { GEMINI_ERRORS, handleGemini } from './gemini';
import { OLLAMA_ERRORS, handleOllama } from './ollama';
import { OPENAI_ERRORS, handleOpenAi } from './openai';
import { type Api, type Call, type Ctx, type ProviderErrors, type Reply, estimateTokens, jsonBody, splitText } from './wire';

/**
 * How the fake treats a key. Keys not listed are rejected the way each provider rejects a bad key.
 * - `retryAfter` is sent verbatim as Retry-After (seconds or an HTTP date); OpenAI also gets
 *   retry-after-ms and Gemini a google.rpc.RetryInfo in the body when it is a number of seconds.
 * - `unauthorized` / `forbidden`: the provider's bad-key (401; Gemini 400) / permission (403) reply.
 * - `overloaded`: Anthropic 529, others 503.
 * - `reset`: the connection is destroyed before any byte is sent.
 * - `cutAfterChunks`: a stream closes the connection after that many chunks (SSE events or NDJSON
 *   lines); a plain JSON reply sends its headers and half its body, then closes.
 */
export type FakeKeyBehaviour =
  | 'valid'
  | 'hang'
  | 'server_error'
  | 'quota_exceeded'
  | 'unauthorized'
  | 'forbidden'
  | 'overloaded'
  | 'reset'
  | { retryAfter: number | string }
  | { cutAfterChunks: number };

/**
 * A behaviour, or a script: one behaviour per request, in order; the last one then repeats
 * (['server_error', 'valid'] answers 500, then 200 from then on).
 */
export type FakeKeyScript = FakeKeyBehaviour | FakeKeyBehaviour[];

/**
 * Token counts exactly as the API reports them (OpenAI and Gemini count cached tokens inside input;
 * OpenAI counts reasoning inside output, Gemini reports it beside as thoughtsTokenCount).
 */
export interface FakeUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

export interface FakeProvidersOptions {
  /** Behaviour (or script) per key value. */
  keys?: Record<string, FakeKeyScript>;
  /** Ollama needs no key: how it behaves. Default 'valid'. */
  ollama?: Exclude<FakeKeyBehaviour, 'quota_exceeded'> | Exclude<FakeKeyBehaviour, 'quota_exceeded'>[];
  /** Models each API lists (Gemini names without the "models/" prefix). */
  models?: Partial<Record<Api, string[]>>;
  /** Token counts reported by the chat endpoints; by default derived from text length. */
  usage?: FakeUsage;
  /** Text of every chat reply. */
  replyText?: string;
  /** OpenRouter-style `usage.cost` (USD) added to OpenAI-format chat replies. */
  cost?: number;
  /** How many pieces a streamed reply is split into (at word boundaries). Default 3. */
  streamChunks?: number;
  /** Pause between streamed chunks, in ms. Default 2. */
  chunkDelayMs?: number;
  /**
   * A chat request that declares tools, and whose last message is not a tool result, is answered
   * with a call of this tool (in the provider's own tool-call shape) instead of text.
   */
  toolCall?: FakeToolCall;
}

export interface FakeToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface FakeRequest {
  method: string;
  /** Path including any query string. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Status the fake answered with (unset when it reset the connection or never answered). */
  status?: number;
  /** True once the client closed the connection before the fake finished its reply. */
  aborted: boolean;
}

export interface FakeProviders {
  url: string;
  requests: FakeRequest[];
  /** Resolves once every reply in flight has ended or been closed (hanging ones excepted). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_MODELS: Record<Api, string[]> = {
  anthropic: ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-20250514', 'claude-haiku-4-5-20251001'],
  openai: ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'],
  gemini: ['gemini-2.5-pro', 'gemini-2.0-flash', 'gemini-embedding-001'],
  ollama: ['llama3.1:latest', 'qwen2.5-coder:latest', 'nomic-embed-text:latest'],
};

function bearer(req: http.IncomingMessage): string | undefined {
  const auth = req.headers['authorization'];
  return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startFakeProviders(opts: FakeProvidersOptions = {}): Promise<FakeProviders> {
  const requests: FakeRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  /** Replies in flight (not hanging), for settled(). */
  const open = new Set<http.ServerResponse>();
  /** Replies the fake itself closed early: not client aborts. */
  const closedByFake = new WeakSet<http.ServerResponse>();
  const scriptPos = new Map<string, number>();
  let waiters: (() => void)[] = [];
  let closing = false;
  const replyText = opts.replyText ?? 'Hello from the fake provider.';
  const delayMs = opts.chunkDelayMs ?? 2;
  let seq = 0;

  /** Closes the connection mid-reply, after what was written has been sent (the client sees a truncated body). */
  const cut = (res: http.ServerResponse): void => {
    closedByFake.add(res);
    if (res.socket) res.socket.end();
    else res.destroy();
  };

  const ctx: Ctx = {
    models: { ...DEFAULT_MODELS, ...opts.models },
    replyText,
    cost: opts.cost,
    toolCall: opts.toolCall,
    usageFor: (prompt) => ({
      inputTokens: opts.usage?.inputTokens ?? estimateTokens(prompt),
      outputTokens: opts.usage?.outputTokens ?? estimateTokens(replyText),
      cacheReadTokens: opts.usage?.cacheReadTokens ?? 0,
      cacheWriteTokens: opts.usage?.cacheWriteTokens ?? 0,
      reasoningTokens: opts.usage?.reasoningTokens ?? 0,
    }),
    id: () => ++seq,
    pieces: () => splitText(replyText, opts.streamChunks ?? 3),
    send: (call, status, body, headers = {}) => {
      const { res } = call;
      call.rec.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      const text = JSON.stringify(body);
      if (call.cutAfter === undefined) return void res.end(text);
      res.write(text.slice(0, Math.floor(text.length / 2)));
      cut(res);
    },
    stream: async (call, contentType, frames, headers = {}) => {
      const { res } = call;
      call.rec.status = 200;
      res.writeHead(200, { 'content-type': contentType, ...headers });
      res.flushHeaders();
      for (const [i, frame] of frames.entries()) {
        if (res.destroyed) return;
        if (call.cutAfter !== undefined && i >= call.cutAfter) return cut(res);
        if (i > 0 && delayMs > 0) await sleep(delayMs);
        if (res.destroyed) return;
        if (!res.write(frame)) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.on('drain', done);
            res.on('close', done);
          });
        }
      }
      if (!res.destroyed) res.end();
    },
  };

  const nextBehaviour = (script: FakeKeyScript | undefined, id: string): FakeKeyBehaviour | undefined => {
    if (!Array.isArray(script)) return script;
    const pos = scriptPos.get(id) ?? 0;
    scriptPos.set(id, pos + 1);
    return script[Math.min(pos, script.length - 1)];
  };

  const reply = (call: Call, r: Reply): void => ctx.send(call, r.status, r.body, r.headers);

  /** Applies the key's behaviour; returns true when the response was handled (or left hanging). */
  const gate = (call: Call, behaviour: FakeKeyBehaviour | undefined, errors: ProviderErrors): boolean => {
    const { res } = call;
    if (behaviour === 'valid') return false;
    if (typeof behaviour === 'object' && 'cutAfterChunks' in behaviour) {
      call.cutAfter = behaviour.cutAfterChunks;
      return false;
    }
    if (behaviour === 'hang') {
      open.delete(res);
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return true;
    }
    if (behaviour === undefined || behaviour === 'unauthorized') reply(call, errors.badKey());
    else if (behaviour === 'reset') {
      closedByFake.add(res);
      res.socket?.resetAndDestroy();
    }
    else if (behaviour === 'server_error') reply(call, errors.server());
    else if (behaviour === 'quota_exceeded') reply(call, errors.quota());
    else if (behaviour === 'forbidden') reply(call, errors.forbidden());
    else if (behaviour === 'overloaded') reply(call, errors.overloaded());
    else reply(call, errors.rateLimited(behaviour.retryAfter));
    return true;
  };

  const keyGate = (call: Call, key: string, errors: ProviderErrors): boolean =>
    gate(call, nextBehaviour(opts.keys?.[key], key), errors);

  const route = (call: Call): void => {
    const { req, url } = call;
    const p = url.pathname;
    if (p.startsWith('/api/')) {
      if (gate(call, nextBehaviour(opts.ollama ?? 'valid', '\0ollama'), OLLAMA_ERRORS)) return;
      return handleOllama(ctx, call);
    }
    if (p.startsWith('/v1beta/')) {
      const header = req.headers['x-goog-api-key'];
      const key = typeof header === 'string' && header !== '' ? header : (url.searchParams.get('key') ?? undefined);
      if (!key) return ctx.send(call, 403, GEMINI_ERRORS.missingKey());
      if (keyGate(call, key, GEMINI_ERRORS)) return;
      return handleGemini(ctx, call);
    }
    if (p.startsWith('/v1/messages') || req.headers['anthropic-version'] !== undefined || req.headers['x-api-key'] !== undefined) {
      // The API takes the key as x-api-key; the official SDK (1.x) sends it as Authorization: Bearer.
      const key = req.headers['x-api-key'] || bearer(req);
      if (typeof key !== 'string' || key === '') return ctx.send(call, 401, ANTHROPIC_ERRORS.missingKey());
      if (!req.headers['anthropic-version']) return ctx.send(call, 400, ANTHROPIC_ERRORS.missingVersion());
      if (keyGate(call, key, ANTHROPIC_ERRORS)) return;
      return handleAnthropic(ctx, call);
    }
    const key = bearer(req);
    if (!key) return ctx.send(call, 401, OPENAI_ERRORS.missingKey());
    if (keyGate(call, key, OPENAI_ERRORS)) return;
    handleOpenAi(ctx, call);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const rec: FakeRequest = { method: req.method ?? 'GET', path, headers: req.headers, body: raw, aborted: false };
      requests.push(rec);
      open.add(res);
      res.on('close', () => {
        if (!res.writableFinished && !closedByFake.has(res) && !closing) rec.aborted = true;
        open.delete(res);
        if (open.size === 0) {
          const w = waiters;
          waiters = [];
          for (const f of w) f();
        }
      });
      route({ req, res, url: new URL(path, 'http://127.0.0.1'), raw, body: jsonBody(raw), rec });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    settled: () => (open.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const res of hanging) res.destroy();
        hanging.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
