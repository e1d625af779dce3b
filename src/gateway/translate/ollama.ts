// OpenAI chat ↔ Ollama's native /api/chat (docs/api.md): messages with `images` (base64) and
// `tool_calls` whose arguments are objects, tool results named by `tool_name`, sampling settings
// under `options`, and an NDJSON stream whose last line (done: true) carries the counts.
import { count, isObj, obj, str, type Obj } from '../wire/common';
import { CUT, bytes, callId, ChunkWriter, chatCompletion, chatUsage, dataUrl, parseArguments, textOf, toolNames, type ChunkDelta } from './chunks';
import {
  TranslationError,
  type ChatCompletion,
  type ChatMessage,
  type ChatRequest,
  type ChatUsage,
  type FinishReason,
  type NativeRequest,
  type ReplyMeta,
  type StreamConverter,
  type ToolCall,
  type Translator,
} from './types';

function message(m: ChatMessage, names: Map<string, string>): Obj {
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textOf(m.content) };
    case 'user': {
      const images: string[] = [];
      if (Array.isArray(m.content)) {
        for (const p of m.content) {
          if (p.type !== 'image_url') continue;
          const url = String(p.image_url?.url ?? '');
          const d = dataUrl(url);
          if (!d) throw new TranslationError(`Ollama takes only inline images (data: URLs with base64); got ${url.slice(0, 40)}`);
          images.push(d.data);
        }
      }
      return { role: 'user', content: textOf(m.content), ...(images.length && { images }) };
    }
    case 'assistant': {
      const calls = m.tool_calls ?? [];
      return {
        role: 'assistant',
        content: textOf(m.content),
        ...(calls.length && {
          tool_calls: calls.map((c) => ({ function: { name: c.function.name, arguments: parseArguments(c.function.arguments) } })),
        }),
      };
    }
    case 'tool': {
      const name = names.get(m.tool_call_id);
      return { role: 'tool', content: textOf(m.content), ...(name && { tool_name: name }) };
    }
    default:
      throw new TranslationError(`Unsupported message role: ${String((m as { role?: unknown }).role)}`);
  }
}

function options(req: ChatRequest): Obj | undefined {
  const o: Obj = {};
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  if (num(req.temperature)) o['temperature'] = req.temperature;
  if (num(req.top_p)) o['top_p'] = req.top_p;
  const max = req.max_completion_tokens ?? req.max_tokens;
  if (num(max)) o['num_predict'] = max;
  if (typeof req.stop === 'string') o['stop'] = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length) o['stop'] = req.stop;
  if (num(req.seed)) o['seed'] = req.seed;
  return Object.keys(o).length ? o : undefined;
}

function format(req: ChatRequest): unknown {
  const rf = req.response_format;
  if (rf?.type === 'json_object') return 'json';
  if (rf?.type === 'json_schema') return rf.json_schema?.schema ?? 'json';
  return undefined;
}

/** A tool or tool call with a function name. */
function named(v: unknown): boolean {
  return typeof obj(obj(v)?.['function'])?.['name'] === 'string';
}

function request(req: ChatRequest, model: string): NativeRequest {
  if (!Array.isArray(req.messages) || req.messages.length === 0) throw new TranslationError('messages must be a non-empty array');
  // A tool result is named after the nearest earlier call with its id (ids may repeat across turns).
  const names = new Map<string, string>();
  const messages = req.messages.map((m) => {
    if (!isObj(m)) throw new TranslationError('Every message must be an object');
    if (m.role === 'assistant') {
      const calls: unknown = m.tool_calls ?? [];
      if (!Array.isArray(calls) || !calls.every(named)) throw new TranslationError('Every assistant tool call needs function.name');
      for (const [id, name] of toolNames([m])) names.set(id, name);
    }
    return message(m, names);
  });
  // Ollama has no tool_choice: 'none' sends no tools, the rest is left to the model.
  const tools = req.tool_choice === 'none' || !Array.isArray(req.tools) ? [] : req.tools;
  for (const t of tools) {
    if (t?.type !== 'function') throw new TranslationError(`Unsupported tool type: ${String(t?.type)}`);
    if (!named(t)) throw new TranslationError('Every tool needs function.name');
  }
  const opts = options(req);
  const fmt = format(req);
  const body: Obj = {
    model,
    messages,
    stream: req.stream === true,
    ...(tools.length && {
      tools: tools.map((t) => ({
        type: 'function',
        function: {
          name: t.function.name,
          ...(t.function.description !== undefined && { description: t.function.description }),
          ...(t.function.parameters !== undefined && { parameters: t.function.parameters }),
        },
      })),
    }),
    ...(opts && { options: opts }),
    ...(fmt !== undefined && { format: fmt }),
  };
  return { path: '/api/chat', search: '', body };
}

/** Ollama's tool calls as OpenAI's; Ollama gives no ids: the n-th of the reply is callId(reply, n), n from `first`. */
function toolCalls(v: unknown, replyId: string, first: number): ToolCall[] {
  if (!Array.isArray(v)) return [];
  const out: ToolCall[] = [];
  for (const c of v) {
    const f = obj(obj(c)?.['function']);
    if (!f) continue;
    const args = f['arguments'];
    out.push({
      id: callId(replyId, first + out.length),
      type: 'function',
      function: { name: str(f['name']) ?? '', arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) },
    });
  }
  return out;
}

function usageOf(r: Obj): ChatUsage {
  return chatUsage({ input: count(r['prompt_eval_count']), output: count(r['eval_count']) });
}

function finishOf(r: Obj, sawTools: boolean): FinishReason {
  if (sawTools) return 'tool_calls';
  return r['done_reason'] === 'length' ? 'length' : 'stop';
}

function reply(body: unknown, meta: ReplyMeta): ChatCompletion {
  const r = obj(body) ?? {};
  const msg = obj(r['message']) ?? {};
  const calls = toolCalls(msg['tool_calls'], meta.id, 0);
  const text = typeof msg['content'] === 'string' ? msg['content'] : '';
  return chatCompletion(meta, { model: str(r['model']), text, calls, finish: finishOf(r, calls.length > 0), usage: usageOf(r) });
}

const LF = 0x0a;

class OllamaStream implements StreamConverter {
  private readonly writer: ChunkWriter;
  private readonly decoder = new TextDecoder();
  private pending: Uint8Array[] = [];
  private calls = 0;
  private usage?: ChatUsage;
  private failed = false;
  private readonly replyId: string;

  constructor(meta: ReplyMeta) {
    this.writer = new ChunkWriter(meta);
    this.replyId = meta.id;
  }

  transform(chunk: Uint8Array): Uint8Array {
    let out = '';
    let start = 0;
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, start)) {
      out += this.line([...this.pending, chunk.subarray(start, i)]);
      this.pending = [];
      start = i + 1;
    }
    if (start < chunk.length) this.pending.push(chunk.slice(start));
    return bytes(out);
  }

  flush(complete = true): Uint8Array {
    let out = this.pending.length ? this.line(this.pending) : '';
    this.pending = [];
    // After an upstream error the error frame is the stream's last; a cut reply gets one, and no [DONE].
    if (!this.failed) out += complete ? this.writer.end(this.usage) : this.writer.error(CUT);
    return bytes(out);
  }

  private line(parts: readonly Uint8Array[]): string {
    if (this.failed) return '';
    const text = parts.map((p, i) => this.decoder.decode(p, { stream: i < parts.length - 1 })).join('').trim();
    if (!text) return '';
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return '';
    }
    if (!isObj(json)) return '';
    if (json['error'] !== undefined) {
      this.failed = true;
      const e = json['error'];
      return this.writer.error(typeof e === 'string' ? e : (str(obj(e)?.['message']) ?? JSON.stringify(e)));
    }
    this.writer.setModel(str(json['model']));
    let out = '';
    const msg = obj(json['message']);
    const content = msg?.['content'];
    if (typeof content === 'string' && content !== '') out += this.writer.delta({ content });
    const calls = toolCalls(msg?.['tool_calls'], this.replyId, this.calls);
    if (calls.length) {
      const tool_calls: NonNullable<ChunkDelta['tool_calls']> = calls.map((c, i) => ({ index: this.calls + i, ...c }));
      this.calls += calls.length;
      out += this.writer.delta({ tool_calls });
    }
    if (json['done'] === true) {
      this.usage = usageOf(json);
      out += this.writer.finish(finishOf(json, this.calls > 0));
    }
    return out;
  }
}

export const ollama: Translator = {
  request,
  reply,
  stream: (meta) => new OllamaStream(meta),
};
