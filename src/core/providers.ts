// The provider catalog: every provider-specific fact (key shape, env vars, endpoints, default
// models, the free request that proves a key works) lives here as data.
import type { TaskType } from './types';

/** Wire format spoken by the provider's API. */
export type ProviderApi = 'anthropic' | 'openai' | 'gemini' | 'ollama';

/** Rough price/quality class of a model, used as a routing hint. */
export type ModelTier = 'local' | 'budget' | 'standard' | 'premium';

/** How the key is sent. */
export type AuthScheme = { kind: 'none' } | { kind: 'bearer' } | { kind: 'header'; name: string };

/** The live, no-cost request that proves a key works. */
export interface ValidationSpec {
  method: 'GET';
  /** Path appended to the base URL. */
  path: string;
  /** Field of a 2xx JSON body that holds the listed models, when the endpoint lists models. */
  modelsField?: 'data' | 'models';
  /** Matches a 400 body that still means "bad key" (Gemini answers 400 API_KEY_INVALID). */
  invalidKeyBody?: RegExp;
}

export interface ProviderSpec {
  id: string;
  displayName: string;
  /** Other names accepted by getProvider, e.g. 'gemini' for google. */
  aliases: string[];
  api: ProviderApi;
  requiresKey: boolean;
  keyPattern: RegExp | null;
  /** Human description of the key shape, e.g. "starts with sk-ant-". */
  keyFormatHint: string;
  /** Env vars that may hold a key, in priority order. */
  envVars: string[];
  defaultBaseUrl: string;
  /** Headless base-URL override, AIKM_<ID>_BASE_URL. */
  baseUrlEnv: string;
  /** The provider's own host variable (OLLAMA_HOST), used after baseUrlEnv. */
  hostEnv?: string;
  /** VS Code setting holding a base-URL override. */
  settingKey: string;
  auth: AuthScheme;
  /** Headers every request needs besides the key (e.g. anthropic-version). */
  extraHeaders: Record<string, string>;
  /** Chat endpoint path; `{model}` is replaced by the model id. */
  chatPath: string;
  /** Default models per task, best first. */
  models: Partial<Record<TaskType, string[]>>;
  /** Tier of every model listed in `models`. */
  tier: Record<string, ModelTier>;
  validation: ValidationSpec;
  /** Provider id in @pydantic/genai-prices; null when its models are not priced (local models are free). */
  pricingId: string | null;
  /** Names of the models this provider makes itself, to tell the provider from a bare model name. */
  modelFamilies?: RegExp;
  /** Resells other vendors' models (OpenRouter): searched last when a model's provider is unknown. */
  aggregator?: boolean;
}

const ANTHROPIC: ProviderSpec = {
  id: 'anthropic',
  displayName: 'Anthropic',
  aliases: ['claude'],
  api: 'anthropic',
  requiresKey: true,
  keyPattern: /^sk-ant-[A-Za-z0-9_-]{32,}$/,
  keyFormatHint: 'starts with sk-ant- (e.g. sk-ant-api03-…)',
  envVars: ['ANTHROPIC_API_KEY'],
  defaultBaseUrl: 'https://api.anthropic.com',
  baseUrlEnv: 'AIKM_ANTHROPIC_BASE_URL',
  settingKey: 'aiKeyManager.providers.anthropic.baseUrl',
  auth: { kind: 'header', name: 'x-api-key' },
  extraHeaders: { 'anthropic-version': '2023-06-01' },
  chatPath: '/v1/messages',
  models: {
    code_generation: ['claude-sonnet-4-5', 'claude-sonnet-4-20250514', 'claude-opus-4-1'],
    code_review: ['claude-sonnet-4-5', 'claude-opus-4-1'],
    chat: ['claude-sonnet-4-5', 'claude-haiku-4-5'],
    analysis: ['claude-opus-4-1', 'claude-sonnet-4-5'],
    summarization: ['claude-haiku-4-5', 'claude-3-5-haiku-latest'],
    data_extraction: ['claude-haiku-4-5', 'claude-sonnet-4-5'],
  },
  tier: {
    'claude-opus-4-1': 'premium',
    'claude-sonnet-4-5': 'standard',
    'claude-sonnet-4-20250514': 'standard',
    'claude-haiku-4-5': 'budget',
    'claude-3-5-haiku-latest': 'budget',
  },
  validation: { method: 'GET', path: '/v1/models', modelsField: 'data' },
  pricingId: 'anthropic',
  modelFamilies: /claude/,
};

const OPENAI: ProviderSpec = {
  id: 'openai',
  displayName: 'OpenAI',
  aliases: [],
  api: 'openai',
  requiresKey: true,
  // sk-…, sk-proj-…, sk-svcacct-…; never sk-ant- or sk-or-, which belong to other providers.
  keyPattern: /^sk-(?!ant-|or-)[A-Za-z0-9_-]{20,}$/,
  keyFormatHint: 'starts with sk-, sk-proj- or sk-svcacct-',
  envVars: ['OPENAI_API_KEY'],
  defaultBaseUrl: 'https://api.openai.com',
  baseUrlEnv: 'AIKM_OPENAI_BASE_URL',
  settingKey: 'aiKeyManager.providers.openai.baseUrl',
  auth: { kind: 'bearer' },
  extraHeaders: {},
  chatPath: '/v1/chat/completions',
  models: {
    code_generation: ['gpt-4.1', 'gpt-4o'],
    code_review: ['gpt-4.1', 'o4-mini'],
    chat: ['gpt-4o', 'gpt-4o-mini'],
    analysis: ['gpt-4.1', 'o4-mini', 'gpt-4o'],
    summarization: ['gpt-4o-mini', 'gpt-4.1-mini'],
    data_extraction: ['gpt-4o-mini', 'gpt-4.1-mini'],
    embeddings: ['text-embedding-3-small', 'text-embedding-3-large'],
  },
  tier: {
    'gpt-4.1': 'standard',
    'gpt-4o': 'standard',
    'o4-mini': 'budget',
    'gpt-4o-mini': 'budget',
    'gpt-4.1-mini': 'budget',
    'text-embedding-3-small': 'budget',
    'text-embedding-3-large': 'budget',
  },
  validation: { method: 'GET', path: '/v1/models', modelsField: 'data' },
  pricingId: 'openai',
  modelFamilies: /^(gpt-|chatgpt|o[1345](-|$)|text-embedding|davinci|babbage|whisper|tts-|dall-e)/,
};

const GOOGLE: ProviderSpec = {
  id: 'google',
  displayName: 'Google Gemini',
  aliases: ['gemini'],
  api: 'gemini',
  requiresKey: true,
  keyPattern: /^AIza[A-Za-z0-9_-]{35}$/,
  keyFormatHint: 'starts with AIza followed by 35 letters, digits, - or _ (39 characters in all)',
  envVars: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  baseUrlEnv: 'AIKM_GOOGLE_BASE_URL',
  settingKey: 'aiKeyManager.providers.google.baseUrl',
  auth: { kind: 'header', name: 'x-goog-api-key' },
  extraHeaders: {},
  chatPath: '/v1beta/models/{model}:generateContent',
  models: {
    code_generation: ['gemini-2.5-pro', 'gemini-2.5-flash'],
    code_review: ['gemini-2.5-pro', 'gemini-2.5-flash'],
    chat: ['gemini-2.5-flash', 'gemini-2.0-flash'],
    analysis: ['gemini-2.5-pro', 'gemini-2.5-flash'],
    summarization: ['gemini-2.0-flash', 'gemini-2.5-flash-lite'],
    data_extraction: ['gemini-2.0-flash', 'gemini-2.5-flash'],
    embeddings: ['gemini-embedding-001'],
  },
  tier: {
    'gemini-2.5-pro': 'standard',
    'gemini-2.5-flash': 'budget',
    'gemini-2.0-flash': 'budget',
    'gemini-2.5-flash-lite': 'budget',
    'gemini-embedding-001': 'budget',
  },
  validation: {
    method: 'GET',
    path: '/v1beta/models',
    modelsField: 'models',
    invalidKeyBody: /API_KEY_INVALID|API key not valid|API Key not found/i,
  },
  pricingId: 'google',
  modelFamilies: /gemini/,
};

const LOCAL: ProviderSpec = {
  id: 'local',
  displayName: 'Local (Ollama)',
  aliases: ['ollama'],
  api: 'ollama',
  requiresKey: false,
  keyPattern: null,
  keyFormatHint: 'no API key needed',
  envVars: [],
  defaultBaseUrl: 'http://localhost:11434',
  baseUrlEnv: 'AIKM_LOCAL_BASE_URL',
  hostEnv: 'OLLAMA_HOST',
  settingKey: 'aiKeyManager.providers.local.baseUrl',
  auth: { kind: 'none' },
  extraHeaders: {},
  chatPath: '/api/chat',
  models: {
    code_generation: ['qwen2.5-coder', 'llama3.1'],
    code_review: ['qwen2.5-coder', 'llama3.1'],
    chat: ['llama3.1'],
    analysis: ['llama3.1'],
    summarization: ['llama3.1'],
    data_extraction: ['llama3.1'],
    embeddings: ['nomic-embed-text'],
  },
  tier: { 'qwen2.5-coder': 'local', 'llama3.1': 'local', 'nomic-embed-text': 'local' },
  validation: { method: 'GET', path: '/api/tags', modelsField: 'models' },
  pricingId: null,
};

/** Builds the spec of a provider that speaks the OpenAI wire format with a Bearer key. */
export function openAiCompatible(o: {
  id: string;
  displayName: string;
  defaultBaseUrl: string;
  keyPattern: RegExp;
  keyFormatHint: string;
  envVars: string[];
  models: Partial<Record<TaskType, string[]>>;
  tier: Record<string, ModelTier>;
  /** Defaults to GET /v1/models. */
  validation?: ValidationSpec;
  /** Defaults to the id. */
  pricingId?: string | null;
  modelFamilies?: RegExp;
  aggregator?: boolean;
}): ProviderSpec {
  return {
    id: o.id,
    displayName: o.displayName,
    aliases: [],
    api: 'openai',
    requiresKey: true,
    keyPattern: o.keyPattern,
    keyFormatHint: o.keyFormatHint,
    envVars: o.envVars,
    defaultBaseUrl: o.defaultBaseUrl,
    baseUrlEnv: `AIKM_${o.id.toUpperCase()}_BASE_URL`,
    settingKey: `aiKeyManager.providers.${o.id}.baseUrl`,
    auth: { kind: 'bearer' },
    extraHeaders: {},
    chatPath: '/v1/chat/completions',
    models: o.models,
    tier: o.tier,
    validation: o.validation ?? { method: 'GET', path: '/v1/models', modelsField: 'data' },
    pricingId: o.pricingId === undefined ? o.id : o.pricingId,
    ...(o.modelFamilies ? { modelFamilies: o.modelFamilies } : {}),
    ...(o.aggregator ? { aggregator: true } : {}),
  };
}

const OPENROUTER = openAiCompatible({
  id: 'openrouter',
  displayName: 'OpenRouter',
  defaultBaseUrl: 'https://openrouter.ai/api',
  keyPattern: /^sk-or-[A-Za-z0-9_-]{20,}$/,
  keyFormatHint: 'starts with sk-or- (e.g. sk-or-v1-…)',
  envVars: ['OPENROUTER_API_KEY'],
  models: {
    code_generation: ['anthropic/claude-sonnet-4', 'qwen/qwen-2.5-coder-32b-instruct'],
    code_review: ['anthropic/claude-sonnet-4', 'openai/gpt-4o-mini'],
    chat: ['openai/gpt-4o-mini', 'anthropic/claude-sonnet-4'],
    analysis: ['anthropic/claude-sonnet-4', 'google/gemini-2.0-flash-001'],
    summarization: ['google/gemini-2.0-flash-001', 'openai/gpt-4o-mini'],
    data_extraction: ['openai/gpt-4o-mini', 'google/gemini-2.0-flash-001'],
  },
  tier: {
    'anthropic/claude-sonnet-4': 'standard',
    'qwen/qwen-2.5-coder-32b-instruct': 'budget',
    'openai/gpt-4o-mini': 'budget',
    'google/gemini-2.0-flash-001': 'budget',
  },
  // OpenRouter's /v1/models is public and accepts any key; /v1/key answers 401 for a bad one.
  validation: { method: 'GET', path: '/v1/key' },
  aggregator: true,
});

const GROQ = openAiCompatible({
  id: 'groq',
  displayName: 'Groq',
  defaultBaseUrl: 'https://api.groq.com/openai',
  keyPattern: /^gsk_[A-Za-z0-9]{48,56}$/,
  keyFormatHint: 'starts with gsk_ followed by 52 letters and digits',
  envVars: ['GROQ_API_KEY'],
  models: {
    code_generation: ['openai/gpt-oss-120b', 'qwen/qwen3-32b', 'llama-3.3-70b-versatile'],
    code_review: ['openai/gpt-oss-120b', 'llama-3.3-70b-versatile'],
    chat: ['llama-3.3-70b-versatile', 'llama-3.1-8b-instant'],
    analysis: ['openai/gpt-oss-120b', 'llama-3.3-70b-versatile'],
    summarization: ['llama-3.1-8b-instant', 'llama-3.3-70b-versatile'],
    data_extraction: ['llama-3.1-8b-instant', 'llama-3.3-70b-versatile'],
  },
  tier: {
    'openai/gpt-oss-120b': 'budget',
    'qwen/qwen3-32b': 'budget',
    'llama-3.3-70b-versatile': 'budget',
    'llama-3.1-8b-instant': 'budget',
  },
});

const MISTRAL = openAiCompatible({
  id: 'mistral',
  displayName: 'Mistral AI',
  defaultBaseUrl: 'https://api.mistral.ai',
  keyPattern: /^[A-Za-z0-9]{32}$/,
  keyFormatHint: 'is 32 letters and digits with no prefix',
  envVars: ['MISTRAL_API_KEY'],
  modelFamilies: /^(mistral|mixtral|codestral|pixtral|magistral|ministral|devstral|voxtral|open-mistral|open-mixtral)/,
  models: {
    code_generation: ['codestral-latest', 'devstral-small-latest'],
    code_review: ['mistral-large-latest', 'codestral-latest'],
    chat: ['mistral-small-latest', 'mistral-large-latest'],
    analysis: ['mistral-large-latest', 'mistral-medium-latest'],
    summarization: ['mistral-small-latest'],
    data_extraction: ['mistral-small-latest'],
    embeddings: ['mistral-embed'],
  },
  tier: {
    'codestral-latest': 'budget',
    'devstral-small-latest': 'budget',
    'mistral-large-latest': 'standard',
    'mistral-medium-latest': 'budget',
    'mistral-small-latest': 'budget',
    'mistral-embed': 'budget',
  },
});

const DEEPSEEK = openAiCompatible({
  id: 'deepseek',
  displayName: 'DeepSeek',
  defaultBaseUrl: 'https://api.deepseek.com',
  keyPattern: /^sk-[a-f0-9]{32}$/,
  keyFormatHint: 'starts with sk- followed by 32 lowercase hex characters',
  envVars: ['DEEPSEEK_API_KEY'],
  modelFamilies: /^deepseek/,
  models: {
    code_generation: ['deepseek-chat'],
    code_review: ['deepseek-chat', 'deepseek-reasoner'],
    chat: ['deepseek-chat'],
    analysis: ['deepseek-reasoner', 'deepseek-chat'],
    summarization: ['deepseek-chat'],
    data_extraction: ['deepseek-chat'],
  },
  tier: { 'deepseek-chat': 'budget', 'deepseek-reasoner': 'budget' },
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof RegExp) && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export const PROVIDERS: readonly ProviderSpec[] = deepFreeze([
  ANTHROPIC,
  OPENAI,
  GOOGLE,
  LOCAL,
  OPENROUTER,
  GROQ,
  MISTRAL,
  DEEPSEEK,
]);

/** Order in which detectProvider tries key patterns: most specific prefix first. */
const DETECT_ORDER = ['anthropic', 'openrouter', 'groq', 'google', 'deepseek', 'openai', 'mistral'] as const;
/** Those first, then any other provider with a key pattern, in catalog order. */
const DETECT_SEQUENCE: readonly ProviderSpec[] = [
  ...DETECT_ORDER.map((id) => getProvider(id)),
  ...PROVIDERS.filter((p) => p.keyPattern && !(DETECT_ORDER as readonly string[]).includes(p.id)),
];

export function providerIds(): string[] {
  return PROVIDERS.map((p) => p.id);
}

/** The provider with this id or alias (case-insensitive), or undefined. */
export function findProvider(id: string): ProviderSpec | undefined {
  const wanted = id.trim().toLowerCase();
  return PROVIDERS.find((p) => p.id === wanted || p.aliases.includes(wanted));
}

export function getProvider(id: string): ProviderSpec {
  const spec = findProvider(id);
  if (!spec) {
    throw new Error(`Unknown provider '${id}'. Valid providers: ${providerIds().join(', ')}.`);
  }
  return spec;
}

/** Which provider a key belongs to, judged by its shape alone. */
export function detectProvider(key: string): string | undefined {
  const k = key.trim();
  return DETECT_SEQUENCE.find((spec) => spec.keyPattern?.test(k))?.id;
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** "an Anthropic", "a Groq". */
export function withArticle(name: string): string {
  return `${/^[AEIOU]/i.test(name) ? 'an' : 'a'} ${name}`;
}

export interface KeyFormatCheck {
  ok: boolean;
  message: string;
  /** Set when the key has the shape of another provider's key: that provider's id. */
  otherProvider?: string;
}

/** Whether `key` has the shape of this provider's keys, and if not, a message saying what is wrong. */
export function checkKeyFormat(providerId: string, key: string): KeyFormatCheck {
  const spec = getProvider(providerId);
  const name = spec.displayName;
  const aName = withArticle(name);
  if (!spec.requiresKey || !spec.keyPattern) {
    return { ok: true, message: `${name} does not use an API key.` };
  }
  if (key.trim() === '') {
    return { ok: false, message: `No key given. ${cap(aName)} key ${spec.keyFormatHint}.` };
  }
  if (key !== key.trim()) {
    return {
      ok: false,
      message: `The ${name} key has leading or trailing spaces or a line break. Paste it again without them.`,
    };
  }
  if (spec.keyPattern.test(key)) {
    return { ok: true, message: `Looks like ${aName} key (${spec.keyFormatHint}).` };
  }
  const other = detectProvider(key);
  if (other && other !== spec.id) {
    const o = getProvider(other);
    return {
      ok: false,
      message: `This looks like ${withArticle(o.displayName)} key (${o.keyFormatHint}), not ${aName} key. ${cap(aName)} key ${spec.keyFormatHint}.`,
      otherProvider: o.id,
    };
  }
  if (isTruncated(spec.keyPattern, key)) {
    return {
      ok: false,
      message: `This ${name} key is incomplete: it starts right but is too short (${key.length} characters; ${aName} key ${spec.keyFormatHint}). Copy the whole key again.`,
    };
  }
  return {
    ok: false,
    message: `This does not look like ${aName} key: expected a key that ${spec.keyFormatHint}. Check that it was copied whole.`,
  };
}

/** True when `key` is the start of a key of this shape: adding characters would make it match. */
function isTruncated(pattern: RegExp, key: string): boolean {
  // Only shapes with a fixed prefix: for a prefixless shape (Mistral) any short string would "start right".
  if (!/^\^[A-Za-z]/.test(pattern.source)) return false;
  for (const filler of ['a', '0']) {
    for (let extra = 1; extra <= 64; extra++) if (pattern.test(key + filler.repeat(extra))) return true;
  }
  return false;
}
