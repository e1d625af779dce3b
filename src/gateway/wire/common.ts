// Helpers every wire format shares: header look-ups, credential and hop-by-hop header removal,
// tolerant JSON reading, token-count arithmetic and Retry-After parsing.
import type { WireUsage } from './types';

export type Headers = Record<string, string | string[] | undefined>;

/** A header's value, case-insensitively; the first one when the header came several times. */
export function header(headers: Headers, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== want || v === undefined) continue;
    const s = Array.isArray(v) ? v[0] : v;
    if (s !== undefined) return s;
  }
  return undefined;
}

/** The token of an `Authorization: Bearer …` header. */
export function bearer(headers: Headers): string | undefined {
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header(headers, 'authorization') ?? '');
  return m?.[1];
}

export function nonEmpty(s: string | undefined): string | undefined {
  const t = s?.trim();
  return t ? t : undefined;
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus what the gateway re-creates itself. */
const ALWAYS_DROP = [
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'expect',
  // The gateway's own request headers (the task type) stay here.
  'x-aikm-task',
  // The body may be rewritten (prepare), so its length is the dispatcher's to set.
  'content-length',
  // The taps read the response: it must come back uncompressed.
  'accept-encoding',
  // Every credential header any of the four SDKs sends: the gateway token never goes upstream.
  'authorization', 'x-api-key', 'x-goog-api-key', 'api-key',
  // Where a browser-based client runs is the gateway's business (Host/Origin check), not the provider's:
  // Anthropic reads an Origin as a browser request and refuses it without an extra header.
  'origin', 'referer', 'cookie',
];

/** Copies the client's headers minus credentials, hop-by-hop headers and `extra` (lowercased names). */
export function stripHeaders(headers: Headers, extra: readonly string[] = []): Record<string, string> {
  const drop = new Set([...ALWAYS_DROP, ...extra]);
  // Headers the client itself marked hop-by-hop in Connection.
  for (const token of (header(headers, 'connection') ?? '').split(',')) {
    const t = token.trim().toLowerCase();
    if (t) drop.add(t);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (v === undefined || drop.has(name)) continue;
    out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

const decoder = new TextDecoder();

/** JSON from bytes, a string or an already-parsed value; undefined when it is not JSON. */
export function parseJson(body: unknown): unknown {
  if (body instanceof Uint8Array) body = decoder.decode(body);
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** The body as text, for pattern checks on bodies that may not be JSON. */
export function bodyText(body: unknown): string {
  if (body instanceof Uint8Array) return decoder.decode(body);
  if (typeof body === 'string') return body;
  try {
    return JSON.stringify(body) ?? '';
  } catch {
    return '';
  }
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown): Obj | undefined {
  return isObj(v) ? v : undefined;
}

/** A finite non-negative count, or 0. */
export function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Builds a WireUsage, never negative, leaving out the optional fields that were not reported. */
export function usage(u: {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
  reasoning?: number;
  costUsd?: unknown;
}): WireUsage {
  const out: WireUsage = {
    inputTokens: Math.max(0, u.input),
    outputTokens: Math.max(0, u.output),
    cacheReadTokens: Math.max(0, u.cacheRead ?? 0),
    cacheWriteTokens: Math.max(0, u.cacheWrite ?? 0),
  };
  if (u.reasoning) out.reasoningTokens = u.reasoning;
  if (typeof u.costUsd === 'number' && Number.isFinite(u.costUsd) && u.costUsd >= 0) out.costUsd = u.costUsd;
  return out;
}

/** `retry-after-ms` (OpenAI), then `Retry-After` in seconds or as an HTTP date relative to `now`. */
export function retryAfterHeaders(headers: Headers, now: Date): number | undefined {
  const ms = nonEmpty(header(headers, 'retry-after-ms'));
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const ra = nonEmpty(header(headers, 'retry-after'));
  if (ra === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra)) return Math.ceil(Number(ra) * 1000);
  const at = Date.parse(ra);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** A protobuf Duration in its JSON form ("3s", "1.5s", "0.250s") in milliseconds. */
export function durationMs(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(v);
  return m ? Math.ceil(Number(m[1]) * 1000) : undefined;
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The query string with the named parameters removed ("" when nothing is left). */
/** The query as the client sent it: for wires whose clients put no credential there. */
export function keepQuery(url: URL): string {
  return url.search;
}

export function searchWithout(url: URL, names: readonly string[]): string {
  const params = new URLSearchParams(url.search);
  if (!names.some((n) => params.has(n))) return url.search;
  for (const n of names) params.delete(n);
  const s = params.toString();
  return s ? `?${s}` : '';
}
