// OpenAI and OpenAI-compatible (OpenRouter): chat completions, Responses, embeddings, models.
import type { FakeUsage } from './providers';
import { type Call, type Ctx, type ProviderErrors, embedding, splitEven, sse, stringField, toolCallFor } from './wire';

const err = (message: string, type: string, code: string | null): unknown => ({ error: { message, type, param: null, code } });

export const OPENAI_ERRORS: ProviderErrors & { missingKey(): unknown } = {
  missingKey: () =>
    err("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.", 'invalid_request_error', null),
  badKey: () => ({
    status: 401,
    body: err('Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key'),
  }),
  forbidden: () => ({
    status: 403,
    body: err('Country, region, or territory not supported', 'request_forbidden', 'unsupported_country_region_territory'),
  }),
  rateLimited: (retryAfter) => ({
    status: 429,
    body: err('Rate limit reached for requests.', 'requests', 'rate_limit_exceeded'),
    headers: {
      'retry-after': String(retryAfter),
      ...(typeof retryAfter === 'number' ? { 'retry-after-ms': String(retryAfter * 1000) } : {}),
      ...rateLimitHeaders(0),
    },
  }),
  quota: () => ({
    status: 429,
    body: err('You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota'),
  }),
  server: () => ({ status: 500, body: err('The server had an error while processing your request. Sorry about that!', 'server_error', null) }),
  overloaded: () => ({ status: 503, body: err('The engine is currently overloaded, please try again later.', 'server_error', null) }),
};

/** The x-ratelimit-* headers OpenAI sends with every reply. */
export function rateLimitHeaders(remaining = 9999): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-remaining-requests': String(remaining),
    'x-ratelimit-reset-requests': remaining === 0 ? '1s' : '6ms',
    'x-ratelimit-limit-tokens': '30000000',
    'x-ratelimit-remaining-tokens': String(remaining === 0 ? 0 : 29999990),
    'x-ratelimit-reset-tokens': '0s',
  };
}

function chatUsage(u: Required<FakeUsage>, cost: number | undefined): Record<string, unknown> {
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cacheReadTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    // OpenRouter adds the charge in USD.
    ...(cost !== undefined ? { cost, is_byok: false } : {}),
  };
}

function responsesUsage(u: Required<FakeUsage>): Record<string, unknown> {
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cacheReadTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

const SSE_HEADERS = { 'cache-control': 'no-cache', connection: 'keep-alive' };

function chatCompletions(ctx: Ctx, call: Call, headers: Record<string, string>): void {
  const { body } = call;
  const u = ctx.usageFor(JSON.stringify(body['messages'] ?? ''));
  const id = `chatcmpl-fake${ctx.id()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = stringField(body, 'model', 'unknown');
  const tool = toolCallFor(ctx, body);
  const callId = tool && `call_fake_${ctx.id()}`;
  const args = tool ? JSON.stringify(tool.arguments) : '';
  const finishReason = tool ? 'tool_calls' : 'stop';
  if (body['stream'] !== true) {
    const message = tool
      ? { role: 'assistant', content: null, tool_calls: [{ id: callId, type: 'function', function: { name: tool.name, arguments: args } }], refusal: null }
      : { role: 'assistant', content: ctx.replyText, refusal: null };
    return ctx.send(call, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
      usage: chatUsage(u, ctx.cost),
      service_tier: 'default',
      system_fingerprint: 'fp_fake',
    }, headers);
  }
  const so = body['stream_options'];
  const includeUsage = typeof so === 'object' && so !== null && (so as Record<string, unknown>)['include_usage'] === true;
  const chunk = (choices: unknown[], usage?: unknown): string =>
    sse({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: 'fp_fake',
      choices,
      // With include_usage every chunk carries usage: null except the last one.
      ...(includeUsage ? { usage: usage ?? null } : {}),
    });
  const delta = (d: Record<string, unknown>, finish: string | null = null): unknown => ({ index: 0, delta: d, logprobs: null, finish_reason: finish });
  // A tool call streams as OpenAI's does: id, type and name first, then the arguments in pieces.
  const replyFrames = tool
    ? [
        chunk([delta({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: tool.name, arguments: '' } }], refusal: null })]),
        ...splitEven(args, Math.max(2, ctx.pieces().length)).map((a) => chunk([delta({ tool_calls: [{ index: 0, function: { arguments: a } }] })])),
      ]
    : [chunk([delta({ role: 'assistant', content: '', refusal: null })]), ...ctx.pieces().map((p) => chunk([delta({ content: p })]))];
  const frames = [
    ...replyFrames,
    chunk([delta({}, finishReason)]),
    ...(includeUsage ? [chunk([], chatUsage(u, ctx.cost))] : []),
    sse('[DONE]'),
  ];
  void ctx.stream(call, 'text/event-stream; charset=utf-8', frames, { ...SSE_HEADERS, ...headers });
}

function responses(ctx: Ctx, call: Call, headers: Record<string, string>): void {
  const { body } = call;
  const input = body['input'];
  const u = ctx.usageFor((typeof input === 'string' ? input : JSON.stringify(input ?? '')) + stringField(body, 'instructions'));
  const n = ctx.id();
  const id = `resp_fake${n}`;
  const itemId = `msg_fake${n}`;
  const textPart = (text: string): Record<string, unknown> => ({ type: 'output_text', text, annotations: [], logprobs: [] });
  const item = (status: string, content: unknown[]): Record<string, unknown> => ({ id: itemId, type: 'message', status, role: 'assistant', content });
  const response = (status: string, output: unknown[], usage: unknown): Record<string, unknown> => ({
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: body['instructions'] ?? null,
    max_output_tokens: body['max_output_tokens'] ?? null,
    model: stringField(body, 'model', 'unknown'),
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: true,
    temperature: 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage,
    user: null,
    metadata: {},
  });
  const done = response('completed', [item('completed', [textPart(ctx.replyText)])], responsesUsage(u));
  if (body['stream'] !== true) return ctx.send(call, 200, done, headers);
  let seq = 0;
  const ev = (type: string, fields: Record<string, unknown>): string => sse({ type, sequence_number: seq++, ...fields }, type);
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  const frames = [
    ev('response.created', { response: response('in_progress', [], null) }),
    ev('response.in_progress', { response: response('in_progress', [], null) }),
    ev('response.output_item.added', { output_index: 0, item: item('in_progress', []) }),
    ev('response.content_part.added', { ...at, part: textPart('') }),
    ...ctx.pieces().map((delta) => ev('response.output_text.delta', { ...at, delta, logprobs: [] })),
    ev('response.output_text.done', { ...at, text: ctx.replyText, logprobs: [] }),
    ev('response.content_part.done', { ...at, part: textPart(ctx.replyText) }),
    ev('response.output_item.done', { output_index: 0, item: item('completed', [textPart(ctx.replyText)]) }),
    ev('response.completed', { response: done }),
  ];
  void ctx.stream(call, 'text/event-stream; charset=utf-8', frames, { ...SSE_HEADERS, ...headers });
}

function embeddings(ctx: Ctx, call: Call, headers: Record<string, string>): void {
  const { body } = call;
  const raw = body['input'];
  const inputs = (Array.isArray(raw) ? raw : [raw]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  const tokens = ctx.usageFor(inputs.join(' ')).inputTokens;
  // The official SDK asks for base64 (little-endian float32) unless told otherwise.
  const base64 = body['encoding_format'] === 'base64';
  ctx.send(call, 200, {
    object: 'list',
    data: inputs.map((t, index) => {
      const v = embedding(t);
      return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v };
    }),
    model: stringField(body, 'model', 'unknown'),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  }, headers);
}

export function handleOpenAi(ctx: Ctx, call: Call): void {
  const { req, url } = call;
  const pathname = url.pathname;
  const headers = { 'x-request-id': `req_fake${ctx.id()}`, 'openai-processing-ms': '12', ...rateLimitHeaders() };
  if (req.method === 'GET' && pathname === '/v1/models') {
    return ctx.send(call, 200, {
      object: 'list',
      data: ctx.models.openai.map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })),
    }, headers);
  }
  // OpenRouter's key-info endpoint.
  if (req.method === 'GET' && pathname === '/v1/key') {
    return ctx.send(call, 200, {
      data: { label: 'sk-or-v1-fak...key', limit: null, usage: 0, is_free_tier: false, is_provisioning_key: false, limit_remaining: null },
    });
  }
  if (req.method === 'POST' && pathname === '/v1/chat/completions') return chatCompletions(ctx, call, headers);
  if (req.method === 'POST' && pathname === '/v1/responses') return responses(ctx, call, headers);
  if (req.method === 'POST' && pathname === '/v1/embeddings') return embeddings(ctx, call, headers);
  ctx.send(call, 404, err(`Invalid URL (${req.method} ${pathname})`, 'invalid_request_error', null));
}
