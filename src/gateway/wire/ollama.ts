// The Ollama native wire: /api/chat and /api/generate (NDJSON streams unless "stream": false),
// /api/embed, and the model-management endpoints (no usage).
//
// Shapes checked against Ollama's docs/api.md: "Certain endpoints stream responses as JSON
// objects. Streaming can be disabled by providing {"stream": false}"; the final object of a stream
// has done: true with prompt_eval_count ("number of tokens in the prompt") and eval_count
// ("number of tokens in the response"); /api/embed answers {model, embeddings, prompt_eval_count};
// errors are {"error": "…"}.
import {
  bearer,
  count,
  isObj,
  keepQuery,
  mediaType,
  parseJson,
  retryAfterHeaders,
  str,
  stripHeaders,
  usage,
  type Headers,
  type Obj,
} from './common';
import { JsonTap, NdjsonTap, PassTap, tapResult, type StreamReader, type TapResult } from './streams';
import type { PreparedRequest, ResponseTap, WireFormat, WireUsage } from './types';

type Route = 'generate' | 'embed' | 'manage' | 'other';

function route(path: string): Route {
  const p = path.split('?')[0]!.replace(/\/+$/, '');
  if (/\/api\/(chat|generate)$/.test(p)) return 'generate';
  if (/\/api\/embed$/.test(p)) return 'embed';
  if (/\/api\/(pull|push|create)$/.test(p)) return 'manage';
  return 'other';
}

export function ollamaUsage(r: Obj): WireUsage {
  return usage({ input: count(r['prompt_eval_count']), output: count(r['eval_count']) });
}

class GenerateReader implements StreamReader<unknown> {
  private last?: Obj;
  private model?: string;
  private done = false;

  read(item: unknown): void {
    if (!isObj(item)) return;
    this.model = str(item['model']) ?? this.model;
    if (item['done'] === true) {
      this.done = true;
      this.last = item;
    }
  }

  result(): TapResult {
    return tapResult(this.last && ollamaUsage(this.last), this.model, this.done);
  }
}

function readBody(kind: Route): (json: unknown) => TapResult {
  return (json) => {
    if (!isObj(json)) return { complete: true };
    const model = str(json['model']);
    const counted = kind === 'embed' ? 'prompt_eval_count' in json : json['done'] === true;
    return tapResult(counted ? ollamaUsage(json) : undefined, model, true);
  };
}

export const ollama: WireFormat = {
  id: 'ollama',

  clientToken(headers: Headers): string | undefined {
    return bearer(headers);
  },

  upstreamHeaders(headers: Headers): Record<string, string> {
    return stripHeaders(headers);
  },

  upstreamSearch: keepQuery,

  prepare(path: string, body: Uint8Array): PreparedRequest {
    const json = parseJson(body);
    const kind = route(path);
    if (!isObj(json)) return { body, streaming: false, state: { streaming: false } };
    // Generation and model management stream unless told not to.
    const streaming = (kind === 'generate' || kind === 'manage') && json['stream'] !== false;
    const model = str(json['model']) ?? str(json['name']);
    return { body, streaming, ...(model && { model }), state: { streaming } };
  },

  responseTap(path: string, status: number, contentType: string | undefined, state: unknown): ResponseTap {
    const kind = route(path);
    const ndjson = mediaType(contentType) === 'application/x-ndjson';
    const streaming = ndjson || (status < 300 && isObj(state) && state['streaming'] === true);
    if (kind === 'manage' || kind === 'other') return streaming ? new PassTap() : new JsonTap(() => ({ complete: true }));
    if (kind === 'generate' && streaming) return new NdjsonTap(new GenerateReader());
    return new JsonTap(readBody(kind), ['prompt_eval_count', 'eval_count', 'model', 'done']);
  },

  errorBody(_status: number, message: string): unknown {
    return { error: message };
  },

  keyRejected(status: number): boolean {
    return status === 401 || status === 403;
  },

  retryAfterMs(_status: number, headers: Headers, _body: unknown, now: Date): number | undefined {
    return retryAfterHeaders(headers, now);
  },
};
