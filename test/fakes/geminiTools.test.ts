// The fake Gemini's toolCall option, driven by the @google/genai SDK.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { GoogleGenAI, type Content, type Tool } from '@google/genai';
import { startFakeProviders, type FakeProviders } from './providers';

const KEY = 'sk-good';
const TEXT = 'It is sunny.';
const CALL = { name: 'get_weather', arguments: { city: 'Paris', days: 2 } };
const TOOLS: Tool[] = [{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } } } }] }];

let fake: FakeProviders;
before(async () => {
  fake = await startFakeProviders({ keys: { [KEY]: 'valid' }, replyText: TEXT, toolCall: CALL, usage: { inputTokens: 50, outputTokens: 9 }, chunkDelayMs: 0 });
});
after(() => fake.close());

const client = (): GoogleGenAI => new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: fake.url } });
const ask: Content[] = [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }];

describe('fake Gemini: tool calls', () => {
  it('a request with tools gets a functionCall, finishReason STOP, and usage', async () => {
    const r = await client().models.generateContent({ model: 'gemini-2.5-pro', contents: ask, config: { tools: TOOLS } });
    assert.deepEqual(r.functionCalls, [{ name: 'get_weather', args: { city: 'Paris', days: 2 } }]);
    assert.equal(r.candidates?.[0]?.finishReason, 'STOP');
    assert.equal(r.usageMetadata?.candidatesTokenCount, 9);
  });

  it('streamed: one chunk with the functionCall and the usage', async () => {
    const stream = await client().models.generateContentStream({ model: 'gemini-2.5-pro', contents: ask, config: { tools: TOOLS } });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.equal(chunks.length, 1);
    assert.deepEqual(chunks[0]?.functionCalls, [{ name: 'get_weather', args: { city: 'Paris', days: 2 } }]);
    assert.equal(chunks[0]?.candidates?.[0]?.finishReason, 'STOP');
    assert.deepEqual([chunks[0]?.usageMetadata?.promptTokenCount, chunks[0]?.usageMetadata?.candidatesTokenCount], [50, 9]);
  });

  it('text once the last content answers the call, and without tools', async () => {
    const answered: Content[] = [
      ...ask,
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { sky: 'clear' } } }] },
    ];
    const r = await client().models.generateContent({ model: 'gemini-2.5-pro', contents: answered, config: { tools: TOOLS } });
    assert.equal(r.text, TEXT);
    assert.equal(r.functionCalls, undefined);
    const plain = await client().models.generateContent({ model: 'gemini-2.5-pro', contents: ask });
    assert.equal(plain.text, TEXT);
  });
});
