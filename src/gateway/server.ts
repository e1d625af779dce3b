// The gateway's HTTP server on 127.0.0.1: each provider's own API under /<provider>/…, for clients
// that present the gateway token where their SDK puts its API key. Wrong or missing token: 401 in
// that provider's error shape; a foreign Host or Origin: 403 (DNS rebinding); a body over the limit: 413.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AiKeyManagerCore } from '../core/service';
import { DEFAULT_RETRY, dispatch, sendError, type DispatchContext, type RetryPolicy } from './dispatch';
import { baseUrlsText, routeOf } from './routes';
import { MIN_GATEWAY_TOKEN_LENGTH, foreignRequest, tokenChecker } from './localGuard';
import { WIRE_FORMATS } from './wire';
import { listModels, routeChat } from './chatRouter';
import { ResponseCache, type ResponseCacheOptions } from './responseCache';
import { DEFAULT_HEADERS_TIMEOUT_MS } from './options';

/** The router's paths (OpenAI format, any provider). */
const ROUTER_PATHS = new Set(['/v1/chat/completions', '/v1/models']);

/** Model lists are kept this long. */
const MODEL_LISTS = { ttlMs: 5 * 60_000, maxBytes: 8 * 1024 * 1024 };

/** The most of an oversized body read (and dropped) after its 413. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

export interface GatewayOptions {
  core: AiKeyManagerCore;
  token: string;
  /** 0 picks a free port. */
  port: number;
  maxBodyBytes?: number;
  retry?: RetryPolicy;
  headersTimeoutMs?: number;
  /** The exact-match response cache for non-streamed replies; off when absent. */
  cache?: ResponseCacheOptions;
  log?: (line: string) => void;
}

export interface Gateway {
  url: string;
  port: number;
  /** A new token (the old one is refused from now on) and cache settings, without a restart. */
  update(changes: { token?: string; cache?: ResponseCacheOptions | null; retry?: RetryPolicy; headersTimeoutMs?: number }): void;
  close(): Promise<void>;
}

/** What dispatch needs, from the gateway's options; also for serving in process (VS Code's chat models). */
export function dispatchContext(opts: Pick<GatewayOptions, 'core' | 'retry' | 'headersTimeoutMs' | 'cache' | 'log'>): DispatchContext {
  return {
    core: opts.core,
    retry: opts.retry ?? DEFAULT_RETRY,
    headersTimeoutMs: opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    log: opts.log,
    modelLists: new ResponseCache(MODEL_LISTS),
    ...(opts.cache && { cache: new ResponseCache(opts.cache) }),
  };
}

/** The check for `token`; throws when it is too short to be a gateway token. */
function checkedToken(token: string): ReturnType<typeof tokenChecker> {
  if (token.length < MIN_GATEWAY_TOKEN_LENGTH) throw new Error(`The gateway token must be at least ${MIN_GATEWAY_TOKEN_LENGTH} characters.`);
  return tokenChecker(token);
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  let tokenOk = checkedToken(opts.token);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const ctx = dispatchContext(opts);
  let cacheOptions = opts.cache;
  let port = 0;

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      opts.log?.(`gateway: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) plain(res, 500, 'The gateway failed on this request; see the log.');
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const foreign = foreignRequest(req.headers, port);
    if (foreign) return plain(res, 403, foreign);
    const host = req.headers.host ?? '';
    const url = new URL(req.url ?? '/', `http://${host}`);
    const route = routeOf(url.pathname);
    const path = url.pathname.replace(/\/+$/, '');
    const router = ROUTER_PATHS.has(path);
    if (!route && !router) return plain(res, 404, `Not found: ${url.pathname}. Base URLs: ${baseUrlsText(`http://${host}`)}.`);
    const wire = route ? WIRE_FORMATS[route.provider.api] : WIRE_FORMATS.openai;
    const presented = wire.clientTokens ? wire.clientTokens(req.headers, url) : [wire.clientToken(req.headers, url)];
    if (!presented.some((t) => tokenOk(t))) {
      return sendError(res, wire, 401, "AI Key Manager gateway: missing or wrong gateway token. Use the gateway token as the API key (it is not a provider key): 'ai-key-manager gateway --print-token', or in VS Code 'AI Keys: Connect a Tool to the Gateway'.");
    }
    const tooLarge = () => {
      sendError(res, wire, 413, `AI Key Manager gateway: the request body is larger than ${maxBody} bytes.`, { connection: 'close' });
      // The rest is read and dropped (up to a bound), so a client still sending gets the 413, not a reset.
      let dropped = 0;
      req.removeAllListeners('data');
      req.on('data', (c: Buffer) => {
        dropped += c.length;
        if (dropped > DRAIN_LIMIT) req.destroy();
      });
      req.resume();
    };
    if (Number(req.headers['content-length'] ?? 0) > maxBody) return tooLarge();
    const body = await readBody(req, maxBody);
    if (body === undefined) return tooLarge();
    if (!route) {
      if (path === '/v1/models' && req.method === 'GET') return listModels(ctx, res);
      if (path === '/v1/chat/completions' && req.method === 'POST') return routeChat(ctx, req.headers, res, body);
      return sendError(res, wire, 405, `AI Key Manager router: ${req.method ?? ''} is not allowed on ${path} (GET /v1/models, POST /v1/chat/completions).`, { allow: path === '/v1/models' ? 'GET' : 'POST' });
    }
    // Without the client's credentials (Gemini's ?key= is the gateway token, never sent on).
    const search = wire.upstreamSearch ? wire.upstreamSearch(url) : url.search;
    await dispatch(ctx, { provider: route.provider, wire, method: req.method ?? 'GET', path: route.path, search, headers: req.headers, body }, res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  server.keepAliveTimeout = 65_000;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    update(changes) {
      if (changes.token !== undefined) tokenOk = checkedToken(changes.token);
      if (changes.retry) ctx.retry = changes.retry;
      if (changes.headersTimeoutMs !== undefined) ctx.headersTimeoutMs = changes.headersTimeoutMs;
      if (changes.cache !== undefined) {
        const next = changes.cache ?? undefined;
        // The same settings keep what is cached.
        if (next?.ttlMs !== cacheOptions?.ttlMs || next?.maxBytes !== cacheOptions?.maxBytes) {
          cacheOptions = next;
          ctx.cache = next ? new ResponseCache(next) : undefined;
        }
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function plain(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(message)) });
  res.end(message);
}

/** The whole body, or undefined once it passes `limit` bytes (the rest is drained, not kept). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) parts.push(c);
      else {
        req.pause(); // answered 413 now, the rest is never read
        resolve(undefined);
      }
    });
    req.on('end', () => resolve(size > limit ? undefined : Buffer.concat(parts)));
    req.on('error', reject);
  });
}
