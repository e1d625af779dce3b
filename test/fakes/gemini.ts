// Gemini API (generativelanguage v1beta): generate, stream (alt=sse or a JSON array), count, embed, models.
import type { FakeUsage } from './providers';
import { type Call, type Ctx, type ProviderErrors, cumulative, embedding, holds, sse, toolCallFor } from './wire';

const err = (code: number, status: string, message: string, details?: unknown[]): unknown => ({
  error: { code, message, status, ...(details ? { details } : {}) },
});

/** A "3s"-style protobuf Duration from a Retry-After value (seconds, or an HTTP date). */
function duration(retryAfter: number | string): string {
  const s = typeof retryAfter === 'number' ? retryAfter : Math.max(0, Math.ceil((Date.parse(retryAfter) - Date.now()) / 1000));
  return `${Number.isFinite(s) ? s : 0}s`;
}

export const GEMINI_ERRORS: ProviderErrors & { missingKey(): unknown } = {
  missingKey: () =>
    err(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."),
  // Gemini answers a bad key with 400 INVALID_ARGUMENT, not 401.
  badKey: () => ({
    status: 400,
    body: err(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
    ]),
  }),
  forbidden: () => ({
    status: 403,
    body: err(403, 'PERMISSION_DENIED', 'Permission denied: Consumer has been suspended.', [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'CONSUMER_SUSPENDED', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
    ]),
  }),
  // The wait is in the body (google.rpc.RetryInfo); Retry-After is kept for clients that read headers.
  rateLimited: (retryAfter) => ({
    status: 429,
    body: err(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).', [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' }],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: duration(retryAfter) },
    ]),
    headers: { 'retry-after': String(retryAfter) },
  }),
  quota: () => ({ status: 429, body: err(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.') }),
  server: () => ({
    status: 500,
    body: err(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'),
  }),
  overloaded: () => ({ status: 503, body: err(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.') }),
};

/** usageMetadata after `output` candidate tokens; thoughts come before the text, so they are whole from the first chunk. */
function usageMetadata(u: Required<FakeUsage>, output: number): Record<string, unknown> {
  return {
    promptTokenCount: u.inputTokens,
    candidatesTokenCount: output,
    totalTokenCount: u.inputTokens + output + u.reasoningTokens,
    ...(u.cacheReadTokens ? { cachedContentTokenCount: u.cacheReadTokens } : {}),
    ...(u.reasoningTokens ? { thoughtsTokenCount: u.reasoningTokens } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.inputTokens }],
  };
}

function promptOf(body: Record<string, unknown>): string {
  return JSON.stringify(body['contents'] ?? '') + JSON.stringify(body['systemInstruction'] ?? '');
}


export function handleGemini(ctx: Ctx, call: Call): void {
  const { req, url, body } = call;
  if (req.method === 'GET' && url.pathname === '/v1beta/models') {
    return ctx.send(call, 200, {
      models: ctx.models.gemini.map((id) => ({
        name: `models/${id}`,
        version: '001',
        displayName: id,
        inputTokenLimit: 1048576,
        outputTokenLimit: 8192,
        supportedGenerationMethods: id.includes('embedding') ? ['embedContent'] : ['generateContent', 'countTokens'],
      })),
    });
  }
  const m = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens|embedContent|batchEmbedContents)$/.exec(url.pathname);
  if (req.method !== 'POST' || !m) {
    return ctx.send(call, 404, err(404, 'NOT_FOUND', `Not found: ${url.pathname}`));
  }
  const model = decodeURIComponent(m[1] ?? '');
  const method = m[2];
  const u = ctx.usageFor(promptOf(body));
  const candidate = (text: string, done: boolean): unknown => ({
    content: { parts: [{ text }], role: 'model' },
    ...(done ? { finishReason: 'STOP' } : {}),
    index: 0,
  });
  // A tool result is a content holding functionResponse parts.
  const wanted = toolCallFor(ctx, body, 'contents', (last) => holds(last['parts'], (p) => 'functionResponse' in p));
  const tool = wanted && { name: wanted.name, args: wanted.arguments };
  if (tool && (method === 'generateContent' || method === 'streamGenerateContent')) {
    const reply = {
      candidates: [{ content: { parts: [{ functionCall: tool }], role: 'model' }, finishReason: 'STOP', index: 0 }],
      usageMetadata: usageMetadata(u, u.outputTokens),
      modelVersion: model,
      responseId: `fake-${ctx.id()}`,
    };
    if (method === 'generateContent') return ctx.send(call, 200, reply);
    const sseMode = url.searchParams.get('alt') === 'sse';
    void ctx.stream(call, sseMode ? 'text/event-stream' : 'application/json; charset=UTF-8', [sseMode ? sse(reply, undefined, '\r\n') : `[${JSON.stringify(reply)}]`]);
    return;
  }
  if (method === 'generateContent') {
    return ctx.send(call, 200, {
      candidates: [candidate(ctx.replyText, true)],
      usageMetadata: usageMetadata(u, u.outputTokens),
      modelVersion: model,
      responseId: `fake-${ctx.id()}`,
    });
  }
  if (method === 'streamGenerateContent') {
    const responseId = `fake-${ctx.id()}`;
    const pieces = ctx.pieces();
    const chunks = pieces.map((p, i) => ({
      candidates: [candidate(p, i === pieces.length - 1)],
      usageMetadata: usageMetadata(u, cumulative(u.outputTokens, i, pieces.length)),
      modelVersion: model,
      responseId,
    }));
    // Without alt=sse the API streams one JSON array.
    const sseMode = url.searchParams.get('alt') === 'sse';
    const frames = sseMode
      ? chunks.map((c) => sse(c, undefined, '\r\n'))
      : chunks.map((c, i) => `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(c)}${i === chunks.length - 1 ? ']' : ''}`);
    void ctx.stream(call, sseMode ? 'text/event-stream' : 'application/json; charset=UTF-8', frames);
    return;
  }
  if (method === 'countTokens') {
    const inner = body['generateContentRequest'];
    const prompt = inner && typeof inner === 'object' ? promptOf(inner as Record<string, unknown>) : promptOf(body);
    const c = ctx.usageFor(prompt);
    return ctx.send(call, 200, {
      totalTokens: c.inputTokens,
      ...(c.cacheReadTokens ? { cachedContentTokenCount: c.cacheReadTokens } : {}),
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: c.inputTokens }],
    });
  }
  const textOf = (r: unknown): string => JSON.stringify((r as Record<string, unknown> | null)?.['content'] ?? '');
  if (method === 'embedContent') return ctx.send(call, 200, { embedding: { values: embedding(textOf(body)) } });
  const reqs = Array.isArray(body['requests']) ? (body['requests'] as unknown[]) : [];
  ctx.send(call, 200, { embeddings: reqs.map((r) => ({ values: embedding(textOf(r)) })) });
}
