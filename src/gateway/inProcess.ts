// The router without HTTP: one OpenAI chat request served in this process through the same
// dispatch (keys, retries, fallback, budget, usage capture), its streamed reply handed over as
// text deltas and whole tool calls. VS Code's chat models use it.
import { EventEmitter } from 'node:events';
import { createParser } from 'eventsource-parser';
import { serveChat } from './chatRouter';
import { newCallId } from './translate/chunks';
import { dispatch, type DispatchContext, type ResponseSink } from './dispatch';
import { WIRE_FORMATS } from './wire';
import type { ProviderSpec } from '../core/providers';
import type { ChatRequest, ChatUsage } from './translate/types';

export interface ChatCallbacks {
  text(delta: string): void;
  /** A whole tool call (its arguments complete), once the reply has finished. */
  toolCall(call: { id: string; name: string; arguments: string }): void;
}

export interface ChatOutcome {
  provider?: string;
  /** provider/model that served. */
  model?: string;
  finishReason?: string;
  usage?: ChatUsage;
}

/** The request failed before or while it was answered; the message says what to do. */
export class InProcessChatError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * Takes what dispatch writes for one client, as an HTTP response would: 'close' after the end, or
 * at once when destroyed (by the consumer, or with the upstream's error when it cut the reply).
 */
abstract class MemorySink extends EventEmitter implements ResponseSink {
  status = 0;
  destroyed = false;
  writableFinished = false;
  /** Why the response was cut, when the upstream (not the consumer) cut it. */
  cutError?: Error;

  /** One chunk of the body. */
  protected abstract take(chunk: Uint8Array): void;
  /** The body has ended (not called when destroyed). */
  protected ended(): void {}

  writeHead(status: number, _headers: Record<string, string | string[]>): this {
    this.status = status;
    return this;
  }

  write(chunk: Uint8Array): boolean {
    if (this.destroyed) return false;
    this.take(chunk);
    return true;
  }

  end(chunk?: Uint8Array): this {
    if (chunk && chunk.length > 0) this.write(chunk);
    if (this.destroyed) return this;
    this.ended();
    this.writableFinished = true;
    this.emit('finish');
    this.emit('close');
    return this;
  }

  destroy(err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    if (err) this.cutError = err;
    this.emit('close');
    return this;
  }
}

/** A streamed chat reply, handed on as text deltas and whole tool calls. */
class Sink extends MemorySink {
  private errorBody = '';
  private readonly decoder = new TextDecoder();
  private readonly parser;
  private readonly calls: { id: string; name: string; arguments: string }[] = [];
  readonly outcome: ChatOutcome = {};
  streamError?: string;
  callbackError?: Error;

  constructor(private readonly on_: ChatCallbacks) {
    super();
    this.parser = createParser({ onEvent: (ev) => this.event(ev.data) });
  }

  override writeHead(status: number, headers: Record<string, string | string[]>): this {
    super.writeHead(status, headers);
    const p = headers['x-aikm-provider'];
    const m = headers['x-aikm-model'];
    if (typeof p === 'string') this.outcome.provider = p;
    if (typeof m === 'string') this.outcome.model = m;
    return this;
  }

  protected take(chunk: Uint8Array): void {
    const text = this.decoder.decode(chunk, { stream: true });
    if (this.status >= 200 && this.status < 300) this.parser.feed(text);
    else this.errorBody += text;
  }

  protected override ended(): void {
    this.take(new Uint8Array(0));
    this.flushCalls();
  }

  /** The message of an error reply (OpenAI's shape), or the text itself. */
  errorMessage(): string {
    try {
      const json = JSON.parse(this.errorBody) as { error?: { message?: unknown } };
      if (typeof json.error?.message === 'string') return json.error.message;
    } catch {
      /* not JSON */
    }
    return this.errorBody.trim() || `HTTP ${this.status}`;
  }

  private event(data: string): void {
    if (data === '[DONE]') return;
    let c: {
      usage?: ChatUsage;
      error?: { message?: string };
      choices?: { delta?: { content?: string | null; tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[] }; finish_reason?: string | null }[];
    };
    try {
      c = JSON.parse(data) as typeof c;
    } catch {
      return;
    }
    if (c.error) this.streamError = c.error.message ?? 'The provider reported an error in the stream.';
    if (c.usage) this.outcome.usage = c.usage;
    for (const ch of c.choices ?? []) {
      const d = ch.delta;
      if (d?.content) this.safely(() => this.on_.text(d.content!));
      for (const t of d?.tool_calls ?? []) {
        const call = (this.calls[t.index] ??= { id: '', name: '', arguments: '' });
        if (t.id) call.id = t.id;
        if (t.function?.name) call.name = t.function.name;
        call.arguments += t.function?.arguments ?? '';
      }
      if (ch.finish_reason) this.outcome.finishReason = ch.finish_reason;
    }
  }

  /** A consumer's callback never breaks the request (it is still recorded, and the call settles). */
  private safely(f: () => void): void {
    try {
      f();
    } catch (err) {
      this.callbackError ??= err instanceof Error ? err : new Error(String(err));
    }
  }

  private flushCalls(): void {
    for (const call of this.calls) {
      if (call?.name) this.safely(() => this.on_.toolCall({ ...call, id: call.id || newCallId() }));
    }
    this.calls.length = 0;
  }
}

/**
 * Serves `req` (streamed) in this process. Resolves when the reply is complete; rejects with an
 * InProcessChatError when no provider could serve it or the stream reported an error; `signal`
 * cancels it (the upstream request is closed and the request recorded as cut by the client).
 */
export async function chatInProcess(ctx: DispatchContext, req: ChatRequest, signal: AbortSignal | undefined, on: ChatCallbacks, headers: Record<string, string> = {}): Promise<ChatOutcome> {
  const sink = new Sink(on);
  if (signal?.aborted) throw new InProcessChatError('The request was cancelled.', 499);
  const abort = () => sink.destroy();
  signal?.addEventListener('abort', abort, { once: true });
  try {
    await serveChat(ctx, { ...req, stream: true, stream_options: { include_usage: true } }, headers, sink);
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  if (sink.destroyed && !sink.writableFinished) {
    if (sink.cutError) throw new InProcessChatError(`The provider's reply was cut: ${sink.cutError.message}`, 502);
    throw new InProcessChatError('The request was cancelled.', 499);
  }
  if (sink.callbackError) throw sink.callbackError;
  if (sink.status < 200 || sink.status >= 300) throw new InProcessChatError(sink.errorMessage(), sink.status);
  if (sink.streamError) throw new InProcessChatError(sink.streamError, 502);
  return sink.outcome;
}

/** A sink that keeps a whole JSON reply. */
class JsonSink extends MemorySink {
  private readonly parts: Uint8Array[] = [];

  protected take(chunk: Uint8Array): void {
    this.parts.push(chunk);
  }

  json(): unknown {
    try {
      return JSON.parse(Buffer.concat(this.parts).toString('utf8'));
    } catch {
      return undefined;
    }
  }
}

/**
 * The provider's own model list (GET `path`, with its stored keys, kept 5 minutes like every model
 * list the gateway fetches), or undefined when it cannot be had.
 */
export async function modelListInProcess(ctx: DispatchContext, provider: ProviderSpec, path: string): Promise<unknown> {
  const sink = new JsonSink();
  const failure = await dispatch(ctx, { provider, wire: WIRE_FORMATS[provider.api], method: 'GET', path, search: '', headers: {}, body: new Uint8Array(0) }, sink, {
    open: () => ({ headers: {} }),
  });
  return failure || sink.status !== 200 ? undefined : sink.json();
}
