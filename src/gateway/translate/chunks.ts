// Writes OpenAI chat.completion.chunk SSE frames for the stream converters, and the text helpers
// every translator needs.
import type { ChatCompletion, ChatUsage, ContentPart, FinishReason, ReplyMeta, TextPart, ToolCall } from './types';

const encoder = new TextEncoder();

/** Said in the client's stream when the provider's reply ended before its last event. */
export const CUT = "The provider's reply ended before it was complete (the connection was cut).";

export interface ChunkDelta {
  role?: 'assistant';
  content?: string;
  /** Tool-call pieces: the first for an index carries id, type and name; later ones add arguments. */
  tool_calls?: { index: number; id?: string; type?: 'function'; function: { name?: string; arguments: string } }[];
}

/** Builds the client's SSE stream: a first chunk with the role, deltas, one finish chunk, usage, [DONE]. */
export class ChunkWriter {
  private started = false;
  private finished = false;
  private model: string;

  constructor(private readonly meta: ReplyMeta) {
    this.model = meta.model;
  }

  /** The upstream named its model (its own id wins over the one asked for). */
  setModel(model: string | undefined): void {
    if (model) this.model = model;
  }

  delta(d: ChunkDelta): string {
    const first = this.started ? '' : this.frame({ role: 'assistant', content: '' }, null);
    this.started = true;
    return first + this.frame(d, null);
  }

  /** The finish chunk (once; later calls return ''). */
  finish(reason: FinishReason): string {
    if (this.finished) return '';
    const first = this.started ? '' : this.frame({ role: 'assistant', content: '' }, null);
    this.started = true;
    this.finished = true;
    return first + this.frame({}, reason);
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** The usage chunk (choices empty) when the client asked for it, then [DONE]. */
  end(usage: ChatUsage | undefined): string {
    const u = this.meta.includeUsage && usage ? `data: ${JSON.stringify({ ...this.base(), choices: [], usage })}\n\n` : '';
    return `${u}data: [DONE]\n\n`;
  }

  /** An error the upstream sent mid-stream, in OpenAI's stream error shape, then the stream ends. */
  error(message: string): string {
    return `data: ${JSON.stringify({ error: { message, type: 'upstream_error', code: null } })}\n\n`;
  }

  private frame(delta: ChunkDelta, finish: FinishReason | null): string {
    return `data: ${JSON.stringify({ ...this.base(), choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`;
  }

  private base(): { id: string; object: 'chat.completion.chunk'; created: number; model: string } {
    return { id: this.meta.id, object: 'chat.completion.chunk', created: this.meta.created, model: this.model };
  }
}

/**
 * The id of the n-th tool call of a reply whose provider gives none: unique across replies (ids are
 * matched to results, and one conversation holds many replies) and the same for the same reply.
 */
export function callId(replyId: string, n: number): string {
  let h = 2166136261;
  for (let i = 0; i < replyId.length; i++) h = Math.imul(h ^ replyId.charCodeAt(i), 16777619) >>> 0;
  return `call_${h.toString(36)}_${n}`;
}

/** A random tool-call id, for a reply with no id of its own to derive one from. */
export function newCallId(): string {
  const b = new Uint8Array(9);
  crypto.getRandomValues(b);
  return `call_${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * A non-streamed reply in OpenAI's shape. `content` is null when there is no text and the reply is
 * tool calls only (or, with `nullWhen`, also in that case).
 */
export function chatCompletion(
  meta: ReplyMeta,
  r: { model: string | undefined; text: string; calls: ToolCall[]; finish: FinishReason; usage: ChatUsage | undefined; nullWhen?: boolean },
): ChatCompletion {
  const content = r.text === '' && (r.calls.length > 0 || r.nullWhen === true) ? null : r.text;
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: r.model ?? meta.model,
    choices: [{ index: 0, message: { role: 'assistant', content, ...(r.calls.length > 0 && { tool_calls: r.calls }), refusal: null }, finish_reason: r.finish, logprobs: null }],
    ...(r.usage && { usage: r.usage }),
  };
}

export function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** OpenAI usage from counts in the LEDGER's convention (input excludes cache reads and writes; output includes reasoning). */
export function chatUsage(u: { input: number; output: number; cacheRead?: number; cacheWrite?: number; reasoning?: number }): ChatUsage {
  const prompt = u.input + (u.cacheRead ?? 0) + (u.cacheWrite ?? 0);
  const out: ChatUsage = { prompt_tokens: prompt, completion_tokens: u.output, total_tokens: prompt + u.output };
  if (u.cacheRead) out.prompt_tokens_details = { cached_tokens: u.cacheRead };
  if (u.reasoning) out.completion_tokens_details = { reasoning_tokens: u.reasoning };
  return out;
}

/** The text of a message's content (string or parts; non-text parts left out). */
export function textOf(content: string | readonly (ContentPart | TextPart)[] | null | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/** A data: URL's media type and base64 data, or undefined for any other URL. */
export function dataUrl(url: string): { mediaType: string; data: string } | undefined {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  return m ? { mediaType: m[1]!, data: m[2]! } : undefined;
}

/** Tool-call arguments (JSON text) as an object; text that is not a JSON object becomes {}. */
export function parseArguments(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The assistant tool calls of a conversation by id, so a tool result can be given the tool's name. */
export function toolNames(messages: readonly { role: string; tool_calls?: ToolCall[] }[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of messages) for (const c of m.tool_calls ?? []) names.set(c.id, c.function.name);
  return names;
}
