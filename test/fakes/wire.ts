// What every fake provider module shares: one request in flight, and how replies are written.
import type * as http from 'node:http';
import type { FakeRequest, FakeToolCall, FakeUsage } from './providers';

export type Api = 'anthropic' | 'openai' | 'gemini' | 'ollama';

/** One request being answered. */
export interface Call {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  raw: string;
  body: Record<string, unknown>;
  rec: FakeRequest;
  /** Set by a `{ cutAfterChunks }` behaviour: the fake closes the connection after this many chunks. */
  cutAfter?: number;
}

/** What the server gives each provider module. */
export interface Ctx {
  models: Record<Api, string[]>;
  replyText: string;
  /** OpenRouter's usage.cost in USD, when asked for. */
  cost?: number;
  /** Answer requests that declare tools (last message not a tool result) with this call. */
  toolCall?: FakeToolCall;
  usageFor(prompt: string): Required<FakeUsage>;
  id(): number;
  /** The reply text in stream pieces (at least one). */
  pieces(): string[];
  send(call: Call, status: number, body: unknown, headers?: Record<string, string>): void;
  /** Writes frames one by one, with the configured delay, respecting backpressure; honours cutAfter. */
  stream(call: Call, contentType: string, frames: string[], headers?: Record<string, string>): Promise<void>;
}

/** A reply that a behaviour produces: status, body and headers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** How one provider says each failure. */
export interface ProviderErrors {
  badKey(): Reply;
  forbidden(): Reply;
  rateLimited(retryAfter: number | string): Reply;
  quota(): Reply;
  server(): Reply;
  overloaded(): Reply;
}

export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export function jsonBody(raw: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Splits text into up to n pieces at word boundaries where possible; never returns an empty list. */
export function splitText(text: string, n: number): string[] {
  const words = text.split(/(?<=\s)/);
  const count = Math.max(1, Math.min(n, words.length));
  const size = Math.ceil(words.length / count);
  const out: string[] = [];
  for (let i = 0; i < words.length; i += size) out.push(words.slice(i, i + size).join(''));
  return out.length > 0 ? out : [''];
}

/** A deterministic small embedding vector for a text. */
export function embedding(text: string, dims = 8): number[] {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 16777619) >>> 0;
  return Array.from({ length: dims }, (_, i) => Number((((h >>> i) % 2000) / 1000 - 1).toFixed(6)));
}

/** Part of output tokens that has been produced after piece i of n (cumulative, ends at total). */
export function cumulative(total: number, i: number, n: number): number {
  return Math.round((total * (i + 1)) / n);
}

export function sse(data: unknown, event?: string, eol = '\n'): string {
  return `${event ? `event: ${event}${eol}` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}${eol}${eol}`;
}

export function stringField(body: Record<string, unknown>, name: string, fallback = ''): string {
  const v = body[name];
  return typeof v === 'string' ? v : fallback;
}

/**
 * The tool call to answer with: tools declared, and the last turn (of `turns`, default `messages`)
 * is not a tool result. By default a tool result is an OpenAI/Ollama `role: 'tool'` message.
 */
export function toolCallFor(
  ctx: Ctx,
  body: Record<string, unknown>,
  turns = 'messages',
  isResult: (last: Record<string, unknown>) => boolean = (last) => last['role'] === 'tool',
): FakeToolCall | undefined {
  const tools = body['tools'];
  const list = body[turns];
  if (!ctx.toolCall || !Array.isArray(tools) || tools.length === 0) return undefined;
  const last: unknown = Array.isArray(list) ? list.at(-1) : undefined;
  return typeof last === 'object' && last !== null && isResult(last as Record<string, unknown>) ? undefined : ctx.toolCall;
}

/** Whether a list holds an object that passes `test` (tool_result blocks, functionResponse parts). */
export function holds(list: unknown, test: (item: Record<string, unknown>) => boolean): boolean {
  return Array.isArray(list) && list.some((x) => typeof x === 'object' && x !== null && test(x as Record<string, unknown>));
}

/** Text cut into n pieces of about equal length (fewer when the text is shorter). */
export function splitEven(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}
