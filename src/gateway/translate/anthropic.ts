// OpenAI chat ↔ Anthropic Messages (/v1/messages). System and developer messages become `system`;
// tool calls become tool_use blocks and tool results tool_result blocks in a user turn; the stream's
// content blocks become content and tool-call deltas. Thinking blocks are not passed on.
import { count, isObj, obj, parseJson, str, type Obj } from '../wire/common';
import { chatCompletion, chatUsage, dataUrl, parseArguments, textOf } from './chunks';
import { SseConverter } from './sseConverter';
import { TranslationError, type ChatCompletion, type ChatRequest, type ChatUsage, type ContentPart, type FinishReason, type StreamConverter, type ToolCall, type Translator } from './types';

type Block = Obj;
interface Turn {
  role: 'user' | 'assistant';
  content: Block[];
}

/** Output tokens asked for when the client sets no limit (Anthropic requires one); the Claude 3 models allow 4,096. */
export function defaultMaxTokens(model: string): number {
  return /^claude-3-(opus|sonnet|haiku)/.test(model) ? 4096 : 8192;
}

function userBlocks(content: string | readonly ContentPart[]): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  return content.map((p): Block => {
    if (p.type === 'text') return { type: 'text', text: p.text };
    const inline = dataUrl(p.image_url.url);
    return inline ? { type: 'image', source: { type: 'base64', media_type: inline.mediaType, data: inline.data } } : { type: 'image', source: { type: 'url', url: p.image_url.url } };
  });
}

function turns(req: ChatRequest): { system: string; messages: Turn[] } {
  const system: string[] = [];
  const out: Turn[] = [];
  const push = (role: Turn['role'], content: Block[]): void => {
    if (content.length === 0) return;
    const last = out.at(-1);
    if (last?.role === role) last.content.push(...content);
    else out.push({ role, content });
  };
  for (const m of req.messages) {
    if (m.role === 'system' || m.role === 'developer') system.push(textOf(m.content));
    else if (m.role === 'user') push('user', userBlocks(m.content));
    else if (m.role === 'assistant') {
      const text = textOf(m.content ?? null);
      const blocks: Block[] = text === '' ? [] : [{ type: 'text', text }];
      for (const c of m.tool_calls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.function.name, input: parseArguments(c.function.arguments) });
      push('assistant', blocks);
    } else if (m.role === 'tool') {
      push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content) }]);
    }
  }
  return { system: system.filter((s) => s !== '').join('\n\n'), messages: out };
}

function toolChoice(req: ChatRequest): Obj | undefined {
  const c = req.tool_choice;
  const noParallel = req.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (c === 'none') return { type: 'none' };
  if (c === 'required') return { type: 'any', ...noParallel };
  if (typeof c === 'object') return { type: 'tool', name: c.function.name, ...noParallel };
  if (c === 'auto' || req.parallel_tool_calls === false) return { type: 'auto', ...noParallel };
  return undefined;
}

const FINISH: Record<string, FinishReason> = { end_turn: 'stop', stop_sequence: 'stop', pause_turn: 'stop', max_tokens: 'length', tool_use: 'tool_calls', refusal: 'content_filter', model_context_window_exceeded: 'length' };

function usageOf(u: Obj | undefined): ChatUsage | undefined {
  if (!u) return undefined;
  return chatUsage({ input: count(u['input_tokens']), output: count(u['output_tokens']), cacheRead: count(u['cache_read_input_tokens']), cacheWrite: count(u['cache_creation_input_tokens']) });
}

export const anthropic: Translator = {
  request(req, model) {
    const { system, messages } = turns(req);
    if (messages.length === 0) throw new TranslationError('The request has no user or assistant message to send to Anthropic.');
    const stop = typeof req.stop === 'string' ? [req.stop] : req.stop;
    const body: Obj = {
      model,
      max_tokens: req.max_completion_tokens ?? req.max_tokens ?? defaultMaxTokens(model),
      messages,
      ...(system && { system }),
      ...(req.stream === true && { stream: true }),
      // Anthropic's temperature runs 0–1; OpenAI's 0–2.
      ...(typeof req.temperature === 'number' && { temperature: Math.min(1, req.temperature) }),
      ...(typeof req.top_p === 'number' && { top_p: req.top_p }),
      ...(stop && stop.length > 0 && { stop_sequences: stop }),
      ...(req.user && { metadata: { user_id: req.user } }),
    };
    // With tool_choice none the tools are still sent: Anthropic refuses tool_use/tool_result blocks without them.
    if (req.tools?.length) {
      body['tools'] = req.tools.map((t) => ({ name: t.function.name, ...(t.function.description && { description: t.function.description }), input_schema: t.function.parameters ?? { type: 'object', properties: {} } }));
    }
    const choice = body['tools'] ? toolChoice(req) : undefined;
    if (choice) body['tool_choice'] = choice;
    return { path: '/v1/messages', search: '', body };
  },

  reply(body, meta): ChatCompletion {
    const msg = obj(body) ?? {};
    let text = '';
    const calls: ToolCall[] = [];
    for (const b of Array.isArray(msg['content']) ? msg['content'] : []) {
      if (!isObj(b)) continue;
      if (b['type'] === 'text') text += str(b['text']) ?? '';
      else if (b['type'] === 'tool_use') calls.push({ id: str(b['id']) ?? `call_${calls.length}`, type: 'function', function: { name: str(b['name']) ?? '', arguments: JSON.stringify(b['input'] ?? {}) } });
    }
    return chatCompletion(meta, {
      model: str(msg['model']),
      text,
      calls,
      finish: FINISH[str(msg['stop_reason']) ?? ''] ?? (calls.length > 0 ? 'tool_calls' : 'stop'),
      usage: usageOf(obj(msg['usage'])),
    });
  },

  stream(meta): StreamConverter {
    return new MessageStreamConverter(meta);
  },
};

class MessageStreamConverter extends SseConverter {
  private readonly fields: Obj = {};
  /** Content block index → tool-call index in the client's stream. */
  private readonly tools = new Map<number, number>();

  protected usage(): ChatUsage | undefined {
    return Object.keys(this.fields).length > 0 ? usageOf(this.fields) : undefined;
  }

  protected event(text: string): void {
    const data = parseJson(text);
    if (!isObj(data)) return;
    const w = this.writer;
    switch (data['type']) {
      case 'message_start': {
        const m = obj(data['message']);
        w.setModel(str(m?.['model']));
        Object.assign(this.fields, obj(m?.['usage']));
        break;
      }
      case 'content_block_start': {
        const b = obj(data['content_block']);
        const index = count(data['index']);
        if (b?.['type'] === 'text' && str(b['text'])) this.out += w.delta({ content: str(b['text']) });
        if (b?.['type'] === 'tool_use') {
          const at = this.tools.size;
          this.tools.set(index, at);
          this.out += w.delta({ tool_calls: [{ index: at, id: str(b['id']) ?? `call_${at}`, type: 'function', function: { name: str(b['name']) ?? '', arguments: '' } }] });
        }
        break;
      }
      case 'content_block_delta': {
        const d = obj(data['delta']);
        if (d?.['type'] === 'text_delta' && str(d['text'])) this.out += w.delta({ content: str(d['text']) });
        const at = this.tools.get(count(data['index']));
        if (d?.['type'] === 'input_json_delta' && at !== undefined && str(d['partial_json'])) this.out += w.delta({ tool_calls: [{ index: at, function: { arguments: str(d['partial_json'])! } }] });
        break;
      }
      case 'message_delta': {
        // Cumulative counts: each replaces the one before.
        Object.assign(this.fields, obj(data['usage']));
        const reason = str(obj(data['delta'])?.['stop_reason']);
        if (reason) this.out += w.finish(FINISH[reason] ?? 'stop');
        break;
      }
      case 'error':
        this.fail(str(obj(data['error'])?.['message']) ?? 'Anthropic reported an error in the stream.');
        break;
    }
  }
}
