// The contract between the gateway's HTTP server / dispatcher and the wire formats: one module per
// provider API shape (OpenAI and its compatibles, Anthropic, Gemini, Ollama), each pure.

export type WireId = 'openai' | 'anthropic' | 'gemini' | 'ollama';

/** Token counts in the LEDGER's convention: inputTokens EXCLUDES cache reads (OpenAI's prompt_tokens and Gemini's promptTokenCount include cached tokens, so subtract them; Anthropic's input_tokens already excludes them); outputTokens INCLUDES reasoning/thinking tokens (Gemini thoughtsTokenCount is separate from candidatesTokenCount: add it). */
export interface WireUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens?: number;
  /** The provider's own cost in USD (OpenRouter `usage.cost`). */
  costUsd?: number;
}

export interface PreparedRequest {
  body: Uint8Array;
  /** The client asked for a stream. */
  streaming: boolean;
  /** Model named in the body or the path (Gemini: models/{model}:…), if any. */
  model?: string;
  /** Opaque per-request state handed back to responseTap. */
  state: unknown;
}

/** Addition to the interface: options for prepare(). */
export interface PrepareOptions {
  /**
   * OpenAI wire only: add stream_options.include_usage to chat/completions streams that lack it
   * (default true). Pass false for upstreams that reject the field (Mistral answers 422
   * extra_forbidden) and send usage in their last chunk anyway.
   */
  addStreamUsage?: boolean;
}

export interface ResponseTap {
  /** Sees each chunk of the upstream response on its way to the client; returns what to send on (it may drop bytes, e.g. the usage chunk the gateway itself asked for). Must not buffer a whole stream: pass bytes through as soon as it can. */
  transform(chunk: Uint8Array): Uint8Array;
  /** At the end of the response (or when it was cut): usage if the provider reported any, the model the provider says answered, and whether the response ended properly (a stream reached its final event). */
  end(): { usage?: WireUsage; model?: string; complete: boolean };
  /**
   * Addition to the interface: bytes still held back when the upstream body has ended (an
   * unterminated last line of a stream whose usage chunk is being filtered). Call once, after the
   * last transform() and before end(); send what it returns. Empty for most taps.
   */
  flush?(): Uint8Array;
}

export interface WireFormat {
  id: WireId;
  /** The gateway token as the client's SDK presents it: OpenAI `Authorization: Bearer`, Anthropic `x-api-key` (or Bearer: Claude Code's ANTHROPIC_AUTH_TOKEN), Gemini `x-goog-api-key` or `?key=`, Ollama Bearer. */
  clientToken(headers: Record<string, string | string[] | undefined>, url: URL): string | undefined;
  /** Every place a client of this wire may have put the token, when there are several (any may match). */
  clientTokens?(headers: Record<string, string | string[] | undefined>, url: URL): (string | undefined)[];
  /** Client headers to drop before going upstream (the client's credentials, hop-by-hop headers); the dispatcher then adds the provider key with core/endpoints.ts authHeaders(). Gemini: also strip `key` from the query (return the cleaned URL search). */
  upstreamHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string>;
  /**
   * Addition to the interface: the query string to send upstream ("" or "?…"), without the
   * client's credentials (Gemini's `?key=`). Wires whose clients put no credential there keep the query (keepQuery).
   */
  upstreamSearch?(url: URL): string;
  /** Rewrites a request body before it goes upstream. OpenAI chat completions streams without stream_options.include_usage get it added (state remembers that, so the tap drops the extra usage-only chunk before the client sees it). Bodies that are not JSON pass unchanged. */
  prepare(path: string, body: Uint8Array, url: URL, options?: PrepareOptions): PreparedRequest;
  /** A tap for one response (status, content-type decide JSON vs SSE vs NDJSON). */
  responseTap(path: string, status: number, contentType: string | undefined, state: unknown): ResponseTap;
  /** A body in this provider's own error shape, for errors the gateway itself returns (401 wrong token, 413, 429 all keys resting, budget refusal). */
  errorBody(status: number, message: string): unknown;
  /** The upstream says the KEY is bad (the key must be disabled): 401/403; Gemini 400 with reason API_KEY_INVALID. Not quota/rate limits. */
  keyRejected(status: number, body: unknown): boolean;
  /** How long a rate-limited key rests, from the response: `retry-after-ms`, `Retry-After` (seconds or an HTTP date, relative to `now`), Gemini's error body RetryInfo `retryDelay` ("3s", "1.5s"); undefined when none given. */
  retryAfterMs(status: number, headers: Record<string, string | string[] | undefined>, body: unknown, now: Date): number | undefined;
}
