// OpenAI chat ↔ Gemini API generateContent (v1beta): the request as `contents` with
// systemInstruction, generationConfig, tools and toolConfig; the GenerateContentResponse (whole, or
// streamed as `?alt=sse` events, each a GenerateContentResponse) back as chat.completion(.chunk).
//
// Decisions: an image URL that is not a base64 data: URL goes as fileData {fileUri} (Files API
// URIs, YouTube and public URLs), with a mimeType guessed from its extension when it has one.
// Every assistant turn's first functionCall carries Google's documented dummy thoughtSignature
// (an OpenAI client cannot return Gemini's real one; Gemini 3 refuses replayed calls without one).
// Usage is the ledger's (geminiUsage): cached tokens out of input, thoughts into output.
// A stream that ends without a finishReason gets no finish chunk: the client sees it was cut.
import { isObj, obj, parseJson, str, type Obj } from '../wire/common';
import { geminiUsage } from '../wire/gemini';
import { callId, chatCompletion, chatUsage, dataUrl, parseArguments, textOf, toolNames } from './chunks';
import { SseConverter } from './sseConverter';
import {
  TranslationError,
  type ChatCompletion,
  type ChatRequest,
  type ChatUsage,
  type ContentPart,
  type FinishReason,
  type NativeRequest,
  type ReplyMeta,
  type ToolCall,
  type ToolChoice,
  type Translator,
} from './types';

/** Google's documented stand-in for a thought signature the client could not keep. */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

interface Content {
  role: 'user' | 'model';
  parts: Obj[];
}

const MIME: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif',
  heic: 'image/heic', heif: 'image/heif', pdf: 'application/pdf',
};

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function imagePart(url: string, where: string): Obj {
  const d = dataUrl(url);
  if (d) return { inlineData: { mimeType: d.mediaType, data: d.data } };
  if (/^data:/i.test(url)) throw new TranslationError(`${where}: only base64 data: URLs can be sent to Gemini`);
  const ext = /\.([a-z0-9]+)$/i.exec(url.split(/[?#]/)[0]!)?.[1]?.toLowerCase();
  const mimeType = ext ? MIME[ext] : undefined;
  return { fileData: { fileUri: url, ...(mimeType && { mimeType }) } };
}

function userParts(content: string | ContentPart[], where: string): Obj[] {
  if (typeof content === 'string') return content ? [{ text: content }] : [];
  if (!Array.isArray(content)) throw new TranslationError(`${where}: content must be a string or an array of parts`);
  return content.flatMap((p, k): Obj[] => {
    if (p.type === 'text') return p.text ? [{ text: p.text }] : [];
    if (p.type === 'image_url' && typeof p.image_url?.url === 'string') return [imagePart(p.image_url.url, `${where}.content[${k}]`)];
    throw new TranslationError(`${where}.content[${k}]: part type "${String((p as { type?: unknown }).type)}" cannot be sent to Gemini`);
  });
}

/** A tool result's JSON object as is; any other text as {content}. */
function toolResponse(text: string): Obj {
  const v = parseJson(text);
  return isObj(v) ? v : { content: text };
}

function callParts(calls: readonly ToolCall[], where: string): Obj[] {
  return calls.map((c, k) => {
    const name = c?.function?.name;
    if (typeof name !== 'string' || !name) throw new TranslationError(`${where}.tool_calls[${k}]: a function name is required`);
    const args = typeof c.function.arguments === 'string' ? parseArguments(c.function.arguments) : {};
    return { functionCall: { name, args }, ...(k === 0 && { thoughtSignature: SKIP_SIGNATURE }) };
  });
}

function functionCallingConfig(choice: ToolChoice, declared: ReadonlySet<string>): Obj {
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'none') return { mode: 'NONE' };
  if (choice === 'required') return { mode: 'ANY' };
  const name = isObj(choice) ? obj(choice['function'])?.['name'] : undefined;
  if (typeof name !== 'string') throw new TranslationError('tool_choice: expected "auto", "none", "required" or {type: "function", function: {name}}');
  if (!declared.has(name)) throw new TranslationError(`tool_choice: function "${name}" is not among the tools`);
  return { mode: 'ANY', allowedFunctionNames: [name] };
}

function generationConfig(req: ChatRequest): Obj {
  const c: Obj = {};
  const put = (k: string, v: unknown): void => {
    if (v !== undefined) c[k] = v;
  };
  put('temperature', num(req.temperature));
  put('topP', num(req.top_p));
  put('maxOutputTokens', num(req.max_completion_tokens) ?? num(req.max_tokens));
  const stop = typeof req.stop === 'string' ? [req.stop] : Array.isArray(req.stop) ? req.stop.filter((s) => typeof s === 'string') : [];
  if (stop.length) c['stopSequences'] = stop;
  put('seed', num(req.seed));
  const format = req.response_format?.type;
  if (format === 'json_object' || format === 'json_schema') c['responseMimeType'] = 'application/json';
  if (format === 'json_schema') put('responseJsonSchema', obj(req.response_format?.json_schema?.schema));
  return c;
}

function request(req: ChatRequest, model: string): NativeRequest {
  if (!Array.isArray(req.messages) || req.messages.length === 0) throw new TranslationError('messages: at least one message is required');
  const system: string[] = [];
  const contents: Content[] = [];
  /** Tool names by call id, as of the message being read (a later turn may reuse an id). */
  const names = new Map<string, string>();
  const push = (role: Content['role'], parts: Obj[]): void => {
    if (!parts.length) return;
    const last = contents.at(-1);
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  req.messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    switch (m?.role) {
      case 'system':
      case 'developer': {
        const text = textOf(m.content);
        if (text) system.push(text);
        break;
      }
      case 'user':
        push('user', userParts(m.content, where));
        break;
      case 'assistant': {
        const text = textOf(m.content);
        const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
        push('model', [...(text ? [{ text }] : []), ...callParts(calls, where)]);
        for (const [id, name] of toolNames([{ role: m.role, tool_calls: calls }])) names.set(id, name);
        break;
      }
      case 'tool': {
        const name = names.get(m.tool_call_id);
        if (!name) throw new TranslationError(`${where}: tool_call_id "${String(m.tool_call_id)}" matches no earlier assistant tool call`);
        push('user', [{ functionResponse: { name, response: toolResponse(textOf(m.content)) } }]);
        break;
      }
      default:
        throw new TranslationError(`${where}: unknown role "${String((m as { role?: unknown } | null)?.role)}"`);
    }
  });
  if (!contents.length) throw new TranslationError('messages: Gemini needs at least one user or assistant message with content');

  const body: Obj = { contents };
  if (system.length) body['systemInstruction'] = { parts: [{ text: system.join('\n\n') }] };
  const declarations = (Array.isArray(req.tools) ? req.tools : []).map((t, k) => {
    if (t?.type !== 'function' || typeof t.function?.name !== 'string') throw new TranslationError(`tools[${k}]: only function tools can be sent to Gemini`);
    const { name, description, parameters } = t.function;
    return { name, ...(description && { description }), ...(isObj(parameters) && { parametersJsonSchema: parameters }) };
  });
  if (declarations.length) {
    body['tools'] = [{ functionDeclarations: declarations }];
    if (req.tool_choice !== undefined) {
      body['toolConfig'] = { functionCallingConfig: functionCallingConfig(req.tool_choice, new Set(declarations.map((d) => d.name))) };
    }
  } else if (req.tool_choice !== undefined && req.tool_choice !== 'auto' && req.tool_choice !== 'none') {
    throw new TranslationError('tool_choice: a tool is asked for, but no tools were given');
  }
  const config = generationConfig(req);
  if (Object.keys(config).length) body['generationConfig'] = config;

  return req.stream
    ? { path: `/v1beta/models/${model}:streamGenerateContent`, search: '?alt=sse', body }
    : { path: `/v1beta/models/${model}:generateContent`, search: '', body };
}

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

function finishReason(reason: string | undefined, toolCalls: boolean): FinishReason {
  if (toolCalls) return 'tool_calls';
  if (reason === 'MAX_TOKENS') return 'length';
  return reason && FILTERED.has(reason) ? 'content_filter' : 'stop';
}

/** Tool-call ids: the part's own id when it has an unused one, else one made from the reply's id. */
class CallIds {
  private readonly used = new Set<string>();
  private n = 0;
  constructor(private readonly replyId: string) {}
  next(own: string | undefined): string {
    let id = own && !this.used.has(own) ? own : undefined;
    while (!id || this.used.has(id)) id = callId(this.replyId, this.n++);
    this.used.add(id);
    return id;
  }
}

type Piece = { text: string } | { call: { id: string; name: string; arguments: string } };

/** The first candidate's text and function calls, in order (thoughts left out). */
function readParts(candidate: Obj | undefined, ids: CallIds): Piece[] {
  const out: Piece[] = [];
  const parts = obj(candidate?.['content'])?.['parts'];
  for (const p of Array.isArray(parts) ? parts : []) {
    if (!isObj(p) || p['thought'] === true) continue;
    const text = p['text'];
    if (typeof text === 'string' && text) out.push({ text });
    const fc = obj(p['functionCall']);
    const name = str(fc?.['name']);
    if (fc && name) out.push({ call: { id: ids.next(str(fc['id'])), name, arguments: JSON.stringify(fc['args'] ?? {}) } });
  }
  return out;
}

function firstCandidate(body: Obj): Obj | undefined {
  const c = body['candidates'];
  return Array.isArray(c) ? obj(c[0]) : undefined;
}

const blocked = (body: Obj): boolean => str(obj(body['promptFeedback'])?.['blockReason']) !== undefined;

function usageOf(meta: Obj | undefined): ChatUsage | undefined {
  if (!meta) return undefined;
  const u = geminiUsage(meta);
  return chatUsage({ input: u.inputTokens, output: u.outputTokens, cacheRead: u.cacheReadTokens, reasoning: u.reasoningTokens });
}

function reply(raw: unknown, meta: ReplyMeta): ChatCompletion {
  const body = obj(parseJson(raw)) ?? {};
  const candidate = firstCandidate(body);
  const pieces = readParts(candidate, new CallIds(meta.id));
  const text = pieces.map((p) => ('text' in p ? p.text : '')).join('');
  const toolCalls = pieces.flatMap((p): ToolCall[] => ('call' in p ? [{ id: p.call.id, type: 'function', function: { name: p.call.name, arguments: p.call.arguments } }] : []));
  const finish = !candidate && blocked(body) ? 'content_filter' : finishReason(str(candidate?.['finishReason']), toolCalls.length > 0);
  return chatCompletion(meta, {
    model: str(body['modelVersion']),
    text,
    calls: toolCalls,
    finish,
    // Gemini always counts: a reply without usageMetadata used nothing.
    usage: usageOf(obj(body['usageMetadata'])) ?? chatUsage({ input: 0, output: 0 }),
    // A blocked reply has no content at all.
    nullWhen: finish === 'content_filter',
  });
}

/** Gemini SSE in, OpenAI chunks out, event by event. */
class GeminiStream extends SseConverter {
  private readonly ids: CallIds;
  private fields?: Obj;
  private calls = 0;

  constructor(meta: ReplyMeta) {
    super(meta);
    this.ids = new CallIds(meta.id);
  }

  protected usage(): ChatUsage | undefined {
    return usageOf(this.fields);
  }

  protected event(data: string): void {
    const ev = obj(parseJson(data));
    if (!ev) return;
    const error = ev['error'];
    if (error !== undefined) {
      this.fail(str(obj(error)?.['message']) ?? (typeof error === 'string' && error ? error : 'Gemini stream error'));
      return;
    }
    this.writer.setModel(str(ev['modelVersion']));
    this.fields = obj(ev['usageMetadata']) ?? this.fields;
    if (this.writer.isFinished) return;
    const candidate = firstCandidate(ev);
    for (const p of readParts(candidate, this.ids)) {
      if ('text' in p) this.out += this.writer.delta({ content: p.text });
      else this.out += this.writer.delta({ tool_calls: [{ index: this.calls++, id: p.call.id, type: 'function', function: { name: p.call.name, arguments: p.call.arguments } }] });
    }
    const reason = str(candidate?.['finishReason']);
    if (reason) this.out += this.writer.finish(finishReason(reason, this.calls > 0));
    else if (!candidate && blocked(ev)) this.out += this.writer.finish('content_filter');
  }
}

export const gemini: Translator = {
  request,
  reply,
  stream: (meta) => new GeminiStream(meta),
};
