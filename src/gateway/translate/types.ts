// The router endpoint (/v1/chat/completions) speaks OpenAI's chat format to the client; a
// translator turns one such request into a provider's own request, and the provider's reply (plain
// or streamed) back into OpenAI's chat.completion / chat.completion.chunk. One module per native
// format; OpenAI-compatible providers need none.
import type { Obj } from '../wire/common';

export interface TextPart {
  type: 'text';
  text: string;
}
export interface ImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: string };
}
export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; /** JSON text */ arguments: string };
}

export type ChatMessage =
  | { role: 'system' | 'developer'; content: string | TextPart[]; name?: string }
  | { role: 'user'; content: string | ContentPart[]; name?: string }
  | { role: 'assistant'; content?: string | TextPart[] | null; tool_calls?: ToolCall[]; name?: string }
  | { role: 'tool'; tool_call_id: string; content: string | TextPart[] };

export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; /** JSON Schema */ parameters?: Obj; strict?: boolean };
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; function: { name: string } };

/** The OpenAI chat-completions request, as far as the translators read it (other fields are ignored). */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  tools?: ChatTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: { type: 'text' | 'json_object' | 'json_schema'; json_schema?: { name?: string; schema?: Obj } };
  seed?: number;
  user?: string;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** Usage in OpenAI's convention: prompt_tokens INCLUDES cached tokens; completion_tokens INCLUDES reasoning. */
export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[]; refusal: null };
    finish_reason: FinishReason;
    logprobs: null;
  }[];
  usage?: ChatUsage;
}

/** What the reply says about itself: its id, time (seconds) and the model that served it. */
export interface ReplyMeta {
  id: string;
  created: number;
  /** The provider's own model id (the upstream reply's own model, when it names one, wins). */
  model: string;
  /** The client asked for stream_options.include_usage: end the stream with a usage chunk. */
  includeUsage: boolean;
}

/** Provider stream bytes in, OpenAI SSE bytes out (`data: {chunk}\n\n` … `data: [DONE]\n\n`). */
export interface StreamConverter {
  transform(chunk: Uint8Array): Uint8Array;
  /** At the upstream's end: what is still owed (the finish and usage chunks, [DONE]). Called once. */
  flush(complete?: boolean): Uint8Array;
}

export interface NativeRequest {
  /** The provider's own path (before its base URL), e.g. /v1/messages. */
  path: string;
  /** "" or "?…" */
  search: string;
  body: Obj;
}

export interface Translator {
  request(req: ChatRequest, model: string): NativeRequest;
  /** The provider's non-streamed 2xx body as an OpenAI chat.completion. */
  reply(body: unknown, meta: ReplyMeta): ChatCompletion;
  stream(meta: ReplyMeta): StreamConverter;
}

/** Thrown by request() for a chat request the provider cannot take; answered 400 with this message. */
export class TranslationError extends Error {}
