// Ollama: /api/chat and /api/generate (NDJSON unless stream is false), /api/embed, /api/tags.
import { type Call, type Ctx, type ProviderErrors, embedding, stringField, toolCallFor } from './wire';

export const OLLAMA_ERRORS: ProviderErrors = {
  badKey: () => ({ status: 401, body: { error: 'unauthorized' } }),
  forbidden: () => ({ status: 403, body: { error: 'forbidden' } }),
  rateLimited: (retryAfter) => ({ status: 429, body: { error: 'too many requests' }, headers: { 'retry-after': String(retryAfter) } }),
  quota: () => ({ status: 429, body: { error: 'too many requests' } }),
  server: () => ({ status: 500, body: { error: 'internal error' } }),
  overloaded: () => ({ status: 503, body: { error: 'server busy, please try again.  maximum pending requests exceeded' } }),
};

const TIMINGS = { total_duration: 1_000_000, load_duration: 100_000, prompt_eval_duration: 200_000, eval_duration: 600_000 };

function generate(ctx: Ctx, call: Call, chat: boolean): void {
  const { body } = call;
  const model = stringField(body, 'model');
  const u = ctx.usageFor(chat ? JSON.stringify(body['messages'] ?? '') : stringField(body, 'prompt') + stringField(body, 'system'));
  const createdAt = new Date().toISOString();
  const tool = chat ? toolCallFor(ctx, body) : undefined;
  const part = (text: string): Record<string, unknown> => (chat ? { message: { role: 'assistant', content: text } } : { response: text });
  // A tool call: content empty, the call in message.tool_calls (arguments an object).
  const called = tool && { message: { role: 'assistant', content: '', tool_calls: [{ function: { name: tool.name, arguments: tool.arguments } }] } };
  const final = (reply: Record<string, unknown>): Record<string, unknown> => ({
    model,
    created_at: createdAt,
    ...reply,
    done: true,
    done_reason: 'stop',
    ...(chat ? {} : { context: [1, 2, 3] }),
    total_duration: TIMINGS.total_duration,
    load_duration: TIMINGS.load_duration,
    prompt_eval_count: u.inputTokens,
    prompt_eval_duration: TIMINGS.prompt_eval_duration,
    eval_count: u.outputTokens,
    eval_duration: TIMINGS.eval_duration,
  });
  if (body['stream'] === false) return ctx.send(call, 200, final(called ?? part(ctx.replyText)));
  const lines = [
    ...(called
      ? [JSON.stringify({ model, created_at: createdAt, ...called, done: false }) + '\n']
      : ctx.pieces().map((p) => JSON.stringify({ model, created_at: createdAt, ...part(p), done: false }) + '\n')),
    JSON.stringify(final(part(''))) + '\n',
  ];
  void ctx.stream(call, 'application/x-ndjson', lines);
}

export function handleOllama(ctx: Ctx, call: Call): void {
  const { req, url, body } = call;
  const pathname = url.pathname;
  if (req.method === 'GET' && pathname === '/api/tags') {
    return ctx.send(call, 200, {
      models: ctx.models.ollama.map((name) => ({
        name,
        model: name,
        modified_at: '2025-01-01T00:00:00Z',
        size: 4920753328,
        digest: 'f'.repeat(64),
        details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '8.0B', quantization_level: 'Q4_K_M' },
      })),
    });
  }
  if (req.method === 'POST' && ['/api/chat', '/api/generate', '/api/embed'].includes(pathname)) {
    const model = stringField(body, 'model');
    const known = ctx.models.ollama.some((m) => m === model || m === `${model}:latest`);
    if (!known) return ctx.send(call, 404, { error: `model "${model}" not found, try pulling it first` });
    if (pathname === '/api/embed') {
      const raw = body['input'];
      const inputs = (Array.isArray(raw) ? raw : [raw]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
      return ctx.send(call, 200, {
        model,
        embeddings: inputs.map((t) => embedding(t)),
        total_duration: TIMINGS.total_duration,
        load_duration: TIMINGS.load_duration,
        prompt_eval_count: ctx.usageFor(inputs.join(' ')).inputTokens,
      });
    }
    return generate(ctx, call, pathname === '/api/chat');
  }
  ctx.send(call, 404, { error: `404 page not found` });
}
