// OpenAI chat ↔ Anthropic Messages: the request each chat request becomes, and the reply (plain and
// streamed, fed split at every byte) each Anthropic answer becomes.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { anthropic, defaultMaxTokens } from '../../../src/gateway/translate/anthropic';
import { TranslationError, type ChatRequest, type ReplyMeta } from '../../../src/gateway/translate/types';
import { enc } from '../wire/helpers';
import { convert, readChunks } from './sse';

const META: ReplyMeta = { id: 'chatcmpl-test', created: 1700000000, model: 'claude-sonnet-4-5', includeUsage: true };

describe('translate/anthropic: requests', () => {
  it('system and developer messages become system; turns keep their order and merge by role', () => {
    const req: ChatRequest = {
      model: 'x',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
        { role: 'user', content: 'Hi' },
        { role: 'user', content: [{ type: 'text', text: 'There?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        { role: 'assistant', content: 'Yes.' },
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] },
      ],
      max_tokens: 300,
      temperature: 1.7,
      top_p: 0.9,
      stop: 'END',
      user: 'u-1',
      stream: true,
    };
    const n = anthropic.request(req, 'claude-sonnet-4-5');
    assert.equal(n.path, '/v1/messages');
    assert.deepEqual(n.body, {
      model: 'claude-sonnet-4-5',
      max_tokens: 300,
      system: 'Be brief.\n\nUse metric units.',
      stream: true,
      temperature: 1,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'text', text: 'There?' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Yes.' }] },
        { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } }] },
      ],
    });
  });

  it('tools, tool calls and tool results round-trip as tool_use and tool_result blocks', () => {
    const req: ChatRequest = {
      model: 'x',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
      ],
      tools: [{ type: 'function', function: { name: 'weather', description: 'Current weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      max_completion_tokens: 50,
    };
    const b = anthropic.request(req, 'claude-haiku-4-5').body;
    assert.deepEqual(b['messages'], [
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'call_2', name: 'weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
          { type: 'tool_result', tool_use_id: 'call_2', content: '24C' },
        ],
      },
    ]);
    assert.deepEqual(b['tools'], [{ name: 'weather', description: 'Current weather', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }]);
    assert.deepEqual(b['tool_choice'], { type: 'any', disable_parallel_tool_use: true });
    assert.equal(b['max_tokens'], 50);
  });

  it('tool_choice forms; none keeps the tools (tool history needs them) and says none', () => {
    const base: ChatRequest = { model: 'x', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }] };
    assert.deepEqual(anthropic.request({ ...base, tool_choice: 'auto' }, 'm').body['tool_choice'], { type: 'auto' });
    assert.deepEqual(anthropic.request({ ...base, tool_choice: { type: 'function', function: { name: 'f' } } }, 'm').body['tool_choice'], { type: 'tool', name: 'f' });
    assert.equal(anthropic.request(base, 'm').body['tool_choice'], undefined);
    const none = anthropic.request({ ...base, tool_choice: 'none' }, 'm').body;
    assert.deepEqual(none['tools'], [{ name: 'f', input_schema: { type: 'object', properties: {} } }]);
    assert.deepEqual(none['tool_choice'], { type: 'none' });
    assert.deepEqual(anthropic.request(base, 'm').body['tools'], [{ name: 'f', input_schema: { type: 'object', properties: {} } }]);
  });

  it('a default max_tokens the model allows, and a clear error when nothing can be sent', () => {
    assert.equal(anthropic.request({ model: 'x', messages: [{ role: 'user', content: 'x' }] }, 'claude-3-haiku-20240307').body['max_tokens'], 4096);
    assert.equal(defaultMaxTokens('claude-sonnet-4-5'), 8192);
    assert.throws(() => anthropic.request({ model: 'x', messages: [{ role: 'system', content: 'only this' }] }, 'm'), TranslationError);
  });
});

describe('translate/anthropic: replies', () => {
  it('text, tool calls, stop reasons and usage in OpenAI terms (prompt includes cache)', () => {
    const r = anthropic.reply(
      {
        id: 'msg_1',
        type: 'message',
        model: 'claude-sonnet-4-5-20250929',
        content: [
          { type: 'thinking', thinking: 'hmm' },
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Paris' } },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 5 },
      },
      META,
    );
    assert.equal(r.model, 'claude-sonnet-4-5-20250929');
    assert.equal(r.id, META.id);
    assert.deepEqual(r.choices[0].message, { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }], refusal: null });
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(r.usage, { prompt_tokens: 135, completion_tokens: 20, total_tokens: 155, prompt_tokens_details: { cached_tokens: 30 } });
    const l = anthropic.reply({ content: [{ type: 'text', text: 'cut' }], stop_reason: 'max_tokens', usage: { input_tokens: 1, output_tokens: 2 } }, META);
    assert.equal(l.choices[0].finish_reason, 'length');
    assert.equal(l.model, META.model);
  });
});

const STREAM = [
  'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5-20250929","content":[],"usage":{"input_tokens":100,"cache_read_input_tokens":30,"cache_creation_input_tokens":0,"output_tokens":1}}}\n\n',
  'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"secret plan"}}\n\n',
  'event: content_block_start\ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n',
  'event: ping\ndata: {"type":"ping"}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Héllo, "}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"wörld."}}\n\n',
  'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n',
  'event: content_block_start\ndata: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_9","name":"weather","input":{}}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\":"}}\n\n',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\\"Paris\\"}"}}\n\n',
  'event: content_block_stop\ndata: {"type":"content_block_stop","index":2}\n\n',
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":42}}\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
].join('');

/** The converter's output for the text fed in pieces cut at the byte offsets `cuts`. */
function feed(text: string, cuts: number[], meta: ReplyMeta = META): string {
  const bytes = enc(text);
  const ends = [...cuts, bytes.length];
  return convert(anthropic.stream(meta), ends.map((end, i) => bytes.subarray(i ? ends[i - 1] : 0, end)));
}

describe('translate/anthropic: streams', () => {
  it('content and tool-call deltas, one finish, cumulative usage (never summed), [DONE]', () => {
    const out = feed(STREAM, []);
    const r = readChunks(out, META.id);
    assert.equal(r.text, 'Héllo, wörld.');
    assert.ok(!out.includes('secret plan'), 'thinking is not passed on');
    assert.deepEqual(r.toolCalls, [{ id: 'toolu_9', type: 'function', name: 'weather', arguments: '{"city":"Paris"}' }]);
    assert.deepEqual(r.finishReasons, ['tool_calls']);
    assert.deepEqual(r.usage, [{ prompt_tokens: 130, completion_tokens: 42, total_tokens: 172, prompt_tokens_details: { cached_tokens: 30 } }]);
    assert.deepEqual(new Set(r.models), new Set(['claude-sonnet-4-5-20250929']));
    assert.equal(r.roleChunks, 1);
    assert.ok(r.done);
  });

  it('gives the same output however the upstream bytes are split', () => {
    const whole = feed(STREAM, []);
    const bytes = Buffer.byteLength(STREAM);
    for (let i = 1; i < bytes; i++) assert.equal(feed(STREAM, [i]), whole, `split at ${i}`);
    const every = Array.from({ length: bytes - 1 }, (_, i) => i + 1);
    assert.equal(feed(STREAM, every), whole);
  });

  it('no usage chunk unless asked; an error event is passed on and ends the stream; a cut stream still ends with [DONE]', () => {
    const quiet = readChunks(feed(STREAM, [], { ...META, includeUsage: false }), META.id);
    assert.deepEqual(quiet.usage, []);
    const err = readChunks(feed(STREAM.slice(0, STREAM.indexOf('event: content_block_stop')) + 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n', []), META.id);
    assert.deepEqual(err.errors.map((e) => e.message), ['Overloaded']);
    assert.deepEqual(err.finishReasons, []);
    assert.equal(err.done, false, 'no [DONE] after an error, as OpenAI does');
    // The upstream's body ended without message_stop: the client is told, and gets no [DONE].
    const c = anthropic.stream(META);
    const early = new TextDecoder().decode(Buffer.concat([c.transform(Buffer.from(STREAM.slice(0, STREAM.indexOf('event: message_delta')))), c.flush(false)]));
    assert.match(early, /"error":\{"message":"The provider's reply ended before it was complete/);
    assert.ok(!early.includes('[DONE]'));
    const cut = readChunks(feed(STREAM.slice(0, STREAM.indexOf('event: message_delta') + 30), []), META.id);
    assert.equal(cut.text, 'Héllo, wörld.');
    assert.deepEqual(cut.finishReasons, [], 'a cut stream has no finish reason');
    assert.ok(cut.done);
  });
});
