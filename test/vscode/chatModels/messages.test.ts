// VS Code chat messages → the router's OpenAI chat request: text, tool calls and results in the order
// OpenAI wants them, images as data URLs, tools and tool mode, model options.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { toChatRequest } from '../../../src/vscode/chatModels/messages';
import { taskOf } from '../../../src/vscode/chatModels/taskOf';

// The parts as VS Code makes them (LanguageModelTextPart, …ToolCallPart, …ToolResultPart, …DataPart), by shape.
const text = (value: string) => ({ value });
const call = (callId: string, name: string, input: object) => ({ callId, name, input });
const result = (callId: string, content: unknown[]) => ({ callId, content });
const data = (mimeType: string, bytes: string) => ({ mimeType, data: new Uint8Array(Buffer.from(bytes)) });
const USER = 1;
const ASSISTANT = 2;

describe('chat models: VS Code messages to an OpenAI chat request', () => {
  it('keeps a conversation with a tool round trip in OpenAI order', () => {
    const req = toChatRequest(
      'anthropic/claude-sonnet-4-5',
      [
        { role: USER, content: [text('Weather in '), text('Oslo?')] },
        { role: ASSISTANT, content: [text('Checking.'), call('c1', 'weather', { city: 'Oslo' })] },
        { role: USER, content: [result('c1', [text('-3C'), data('application/json', '{"wind":4}')]), text('And tomorrow?')] },
      ],
      { tools: [{ name: 'weather', description: 'Current weather', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }], toolMode: 1 },
    );
    assert.deepEqual(req, {
      model: 'anthropic/claude-sonnet-4-5',
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '-3C{"wind":4}' },
        { role: 'user', content: 'And tomorrow?' },
      ],
      tools: [{ type: 'function', function: { name: 'weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'auto',
    });
  });

  it('images become data URLs; tool mode Required; model options pass; empty turns are left out', () => {
    const req = toChatRequest(
      'auto',
      [
        { role: ASSISTANT, content: [] },
        { role: USER, content: [text('What is this?'), data('image/png', 'PNGDATA'), { unknown: true }] },
      ],
      { tools: [{ name: 'f', description: 'g' }], toolMode: 2, modelOptions: { temperature: 0.2, max_tokens: 99, ignored: 'x' } },
    );
    assert.deepEqual(req.messages, [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${Buffer.from('PNGDATA').toString('base64')}` } }] }]);
    assert.equal(req.tool_choice, 'required');
    assert.deepEqual(req.tools?.[0].function.parameters, { type: 'object', properties: {} });
    assert.equal(req.temperature, 0.2);
    assert.equal(req.max_tokens, 99);
  });

  it('a routed request gets a task from what the user asks, chat otherwise', () => {
    const ask = (content: string) => taskOf([{ role: 'user', content }]);
    assert.equal(ask('Please review this diff'), 'code_review');
    assert.equal(ask('Write a function that parses dates'), 'code_generation');
    assert.equal(ask('Summarize the thread'), 'summarization');
    assert.equal(ask('Hello there'), 'chat');
  });
});
