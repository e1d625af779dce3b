import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { calcPrice } from '@pydantic/genai-prices';
import { PROVIDERS, checkKeyFormat, detectProvider, findProvider, getProvider, providerIds } from '../../src/core/providers';
import { authHeaders, endpointUrl, normaliseOllamaHost, resolveBaseUrl } from '../../src/core/endpoints';

// Deterministic filler so test keys have realistic length without looking like real secrets.
const fill = (n: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'): string =>
  Array.from({ length: n }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');
const HEX = '0123456789abcdef';

const GOOD: Record<string, string[]> = {
  anthropic: [`sk-ant-api03-${fill(93)}AA`, `sk-ant-admin01-${fill(60)}`],
  openai: [`sk-${fill(48)}`, `sk-proj-${fill(40)}_${fill(60)}-${fill(20)}`, `sk-svcacct-${fill(80)}`],
  google: [`AIza${fill(33)}_-`],
  openrouter: [`sk-or-v1-${fill(64, HEX)}`],
  groq: [`gsk_${fill(52)}`],
  mistral: [fill(32)],
  deepseek: [`sk-${fill(32, HEX)}`],
};

const BAD: Record<string, string[]> = {
  anthropic: [`sk-${fill(48)}`, 'sk-ant-short', `sk-or-v1-${fill(64, HEX)}`],
  openai: [`sk-ant-api03-${fill(93)}AA`, `sk-or-v1-${fill(64, HEX)}`, `pk-${fill(48)}`, 'sk-short'],
  google: [`AIza${fill(34)}`, `AIza${fill(36)}`, `AIzb${fill(35)}`, `AIza${fill(34)}!`],
  openrouter: [`sk-${fill(48)}`, 'sk-or-short'],
  groq: [`gsk-${fill(52)}`, `gsk_${fill(20)}`],
  mistral: [fill(31), fill(33), `${fill(31)}-`],
  deepseek: [`sk-${fill(32)}`, `sk-${fill(31, HEX)}`],
};

describe('provider catalog', () => {
  it('has unique ids and providerIds() lists them in catalog order', () => {
    const ids = PROVIDERS.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(providerIds(), ids);
    for (const id of ['anthropic', 'openai', 'google', 'local', 'openrouter', 'groq', 'mistral', 'deepseek']) {
      assert.ok(ids.includes(id), `missing ${id}`);
    }
  });

  it('getProvider finds by id, alias and any case; throws listing the valid ids', () => {
    assert.equal(getProvider('anthropic').id, 'anthropic');
    assert.equal(getProvider(' Gemini ').id, 'google');
    assert.equal(getProvider('ollama').id, 'local');
    assert.equal(findProvider('nope'), undefined);
    assert.throws(() => getProvider('nope'), (err: Error) => {
      assert.match(err.message, /Unknown provider 'nope'/);
      for (const id of providerIds()) assert.ok(err.message.includes(id), `message should list ${id}`);
      return true;
    });
  });

  it('uses the agreed env and setting names', () => {
    for (const p of PROVIDERS) {
      assert.equal(p.baseUrlEnv, `AIKM_${p.id.toUpperCase()}_BASE_URL`);
      assert.equal(p.settingKey, `aiKeyManager.providers.${p.id}.baseUrl`);
      assert.equal(p.requiresKey, p.keyPattern !== null);
      assert.equal(p.requiresKey, p.envVars.length > 0);
    }
    assert.deepEqual(getProvider('google').envVars, ['GEMINI_API_KEY', 'GOOGLE_API_KEY']);
    assert.deepEqual(getProvider('anthropic').envVars, ['ANTHROPIC_API_KEY']);
    assert.equal(getProvider('local').hostEnv, 'OLLAMA_HOST');
    assert.equal(getProvider('local').requiresKey, false);
  });

  it('every provider has chat models, and every listed model has a tier', () => {
    for (const p of PROVIDERS) {
      assert.ok((p.models.chat ?? []).length > 0, `${p.id} has no chat model`);
      for (const [task, list] of Object.entries(p.models)) {
        assert.ok(list.length > 0, `${p.id}.${task} is empty`);
        for (const m of list) assert.ok(p.tier[m], `${p.id} model ${m} has no tier`);
      }
      for (const t of Object.values(p.tier)) assert.equal(t === 'local', p.id === 'local');
    }
  });

  it('every cloud model is known to the pricing database', () => {
    for (const p of PROVIDERS.filter((x) => x.id !== 'local')) {
      for (const model of Object.keys(p.tier)) {
        const price = calcPrice({ input_tokens: 1000, output_tokens: 1000 }, model, { providerId: p.id });
        assert.ok(price, `genai-prices does not know ${p.id}/${model}`);
        assert.ok(price.total_price > 0, `${p.id}/${model} priced at 0`);
      }
    }
  });

  it('is frozen so no caller can change it', () => {
    const spec = getProvider('anthropic');
    assert.throws(() => {
      (spec.envVars as string[]).push('X');
    }, TypeError);
    assert.throws(() => {
      (spec as { defaultBaseUrl: string }).defaultBaseUrl = 'http://evil';
    }, TypeError);
  });

  it('describes the validation request of each provider', () => {
    const v = (id: string) => getProvider(id).validation;
    assert.equal(v('anthropic').path, '/v1/models');
    assert.equal(v('openai').path, '/v1/models');
    assert.equal(v('google').path, '/v1beta/models');
    assert.equal(v('local').path, '/api/tags');
    assert.equal(v('groq').path, '/v1/models');
    assert.equal(v('openrouter').path, '/v1/key');
    for (const p of PROVIDERS) assert.equal(p.validation.method, 'GET');
  });
});

describe('checkKeyFormat', () => {
  for (const [id, keys] of Object.entries(GOOD)) {
    it(`accepts well-formed ${id} keys`, () => {
      for (const key of keys) {
        const r = checkKeyFormat(id, key);
        assert.equal(r.ok, true, `${id} should accept a key of length ${key.length}: ${r.message}`);
        assert.ok(!r.message.includes(key));
      }
    });
  }
  for (const [id, keys] of Object.entries(BAD)) {
    it(`rejects malformed ${id} keys with the expected shape and without echoing the key`, () => {
      const spec = getProvider(id);
      for (const key of keys) {
        const r = checkKeyFormat(id, key);
        assert.equal(r.ok, false, `${id} should reject a key of length ${key.length}`);
        assert.ok(r.message.includes(spec.keyFormatHint), r.message);
        assert.ok(!r.message.includes(key), 'message must not echo the key');
      }
    });
  }

  it('names the provider a key really belongs to', () => {
    const r = checkKeyFormat('openai', GOOD.anthropic![0]!);
    assert.equal(r.ok, false);
    assert.match(r.message, /looks like an Anthropic key .*not an OpenAI key/);
  });

  it('rejects empty keys and keys with surrounding whitespace', () => {
    assert.equal(checkKeyFormat('anthropic', '   ').ok, false);
    const padded = checkKeyFormat('anthropic', `${GOOD.anthropic![0]}\n`);
    assert.equal(padded.ok, false);
    assert.match(padded.message, /spaces or a line break/);
  });

  it('accepts anything for local, which needs no key', () => {
    assert.equal(checkKeyFormat('ollama', '').ok, true);
  });

  it('throws for an unknown provider', () => {
    assert.throws(() => checkKeyFormat('acme', 'x'), /Valid providers/);
  });
});

describe('detectProvider', () => {
  it('detects each provider from its own key shape', () => {
    for (const [id, keys] of Object.entries(GOOD)) {
      for (const key of keys) assert.equal(detectProvider(key), id, `key of ${id}, length ${key.length}`);
    }
  });

  it('prefers the most specific prefix: sk-ant- and sk-or- before sk-', () => {
    assert.equal(detectProvider(`sk-ant-${fill(40)}`), 'anthropic');
    assert.equal(detectProvider(`sk-or-${fill(40)}`), 'openrouter');
    assert.equal(detectProvider(`sk-${fill(40)}`), 'openai');
  });

  it('returns undefined for unknown shapes', () => {
    assert.equal(detectProvider(''), undefined);
    assert.equal(detectProvider('hello world'), undefined);
    assert.equal(detectProvider(`xoxb-${fill(40)}`), undefined);
  });
});

describe('resolveBaseUrl', () => {
  const anthropic = getProvider('anthropic');
  const local = getProvider('local');

  it('uses the default with no overrides', () => {
    assert.equal(resolveBaseUrl(anthropic, {}), 'https://api.anthropic.com');
    assert.equal(resolveBaseUrl(local), 'http://localhost:11434');
  });

  it('prefers the setting, then AIKM_<ID>_BASE_URL, and strips trailing slashes', () => {
    const env = { AIKM_ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/' };
    assert.equal(resolveBaseUrl(anthropic, { env }), 'http://127.0.0.1:9');
    assert.equal(resolveBaseUrl(anthropic, { setting: 'https://proxy.example/anthropic//', env }), 'https://proxy.example/anthropic');
    assert.equal(resolveBaseUrl(anthropic, { setting: '   ', env }), 'http://127.0.0.1:9');
  });

  it('ignores other providers’ variables', () => {
    assert.equal(resolveBaseUrl(anthropic, { env: { AIKM_OPENAI_BASE_URL: 'http://x:1', OLLAMA_HOST: 'y:2' } }), 'https://api.anthropic.com');
  });

  it('reads OLLAMA_HOST for local after AIKM_LOCAL_BASE_URL', () => {
    assert.equal(resolveBaseUrl(local, { env: { OLLAMA_HOST: '127.0.0.1:11500' } }), 'http://127.0.0.1:11500');
    assert.equal(
      resolveBaseUrl(local, { env: { OLLAMA_HOST: '127.0.0.1:11500', AIKM_LOCAL_BASE_URL: 'http://box:1' } }),
      'http://box:1',
    );
  });

  it('normalises OLLAMA_HOST like Ollama does', () => {
    assert.equal(normaliseOllamaHost('127.0.0.1:11434'), 'http://127.0.0.1:11434');
    assert.equal(normaliseOllamaHost('gpu-box'), 'http://gpu-box:11434');
    assert.equal(normaliseOllamaHost('0.0.0.0'), 'http://127.0.0.1:11434');
    assert.equal(normaliseOllamaHost(':8080'), 'http://127.0.0.1:8080');
    assert.equal(normaliseOllamaHost('https://ollama.example.com'), 'https://ollama.example.com');
    assert.equal(normaliseOllamaHost('http://gpu-box:9000/'), 'http://gpu-box:9000');
    assert.equal(normaliseOllamaHost('[::1]:11434'), 'http://[::1]:11434');
  });

  it('throws a clear error for a URL that is not http(s)', () => {
    assert.throws(() => resolveBaseUrl(anthropic, { setting: 'api.anthropic.com' }), (err: Error) => {
      assert.match(err.message, /aiKeyManager\.providers\.anthropic\.baseUrl/);
      assert.match(err.message, /https:\/\/api\.anthropic\.com/);
      return true;
    });
    assert.throws(() => resolveBaseUrl(anthropic, { env: { AIKM_ANTHROPIC_BASE_URL: 'ftp://x' } }), /AIKM_ANTHROPIC_BASE_URL/);
  });
});

describe('endpointUrl and authHeaders', () => {
  it('joins paths and does not double a /v1 already in the base', () => {
    assert.equal(endpointUrl('https://api.openai.com', '/v1/models'), 'https://api.openai.com/v1/models');
    assert.equal(endpointUrl('https://api.openai.com/v1/', '/v1/models'), 'https://api.openai.com/v1/models');
    assert.equal(endpointUrl('https://openrouter.ai/api', '/v1/key'), 'https://openrouter.ai/api/v1/key');
    assert.equal(endpointUrl('http://h:1', '/api/tags'), 'http://h:1/api/tags');
  });

  it('sends the key the way each provider expects', () => {
    assert.deepEqual(authHeaders(getProvider('anthropic'), 'K'), { 'x-api-key': 'K', 'anthropic-version': '2023-06-01' });
    assert.deepEqual(authHeaders(getProvider('openai'), 'K'), { authorization: 'Bearer K' });
    assert.deepEqual(authHeaders(getProvider('groq'), 'K'), { authorization: 'Bearer K' });
    assert.deepEqual(authHeaders(getProvider('google'), 'K'), { 'x-goog-api-key': 'K' });
    assert.deepEqual(authHeaders(getProvider('local'), 'K'), {});
  });
});
