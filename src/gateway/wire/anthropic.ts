// The Anthropic Messages wire: /v1/messages JSON and SSE, /v1/messages/count_tokens and /v1/models
// (no usage in either).
//
// Shapes checked against Anthropic's "Streaming Messages" docs
// (docs.anthropic.com/en/docs/build-with-claude/streaming): message_start carries a Message with
// usage (input_tokens, cache_creation_input_tokens, cache_read_input_tokens, a first
// output_tokens); "the token counts shown in the usage field of the message_delta event are
// cumulative" — so the last message_delta's output_tokens is the total, never a sum; the stream
// ends with message_stop; an `error` event may come instead. The SDK's MessageStream does the same
// (snapshot.usage.output_tokens = event.usage.output_tokens).
import {
  bearer,
  count,
  header,
  isObj,
  keepQuery,
  mediaType,
  nonEmpty,
  obj,
  parseJson,
  retryAfterHeaders,
  str,
  stripHeaders,
  usage,
  type Headers,
  type Obj,
} from './common';
import { JsonTap, PassTap, SseTap, tapResult, type SseEvent, type StreamReader, type TapResult } from './streams';
import type { PreparedRequest, ResponseTap, WireFormat, WireUsage } from './types';

const USAGE_FIELDS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;
type UsageFields = Partial<Record<(typeof USAGE_FIELDS)[number], number>>;

function isMessages(path: string): boolean {
  return /(^|\/)messages\/?$/.test(path.split('?')[0]!);
}

/** Anthropic's usage is already in the ledger's convention: input excludes cache reads and writes. */
export function anthropicUsage(u: Obj | UsageFields): WireUsage {
  const f = u as Record<string, unknown>;
  return usage({
    input: count(f['input_tokens']),
    output: count(f['output_tokens']),
    cacheRead: count(f['cache_read_input_tokens']),
    cacheWrite: count(f['cache_creation_input_tokens']),
  });
}

class MessageStreamReader implements StreamReader<SseEvent> {
  private fields?: UsageFields;
  private model?: string;
  private stopped = false;

  read(ev: SseEvent): void {
    const data = parseJson(ev.data);
    if (!isObj(data)) return;
    const type = str(data['type']) ?? ev.event;
    if (type === 'message_start') {
      const message = obj(data['message']);
      this.model = str(message?.['model']) ?? this.model;
      this.take(obj(message?.['usage']));
    } else if (type === 'message_delta') {
      // Cumulative: each field present replaces the one seen before.
      this.take(obj(data['usage']));
    } else if (type === 'message_stop') {
      this.stopped = true;
    }
  }

  private take(u: Obj | undefined): void {
    if (!u) return;
    const next: UsageFields = { ...this.fields };
    for (const k of USAGE_FIELDS) if (typeof u[k] === 'number') next[k] = u[k];
    this.fields = next;
  }

  result(): TapResult {
    return tapResult(this.fields && anthropicUsage(this.fields), this.model, this.stopped);
  }
}

function readMessage(json: unknown): TapResult {
  if (!isObj(json)) return { complete: true };
  const u = obj(json['usage']);
  const model = str(json['model']);
  return tapResult(u && anthropicUsage(u), model, true);
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export const anthropic: WireFormat = {
  id: 'anthropic',

  clientToken(headers: Headers): string | undefined {
    return nonEmpty(header(headers, 'x-api-key')) ?? bearer(headers);
  },

  // Claude Code with both ANTHROPIC_API_KEY and ANTHROPIC_AUTH_TOKEN set sends the real key as x-api-key and the token as Bearer.
  clientTokens(headers: Headers): (string | undefined)[] {
    return [nonEmpty(header(headers, 'x-api-key')), bearer(headers)];
  },

  upstreamHeaders(headers: Headers): Record<string, string> {
    return stripHeaders(headers);
  },

  upstreamSearch: keepQuery,

  prepare(_path: string, body: Uint8Array): PreparedRequest {
    const json = parseJson(body);
    if (!isObj(json)) return { body, streaming: false, state: undefined };
    const model = str(json['model']);
    return { body, streaming: json['stream'] === true, ...(model && { model }), state: undefined };
  },

  responseTap(path: string, _status: number, contentType: string | undefined): ResponseTap {
    const sse = mediaType(contentType) === 'text/event-stream';
    if (!isMessages(path)) return sse ? new PassTap() : new JsonTap(() => ({ complete: true }));
    return sse ? new SseTap(new MessageStreamReader()) : new JsonTap(readMessage, ['usage', 'model']);
  },

  errorBody(status: number, message: string): unknown {
    const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return { type: 'error', error: { type, message } };
  },

  keyRejected(status: number): boolean {
    return status === 401 || status === 403;
  },

  retryAfterMs(_status: number, headers: Headers, _body: unknown, now: Date): number | undefined {
    return retryAfterHeaders(headers, now);
  },
};
