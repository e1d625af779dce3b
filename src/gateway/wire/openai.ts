// The OpenAI wire, also spoken by OpenRouter, Groq, Mistral, DeepSeek and other compatibles:
// chat/completions (and legacy completions) JSON and SSE, the Responses API JSON and SSE,
// embeddings, models.
//
// Shapes checked against: the OpenAI API spec's ChatCompletionStreamOptions ("an additional chunk
// will be streamed before the data: [DONE] message … the choices field will always be an empty
// array. All other chunks will also include a usage field, but with a null value"); the Responses
// streaming events (the stream ends with response.completed / response.incomplete /
// response.failed, no [DONE]; usage with input_tokens_details.cached_tokens and
// output_tokens_details.reasoning_tokens); DeepSeek's prompt_cache_hit_tokens; OpenRouter's
// usage.cost and prompt_tokens_details.cache_write_tokens; Groq's x_groq.usage.
import {
  bearer,
  count,
  isObj,
  keepQuery,
  obj,
  parseJson,
  retryAfterHeaders,
  str,
  stripHeaders,
  usage,
  mediaType,
  type Headers,
  type Obj,
} from './common';
import { JsonTap, SseEventFilter, SseTap, tapResult, type SseEvent, type StreamReader, type TapResult } from './streams';
import type { PrepareOptions, PreparedRequest, ResponseTap, WireFormat, WireUsage } from './types';

interface OpenAiState {
  /** The gateway added stream_options.include_usage: drop the usage-only chunk it brings. */
  dropUsageChunk: boolean;
}

function route(path: string): 'chat' | 'completions' | 'responses' | 'other' {
  const p = path.split('?')[0]!.replace(/\/+$/, '');
  if (/\/chat\/completions$/.test(p)) return 'chat';
  if (/(^|\/)completions$/.test(p)) return 'completions';
  if (/(^|\/)responses$/.test(p)) return 'responses';
  return 'other';
}

/** Usage in either OpenAI shape (prompt_/completion_tokens or the Responses API's input_/output_tokens). */
export function openAiUsage(u: Obj): WireUsage {
  const input = count(u['prompt_tokens'] ?? u['input_tokens']);
  const output = count(u['completion_tokens'] ?? u['output_tokens']);
  const inDetails = obj(u['prompt_tokens_details']) ?? obj(u['input_tokens_details']);
  const outDetails = obj(u['completion_tokens_details']) ?? obj(u['output_tokens_details']);
  // prompt_tokens counts cached tokens (and, at OpenRouter, cache writes): the ledger's input does not.
  const cacheRead = count(inDetails?.['cached_tokens']) || count(u['prompt_cache_hit_tokens']);
  const cacheWrite = count(inDetails?.['cache_write_tokens']);
  return usage({
    input: input - cacheRead - cacheWrite,
    output,
    cacheRead,
    cacheWrite,
    reasoning: count(outDetails?.['reasoning_tokens']),
    costUsd: u['cost'],
  });
}

function chunkUsage(chunk: Obj): WireUsage | undefined {
  const u = obj(chunk['usage']) ?? obj(obj(chunk['x_groq'])?.['usage']);
  return u ? openAiUsage(u) : undefined;
}

/** The usage-only chunk include_usage adds: empty choices, a usage object. */
export function isUsageOnlyChunk(data: string): boolean {
  const json = parseJson(data);
  return isObj(json) && Array.isArray(json['choices']) && json['choices'].length === 0 && isObj(json['usage']);
}

class ChatStreamReader implements StreamReader<SseEvent> {
  private usage?: WireUsage;
  private model?: string;
  private done = false;

  read(ev: SseEvent): void {
    if (ev.data.trim() === '[DONE]') {
      this.done = true;
      return;
    }
    const chunk = parseJson(ev.data);
    if (!isObj(chunk)) return;
    this.model = str(chunk['model']) ?? this.model;
    this.usage = chunkUsage(chunk) ?? this.usage;
  }

  result(): TapResult {
    return tapResult(this.usage, this.model, this.done);
  }
}

class ResponsesStreamReader implements StreamReader<SseEvent> {
  private usage?: WireUsage;
  private model?: string;
  private complete = false;

  read(ev: SseEvent): void {
    const data = parseJson(ev.data);
    if (!isObj(data)) return;
    const type = str(data['type']) ?? ev.event;
    const response = obj(data['response']);
    if (response) {
      this.model = str(response['model']) ?? this.model;
      const u = obj(response['usage']);
      if (u) this.usage = openAiUsage(u);
    }
    // completed and incomplete (max_output_tokens, content filter) end a stream properly; failed and error do not.
    if (type === 'response.completed' || type === 'response.incomplete') this.complete = true;
  }

  result(): TapResult {
    return tapResult(this.usage, this.model, this.complete);
  }
}

function readBody(json: unknown): TapResult {
  if (!isObj(json)) return { complete: true };
  const u = obj(json['usage']);
  const model = str(json['model']);
  return tapResult(u && openAiUsage(u), model, true);
}

const ERROR_TYPES: Record<number, [type: string, code: string | null]> = {
  400: ['invalid_request_error', null],
  401: ['invalid_request_error', 'invalid_api_key'],
  402: ['insufficient_quota', 'insufficient_quota'],
  403: ['invalid_request_error', 'forbidden'],
  404: ['invalid_request_error', 'not_found'],
  413: ['invalid_request_error', 'request_too_large'],
  429: ['requests', 'rate_limit_exceeded'],
};

export const openai: WireFormat = {
  id: 'openai',

  clientToken(headers: Headers): string | undefined {
    return bearer(headers);
  },

  upstreamHeaders(headers: Headers): Record<string, string> {
    // Organization and project belong to the client's own account, not to the key the gateway adds.
    return stripHeaders(headers, ['openai-organization', 'openai-project']);
  },

  upstreamSearch: keepQuery,

  prepare(path: string, body: Uint8Array, _url: URL, options?: PrepareOptions): PreparedRequest {
    const state: OpenAiState = { dropUsageChunk: false };
    const json = parseJson(body);
    if (!isObj(json)) return { body, streaming: false, state };
    const streaming = json['stream'] === true;
    const model = str(json['model']);
    const kind = route(path);
    if (streaming && options?.addStreamUsage === false && json['stream_options'] !== undefined) {
      // The upstream refuses the field (Mistral: 422) and sends usage in its last chunk anyway.
      delete json['stream_options'];
      body = new TextEncoder().encode(JSON.stringify(json));
    } else if (streaming && (kind === 'chat' || kind === 'completions') && options?.addStreamUsage !== false) {
      const so = obj(json['stream_options']);
      if (so?.['include_usage'] !== true) {
        json['stream_options'] = { ...so, include_usage: true };
        body = new TextEncoder().encode(JSON.stringify(json));
        state.dropUsageChunk = true;
      }
    }
    return { body, streaming, ...(model && { model }), state };
  },

  responseTap(path: string, _status: number, contentType: string | undefined, state: unknown): ResponseTap {
    const kind = route(path);
    if (mediaType(contentType) === 'text/event-stream') {
      if (kind === 'responses') return new SseTap(new ResponsesStreamReader());
      const drop = isObj(state) && state['dropUsageChunk'] === true;
      return new SseTap(new ChatStreamReader(), drop ? new SseEventFilter(isUsageOnlyChunk) : undefined);
    }
    return new JsonTap(readBody, ['usage', 'model']);
  },

  errorBody(status: number, message: string): unknown {
    const [type, code] = ERROR_TYPES[status] ?? (status >= 500 ? ['server_error', null] : ['invalid_request_error', null]);
    return { error: { message, type, param: null, code } };
  },

  keyRejected(status: number): boolean {
    return status === 401 || status === 403;
  },

  retryAfterMs(_status: number, headers: Headers, _body: unknown, now: Date): number | undefined {
    return retryAfterHeaders(headers, now);
  },
};
