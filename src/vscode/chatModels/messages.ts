// VS Code chat messages and options → one OpenAI chat request (the router's format), by the parts'
// shapes so it runs without VS Code: text parts, tool calls (assistant), tool results (user), and
// images as data parts. Tool results are sent right after the call they answer, as OpenAI wants.
import type { ChatMessage, ChatRequest, ChatTool, ContentPart } from '../../gateway/translate/types';

/** VS Code's roles (LanguageModelChatMessageRole): 1 user, 2 assistant, 3 system where it exists. */
const USER = 1;
const ASSISTANT = 2;
const SYSTEM = 3;
/** LanguageModelChatToolMode.Required */
const TOOL_MODE_REQUIRED = 2;

export interface LmMessage {
  readonly role: number;
  readonly content: ReadonlyArray<unknown>;
  readonly name?: string | undefined;
}

export interface LmOptions {
  readonly tools?: ReadonlyArray<{ readonly name: string; readonly description: string; readonly inputSchema?: object | undefined }>;
  readonly toolMode?: number;
  readonly modelOptions?: { readonly [name: string]: unknown };
}

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'call'; id: string; name: string; input: unknown }
  | { kind: 'result'; id: string; text: string }
  | { kind: 'image'; url: string }
  | { kind: 'other' };

function has<K extends string>(v: unknown, ...keys: K[]): v is Record<K, unknown> {
  return typeof v === 'object' && v !== null && keys.every((k) => k in v);
}

function partOf(p: unknown): Part {
  if (has(p, 'callId', 'name', 'input') && typeof p.callId === 'string' && typeof p.name === 'string') return { kind: 'call', id: p.callId, name: p.name, input: p.input };
  if (has(p, 'callId', 'content') && typeof p.callId === 'string' && Array.isArray(p.content)) return { kind: 'result', id: p.callId, text: p.content.map(textOfPart).join('') };
  if (has(p, 'value') && typeof p.value === 'string') return { kind: 'text', text: p.value };
  if (has(p, 'mimeType', 'data') && typeof p.mimeType === 'string' && p.data instanceof Uint8Array && p.mimeType.startsWith('image/')) {
    return { kind: 'image', url: `data:${p.mimeType};base64,${Buffer.from(p.data).toString('base64')}` };
  }
  return { kind: 'other' };
}

/** A tool result's content as text: text parts as they are, data parts (JSON, text) decoded. */
function textOfPart(p: unknown): string {
  if (has(p, 'value') && typeof p.value === 'string') return p.value;
  if (has(p, 'mimeType', 'data') && p.data instanceof Uint8Array && typeof p.mimeType === 'string' && /json|^text\//.test(p.mimeType)) return Buffer.from(p.data).toString('utf8');
  return '';
}

export function toChatRequest(model: string, messages: ReadonlyArray<LmMessage>, options: LmOptions): ChatRequest {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    const parts = m.content.map(partOf);
    const text = parts.flatMap((p) => (p.kind === 'text' ? [p.text] : [])).join('');
    if (m.role === ASSISTANT) {
      const calls = parts.flatMap((p) => (p.kind === 'call' ? [{ id: p.id, type: 'function' as const, function: { name: p.name, arguments: JSON.stringify(p.input ?? {}) } }] : []));
      if (text === '' && calls.length === 0) continue;
      out.push({ role: 'assistant', content: text === '' ? null : text, ...(calls.length > 0 && { tool_calls: calls }) });
    } else if (m.role === SYSTEM) {
      if (text !== '') out.push({ role: 'system', content: text });
    } else if (m.role === USER) {
      for (const p of parts) if (p.kind === 'result') out.push({ role: 'tool', tool_call_id: p.id, content: p.text });
      const content: ContentPart[] = parts.flatMap((p): ContentPart[] => (p.kind === 'text' ? [{ type: 'text', text: p.text }] : p.kind === 'image' ? [{ type: 'image_url', image_url: { url: p.url } }] : []));
      if (content.length > 0) out.push({ role: 'user', content: content.every((c) => c.type === 'text') ? text : content });
    }
  }
  const tools: ChatTool[] | undefined = options.tools?.length
    ? options.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: (t.inputSchema as Record<string, unknown> | undefined) ?? { type: 'object', properties: {} } } }))
    : undefined;
  const mo = options.modelOptions ?? {};
  const num = (k: string) => (typeof mo[k] === 'number' && Number.isFinite(mo[k]) ? (mo[k] as number) : undefined);
  const maxTokens = num('max_tokens') ?? num('maxTokens') ?? num('max_completion_tokens');
  const temperature = num('temperature');
  const topP = num('top_p');
  return {
    model,
    messages: out,
    ...(tools && { tools, tool_choice: options.toolMode === TOOL_MODE_REQUIRED ? 'required' : 'auto' }),
    ...(maxTokens !== undefined && { max_tokens: maxTokens }),
    ...(temperature !== undefined && { temperature }),
    ...(topP !== undefined && { top_p: topP }),
  };
}
