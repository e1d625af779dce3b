// Which listed models chat: OpenAI-style `data[].id`, Gemini `models[].name` with generateContent,
// without embedding, speech, image or moderation models; the catalog's chat models otherwise.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { catalogModels, chatModelIds } from '../../../src/vscode/chatModels/modelList';
import { getProvider } from '../../../src/core/providers';

describe('chat models: model lists', () => {
  it('keeps the models that chat from an OpenAI-style list', () => {
    const body = { data: ['gpt-4o', 'text-embedding-3-small', 'tts-1', 'whisper-1', 'dall-e-3', 'omni-moderation-latest', 'gpt-4o-mini', 'gpt-image-1'].map((id) => ({ id, object: 'model' })) };
    assert.deepEqual(chatModelIds(body, 'data'), ['gpt-4o', 'gpt-4o-mini']);
  });

  it('reads Gemini names without models/, only those that generate content', () => {
    const body = {
      models: [
        { name: 'models/gemini-2.5-pro', supportedGenerationMethods: ['generateContent', 'countTokens'] },
        { name: 'models/gemini-embedding-001', supportedGenerationMethods: ['embedContent'] },
        { name: 'models/gemini-2.0-flash', supportedGenerationMethods: ['generateContent'] },
      ],
    };
    assert.deepEqual(chatModelIds(body, 'models'), ['gemini-2.5-pro', 'gemini-2.0-flash']);
  });

  it('gives nothing for a body that is not a list, and the catalog has no embedding models', () => {
    assert.deepEqual(chatModelIds({ error: 'x' }, 'data'), []);
    assert.deepEqual(chatModelIds(null, 'data'), []);
    const openai = catalogModels(getProvider('openai'));
    assert.ok(openai.includes('gpt-4o'));
    assert.ok(!openai.some((m) => /embedding/.test(m)), openai.join(', '));
  });
});
