// The Gemini API wire (generativelanguage.googleapis.com): models/{model}:generateContent JSON,
// :streamGenerateContent with ?alt=sse (or, without it, one streamed JSON array), :countTokens,
// :embedContent / :batchEmbedContents, models.
//
// Shapes checked against the Gemini API reference for UsageMetadata: promptTokenCount ("when
// cachedContent is set, this is still the total effective prompt size meaning this includes the
// number of tokens in the cached content"), cachedContentTokenCount, candidatesTokenCount,
// thoughtsTokenCount ("number of tokens of thoughts for thinking models", outside
// candidatesTokenCount), toolUsePromptTokenCount, totalTokenCount; modelVersion. In a stream
// every chunk's usageMetadata is the running total: the last one wins. Errors are
// {error: {code, message, status, details: [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
// retryDelay: "3s"}, {"@type": "…ErrorInfo", reason: "API_KEY_INVALID"}]}}.
import {
  bodyText,
  count,
  durationMs,
  header,
  isObj,
  mediaType,
  nonEmpty,
  obj,
  parseJson,
  retryAfterHeaders,
  searchWithout,
  str,
  stripHeaders,
  usage,
  type Headers,
  type Obj,
} from './common';
import { JsonTap, SseTap, tapResult, type SseEvent, type StreamReader, type TapResult } from './streams';
import type { PreparedRequest, ResponseTap, WireFormat, WireUsage } from './types';

/** The model and method of a path such as /v1beta/models/gemini-2.5-flash:streamGenerateContent. */
export function geminiTarget(path: string): { model?: string; method?: string } {
  const m = /\/(?:models|tunedModels)\/([^/:?]+)(?::([A-Za-z]+))?/.exec(path.split('?')[0]!);
  if (!m) return {};
  return { ...(m[1] && { model: decodeURIComponent(m[1]) }), ...(m[2] && { method: m[2] }) };
}

/** Gemini counts cached tokens inside promptTokenCount and thoughts outside candidatesTokenCount. */
export function geminiUsage(m: Obj): WireUsage {
  const cached = count(m['cachedContentTokenCount']);
  const thoughts = count(m['thoughtsTokenCount']);
  return usage({
    input: count(m['promptTokenCount']) - cached + count(m['toolUsePromptTokenCount']),
    output: count(m['candidatesTokenCount']) + thoughts,
    cacheRead: cached,
    reasoning: thoughts,
  });
}

/** Reads GenerateContentResponse objects; each one's usageMetadata replaces the last. */
class ResponseReader implements StreamReader<unknown> {
  private meta?: Obj;
  private model?: string;
  private finished = false;

  read(item: unknown): void {
    if (!isObj(item)) return;
    this.meta = obj(item['usageMetadata']) ?? this.meta;
    this.model = str(item['modelVersion']) ?? this.model;
    const candidates = item['candidates'];
    if (Array.isArray(candidates) && candidates.some((c) => isObj(c) && str(c['finishReason']))) this.finished = true;
    if (str(obj(item['promptFeedback'])?.['blockReason'])) this.finished = true;
  }

  result(): TapResult {
    return tapResult(this.meta && geminiUsage(this.meta), this.model, this.finished);
  }
}

class SseReader implements StreamReader<SseEvent> {
  readonly inner = new ResponseReader();
  read(ev: SseEvent): void {
    this.inner.read(parseJson(ev.data));
  }
  result(): TapResult {
    return this.inner.result();
  }
}

function readBody(json: unknown): TapResult {
  const reader = new ResponseReader();
  for (const item of Array.isArray(json) ? json : [json]) reader.read(item);
  // A whole body that parsed is complete even without a finishReason (embeddings, errors).
  return { ...reader.result(), complete: true };
}

function errorOf(body: unknown): Obj | undefined {
  const json = parseJson(body);
  const first = Array.isArray(json) ? json[0] : json;
  return obj(obj(first)?.['error']);
}

function details(body: unknown): Obj[] {
  const d = errorOf(body)?.['details'];
  return Array.isArray(d) ? d.filter(isObj) : [];
}

const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export const gemini: WireFormat = {
  id: 'gemini',

  clientToken(headers: Headers, url: URL): string | undefined {
    return nonEmpty(header(headers, 'x-goog-api-key')) ?? nonEmpty(url.searchParams.get('key') ?? undefined);
  },

  upstreamHeaders(headers: Headers): Record<string, string> {
    return stripHeaders(headers);
  },

  upstreamSearch(url: URL): string {
    return searchWithout(url, ['key']);
  },

  prepare(path: string, body: Uint8Array): PreparedRequest {
    const { model, method } = geminiTarget(path);
    return { body, streaming: method === 'streamGenerateContent', ...(model && { model }), state: undefined };
  },

  responseTap(path: string, _status: number, contentType: string | undefined): ResponseTap {
    const { method } = geminiTarget(path);
    // countTokens answers {totalTokens}: a count, not usage.
    if (method === 'countTokens') return new JsonTap(() => ({ complete: true }));
    if (mediaType(contentType) === 'text/event-stream') return new SseTap(new SseReader());
    return new JsonTap(readBody, ['usageMetadata', 'modelVersion']);
  },

  errorBody(status: number, message: string): unknown {
    return { error: { code: status, message, status: STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION') } };
  },

  keyRejected(status: number, body: unknown): boolean {
    if (status === 401 || status === 403) return true;
    if (status !== 400) return false;
    if (details(body).some((d) => d['reason'] === 'API_KEY_INVALID')) return true;
    return /API_KEY_INVALID|API key not valid|API Key not found/i.test(bodyText(body));
  },

  retryAfterMs(_status: number, headers: Headers, body: unknown, now: Date): number | undefined {
    const fromHeaders = retryAfterHeaders(headers, now);
    if (fromHeaders !== undefined) return fromHeaders;
    for (const d of details(body)) {
      if (!String(d['@type'] ?? '').endsWith('google.rpc.RetryInfo')) continue;
      const ms = durationMs(d['retryDelay']);
      if (ms !== undefined) return ms;
    }
    return undefined;
  },
};
