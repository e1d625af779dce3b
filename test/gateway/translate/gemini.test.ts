import { callId } from '../../../src/gateway/translate/chunks';
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { gemini, SKIP_SIGNATURE } from '../../../src/gateway/translate/gemini';
import { TranslationError, type ChatRequest, type ChatUsage, type ReplyMeta, type StreamConverter } from '../../../src/gateway/translate/types';
import { startFakeProviders, type FakeProviders } from '../../fakes/providers';
import { dataEvents, dec, enc, splits } from '../wire/helpers';
import { convert, readChunks } from './sse';

const MODEL = 'gemini-2.5-flash';
const META: ReplyMeta = { id: 'chatcmpl-7', created: 1764590400, model: MODEL, includeUsage: true };
const req = (r: Partial<ChatRequest>): ChatRequest => ({ model: 'router/gemini', messages: [{ role: 'user', content: 'Hi' }], ...r });
const body = (r: Partial<ChatRequest>) => gemini.request(req(r), MODEL).body;
const rejects = (r: Partial<ChatRequest>, message: RegExp) =>
  assert.throws(() => gemini.request(req(r), MODEL), (e) => e instanceof TranslationError && message.test(e.message));

const WEATHER = { type: 'function' as const, function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } };
const TIME = { type: 'function' as const, function: { name: 'get_time' } };

describe('gemini translator: requests', () => {
  it('paths: generateContent, or streamGenerateContent with alt=sse', () => {
    const plain = gemini.request(req({}), MODEL);
    assert.deepEqual([plain.path, plain.search], [`/v1beta/models/${MODEL}:generateContent`, '']);
    const streamed = gemini.request(req({ stream: true, stream_options: { include_usage: true } }), MODEL);
    assert.deepEqual([streamed.path, streamed.search], [`/v1beta/models/${MODEL}:streamGenerateContent`, '?alt=sse']);
  });

  it('system and developer messages become systemInstruction; turns alternate user/model, same roles merged', () => {
    const b = body({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in ' }, { type: 'text', text: 'German.' }] },
        { role: 'user', content: 'Hi' },
        { role: 'user', content: [{ type: 'text', text: 'there' }] },
        { role: 'assistant', content: 'Hallo!' },
        { role: 'user', content: 'Wie geht es?' },
      ],
    });
    assert.deepEqual(b, {
      contents: [
        { role: 'user', parts: [{ text: 'Hi' }, { text: 'there' }] },
        { role: 'model', parts: [{ text: 'Hallo!' }] },
        { role: 'user', parts: [{ text: 'Wie geht es?' }] },
      ],
      systemInstruction: { parts: [{ text: 'Be brief.\n\nAnswer in German.' }] },
    });
  });

  it('leaves out systemInstruction, tools and generationConfig when there are none', () => {
    assert.deepEqual(body({}), { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
    assert.deepEqual(body({ temperature: null, top_p: null, max_tokens: null, stop: null, tools: [] }), { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
  });

  it('images: a base64 data URL becomes inlineData, another URL fileData', () => {
    const b = body({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.JPG?size=large', detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://generativelanguage.googleapis.com/v1beta/files/abc123' } },
          ],
        },
      ],
    });
    assert.deepEqual(b['contents'], [
      {
        role: 'user',
        parts: [
          { text: 'Compare' },
          { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
          { fileData: { fileUri: 'https://example.com/cat.JPG?size=large', mimeType: 'image/jpeg' } },
          { fileData: { fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/abc123' } },
        ],
      },
    ]);
    rejects({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml,<svg/>' } }] }] }, /messages\[0\]\.content\[0\]: only base64 data: URLs/);
  });

  it('tools become functionDeclarations with parametersJsonSchema', () => {
    assert.deepEqual(body({ tools: [WEATHER, TIME] })['tools'], [
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: WEATHER.function.parameters },
          { name: 'get_time' },
        ],
      },
    ]);
    rejects({ tools: [{ type: 'custom', custom: { name: 'x' } } as unknown as typeof TIME] }, /tools\[0\]: only function tools/);
  });

  it('tool_choice: each form as functionCallingConfig', () => {
    const config = (tool_choice: ChatRequest['tool_choice']) => body({ tools: [WEATHER, TIME], tool_choice })['toolConfig'];
    assert.equal(body({ tools: [WEATHER] })['toolConfig'], undefined);
    assert.deepEqual(config('auto'), { functionCallingConfig: { mode: 'AUTO' } });
    assert.deepEqual(config('none'), { functionCallingConfig: { mode: 'NONE' } });
    assert.deepEqual(config('required'), { functionCallingConfig: { mode: 'ANY' } });
    assert.deepEqual(config({ type: 'function', function: { name: 'get_time' } }), { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_time'] } });
    rejects({ tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'nope' } } }, /"nope" is not among the tools/);
    rejects({ tool_choice: 'required' }, /no tools were given/);
    assert.equal(body({ tool_choice: 'none' })['toolConfig'], undefined);
  });

  it('assistant tool calls and tool results round trip; a result is named after its call', () => {
    const b = body({
      tools: [WEATHER, TIME],
      messages: [
        { role: 'user', content: 'Weather in Paris and the time?' },
        {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_b', content: '12:00' },
        { role: 'tool', tool_call_id: 'call_a', content: [{ type: 'text', text: '{"temp":21,"sky":"clear"}' }] },
        { role: 'assistant', content: 'Sunny, 21°C, noon.' },
        { role: 'user', content: 'And now?' },
        // A later turn reuses an id: its result takes the later call's name.
        { role: 'assistant', tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_time', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_a', content: '[1,2]' },
      ],
    });
    assert.deepEqual(b['contents'], [
      { role: 'user', parts: [{ text: 'Weather in Paris and the time?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Let me check.' },
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: SKIP_SIGNATURE },
          { functionCall: { name: 'get_time', args: {} } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_time', response: { content: '12:00' } } },
          { functionResponse: { name: 'get_weather', response: { temp: 21, sky: 'clear' } } },
        ],
      },
      { role: 'model', parts: [{ text: 'Sunny, 21°C, noon.' }] },
      { role: 'user', parts: [{ text: 'And now?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_time', args: {} }, thoughtSignature: SKIP_SIGNATURE }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_time', response: { content: '[1,2]' } } }] },
    ]);
  });

  it('a tool result that answers no earlier call is refused', () => {
    rejects({ messages: [{ role: 'user', content: 'Hi' }, { role: 'tool', tool_call_id: 'call_x', content: 'x' }] }, /messages\[1\]: tool_call_id "call_x" matches no earlier/);
    // The call must come before its result.
    rejects(
      {
        messages: [
          { role: 'tool', tool_call_id: 'c1', content: 'x' },
          { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        ],
      },
      /messages\[0\]: tool_call_id "c1"/,
    );
  });

  it('generationConfig from the sampling fields; max_completion_tokens wins over max_tokens', () => {
    assert.deepEqual(body({ temperature: 0, top_p: 0.9, max_tokens: 100, max_completion_tokens: 256, stop: 'END', seed: 42 })['generationConfig'], {
      temperature: 0,
      topP: 0.9,
      maxOutputTokens: 256,
      stopSequences: ['END'],
      seed: 42,
    });
    assert.deepEqual(body({ max_tokens: 100, stop: ['a', 'b'] })['generationConfig'], { maxOutputTokens: 100, stopSequences: ['a', 'b'] });
  });

  it('response_format: json_object and json_schema', () => {
    assert.deepEqual(body({ response_format: { type: 'json_object' } })['generationConfig'], { responseMimeType: 'application/json' });
    const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
    assert.deepEqual(body({ response_format: { type: 'json_schema', json_schema: { name: 'count', schema } } })['generationConfig'], {
      responseMimeType: 'application/json',
      responseJsonSchema: schema,
    });
    assert.equal(body({ response_format: { type: 'text' } })['generationConfig'], undefined);
  });

  it('refuses what Gemini cannot take', () => {
    rejects({ messages: [] }, /at least one message/);
    rejects({ messages: [{ role: 'system', content: 'Only a system prompt' }] }, /at least one user or assistant message/);
    rejects({ messages: [{ role: 'user', content: [{ type: 'input_audio' } as never] }] }, /part type "input_audio"/);
    rejects({ messages: [{ role: 'function', content: 'x' } as never] }, /messages\[0\]: unknown role "function"/);
  });
});

// A GenerateContentResponse as the API sends it (thinking model, cache hit): usage is the running total.
const response = (parts: unknown[], candidates: number, finish?: string) => ({
  candidates: [{ content: { parts, role: 'model' }, index: 0, ...(finish && { finishReason: finish }) }],
  usageMetadata: {
    promptTokenCount: 1500, cachedContentTokenCount: 1000, candidatesTokenCount: candidates, thoughtsTokenCount: 120, totalTokenCount: 1620 + candidates,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: 1500 }], cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 1000 }],
  },
  modelVersion: 'gemini-2.5-flash-preview-09-2025',
  responseId: 'mW8yaPKXNa2nz7IPxPGSsQE',
});
/** prompt 1500 including 1000 cached; output 80 candidates + 120 thoughts. */
const USAGE: ChatUsage = { prompt_tokens: 1500, completion_tokens: 200, total_tokens: 1700, prompt_tokens_details: { cached_tokens: 1000 }, completion_tokens_details: { reasoning_tokens: 120 } };

describe('gemini translator: replies', () => {
  it('text (thoughts left out), the upstream model, usage with cached and thought tokens', () => {
    const r = gemini.reply(response([{ text: 'Thinking about it…', thought: true }, { text: 'Das ist ' }, { text: 'schön.', thoughtSignature: 'c2ln' }], 80, 'STOP'), META);
    assert.deepEqual(r, {
      id: 'chatcmpl-7',
      object: 'chat.completion',
      created: 1764590400,
      model: 'gemini-2.5-flash-preview-09-2025',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Das ist schön.', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: USAGE,
    });
  });

  it('reads bytes too; without modelVersion or usageMetadata: the asked model, zero usage', () => {
    const r = gemini.reply(enc(JSON.stringify({ candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }] })), META);
    assert.equal(r.model, MODEL);
    assert.equal(r.choices[0]?.message.content, 'ok');
    assert.deepEqual(r.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });

  it('function calls become tool_calls with unique ids; content null; finish tool_calls', () => {
    const r = gemini.reply(
      response(
        [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2ln' },
          { functionCall: { name: 'get_time' } },
          { functionCall: { name: 'get_weather', args: { city: 'Rome' }, id: 'call_0' } },
        ],
        30,
        'STOP',
      ),
      META,
    );
    const choice = r.choices[0];
    assert.equal(choice?.message.content, null);
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.deepEqual(choice?.message.tool_calls, [
      { id: callId(META.id, 0), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: callId(META.id, 1), type: 'function', function: { name: 'get_time', arguments: '{}' } },
      // Its own id, unused in this reply, is kept.
      { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
    ]);
    // Another reply (another id) gets other ids: one conversation never holds the same id twice.
    const next = gemini.reply(response([{ functionCall: { name: 'get_time' } }], 5, 'STOP'), { ...META, id: 'chatcmpl-8' });
    assert.notEqual(next.choices[0]?.message.tool_calls?.[0]?.id, callId(META.id, 0));
    const own = gemini.reply(response([{ text: 'Checking.' }, { functionCall: { name: 'f', args: {}, id: 'fc-9' } }], 5, 'STOP'), META).choices[0];
    assert.equal(own?.message.content, 'Checking.');
    assert.equal(own?.message.tool_calls?.[0]?.id, 'fc-9');
  });

  it('finish reasons', () => {
    const finish = (reason: string | undefined) => gemini.reply(response([{ text: 'x' }], 1, reason), META).choices[0]?.finish_reason;
    const table: [string | undefined, string][] = [
      ['STOP', 'stop'], ['MAX_TOKENS', 'length'], ['SAFETY', 'content_filter'], ['RECITATION', 'content_filter'], ['BLOCKLIST', 'content_filter'],
      ['PROHIBITED_CONTENT', 'content_filter'], ['SPII', 'content_filter'], ['IMAGE_SAFETY', 'content_filter'], ['MALFORMED_FUNCTION_CALL', 'stop'],
      ['OTHER', 'stop'], [undefined, 'stop'],
    ];
    for (const [reason, want] of table) assert.equal(finish(reason), want, String(reason));
    const blocked = gemini.reply({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 } }, META);
    assert.deepEqual(blocked.choices[0]?.message, { role: 'assistant', content: null, refusal: null });
    assert.equal(blocked.choices[0]?.finish_reason, 'content_filter');
    assert.deepEqual(blocked.usage, { prompt_tokens: 12, completion_tokens: 0, total_tokens: 12 });
  });
});

/** Converts the stream whole, then split every way: the output must not change. */
function splitInvariant(payload: string, meta: ReplyMeta = META): string {
  const bytes = enc(payload);
  const whole = convert(gemini.stream(meta), [bytes]);
  let n = 0;
  for (const pieces of splits(bytes, 30)) {
    const got = convert(gemini.stream(meta), pieces);
    if (got !== whole) assert.fail(`split #${n} (${pieces.map((p) => p.length).join('+')}) changed the output`);
    n++;
  }
  return whole;
}

const TEXT_STREAM = [
  response([{ text: '**Planning** the answer', thought: true }], 0),
  response([{ text: 'Das ist ' }], 3),
  response([{ text: 'schön — 素晴らしい 🎉' }], 40),
  response([{ text: ' ✓', thoughtSignature: 'c2lnbmF0dXJl' }], 80, 'STOP'),
];

describe('gemini translator: streams', () => {
  it('text deltas, thoughts left out, one finish, the last usage (not a sum), [DONE]; split at every byte', () => {
    const out = splitInvariant(dataEvents(TEXT_STREAM, '\r\n'));
    const a = readChunks(out, META.id);
    assert.equal(a.roleChunks, 1); // readChunks asserts each role is "assistant"
    assert.equal(a.text, 'Das ist schön — 素晴らしい 🎉 ✓');
    assert.deepEqual(a.toolDeltas, []);
    assert.deepEqual(a.finishReasons, ['stop']);
    assert.deepEqual(a.usage, [USAGE]);
    assert.deepEqual(new Set(a.models), new Set(['gemini-2.5-flash-preview-09-2025']));
    assert.equal(a.done, true);
    // The same stream with \n line ends converts the same.
    assert.equal(convert(gemini.stream(META), [enc(dataEvents(TEXT_STREAM, '\n'))]), out);
  });

  it('passes each event on as soon as it is complete', () => {
    const c: StreamConverter = gemini.stream(META);
    const [first, second] = [dataEvents([TEXT_STREAM[1]], '\r\n'), dataEvents([TEXT_STREAM[2]], '\r\n')];
    assert.equal(readChunks(dec(c.transform(enc(first))), META.id).text, 'Das ist ');
    assert.equal(dec(c.transform(enc(second.slice(0, -2)))), '', 'nothing before the blank line');
    assert.equal(readChunks(dec(c.transform(enc('\r\n'))), META.id).text, 'schön — 素晴らしい 🎉');
  });

  it('function calls: one tool_calls delta each, indexes across the stream, finish tool_calls; split at every byte', () => {
    const stream = [
      response([{ text: 'Checking.' }], 2),
      response([{ functionCall: { name: 'get_weather', args: { city: 'Paris', units: 'C' } }, thoughtSignature: 'c2ln' }, { functionCall: { name: 'get_time', args: {} } }], 20),
      response([{ functionCall: { name: 'get_weather', args: { city: 'Rome' } } }], 30, 'STOP'),
    ];
    const a = readChunks(splitInvariant(dataEvents(stream, '\r\n')), META.id);
    assert.equal(a.text, 'Checking.');
    assert.deepEqual(a.toolDeltas, [
      { index: 0, id: callId(META.id, 0), type: 'function', name: 'get_weather', arguments: '{"city":"Paris","units":"C"}' },
      { index: 1, id: callId(META.id, 1), type: 'function', name: 'get_time', arguments: '{}' },
      { index: 2, id: callId(META.id, 2), type: 'function', name: 'get_weather', arguments: '{"city":"Rome"}' },
    ]);
    assert.deepEqual(a.finishReasons, ['tool_calls']);
    assert.deepEqual(a.usage, [{ ...USAGE, completion_tokens: 150, total_tokens: 1650 }]);
  });

  it('no usage chunk when the client did not ask for one', () => {
    const a = readChunks(convert(gemini.stream({ ...META, includeUsage: false }), [enc(dataEvents(TEXT_STREAM, '\r\n'))]), META.id);
    assert.deepEqual(a.usage, []);
    assert.deepEqual(a.finishReasons, ['stop']);
    assert.equal(a.done, true);
  });

  it('a cut stream: no finish chunk, the usage seen so far, [DONE]; the cut event is dropped', () => {
    const cut = dataEvents(TEXT_STREAM.slice(0, 3), '\r\n') + 'data: {"candidates":[{"content":{"parts":[{"text":" ✓"}]},"finishReason":"STOP"}]}';
    const a = readChunks(convert(gemini.stream(META), [enc(cut)]), META.id);
    assert.equal(a.text, 'Das ist schön — 素晴らしい 🎉');
    assert.deepEqual(a.finishReasons, []);
    assert.deepEqual(a.usage, [{ ...USAGE, completion_tokens: 160, total_tokens: 1660 }]);
    assert.equal(a.done, true);
    // Nothing at all: just [DONE].
    assert.equal(convert(gemini.stream(META), []), 'data: [DONE]\n\n');
  });

  it('a \\r at the very end still ends the last event', () => {
    const a = readChunks(convert(gemini.stream(META), [enc(dataEvents(TEXT_STREAM, '\r'))]), META.id);
    assert.deepEqual(a.finishReasons, ['stop']);
    assert.equal(a.text, 'Das ist schön — 素晴らしい 🎉 ✓');
  });

  it('an error event mid-stream: the error, then nothing more', () => {
    const events = [TEXT_STREAM[1], { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } }, TEXT_STREAM[3]];
    const a = readChunks(convert(gemini.stream(META), [enc(dataEvents(events, '\r\n'))]), META.id);
    assert.equal(a.text, 'Das ist ');
    assert.deepEqual(a.errors, [{ message: 'The model is overloaded. Please try again later.', type: 'upstream_error', code: null }]);
    assert.deepEqual(a.finishReasons, []);
    assert.equal(a.done, false);
  });

  it('a blocked prompt finishes content_filter', () => {
    const a = readChunks(convert(gemini.stream(META), [enc(dataEvents([{ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 }, modelVersion: MODEL }], '\r\n'))]), META.id);
    assert.deepEqual(a.finishReasons, ['content_filter']);
    assert.equal(a.text, '');
    assert.deepEqual(a.usage, [{ prompt_tokens: 12, completion_tokens: 0, total_tokens: 12 }]);
  });
});

describe('gemini translator: against the fake Gemini', () => {
  let fake: FakeProviders;
  before(async () => {
    fake = await startFakeProviders({ keys: { 'sk-good': 'valid' }, replyText: 'Sunny and warm.', toolCall: { name: 'get_weather', arguments: { city: 'Paris' } }, usage: { inputTokens: 40, outputTokens: 6, cacheReadTokens: 10, reasoningTokens: 3 }, chunkDelayMs: 0 });
  });
  after(() => fake.close());

  const post = async (r: ChatRequest): Promise<Response> => {
    const n = gemini.request(r, 'gemini-2.5-pro');
    return fetch(`${fake.url}${n.path}${n.search}`, { method: 'POST', headers: { 'x-goog-api-key': 'sk-good', 'content-type': 'application/json' }, body: JSON.stringify(n.body) });
  };
  const first: ChatRequest = req({ tools: [WEATHER], messages: [{ role: 'user', content: 'Weather in Paris?' }] });

  it('a tool call, its result, then the answer: plain and streamed', async () => {
    const call = gemini.reply(await (await post(first)).json(), META);
    const toolCall = call.choices[0]?.message.tool_calls?.[0];
    assert.deepEqual(toolCall, { id: callId(META.id, 0), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    assert.equal(call.choices[0]?.finish_reason, 'tool_calls');
    assert.deepEqual(call.usage, { prompt_tokens: 40, completion_tokens: 9, total_tokens: 49, prompt_tokens_details: { cached_tokens: 10 }, completion_tokens_details: { reasoning_tokens: 3 } });

    const second = req({ ...first, messages: [...first.messages, { role: 'assistant', content: null, tool_calls: toolCall ? [toolCall] : [] }, { role: 'tool', tool_call_id: callId(META.id, 0), content: '{"sky":"clear"}' }] });
    const answer = gemini.reply(await (await post(second)).json(), META);
    assert.equal(answer.choices[0]?.message.content, 'Sunny and warm.');

    for (const r of [first, second]) {
      const res = await post({ ...r, stream: true });
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      const a = readChunks(convert(gemini.stream(META), [new Uint8Array(await res.arrayBuffer())]), META.id);
      assert.deepEqual(a.finishReasons, [r === first ? 'tool_calls' : 'stop']);
      assert.equal(a.text, r === first ? '' : 'Sunny and warm.');
      assert.deepEqual(a.toolDeltas.map((t) => t.name), r === first ? ['get_weather'] : []);
    }
  });
});
