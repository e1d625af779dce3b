import { callId } from '../../../src/gateway/translate/chunks';
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ollama } from '../../../src/gateway/translate/ollama';
import { TranslationError, type ChatRequest, type ReplyMeta } from '../../../src/gateway/translate/types';
import { dec, enc, splits } from '../wire/helpers';
import { convert, readChunks } from './sse';
import { startFakeProviders } from '../../fakes/providers';

const META: ReplyMeta = { id: 'chatcmpl-test1', created: 1764590000, model: 'llama3.2', includeUsage: true };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const WEATHER = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

const body = (req: Partial<ChatRequest>): Record<string, unknown> =>
  ollama.request({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], ...req }, 'llama3.2').body;

describe('ollama translator: request', () => {
  it('goes to /api/chat with the model, stream false spelled out, no options/format/tools when not asked', () => {
    const r = ollama.request({ model: 'local', messages: [{ role: 'user', content: 'Hi' }] }, 'llama3.2');
    assert.deepEqual(r, { path: '/api/chat', search: '', body: { model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], stream: false } });
    assert.equal(body({ stream: true })['stream'], true);
    assert.equal(body({ stream: false })['stream'], false);
  });

  it('maps system and developer to system, and keeps a multi-turn conversation in order (text parts joined)', () => {
    const b = body({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer ' }, { type: 'text', text: 'in French.' }] },
        { role: 'user', content: 'Why is the sky blue?' },
        { role: 'assistant', content: 'Rayleigh scattering.' },
        { role: 'user', content: [{ type: 'text', text: 'And sunsets?' }] },
      ],
    });
    assert.deepEqual(b['messages'], [
      { role: 'system', content: 'Be brief.' },
      { role: 'system', content: 'Answer in French.' },
      { role: 'user', content: 'Why is the sky blue?' },
      { role: 'assistant', content: 'Rayleigh scattering.' },
      { role: 'user', content: 'And sunsets?' },
    ]);
  });

  it('puts inline images in `images` as base64; other URLs are a TranslationError', () => {
    const b = body({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/AAAA', detail: 'low' } },
          ],
        },
      ],
    });
    assert.deepEqual(b['messages'], [{ role: 'user', content: 'What is this?', images: [PNG, '/9j/AAAA'] }]);
    assert.throws(
      () => body({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }),
      (e) => e instanceof TranslationError && /inline images/.test(e.message),
    );
  });

  it('sends tools in the function shape (strict dropped); tool_choice none sends none, others are ignored', () => {
    const tools = [{ ...WEATHER, function: { ...WEATHER.function, strict: true } }];
    const expected = [{ type: 'function', function: WEATHER.function }];
    assert.deepEqual(body({ tools })['tools'], expected);
    assert.deepEqual(body({ tools, tool_choice: 'required' })['tools'], expected);
    assert.deepEqual(body({ tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } })['tools'], expected);
    assert.equal('tools' in body({ tools, tool_choice: 'none' }), false);
    assert.equal('tools' in body({ tools: [] }), false);
    assert.equal('tool_choice' in body({ tools, tool_choice: 'auto' }), false);
  });

  it('a tool round trip: calls with object arguments, results named after the call they answer', () => {
    const b = body({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_0', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_1', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '12:00' },
        { role: 'tool', tool_call_id: 'call_0', content: [{ type: 'text', text: 'sunny' }] },
        { role: 'assistant', content: 'Sunny, noon.' },
        { role: 'user', content: 'And tomorrow?' },
        // Ids may repeat across turns: the nearest earlier call wins.
        { role: 'assistant', tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'get_forecast', arguments: '{"days":1}' } }] },
        { role: 'tool', tool_call_id: 'call_0', content: 'rain' },
        { role: 'tool', tool_call_id: 'call_unknown', content: '?' },
      ],
      tools: [WEATHER],
    });
    assert.deepEqual(b['messages'], [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }, { function: { name: 'get_time', arguments: {} } }],
      },
      { role: 'tool', content: '12:00', tool_name: 'get_time' },
      { role: 'tool', content: 'sunny', tool_name: 'get_weather' },
      { role: 'assistant', content: 'Sunny, noon.' },
      { role: 'user', content: 'And tomorrow?' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_forecast', arguments: { days: 1 } } }] },
      { role: 'tool', content: 'rain', tool_name: 'get_forecast' },
      { role: 'tool', content: '?' },
    ]);
  });

  it('puts sampling settings in options (max_completion_tokens over max_tokens, stop as an array), leaving out what is absent', () => {
    assert.deepEqual(body({ temperature: 0.2, top_p: 0.9, max_tokens: 100, stop: 'END', seed: 42 })['options'], {
      temperature: 0.2,
      top_p: 0.9,
      num_predict: 100,
      stop: ['END'],
      seed: 42,
    });
    assert.deepEqual(body({ max_tokens: 100, max_completion_tokens: 50, stop: ['a', 'b'] })['options'], { num_predict: 50, stop: ['a', 'b'] });
    assert.deepEqual(body({ temperature: 0 })['options'], { temperature: 0 });
    assert.equal('options' in body({ temperature: null, max_tokens: null, stop: null, user: 'u1' }), false);
  });

  it('format: "json" for json_object, the schema for json_schema, nothing for text', () => {
    const schema = { type: 'object', properties: { age: { type: 'integer' } }, required: ['age'] };
    assert.equal(body({ response_format: { type: 'json_object' } })['format'], 'json');
    assert.deepEqual(body({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } })['format'], schema);
    assert.equal('format' in body({ response_format: { type: 'text' } }), false);
  });

  it('throws TranslationError for no messages, an unknown role, a tool or tool call without a name', () => {
    assert.throws(() => body({ messages: [] }), TranslationError);
    assert.throws(() => body({ messages: undefined as unknown as ChatRequest['messages'] }), TranslationError);
    assert.throws(() => body({ messages: [{ role: 'function', content: 'x' } as unknown as ChatRequest['messages'][number]] }), TranslationError);
    assert.throws(() => body({ tools: [{ type: 'web_search' } as unknown as typeof WEATHER] }), TranslationError);
    assert.throws(() => body({ tools: [{ type: 'function' } as unknown as typeof WEATHER] }), TranslationError);
    assert.throws(() => body({ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function' } as never] }] }), TranslationError);
  });
});

describe('ollama translator: reply', () => {
  const done = { created_at: '2025-05-27T22:54:57.641643Z', done: true, total_duration: 4883583458, prompt_eval_count: 26, eval_count: 282 };

  it('text: the model the reply names, finish stop, usage from the counts', () => {
    const c = ollama.reply({ model: 'llama3.2:latest', message: { role: 'assistant', content: 'The sky is blue.' }, done_reason: 'stop', ...done }, META);
    assert.deepEqual(c, {
      id: 'chatcmpl-test1',
      object: 'chat.completion',
      created: 1764590000,
      model: 'llama3.2:latest',
      choices: [{ index: 0, message: { role: 'assistant', content: 'The sky is blue.', refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: { prompt_tokens: 26, completion_tokens: 282, total_tokens: 308 },
    });
    assert.equal(ollama.reply({ message: { role: 'assistant', content: 'x' } }, META).model, 'llama3.2');
  });

  it('tool calls: ids call_<n>, arguments as JSON text (a string kept as it is), content null, finish tool_calls', () => {
    const c = ollama.reply(
      {
        model: 'qwen3',
        message: {
          role: 'assistant',
          content: '',
          tool_calls: [
            { function: { name: 'get_weather', arguments: { city: 'Toronto', unit: 'celsius' } } },
            { function: { name: 'raw', arguments: '{"a":1}' } },
          ],
        },
        done_reason: 'stop',
        ...done,
      },
      META,
    );
    const choice = c.choices[0]!;
    assert.equal(choice.message.content, null);
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.deepEqual(choice.message.tool_calls, [
      { id: callId(META.id, 0), type: 'function', function: { name: 'get_weather', arguments: '{"city":"Toronto","unit":"celsius"}' } },
      { id: callId(META.id, 1), type: 'function', function: { name: 'raw', arguments: '{"a":1}' } },
    ]);
    const withText = ollama.reply({ message: { role: 'assistant', content: 'Checking.', tool_calls: [{ function: { name: 'f', arguments: {} } }] }, ...done }, META);
    assert.equal(withText.choices[0]?.message.content, 'Checking.');
  });

  it('done_reason length is finish length; missing counts are 0', () => {
    const c = ollama.reply({ message: { role: 'assistant', content: 'The sky' }, done: true, done_reason: 'length' }, META);
    assert.equal(c.choices[0]?.finish_reason, 'length');
    assert.deepEqual(c.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    assert.equal(ollama.reply({ message: { role: 'assistant', content: '' }, done_reason: 'load' }, META).choices[0]?.finish_reason, 'stop');
  });
});

// --- streams ---

const at = '2025-05-27T22:54:57.641643Z';
const streamLines = [
  { model: 'qwen3:8b', created_at: at, message: { role: 'assistant', content: 'Let me check ' }, done: false },
  { model: 'qwen3:8b', created_at: at, message: { role: 'assistant', content: 'the weather — 天気 🌦️ "quoted"\n' }, done: false },
  {
    model: 'qwen3:8b',
    created_at: at,
    message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Toronto', unit: 'celsius' } } }] },
    done: false,
  },
  {
    model: 'qwen3:8b',
    created_at: at,
    message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_time', arguments: { tz: 'America/Toronto' } } }, { function: { name: 'noop', arguments: {} } }] },
    done: false,
  },
  {
    model: 'qwen3:8b', created_at: at, message: { role: 'assistant', content: '' }, done_reason: 'stop', done: true,
    total_duration: 4883583458, load_duration: 1334875, prompt_eval_count: 26, prompt_eval_duration: 342546000, eval_count: 282, eval_duration: 4535599000,
  },
];
const ndjson = streamLines.map((l) => JSON.stringify(l) + '\n').join('');
const USAGE = { prompt_tokens: 26, completion_tokens: 282, total_tokens: 308 };

describe('ollama translator: stream', () => {
  it('converts a stream with text and tool calls, identically however the bytes are split', () => {
    const whole = convert(ollama.stream(META), [enc(ndjson)]);
    const p = readChunks(whole, META.id);
    assert.equal(p.roleChunks, 1, 'one role chunk');
    assert.equal(p.text, 'Let me check the weather — 天気 🌦️ "quoted"\n');
    assert.deepEqual(p.toolCalls, [
      { id: callId(META.id, 0), type: 'function', name: 'get_weather', arguments: '{"city":"Toronto","unit":"celsius"}' },
      { id: callId(META.id, 1), type: 'function', name: 'get_time', arguments: '{"tz":"America/Toronto"}' },
      { id: callId(META.id, 2), type: 'function', name: 'noop', arguments: '{}' },
    ]);
    assert.deepEqual(p.finishReasons, ['tool_calls']);
    assert.deepEqual(p.usage, [USAGE]);
    assert.deepEqual([...new Set(p.models)], ['qwen3:8b']);
    assert.equal(p.done, true);
    assert.equal(p.frames.at(-2), `data: ${JSON.stringify({ id: META.id, object: 'chat.completion.chunk', created: META.created, model: 'qwen3:8b', choices: [], usage: USAGE })}`);
    let n = 0;
    for (const pieces of splits(enc(ndjson))) {
      const got = convert(ollama.stream(META), pieces);
      if (got !== whole) {
        assert.deepEqual(readChunks(got, META.id), p, `split #${n} (${pieces.map((x) => x.length).join('+')})`);
        assert.fail(`split #${n} (${pieces.map((x) => x.length).join('+')}) changed the bytes`);
      }
      n++;
    }
    assert.ok(n > ndjson.length, `${n} splits`);
  });

  it('passes each line on as soon as it is complete', () => {
    const conv = ollama.stream(META);
    const first = JSON.stringify(streamLines[0]) + '\n';
    assert.equal(dec(conv.transform(enc(first.slice(0, 20)))), '');
    const out = readChunks(dec(conv.transform(enc(first.slice(20)))), META.id);
    assert.deepEqual([out.roleChunks, out.text, out.finishReasons, out.done], [1, 'Let me check ', [], false]);
  });

  it('without include_usage: finish, then [DONE], no usage chunk; done_reason length is finish length', () => {
    const text = [
      { model: 'llama3.2', created_at: at, message: { role: 'assistant', content: 'The sky' }, done: false },
      { model: 'llama3.2', created_at: at, message: { role: 'assistant', content: '' }, done: true, done_reason: 'length', prompt_eval_count: 5, eval_count: 2 },
    ].map((l) => JSON.stringify(l) + '\n').join('');
    const p = readChunks(convert(ollama.stream({ ...META, includeUsage: false }), [enc(text)]), META.id);
    assert.deepEqual([p.text, p.finishReasons, p.usage, p.done, p.toolCalls], ['The sky', ['length'], [], true, []]);
    const withUsage = readChunks(convert(ollama.stream(META), [enc(text)]), META.id);
    assert.deepEqual(withUsage.usage, [{ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }]);
  });

  it('reads a last line without its newline at the end', () => {
    const p = readChunks(convert(ollama.stream(META), [enc(ndjson.slice(0, -1))]), META.id);
    assert.deepEqual([p.finishReasons, p.usage, p.done, p.toolCalls.length], [['tool_calls'], [USAGE], true, 3]);
    const cr = readChunks(convert(ollama.stream(META), [enc(ndjson.replaceAll('\n', '\r\n'))]), META.id);
    assert.deepEqual([cr.text, cr.finishReasons, cr.usage], [readChunks(convert(ollama.stream(META), [enc(ndjson)]), META.id).text, ['tool_calls'], [USAGE]]);
  });

  it('an error line becomes an OpenAI stream error, the last frame', () => {
    const text = JSON.stringify(streamLines[0]) + '\n{"error":"model runner has unexpectedly stopped"}\n' + JSON.stringify(streamLines[4]) + '\n';
    const p = readChunks(convert(ollama.stream(META), [enc(text)]), META.id);
    assert.equal(p.text, 'Let me check ');
    assert.deepEqual(p.errors, [{ message: 'model runner has unexpectedly stopped', type: 'upstream_error', code: null }]);
    assert.ok(p.frames.at(-1)?.includes('"error"'), 'the error is the last frame');
    assert.deepEqual([p.finishReasons, p.usage, p.done], [[], [], false]);
  });

  it('a stream cut before done ends with [DONE] and no finish or usage; garbage lines are skipped', () => {
    const p = readChunks(convert(ollama.stream(META), [enc(JSON.stringify(streamLines[0]) + '\nnot json\n[1,2]\n\n')]), META.id);
    assert.deepEqual([p.text, p.finishReasons, p.usage, p.done], ['Let me check ', [], [], true]);
    const empty = readChunks(convert(ollama.stream(META), []), META.id);
    assert.deepEqual([empty.frames, empty.done], [['data: [DONE]'], true]);
  });
});

describe('ollama translator against the fake Ollama', () => {
  const post = async (fakeUrl: string, req: ChatRequest): Promise<Response> => {
    const n = ollama.request(req, 'llama3.1');
    return fetch(`${fakeUrl}${n.path}${n.search}`, { method: 'POST', body: JSON.stringify(n.body) });
  };

  it('a tool call and then the answer to its result, plain and streamed', async () => {
    const fake = await startFakeProviders({ replyText: 'Sunny in Paris.', toolCall: { name: 'get_weather', arguments: { city: 'Paris' } }, usage: { inputTokens: 30, outputTokens: 6 } });
    try {
      const ask: ChatRequest = { model: 'local', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [WEATHER] };
      const plain = ollama.reply(await (await post(fake.url, ask)).json(), META);
      const call = plain.choices[0]?.message.tool_calls?.[0];
      assert.deepEqual([call?.function.name, call?.function.arguments, plain.choices[0]?.finish_reason], ['get_weather', '{"city":"Paris"}', 'tool_calls']);
      const streamed = readChunks(convert(ollama.stream(META), [new Uint8Array(await (await post(fake.url, { ...ask, stream: true })).arrayBuffer())]), META.id);
      assert.deepEqual([streamed.toolCalls, streamed.finishReasons, streamed.usage], [[{ id: callId(META.id, 0), type: 'function', name: 'get_weather', arguments: '{"city":"Paris"}' }], ['tool_calls'], [{ prompt_tokens: 30, completion_tokens: 6, total_tokens: 36 }]]);
      const answer: ChatRequest = { ...ask, stream: true, messages: [...ask.messages, plain.choices[0]!.message as ChatRequest['messages'][number], { role: 'tool', tool_call_id: call!.id, content: 'sunny' }] };
      const text = readChunks(convert(ollama.stream(META), [new Uint8Array(await (await post(fake.url, answer)).arrayBuffer())]), META.id);
      assert.deepEqual([text.text, text.finishReasons, text.toolCalls], ['Sunny in Paris.', ['stop'], []]);
    } finally {
      await fake.close();
    }
  });
});
