// The router endpoint: /v1/chat/completions in OpenAI's format for any provider. `model` is
// `provider/model`, `auto` or `auto:<task>`; auto picks with the core's router (keys, health,
// budgets) and falls back to the next provider when one fails before the first byte. Native
// providers are translated (translate/); OpenAI-compatible ones get the body with their model.
// /v1/models lists what can be served now.
import * as http from 'node:http';
import { randomBytes } from 'node:crypto';
import { PROVIDERS, findProvider, type ProviderSpec } from '../core/providers';
import type { RoutingError } from '../core/router';
import { TASK_TYPES, type TaskType } from '../core/types';
import { dispatch, sendError, type DispatchContext, type DispatchFailure, type Output, type ResponseSink } from './dispatch';
import { WIRE_FORMATS } from './wire';
import { isObj } from './wire/common';
import { anthropic } from './translate/anthropic';
import { gemini } from './translate/gemini';
import { ollama } from './translate/ollama';
import { TranslationError, type ChatRequest, type ReplyMeta, type Translator } from './translate/types';

const TRANSLATORS: Partial<Record<ProviderSpec['api'], Translator>> = { anthropic, gemini, ollama };
const openaiWire = WIRE_FORMATS.openai;

interface Candidate {
  provider: ProviderSpec;
  model: string;
}

/** The models `model` names, in the order to try, and the task to record; or why it cannot be served. */
export function candidatesFor(ctx: DispatchContext, model: string, headerTask: TaskType | undefined): { candidates: Candidate[]; taskType?: TaskType } | { status: number; message: string } {
  const auto = /^auto(?::(.+))?$/.exec(model);
  if (auto) {
    const task = auto[1] ?? headerTask ?? 'chat';
    const taskType = TASK_TYPES.find((t) => t === task);
    if (!taskType || taskType === 'embeddings') return { status: 400, message: `Unknown task '${task}' in model '${model}'. Use auto or auto:<task> with one of: ${TASK_TYPES.filter((t) => t !== 'embeddings').join(', ')}.` };
    try {
      const d = ctx.core.route({ taskType, enableFallback: true });
      return { taskType, candidates: [d, ...d.fallbacks].map((c) => ({ provider: findProvider(c.provider)!, model: c.model })) };
    } catch (err) {
      // By shape: in VS Code the gateway is its own bundle, with its own copy of the class.
      if (err instanceof Error && Array.isArray((err as Partial<RoutingError>).skipped)) return { status: 503, message: `AI Key Manager: ${err.message}` };
      throw err;
    }
  }
  const slash = model.indexOf('/');
  const provider = slash > 0 ? findProvider(model.slice(0, slash)) : undefined;
  if (!provider || slash === model.length - 1) {
    return { status: 400, message: `AI Key Manager router: model '${model}' is not 'provider/model', 'auto' or 'auto:<task>'. Providers: ${PROVIDERS.map((p) => p.id).join(', ')}. Example: anthropic/claude-sonnet-4-5. GET /v1/models lists what can be served now.` };
  }
  return { candidates: [{ provider, model: model.slice(slash + 1) }], ...(headerTask && { taskType: headerTask }) };
}

export async function routeChat(ctx: DispatchContext, headers: http.IncomingHttpHeaders, res: ResponseSink, raw: Uint8Array): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    return sendError(res, openaiWire, 400, 'AI Key Manager router: the request body is not JSON.');
  }
  const bad = invalid(json);
  if (bad) return sendError(res, openaiWire, 400, `AI Key Manager router: ${bad}`);
  return serveChat(ctx, json as ChatRequest, headers, res);
}

/**
 * Serves one OpenAI chat request (already checked) on `res`: over HTTP, or in process for VS Code's
 * chat models. Failures are answered in OpenAI's error shape.
 */
export async function serveChat(ctx: DispatchContext, req: ChatRequest, headers: http.IncomingHttpHeaders, res: ResponseSink): Promise<void> {
  const headerTask = TASK_TYPES.find((t) => t === headers['x-aikm-task']);
  const plan = candidatesFor(ctx, req.model, headerTask);
  if ('status' in plan) return sendError(res, openaiWire, plan.status, plan.message);

  const failures: string[] = [];
  let last: DispatchFailure | undefined;
  for (const c of plan.candidates) {
    let failure: DispatchFailure | undefined;
    try {
      failure = await serveWith(ctx, c, req, plan.taskType, headers, res);
    } catch (err) {
      if (!(err instanceof TranslationError)) throw err;
      failure = { status: 400, message: err.message };
    }
    if (!failure) return;
    last = failure;
    failures.push(`${c.provider.id}/${c.model}: ${failure.message}`);
    ctx.log?.(`gateway router: ${c.provider.id}/${c.model} failed (${failure.message})${c === plan.candidates.at(-1) ? '' : '; trying the next'}`);
    if (res.destroyed) return;
  }
  if (!last) return;
  const message = failures.length === 1 ? last.message : `AI Key Manager: no provider could serve ${req.model}. Tried ${failures.join('; ')}`;
  sendError(res, openaiWire, failures.length === 1 ? last.status : 502, message, failures.length === 1 ? last.headers : {});
}

function serveWith(ctx: DispatchContext, c: Candidate, req: ChatRequest, taskType: TaskType | undefined, clientHeaders: http.IncomingHttpHeaders, res: ResponseSink): Promise<DispatchFailure | undefined> {
  const translator = TRANSLATORS[c.provider.api];
  const native = translator ? translator.request(req, c.model) : { path: '/v1/chat/completions', search: '', body: { ...req, model: c.model } };
  const meta: ReplyMeta = { id: `chatcmpl-aikm-${randomBytes(12).toString('hex')}`, created: Math.floor(Date.now() / 1000), model: c.model, includeUsage: req.stream_options?.include_usage === true };
  const served = { 'x-aikm-provider': c.provider.id, 'x-aikm-model': `${c.provider.id}/${c.model}` };
  const output: Output = {
    open(_status, upstream) {
      if (!translator) {
        const type = upstream['content-type'];
        return { headers: { ...(type && { 'content-type': type }), ...served } };
      }
      if (req.stream === true) {
        return { headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...served }, body: translator.stream(meta) };
      }
      return { headers: { 'content-type': 'application/json', ...served }, body: wholeReply(translator, meta) };
    },
  };
  const body = Buffer.from(JSON.stringify(native.body), 'utf8');
  return dispatch(
    ctx,
    { provider: c.provider, wire: WIRE_FORMATS[c.provider.api], method: 'POST', path: native.path, search: native.search, headers: upstreamHeaders(clientHeaders), body, ...(taskType && { taskType }) },
    res,
    output,
  );
}

/** What goes upstream of the client's headers: the body's type, and whether it may come from the cache. */
function upstreamHeaders(client: http.IncomingHttpHeaders): http.IncomingHttpHeaders {
  const cc = client['cache-control'];
  return { 'content-type': 'application/json', ...(cc !== undefined && { 'cache-control': cc }) };
}

/** A non-streamed reply: kept until its end, then translated whole. */
function wholeReply(translator: Translator, meta: ReplyMeta): { transform(c: Uint8Array): Uint8Array; flush(): Uint8Array } {
  const parts: Uint8Array[] = [];
  return {
    transform(c) {
      parts.push(c);
      return new Uint8Array(0);
    },
    flush() {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        return Buffer.from(JSON.stringify(openaiWire.errorBody(502, 'AI Key Manager router: the provider sent a reply that is not JSON.')));
      }
      return Buffer.from(JSON.stringify(translator.reply(body, meta)), 'utf8');
    },
  };
}

/** What is wrong with a chat request's shape, or undefined. */
function invalid(json: unknown): string | undefined {
  if (!isObj(json)) return 'the body must be a JSON object.';
  if (typeof json['model'] !== 'string' || json['model'] === '') return "'model' is required: 'provider/model', 'auto' or 'auto:<task>'.";
  const messages = json['messages'];
  if (!Array.isArray(messages) || messages.length === 0) return "'messages' must be a non-empty array.";
  for (const [i, m] of messages.entries()) {
    if (!isObj(m) || typeof m['role'] !== 'string') return `messages[${i}] must be an object with a 'role'.`;
    if (!['system', 'developer', 'user', 'assistant', 'tool'].includes(m['role'])) return `messages[${i}].role '${m['role']}' is not one of system, developer, user, assistant, tool.`;
    if (m['role'] === 'tool' && typeof m['tool_call_id'] !== 'string') return `messages[${i}] (a tool result) needs 'tool_call_id'.`;
    const content = m['content'];
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) return `messages[${i}].content must be text or a list of parts.`;
    for (const [j, p] of (Array.isArray(content) ? content : []).entries()) {
      if (!isObj(p) || (p['type'] === 'text' && typeof p['text'] !== 'string')) return `messages[${i}].content[${j}] must be a part with a type ('text' with its text, or 'image_url').`;
      if (p['type'] === 'image_url' && !(isObj(p['image_url']) && typeof p['image_url']['url'] === 'string')) return `messages[${i}].content[${j}].image_url.url is required.`;
    }
    const calls = m['tool_calls'];
    if (calls !== undefined && (!Array.isArray(calls) || calls.some((c) => !isObj(c) || !isObj(c['function']) || typeof c['function']['name'] !== 'string' || typeof c['id'] !== 'string'))) {
      return `messages[${i}].tool_calls must be a list of { id, type: 'function', function: { name, arguments } }.`;
    }
  }
  const tools = json['tools'];
  if (tools !== undefined && (!Array.isArray(tools) || tools.some((t) => !isObj(t) || !isObj(t['function']) || typeof t['function']['name'] !== 'string'))) {
    return "'tools' must be a list of { type: 'function', function: { name, description?, parameters? } }.";
  }
  return undefined;
}

/** GET /v1/models: auto, auto:<task> and every provider/model that could serve now. */
export function listModels(ctx: DispatchContext, res: ResponseSink): void {
  const created = Math.floor(Date.now() / 1000);
  const ids = new Set<string>(['auto', ...TASK_TYPES.filter((t) => t !== 'embeddings').map((t) => `auto:${t}`)]);
  for (const task of TASK_TYPES) {
    if (task === 'embeddings') continue;
    for (const c of ctx.core.viableModels(task)) ids.add(`${c.provider}/${c.model}`);
  }
  const data = [...ids].map((id) => ({ id, object: 'model', created, owned_by: id.includes('/') ? id.slice(0, id.indexOf('/')) : 'ai-key-manager' }));
  const body = Buffer.from(JSON.stringify({ object: 'list', data }), 'utf8');
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
  res.end(body);
}
