// The fakes' tool calls (OpenAI chat completions and Ollama /api/chat): a request that declares
// tools is answered with a call of the configured tool, plain and streamed, in each provider's shape.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startFakeProviders, type FakeProviders } from './providers';

const KEY = 'sk-good';
const TEXT = 'Sunny all day over the whole city.';
const CALL = { name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius', days: [1, 2] } };
const ARGS = JSON.stringify(CALL.arguments);
const TOOLS: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
];
const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];

let fake: FakeProviders;
before(async () => {
  fake = await startFakeProviders({ keys: { [KEY]: 'valid' }, replyText: TEXT, toolCall: CALL, streamChunks: 3, chunkDelayMs: 0, usage: { inputTokens: 50, outputTokens: 9 } });
});
after(() => fake.close());

const client = (): OpenAI => new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 });

describe('fake OpenAI tool calls, through the openai SDK', () => {
  it('a plain reply carries the call: id, name, arguments as JSON text, content null, finish tool_calls', async () => {
    const c = await client().chat.completions.create({ model: 'gpt-4o', messages, tools: TOOLS });
    const choice = c.choices[0];
    assert.equal(choice?.finish_reason, 'tool_calls');
    assert.equal(choice?.message.content, null);
    const calls = choice?.message.tool_calls ?? [];
    assert.equal(calls.length, 1);
    const call = calls[0];
    assert.ok(call?.type === 'function');
    assert.match(call.id, /^call_fake_\d+$/);
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), CALL.arguments);
  });

  it('a stream: id and name first, the arguments in 2+ pieces, finish tool_calls, then usage and [DONE]', async () => {
    const stream = await client().chat.completions.create({ model: 'gpt-4o', messages, tools: TOOLS, stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    // Assembled the way a client does it: by index, arguments appended.
    const calls: { id?: string; name?: string; arguments: string }[] = [];
    for (const ch of chunks) {
      for (const d of ch.choices[0]?.delta.tool_calls ?? []) {
        const c = (calls[d.index] ??= { arguments: '' });
        if (d.id) c.id = d.id;
        if (d.function?.name) c.name = d.function.name;
        c.arguments += d.function?.arguments ?? '';
      }
    }
    assert.equal(calls.length, 1);
    assert.match(calls[0]?.id ?? '', /^call_fake_\d+$/);
    assert.equal(calls[0]?.name, 'get_weather');
    assert.equal(calls[0]?.arguments, ARGS);
    const first = chunks[0]?.choices[0]?.delta.tool_calls?.[0];
    assert.deepEqual([first?.index, first?.type, first?.function?.arguments], [0, 'function', '']);
    const pieces = chunks.slice(1).filter((c) => c.choices[0]?.delta.tool_calls);
    assert.ok(pieces.length >= 2, `arguments in ${pieces.length} pieces`);
    assert.ok(pieces.every((c) => c.choices[0]?.delta.tool_calls?.[0]?.id === undefined && c.choices[0]?.delta.tool_calls?.[0]?.function?.name === undefined));
    assert.ok(chunks.every((c) => !c.choices[0]?.delta.content));
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'tool_calls');
    assert.deepEqual(chunks.at(-1)?.choices, []);
    assert.deepEqual([chunks.at(-1)?.usage?.prompt_tokens, chunks.at(-1)?.usage?.completion_tokens], [50, 9]);
  });

  it("the SDK's stream helper assembles the call from the raw stream", async () => {
    const runner = client().chat.completions.stream({ model: 'gpt-4o', messages, tools: TOOLS });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    assert.ok(call?.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.equal(call.function.arguments, ARGS);
    assert.equal(final.choices[0]?.finish_reason, 'tool_calls');
  });

  it('a stream without include_usage ends with the finish chunk and [DONE]', async () => {
    const res = await fetch(`${fake.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages, tools: TOOLS, stream: true }),
    });
    const frames = (await res.text()).split('\n\n').filter(Boolean);
    assert.equal(frames.at(-1), 'data: [DONE]');
    const last = JSON.parse(frames.at(-2)!.slice(6)) as { choices: { finish_reason: string }[]; usage?: unknown };
    assert.deepEqual([last.choices[0]?.finish_reason, last.usage], ['tool_calls', undefined]);
  });

  it('text as before with no tools, and after a tool result', async () => {
    const plain = await client().chat.completions.create({ model: 'gpt-4o', messages });
    assert.deepEqual([plain.choices[0]?.message.content, plain.choices[0]?.finish_reason, plain.choices[0]?.message.tool_calls], [TEXT, 'stop', undefined]);
    const noTools = await client().chat.completions.create({ model: 'gpt-4o', messages, tools: [] });
    assert.equal(noTools.choices[0]?.message.content, TEXT);
    const followUp: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      ...messages,
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: ARGS } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"clear"}' },
    ];
    const answer = await client().chat.completions.create({ model: 'gpt-4o', messages: followUp, tools: TOOLS });
    assert.deepEqual([answer.choices[0]?.message.content, answer.choices[0]?.finish_reason], [TEXT, 'stop']);
    let text = '';
    for await (const ch of await client().chat.completions.create({ model: 'gpt-4o', messages: followUp, tools: TOOLS, stream: true })) text += ch.choices[0]?.delta.content ?? '';
    assert.equal(text, TEXT);
  });

  it('no toolCall configured: tools are declared but the reply is text', async () => {
    const plain = await startFakeProviders({ keys: { [KEY]: 'valid' }, replyText: TEXT });
    try {
      const c = await new OpenAI({ apiKey: KEY, baseURL: `${plain.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o', messages, tools: TOOLS });
      assert.deepEqual([c.choices[0]?.message.content, c.choices[0]?.finish_reason], [TEXT, 'stop']);
    } finally {
      await plain.close();
    }
  });
});

describe('fake Ollama tool calls (/api/chat)', () => {
  type Line = { message?: { role: string; content: string; tool_calls?: { function: { name: string; arguments: unknown } }[] }; done: boolean; done_reason?: string; prompt_eval_count?: number; eval_count?: number };
  const chat = async (body: Record<string, unknown>): Promise<Line[]> => {
    const res = await fetch(`${fake.url}/api/chat`, { method: 'POST', body: JSON.stringify({ model: 'llama3.1', ...body }) });
    return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  };
  const ollamaMessages = [{ role: 'user', content: 'Weather in Paris?' }];

  it('stream: false answers the call with arguments as an object, content empty, done_reason stop', async () => {
    const [one] = await chat({ messages: ollamaMessages, tools: TOOLS, stream: false });
    assert.deepEqual(one?.message, { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: CALL.arguments } }] });
    assert.deepEqual([one?.done, one?.done_reason, one?.prompt_eval_count, one?.eval_count], [true, 'stop', 50, 9]);
  });

  it('streamed: the call in one NDJSON line, then the done line with the counts', async () => {
    const ls = await chat({ messages: ollamaMessages, tools: TOOLS });
    assert.equal(ls.length, 2);
    assert.deepEqual(ls[0]?.message?.tool_calls, [{ function: { name: 'get_weather', arguments: CALL.arguments } }]);
    assert.deepEqual([ls[0]?.message?.content, ls[0]?.done], ['', false]);
    assert.deepEqual([ls[1]?.done, ls[1]?.done_reason, ls[1]?.message?.content, ls[1]?.message?.tool_calls, ls[1]?.prompt_eval_count, ls[1]?.eval_count], [true, 'stop', '', undefined, 50, 9]);
  });

  it('text as before with no tools and after a tool result', async () => {
    const text = (ls: Line[]): string => ls.map((l) => l.message?.content ?? '').join('');
    assert.equal(text(await chat({ messages: ollamaMessages })), TEXT);
    const afterTool = [...ollamaMessages, { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: CALL.arguments } }] }, { role: 'tool', content: 'clear', tool_name: 'get_weather' }];
    const ls = await chat({ messages: afterTool, tools: TOOLS });
    assert.equal(text(ls), TEXT);
    assert.ok(ls.every((l) => l.message?.tool_calls === undefined));
    const [one] = await chat({ messages: afterTool, tools: TOOLS, stream: false });
    assert.equal(one?.message?.content, TEXT);
  });
});
