// A local HTTP server that answers like the real provider APIs (Anthropic, OpenAI and
// OpenAI-compatible, Gemini, Ollama). Dependency-free: used by unit, MCP and VS Code tests.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How the fake treats a key. Keys not listed are rejected the way each provider rejects a bad key.
 * `retryAfter` is sent verbatim as Retry-After (seconds or an HTTP date).
 */
export type FakeKeyBehaviour =
  | 'valid'
  | 'hang'
  | 'server_error'
  | 'quota_exceeded'
  | { retryAfter: number | string };

/** Token counts exactly as the API reports them (OpenAI and Gemini count cached tokens inside input). */
export interface FakeUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

export interface FakeProvidersOptions {
  /** Behaviour per key value. */
  keys?: Record<string, FakeKeyBehaviour>;
  /** Ollama needs no key: how it behaves. Default 'valid'. */
  ollama?: Exclude<FakeKeyBehaviour, 'quota_exceeded'>;
  /** Models each API lists (Gemini names without the "models/" prefix). */
  models?: Partial<Record<'anthropic' | 'openai' | 'gemini' | 'ollama', string[]>>;
  /** Token counts reported by the chat endpoints; by default derived from text length. */
  usage?: FakeUsage;
  /** Text of every chat reply. */
  replyText?: string;
}

export interface FakeRequest {
  method: string;
  /** Path including any query string. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeProviders {
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

type Api = 'anthropic' | 'openai' | 'gemini' | 'ollama';

const DEFAULT_MODELS: Record<Api, string[]> = {
  anthropic: ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-20250514', 'claude-haiku-4-5-20251001'],
  openai: ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'],
  gemini: ['gemini-2.5-pro', 'gemini-2.0-flash', 'gemini-embedding-001'],
  ollama: ['llama3.1:latest', 'qwen2.5-coder:latest', 'nomic-embed-text:latest'],
};

/** Error bodies as each API really sends them. */
const ERRORS = {
  anthropic: {
    missingKey: () => ({ type: 'error', error: { type: 'authentication_error', message: 'x-api-key header is required' } }),
    badKey: () => ({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }),
    missingVersion: () => ({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
    }),
    rateLimited: () => ({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'Number of requests has exceeded your rate limit.' },
    }),
    // Anthropic reports an empty credit balance as a 400.
    quotaStatus: 400,
    quota: () => ({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API.' },
    }),
    server: () => ({ type: 'error', error: { type: 'api_error', message: 'Internal server error' } }),
  },
  openai: {
    missingKey: () => ({
      error: {
        message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.",
        type: 'invalid_request_error',
        param: null,
        code: null,
      },
    }),
    badKey: () => ({
      error: {
        message: 'Incorrect API key provided: sk-***. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    }),
    rateLimited: () => ({
      error: { message: 'Rate limit reached for requests.', type: 'requests', param: null, code: 'rate_limit_exceeded' },
    }),
    quotaStatus: 429,
    quota: () => ({
      error: {
        message: 'You exceeded your current quota, please check your plan and billing details.',
        type: 'insufficient_quota',
        param: null,
        code: 'insufficient_quota',
      },
    }),
    server: () => ({
      error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null },
    }),
  },
  gemini: {
    missingKey: () => ({
      error: {
        code: 403,
        message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        status: 'PERMISSION_DENIED',
      },
    }),
    // Gemini answers a bad key with 400 INVALID_ARGUMENT, not 401.
    badKey: () => ({
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
        ],
      },
    }),
    rateLimited: () => ({
      error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' },
    }),
    quotaStatus: 429,
    quota: () => ({
      error: { code: 429, message: 'You exceeded your current quota, please check your plan and billing details.', status: 'RESOURCE_EXHAUSTED' },
    }),
    server: () => ({
      error: { code: 500, message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting', status: 'INTERNAL' },
    }),
  },
};

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function jsonBody(raw: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export async function startFakeProviders(opts: FakeProvidersOptions = {}): Promise<FakeProviders> {
  const requests: FakeRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const models = { ...DEFAULT_MODELS, ...opts.models };
  const replyText = opts.replyText ?? 'Hello from the fake provider.';
  let seq = 0;

  const usageFor = (prompt: string): Required<FakeUsage> => ({
    inputTokens: opts.usage?.inputTokens ?? estimateTokens(prompt),
    outputTokens: opts.usage?.outputTokens ?? estimateTokens(replyText),
    cacheReadTokens: opts.usage?.cacheReadTokens ?? 0,
    cacheWriteTokens: opts.usage?.cacheWriteTokens ?? 0,
  });

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  /** Applies the key's behaviour; returns true when the response was handled (or left hanging). */
  const gate = (
    res: http.ServerResponse,
    behaviour: FakeKeyBehaviour | undefined,
    errors: { rateLimited(): unknown; quota(): unknown; quotaStatus: number; server(): unknown },
    onBadKey: () => void,
  ): boolean => {
    if (behaviour === undefined) {
      onBadKey();
      return true;
    }
    if (behaviour === 'valid') return false;
    if (behaviour === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return true;
    }
    if (behaviour === 'server_error') send(res, 500, errors.server());
    else if (behaviour === 'quota_exceeded') send(res, errors.quotaStatus, errors.quota());
    else send(res, 429, errors.rateLimited(), { 'retry-after': String(behaviour.retryAfter) });
    return true;
  };

  const keyBehaviour = (key: string | undefined): FakeKeyBehaviour | undefined =>
    key === undefined ? undefined : opts.keys?.[key];

  const handleAnthropic = (req: http.IncomingMessage, res: http.ServerResponse, pathname: string, raw: string): void => {
    const key = req.headers['x-api-key'];
    const e = ERRORS.anthropic;
    if (typeof key !== 'string' || key === '') return send(res, 401, e.missingKey());
    if (!req.headers['anthropic-version']) return send(res, 400, e.missingVersion());
    if (gate(res, keyBehaviour(key), e, () => send(res, 401, e.badKey()))) return;
    if (req.method === 'GET' && pathname === '/v1/models') {
      const data = models.anthropic.map((id) => ({
        type: 'model',
        id,
        display_name: id,
        created_at: '2025-05-22T00:00:00Z',
      }));
      return send(res, 200, { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
    }
    if (req.method === 'POST' && pathname === '/v1/messages') {
      const body = jsonBody(raw);
      const u = usageFor(JSON.stringify(body['messages'] ?? '') + JSON.stringify(body['system'] ?? ''));
      return send(res, 200, {
        id: `msg_fake_${++seq}`,
        type: 'message',
        role: 'assistant',
        model: body['model'] ?? 'unknown',
        content: [{ type: 'text', text: replyText }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: {
          input_tokens: u.inputTokens,
          output_tokens: u.outputTokens,
          cache_creation_input_tokens: u.cacheWriteTokens,
          cache_read_input_tokens: u.cacheReadTokens,
        },
      });
    }
    send(res, 404, { type: 'error', error: { type: 'not_found_error', message: `Not found: ${pathname}` } });
  };

  const handleOpenAi = (req: http.IncomingMessage, res: http.ServerResponse, pathname: string, raw: string): void => {
    const auth = req.headers['authorization'];
    const key = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const e = ERRORS.openai;
    if (!key) return send(res, 401, e.missingKey());
    if (gate(res, keyBehaviour(key), e, () => send(res, 401, e.badKey()))) return;
    if (req.method === 'GET' && pathname === '/v1/models') {
      return send(res, 200, {
        object: 'list',
        data: models.openai.map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })),
      });
    }
    // OpenRouter's key-info endpoint.
    if (req.method === 'GET' && pathname === '/v1/key') {
      return send(res, 200, {
        data: { label: 'sk-or-v1-fak...key', limit: null, usage: 0, is_free_tier: false, is_provisioning_key: false, limit_remaining: null },
      });
    }
    if (req.method === 'POST' && pathname === '/v1/chat/completions') {
      const body = jsonBody(raw);
      const u = usageFor(JSON.stringify(body['messages'] ?? ''));
      return send(res, 200, {
        id: `chatcmpl-fake${++seq}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body['model'] ?? 'unknown',
        choices: [
          { index: 0, message: { role: 'assistant', content: replyText, refusal: null }, logprobs: null, finish_reason: 'stop' },
        ],
        usage: {
          prompt_tokens: u.inputTokens,
          completion_tokens: u.outputTokens,
          total_tokens: u.inputTokens + u.outputTokens,
          prompt_tokens_details: { cached_tokens: u.cacheReadTokens, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
        },
      });
    }
    send(res, 404, { error: { message: `Invalid URL (${req.method} ${pathname})`, type: 'invalid_request_error', param: null, code: null } });
  };

  const handleGemini = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    raw: string,
  ): void => {
    const header = req.headers['x-goog-api-key'];
    const key = typeof header === 'string' && header !== '' ? header : (url.searchParams.get('key') ?? undefined);
    const e = ERRORS.gemini;
    if (!key) return send(res, 403, e.missingKey());
    if (gate(res, keyBehaviour(key), e, () => send(res, 400, e.badKey()))) return;
    if (req.method === 'GET' && url.pathname === '/v1beta/models') {
      return send(res, 200, {
        models: models.gemini.map((id) => ({
          name: `models/${id}`,
          version: '001',
          displayName: id,
          inputTokenLimit: 1048576,
          outputTokenLimit: 8192,
          supportedGenerationMethods: id.includes('embedding') ? ['embedContent'] : ['generateContent', 'countTokens'],
        })),
      });
    }
    const gen = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(url.pathname);
    if (req.method === 'POST' && gen) {
      const body = jsonBody(raw);
      const u = usageFor(JSON.stringify(body['contents'] ?? '') + JSON.stringify(body['systemInstruction'] ?? ''));
      return send(res, 200, {
        candidates: [{ content: { parts: [{ text: replyText }], role: 'model' }, finishReason: 'STOP', index: 0 }],
        usageMetadata: {
          promptTokenCount: u.inputTokens,
          candidatesTokenCount: u.outputTokens,
          totalTokenCount: u.inputTokens + u.outputTokens,
          ...(u.cacheReadTokens ? { cachedContentTokenCount: u.cacheReadTokens } : {}),
        },
        modelVersion: decodeURIComponent(gen[1] ?? ''),
        responseId: `fake-${++seq}`,
      });
    }
    send(res, 404, { error: { code: 404, message: `Not found: ${url.pathname}`, status: 'NOT_FOUND' } });
  };

  const handleOllama = (req: http.IncomingMessage, res: http.ServerResponse, pathname: string, raw: string): void => {
    const serverError = { rateLimited: () => ({ error: 'too many requests' }), quota: () => ({}), quotaStatus: 429, server: () => ({ error: 'internal error' }) };
    if (gate(res, opts.ollama ?? 'valid', serverError, () => undefined)) return;
    if (req.method === 'GET' && pathname === '/api/tags') {
      return send(res, 200, {
        models: models.ollama.map((name) => ({
          name,
          model: name,
          modified_at: '2025-01-01T00:00:00Z',
          size: 4920753328,
          digest: 'f'.repeat(64),
          details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '8.0B', quantization_level: 'Q4_K_M' },
        })),
      });
    }
    if (req.method === 'POST' && pathname === '/api/chat') {
      const body = jsonBody(raw);
      const model = typeof body['model'] === 'string' ? body['model'] : '';
      const known = models.ollama.some((m) => m === model || m === `${model}:latest`);
      if (!known) return send(res, 404, { error: `model "${model}" not found, try pulling it first` });
      const u = usageFor(JSON.stringify(body['messages'] ?? ''));
      const createdAt = new Date().toISOString();
      const final = {
        model,
        created_at: createdAt,
        message: { role: 'assistant', content: body['stream'] === false ? replyText : '' },
        done_reason: 'stop',
        done: true,
        total_duration: 1_000_000,
        load_duration: 100_000,
        prompt_eval_count: u.inputTokens,
        prompt_eval_duration: 200_000,
        eval_count: u.outputTokens,
        eval_duration: 600_000,
      };
      if (body['stream'] === false) return send(res, 200, final);
      // Ollama streams NDJSON unless stream is false.
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(JSON.stringify({ model, created_at: createdAt, message: { role: 'assistant', content: replyText }, done: false }) + '\n');
      res.end(JSON.stringify(final) + '\n');
      return;
    }
    send(res, 404, { error: `404 page not found` });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body: raw });
      const url = new URL(path, 'http://127.0.0.1');
      const p = url.pathname;
      if (p.startsWith('/api/')) return handleOllama(req, res, p, raw);
      if (p.startsWith('/v1beta/')) return handleGemini(req, res, url, raw);
      if (p === '/v1/messages' || req.headers['anthropic-version'] !== undefined || req.headers['x-api-key'] !== undefined) {
        return handleAnthropic(req, res, p, raw);
      }
      return handleOpenAi(req, res, p, raw);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        hanging.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
