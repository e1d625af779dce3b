// One client request, served upstream with the stored keys: least recently used key first; a 429
// rests that key and the next serves; a rejected key is disabled and the next serves; 5xx and
// connection errors are retried with backoff, then the next key. Nothing is retried once a byte went
// to the client. The response streams through (with backpressure) past the wire format's usage tap,
// and the request is recorded once, with the provider's own usage.
import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import type { AiKeyManagerCore } from '../core/service';
import type { ProviderSpec } from '../core/providers';
import { endpointUrl } from '../core/endpoints';
import { TASK_TYPES, type TaskType } from '../core/types';
import type { ResponseTap, WireFormat } from './wire/types';
import { MAX_ENTRY_BYTES, ResponseCache, type CachedReply } from './responseCache';

import type { RetryPolicy } from './options';

export { DEFAULT_RETRY, type RetryPolicy } from './options';

export interface DispatchContext {
  core: AiKeyManagerCore;
  retry: RetryPolicy;
  /** How long to wait for the upstream's response headers. */
  headersTimeoutMs: number;
  /** The exact-match response cache, when it is on. */
  cache?: ResponseCache;
  /** Model lists, kept for a few minutes whatever the cache setting. */
  modelLists?: ResponseCache;
  log?: (line: string) => void;
}

export interface ClientRequest {
  provider: ProviderSpec;
  wire: WireFormat;
  method: string;
  /** The provider's own path and query (the gateway prefix and the client's credentials removed). */
  path: string;
  search: string;
  headers: http.IncomingHttpHeaders;
  body: Uint8Array;
  /** The task recorded with the request (the router's); otherwise the client's x-aikm-task header. */
  taskType?: TaskType;
}

/**
 * How a caller that answers in its own format (the router) takes the response: the headers to send
 * and what turns the upstream body into the client's. With an Output, failures before the first
 * byte are returned to the caller instead of answered.
 */
export interface Output {
  open(status: number, upstreamHeaders: http.IncomingHttpHeaders): { headers: Record<string, string | string[]>; body?: BodyConverter };
}

export interface BodyConverter {
  transform(chunk: Uint8Array): Uint8Array;
  /** `complete`: whether the upstream's reply reached its proper end (a cut one must not read as finished). */
  flush(complete?: boolean): Uint8Array;
}

/** Why a request was not served; nothing was sent to the client. */
export interface DispatchFailure {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

/** Response headers not passed on: hop-by-hop, and the length (a tap may drop bytes). */
const DROP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'trailer', 'proxy-authenticate', 'proxy-connection', 'te']);
/** Responses the taps can read; anything else (audio, images) passes through as it is and counts as complete. */
const TEXTUAL = /json|event-stream|ndjson|^text\//i;
/** An upstream that sends nothing for this long while a body is on its way is taken as stalled. */
const IDLE_MS = 120_000;
const CLIENT_CLOSED = 'the client closed the connection';

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  res: http.IncomingMessage;
  req: http.ClientRequest;
}

/** An answer not passed on as it came (read whole): kept to give the client when no key serves. */
interface HeldAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Where a response goes: the client's HTTP response, or an in-process consumer (VS Code's chat
 * models). Closing it before the end frees the upstream and is recorded as a client hang-up.
 */
export interface ResponseSink {
  writeHead(status: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
  destroy(err?: Error): unknown;
  on(event: 'close' | 'drain', listener: () => void): unknown;
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
}

export async function dispatch(ctx: DispatchContext, r: ClientRequest, res: ResponseSink, output?: Output): Promise<DispatchFailure | undefined> {
  const { core } = ctx;
  const fail = (f: DispatchFailure): DispatchFailure | undefined => {
    if (output) return f;
    sendError(res, r.wire, f.status, f.message, f.headers);
    return undefined;
  };
  const spec = r.provider;
  const url = new URL(`http://gateway${r.path}${r.search}`);
  // Mistral refuses stream_options (422) and reports usage in its last chunk anyway.
  const prepared = r.wire.prepare(r.path, r.body, url, { addStreamUsage: spec.id !== 'mistral' });
  const taskType = r.taskType ?? taskOf(r.headers['x-aikm-task']);
  const started = Date.now();
  const model = prepared.model;

  // Only requests that generate (and cost): model lists and token counts pass.
  const generates = r.method === 'POST' && model !== undefined && !/count_?tokens/i.test(r.path);
  // A cache hit costs nothing, so it is served even over budget and without a usable key.
  const cache = ResponseCache.refused(r.headers) ? undefined : generates && !prepared.streaming ? ctx.cache : r.method === 'GET' && isModelList(r.path) ? ctx.modelLists : undefined;
  // Keyed by the base URL too: after it changes, nothing from the old endpoint is served.
  const cached = cache && { cache, key: ResponseCache.key(`${spec.id} ${baseUrlOf(core, spec.id)}`, r.method, r.path, r.search, r.headers, prepared.body) };
  const hit = cached?.cache.get(cached.key);
  if (hit) return serveCached(ctx, r, res, hit, { model, taskType, started, generates }, output);
  const refusal = generates ? core.traffic.budgetRefusal(spec.id) : undefined;
  if (refusal) return fail({ status: 429, message: refusal });

  const keys: (string | undefined)[] = spec.requiresKey ? core.traffic.keysFor(spec.id).map((k) => k.id) : [undefined];
  if (keys.length === 0) {
    const why = core.traffic.noKeyReason(spec.id);
    // Not 401: the client's token was right, and SDKs read 401 as "your API key is wrong".
    return fail({ status: why.retryAt ? 429 : 503, message: why.message, headers: why.retryAt ? { 'retry-after': secondsUntil(why.retryAt, core) } : {} });
  }

  let target: URL;
  try {
    target = new URL(endpointUrl(core.baseUrl(spec.id), r.path) + r.search);
  } catch (err) {
    return fail({ status: 502, message: err instanceof Error ? err.message : String(err) });
  }

  let held: HeldAnswer | undefined;
  let lastError: string | undefined;
  let clientGone = false;
  let inFlight: http.ClientRequest | undefined;
  res.on('close', () => {
    if (res.writableFinished) return;
    clientGone = true;
    inFlight?.destroy(); // the upstream is freed even while its headers are awaited
  });
  let rejectedBy = 0;
  /** Upstream tries made, and those that failed before the one that answers. */
  let tries = 0;
  let retries = 0;
  let outOfTime = false;

  for (const keyId of keys) {
    let auth: Record<string, string>;
    try {
      auth = await core.traffic.authFor(spec.id, keyId);
    } catch (err) {
      // Its secret cannot be read (missing, vault locked): the next key, at once.
      lastError = err instanceof Error ? err.message : String(err);
      ctx.log?.(`gateway: ${spec.displayName} key ${keyId ?? ''} skipped: ${lastError}`);
      continue;
    }
    for (let attempt = 0; attempt < ctx.retry.attempts && !clientGone; attempt++) {
      if (attempt > 0) await sleep(backoff(ctx.retry, attempt));
      if (tries > 0 && ctx.retry.maxTotalMs !== undefined && Date.now() - started >= ctx.retry.maxTotalMs) {
        outOfTime = true;
        break;
      }
      if (clientGone) break;
      let up: Upstream;
      if (tries++ > 0) retries++;
      try {
        up = await send(target, r.method, { ...r.wire.upstreamHeaders(r.headers), 'accept-encoding': 'identity', ...auth }, prepared.body, ctx.headersTimeoutMs, (req) => (inFlight = req));
      } catch (err) {
        lastError = `${spec.displayName} could not be reached at ${target.origin}: ${err instanceof Error ? err.message : String(err)}`;
        ctx.log?.(`gateway: ${lastError} (attempt ${attempt + 1})`);
        continue;
      }
      const { status } = up;
      if (status >= 400) {
        const body = await readAll(up.res, 1_000_000);
        const parsed = parseJson(body);
        if (status === 429 && keyId !== undefined) {
          held = { status, headers: up.headers, body };
          await core.traffic.rateLimited(spec.id, keyId, r.wire.retryAfterMs(status, up.headers, parsed, core.clock.now()));
          break; // the next key
        }
        if (keyId !== undefined && r.wire.keyRejected(status, parsed)) {
          held = { status, headers: up.headers, body };
          // A 403 may be about the account or the region, not the key: it is not disabled for that.
          if (status !== 403) await core.traffic.rejected(spec.id, keyId, status);
          rejectedBy++;
          break;
        }
        if (status >= 500) {
          held = { status, headers: up.headers, body };
          lastError = `${spec.displayName} answered HTTP ${status}`;
          continue; // retry this key after a pause
        }
        // Any other 4xx is the client's request: passed on, not retried.
        return finishHeld(ctx, r, res, { status, headers: up.headers, body }, { model, taskType, started, generates, retries }, output && fail);
      }
      if (clientGone) {
        up.req.destroy();
        break;
      }
      return stream(ctx, r, up, res, prepared.state, { model, taskType, started, keyId, retries, generates, cached }, output).then(() => undefined);
    }
    if (clientGone || outOfTime) break;
  }
  if (clientGone) {
    if (generates) record(ctx, r, { model: model ?? 'unknown', taskType, started, success: false, providerFault: false, error: `incomplete: ${CLIENT_CLOSED}`, incomplete: true, retries });
    return undefined;
  }
  if (held && rejectedBy > 0 && held.status !== 429) {
    // The provider's "invalid key" names our key (masked or not) and reads to an SDK as "your token is wrong".
    const msg = `AI Key Manager: ${spec.displayName} rejected ${rejectedBy === 1 ? 'its key' : `all ${rejectedBy} keys`} (HTTP ${held.status}). Rotate or re-validate the key ('AI Keys: Rotate API Key').`;
    // A key problem, not the provider's health.
    if (generates) record(ctx, r, { model: model ?? 'unknown', taskType, started, success: false, providerFault: false, error: `HTTP ${held.status}`, retries });
    return fail({ status: held.status === 403 ? 403 : 502, message: msg });
  }
  if (held) return finishHeld(ctx, r, res, held, { model, taskType, started, generates, retries, allResting: held.status === 429 }, output && fail);
  if (outOfTime) lastError = `${lastError ?? `${spec.displayName} did not answer`}; no more tries after ${Math.round((ctx.retry.maxTotalMs ?? 0) / 1000)} s (${tries} tr${tries === 1 ? 'y' : 'ies'})`;
  if (generates) record(ctx, r, { model: model ?? 'unknown', taskType, started, success: false, error: lastError, retries });
  return fail({ status: 502, message: lastError ?? `${spec.displayName} did not answer.` });
}

/** Passes a response through the usage tap to the client, then records the request. */
function stream(ctx: DispatchContext, r: ClientRequest, up: Upstream, res: ResponseSink, state: unknown, meta: { model?: string; taskType?: TaskType; started: number; keyId?: string; retries: number; generates: boolean; cached?: { cache: ResponseCache; key: string } }, output?: Output): Promise<void> {
  const contentType = header(up.headers['content-type']) ?? '';
  const encoded = (header(up.headers['content-encoding']) ?? 'identity') !== 'identity';
  // A coded or binary body passes through untouched: the tap could not read it.
  const readable = TEXTUAL.test(contentType) && !encoded;
  const tap: ResponseTap = readable ? r.wire.responseTap(r.path, up.status, contentType, state) : { transform: (c) => c, end: () => ({ complete: true }) };
  // Read once: a JSON tap parses the whole body at its end.
  let ended: ReturnType<ResponseTap['end']> | undefined;
  const tapEnd = () => (ended ??= safeEnd(tap));
  let converter: BodyConverter | undefined;
  // A 200 that may be kept for the cache: its raw bytes, until it grows past what an entry may hold.
  let keep: Buffer[] | undefined = meta.cached && up.status === 200 && readable ? [] : undefined;
  let kept = 0;
  const cacheHeader: Record<string, string> = meta.cached ? { 'x-aikm-cache': 'miss' } : {};
  if (output) {
    const opened = output.open(up.status, up.headers);
    converter = opened.body;
    res.writeHead(up.status, { ...opened.headers, ...cacheHeader });
  } else {
    res.writeHead(up.status, { 'x-aikm-provider': r.provider.id, ...passedOn(up.headers), ...cacheHeader });
  }
  const convert = (bytes: Uint8Array): Uint8Array => {
    if (!converter) return bytes;
    try {
      return converter.transform(bytes);
    } catch (err) {
      ctx.log?.(`gateway: could not convert a ${r.provider.id} response: ${err instanceof Error ? err.message : String(err)}`);
      return new Uint8Array(0);
    }
  };
  return new Promise((resolve) => {
    let done = false;
    const finish = (cut: string | undefined) => {
      if (done) return;
      done = true;
      const end = tapEnd();
      const model = end.model ?? meta.model;
      if (keep && cut === undefined && end.complete && meta.cached) {
        meta.cached.cache.set(meta.cached.key, { status: up.status, headers: passedOn(up.headers), body: Buffer.concat(keep), ...(model && { model }) });
      }
      if (end.usage || meta.generates) {
        const incomplete = cut ?? (end.complete ? undefined : 'the response ended before its last event');
        // A client's own hang-up or a request the provider refused as bad says nothing about the provider's health.
        const providerFault = up.status >= 500 || (incomplete !== undefined && cut !== CLIENT_CLOSED);
        record(ctx, r, {
          model: model ?? 'unknown',
          taskType: meta.taskType,
          started: meta.started,
          usage: end.usage,
          success: up.status < 400 && !incomplete,
          providerFault,
          error: incomplete ? `incomplete: ${incomplete}` : up.status >= 400 ? `HTTP ${up.status}` : undefined,
          keyId: meta.keyId,
          retries: meta.retries,
          incomplete: incomplete !== undefined,
        });
      }
      resolve();
    };
    up.res.on('data', (chunk: Buffer) => {
      if (keep) {
        kept += chunk.length;
        if (kept <= MAX_ENTRY_BYTES) keep.push(chunk);
        else keep = undefined;
      }
      let out: Uint8Array;
      try {
        out = tap.transform(chunk);
      } catch {
        out = chunk; // a tap must never cost the client its reply
      }
      out = convert(out);
      if (out.length > 0 && !res.write(out)) up.res.pause();
    });
    res.on('drain', () => up.res.resume());
    up.res.on('end', () => {
      let rest: Uint8Array | undefined;
      try {
        rest = tap.flush?.();
      } catch {
        rest = undefined;
      }
      if (converter) {
        const last = convert(rest ?? new Uint8Array(0));
        let tail: Uint8Array = new Uint8Array(0);
        try {
          tail = converter.flush(tapEnd().complete);
        } catch (err) {
          ctx.log?.(`gateway: could not convert a ${r.provider.id} response: ${err instanceof Error ? err.message : String(err)}`);
        }
        rest = Buffer.concat([last, tail]);
      }
      res.end(rest && rest.length > 0 ? rest : undefined);
      finish(undefined);
    });
    up.res.setTimeout(IDLE_MS, () => up.req.destroy(new Error(`no data for ${IDLE_MS / 1000} s`)));
    up.res.on('error', (err) => {
      // Recorded as the upstream's cut before the client side closes (an in-process sink closes at once).
      finish(`the upstream connection failed (${err.message})`);
      res.destroy(err);
    });
    res.on('close', () => {
      if (res.writableFinished) return;
      up.req.destroy(); // frees the upstream
      finish(CLIENT_CLOSED);
    });
    if (res.destroyed) {
      up.req.destroy();
      finish(CLIENT_CLOSED);
    }
  });
}

/** A reply from the cache: sent as the provider sent it (converted for the router), recorded at $0. */
function serveCached(ctx: DispatchContext, r: ClientRequest, res: ResponseSink, hit: CachedReply, meta: { model?: string; taskType?: TaskType; started: number; generates: boolean }, output?: Output): undefined {
  let headers: Record<string, string | string[]>;
  let body: Buffer = hit.body;
  if (output) {
    const opened = output.open(hit.status, hit.headers);
    headers = { ...opened.headers };
    if (opened.body) body = Buffer.concat([opened.body.transform(hit.body), opened.body.flush()]);
  } else {
    headers = { 'x-aikm-provider': r.provider.id, ...hit.headers };
  }
  headers['x-aikm-cache'] = 'hit';
  headers['content-length'] = String(body.length);
  res.writeHead(hit.status, headers);
  res.end(body);
  if (meta.generates) record(ctx, r, { model: hit.model ?? meta.model ?? 'unknown', taskType: meta.taskType, started: meta.started, success: true, cached: true });
  return undefined;
}

function finishHeld(
  ctx: DispatchContext,
  r: ClientRequest,
  res: ResponseSink,
  held: HeldAnswer,
  meta: { model?: string; taskType?: TaskType; started: number; generates?: boolean; retries?: number; allResting?: boolean },
  fail?: (f: DispatchFailure) => DispatchFailure | undefined,
): DispatchFailure | undefined {
  if (meta.generates) record(ctx, r, { model: meta.model ?? 'unknown', taskType: meta.taskType, started: meta.started, success: false, providerFault: held.status >= 500 || held.status === 429, error: `HTTP ${held.status}`, retries: meta.retries });
  const headers: Record<string, string | string[]> = { 'x-aikm-provider': r.provider.id };
  // The body is sent decoded.
  const { ['content-encoding']: _coding, ...rest } = passedOn(held.headers);
  Object.assign(headers, rest);
  if (meta.allResting) {
    const why = ctx.core.traffic.noKeyReason(r.provider.id);
    delete headers['retry-after-ms']; // one key's; Retry-After below is when the first key is back
    if (why.retryAt) headers['retry-after'] = secondsUntil(why.retryAt, ctx.core);
  }
  // An error body may quote the key it was sent with.
  const text = ctx.core.traffic.mask(decoded(held).toString('utf8'));
  if (fail) {
    const retryAfter = headers['retry-after'];
    return fail({
      status: held.status,
      message: `${r.provider.displayName} answered HTTP ${held.status}: ${errorMessage(text)}`,
      ...(typeof retryAfter === 'string' && { headers: { 'retry-after': retryAfter } }),
    });
  }
  const body = Buffer.from(text, 'utf8');
  headers['content-length'] = String(body.length);
  res.writeHead(held.status, headers);
  res.end(body);
  return undefined;
}

/** The message in a provider's error body (OpenAI, Anthropic, Gemini: error.message; Ollama: error), else the text itself, shortened. */
export function errorMessage(text: string): string {
  const json = parseJson(Buffer.from(text, 'utf8'));
  const e = json && typeof json === 'object' ? (json as { error?: unknown }).error : undefined;
  const m = typeof e === 'string' ? e : e && typeof e === 'object' ? (e as { message?: unknown }).message : undefined;
  const msg = typeof m === 'string' && m !== '' ? m : text.trim();
  return msg.length > 500 ? `${msg.slice(0, 500)}…` : msg || '(no details)';
}

/** A held body as text: decompressed when the upstream coded it anyway. */
function decoded(held: HeldAnswer): Buffer {
  const coding = header(held.headers['content-encoding']);
  try {
    if (coding === 'gzip') return zlib.gunzipSync(held.body);
    if (coding === 'deflate') return zlib.inflateSync(held.body);
    if (coding === 'br') return zlib.brotliDecompressSync(held.body);
  } catch {
    /* shown as it came */
  }
  return held.body;
}

interface Outcome {
  model: string;
  taskType?: TaskType;
  started: number;
  usage?: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number; costUsd?: number };
  success: boolean;
  /** Whether a failure counts against the provider's health (default: yes). */
  providerFault?: boolean;
  error?: string;
  keyId?: string;
  retries?: number;
  incomplete?: boolean;
  cached?: boolean;
}

function record(ctx: DispatchContext, r: ClientRequest, o: Outcome): void {
  try {
    ctx.core.track(
      {
        provider: r.provider.id,
        model: o.model,
        inputTokens: o.usage?.inputTokens ?? 0,
        outputTokens: o.usage?.outputTokens ?? 0,
        cacheReadTokens: o.usage?.cacheReadTokens ?? 0,
        cacheWriteTokens: o.usage?.cacheWriteTokens ?? 0,
        providerCostUsd: o.usage?.costUsd,
        success: o.success,
        ...(o.success || o.providerFault !== false ? {} : { healthNeutral: true }),
        latencyMs: Date.now() - o.started,
        taskType: o.taskType,
        error: o.error,
        ...(o.keyId !== undefined && { keyId: o.keyId }),
        ...(o.retries && { retries: o.retries }),
        ...(o.incomplete && { incomplete: true }),
        ...(o.cached && { cached: true }),
      },
      'gateway',
    );
  } catch (err) {
    ctx.log?.(`gateway: could not record a ${r.provider.id} request: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function send(target: URL, method: string, headers: Record<string, string>, body: Uint8Array, timeoutMs: number, started: (req: http.ClientRequest) => void): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.request(target, {
      method,
      agent: target.protocol === 'https:' ? agents.https : agents.http,
      headers: { ...headers, ...(body.length > 0 || method === 'POST' ? { 'content-length': String(body.length) } : {}) },
    });
    started(req);
    const timer = setTimeout(() => {
      const err = new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`);
      reject(err); // before destroy: a request still queued in the agent emits no error
      req.destroy(err);
    }, timeoutMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      resolve({ status: res.statusCode ?? 502, headers: res.headers, res, req });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('close', () => {
      clearTimeout(timer);
      reject(new Error('the connection closed before an answer'));
    });
    req.end(body.length > 0 ? body : undefined);
  });
}

/** Response headers as they go on to the client. */
function passedOn(headers: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !DROP_RESPONSE_HEADERS.has(k)) out[k] = v;
  return out;
}

/** Whole seconds from now until `at`, at least 1, for Retry-After. */
function secondsUntil(at: Date, core: AiKeyManagerCore): string {
  return String(Math.max(1, Math.ceil((at.getTime() - core.clock.now().getTime()) / 1000)));
}

/** A body in the provider's error shape for what the gateway itself answers. */
export function sendError(res: ResponseSink, wire: WireFormat, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(wire.errorBody(status, message)), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length), ...headers });
  res.end(body);
}

function readAll(res: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) parts.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(parts)));
    res.on('error', () => resolve(Buffer.concat(parts)));
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function safeEnd(tap: ResponseTap): ReturnType<ResponseTap['end']> {
  try {
    return tap.end();
  } catch {
    return { complete: true };
  }
}

/** Exponential backoff with full jitter. */
function backoff(p: RetryPolicy, attempt: number): number {
  return Math.random() * Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function baseUrlOf(core: AiKeyManagerCore, provider: string): string {
  try {
    return core.baseUrl(provider);
  } catch {
    return '';
  }
}

/** A provider's model list: /v1/models, /v1beta/models, /api/tags. */
function isModelList(path: string): boolean {
  return /^\/(?:api\/v1\/|v1\/|v1beta\/)?models\/?$|^\/api\/tags\/?$/.test(path);
}

function taskOf(v: string | string[] | undefined): TaskType | undefined {
  const t = header(v);
  return TASK_TYPES.find((x) => x === t);
}
