// Anthropic: Messages (plain and streamed), count_tokens, models.
import { type Call, type Ctx, type ProviderErrors, holds, sse, toolCallFor } from './wire';

const err = (type: string, message: string): unknown => ({ type: 'error', error: { type, message } });

export const ANTHROPIC_ERRORS: ProviderErrors & { missingKey(): unknown; missingVersion(): unknown } = {
  missingKey: () => err('authentication_error', 'x-api-key header is required'),
  missingVersion: () => err('invalid_request_error', 'anthropic-version: header is required'),
  badKey: () => ({ status: 401, body: err('authentication_error', 'invalid x-api-key') }),
  forbidden: () => ({ status: 403, body: err('permission_error', 'Your API key does not have permission to use the specified resource.') }),
  rateLimited: (retryAfter) => ({
    status: 429,
    body: err('rate_limit_error', 'Number of requests has exceeded your rate limit.'),
    headers: { 'retry-after': String(retryAfter), ...rateLimitHeaders(0) },
  }),
  // Anthropic reports an empty credit balance as a 400.
  quota: () => ({ status: 400, body: err('invalid_request_error', 'Your credit balance is too low to access the Anthropic API.') }),
  server: () => ({ status: 500, body: err('api_error', 'Internal server error') }),
  overloaded: () => ({ status: 529, body: err('overloaded_error', 'Overloaded') }),
};

/** The anthropic-ratelimit-* headers sent with every reply. */
export function rateLimitHeaders(remaining = 49): Record<string, string> {
  const reset = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const h: Record<string, string> = {};
  for (const [kind, limit] of [['requests', 50], ['tokens', 50000], ['input-tokens', 40000], ['output-tokens', 10000]] as const) {
    h[`anthropic-ratelimit-${kind}-limit`] = String(limit);
    h[`anthropic-ratelimit-${kind}-remaining`] = String(remaining === 0 ? 0 : Math.min(limit - 1, remaining * 1000));
    h[`anthropic-ratelimit-${kind}-reset`] = reset;
  }
  return h;
}

function messages(ctx: Ctx, call: Call, headers: Record<string, string>): void {
  const { body } = call;
  const u = ctx.usageFor(JSON.stringify(body['messages'] ?? '') + JSON.stringify(body['system'] ?? ''));
  // A tool result is a user turn holding tool_result blocks.
  const tool = toolCallFor(ctx, body, 'messages', (last) => holds(last['content'], (b) => b['type'] === 'tool_result'));
  const toolId = `toolu_fake_${ctx.id()}`;
  const message = {
    id: `msg_fake_${ctx.id()}`,
    type: 'message',
    role: 'assistant',
    model: body['model'] ?? 'unknown',
    content: tool ? [{ type: 'tool_use', id: toolId, name: tool.name, input: tool.arguments }] : [{ type: 'text', text: ctx.replyText }],
    stop_reason: tool ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: u.inputTokens,
      cache_creation_input_tokens: u.cacheWriteTokens,
      cache_read_input_tokens: u.cacheReadTokens,
      cache_creation: { ephemeral_5m_input_tokens: u.cacheWriteTokens, ephemeral_1h_input_tokens: 0 },
      output_tokens: u.outputTokens,
      // Thinking tokens are counted inside output_tokens.
      output_tokens_details: { thinking_tokens: u.reasoningTokens },
      server_tool_use: null,
      service_tier: 'standard',
    },
  };
  if (body['stream'] !== true) return ctx.send(call, 200, message, headers);
  const ev = (type: string, fields: Record<string, unknown> = {}): string => sse({ type, ...fields }, type);
  const pieces = ctx.pieces();
  const frames = [
    // message_start reports input and cache tokens, and a small output count that message_delta replaces.
    ev('message_start', {
      message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: Math.min(1, u.outputTokens), output_tokens_details: { thinking_tokens: 0 } } },
    }),
    ...(tool ? toolFrames(ev, toolId, tool) : textFrames(ev, pieces)),
    ev('content_block_stop', { index: 0 }),
    // message_delta's usage is cumulative for the whole message.
    ev('message_delta', {
      delta: { stop_reason: tool ? 'tool_use' : 'end_turn', stop_sequence: null },
      usage: {
        input_tokens: u.inputTokens,
        cache_creation_input_tokens: u.cacheWriteTokens,
        cache_read_input_tokens: u.cacheReadTokens,
        output_tokens: u.outputTokens,
        output_tokens_details: { thinking_tokens: u.reasoningTokens },
        server_tool_use: null,
      },
    }),
    ev('message_stop'),
  ];
  void ctx.stream(call, 'text/event-stream; charset=utf-8', frames, { 'cache-control': 'no-cache', ...headers });
}

type Ev = (type: string, fields?: Record<string, unknown>) => string;

function textFrames(ev: Ev, pieces: string[]): string[] {
  return [
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping'),
    ...pieces.map((text) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })),
  ];
}

/** A tool_use block as Anthropic streams it: an empty input, then the JSON text in pieces. */
function toolFrames(ev: Ev, id: string, tool: NonNullable<Ctx['toolCall']>): string[] {
  const json = JSON.stringify(tool.arguments);
  const half = Math.ceil(json.length / 2);
  return [
    ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id, name: tool.name, input: {} } }),
    ...[json.slice(0, half), json.slice(half)].map((partial_json) => ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json } })),
  ];
}

export function handleAnthropic(ctx: Ctx, call: Call): void {
  const { req, url, body } = call;
  const pathname = url.pathname;
  const headers = { 'request-id': `req_fake${ctx.id()}`, ...rateLimitHeaders() };
  if (req.method === 'GET' && pathname === '/v1/models') {
    const data = ctx.models.anthropic.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-05-22T00:00:00Z' }));
    return ctx.send(call, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }, headers);
  }
  if (req.method === 'POST' && pathname === '/v1/messages') return messages(ctx, call, headers);
  if (req.method === 'POST' && pathname === '/v1/messages/count_tokens') {
    const u = ctx.usageFor(JSON.stringify(body['messages'] ?? '') + JSON.stringify(body['system'] ?? ''));
    return ctx.send(call, 200, { input_tokens: u.inputTokens }, headers);
  }
  ctx.send(call, 404, err('not_found_error', `Not found: ${pathname}`), { 'request-id': headers['request-id'] });
}
