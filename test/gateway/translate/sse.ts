// The translator tests' view of a stream converter's output: feeds a converter, and reads the OpenAI
// chat.completion.chunk SSE stream it writes as a client assembles it, checking the framing on the way.
import * as assert from 'node:assert/strict';
import type { StreamConverter } from '../../../src/gateway/translate/types';
import { dec } from '../wire/helpers';

/** One tool_calls entry of a delta, as sent. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: string;
  name?: string;
  arguments: string;
}

/** A tool call put together from its deltas. */
export interface AssembledCall {
  id?: string;
  type?: string;
  name?: string;
  arguments: string;
}

/** OpenAI's stream error: `data: {"error": {...}}`. */
export interface StreamError {
  message: string;
  type?: string;
  code?: string | number | null;
}

export interface Chunks {
  /** Each frame without its blank line, [DONE] included. */
  frames: string[];
  /** Deltas carrying a role (always "assistant"). */
  roleChunks: number;
  text: string;
  /** By index, as a client assembles them. */
  toolCalls: AssembledCall[];
  /** Every tool_calls entry in the order sent. */
  toolDeltas: ToolCallDelta[];
  finishReasons: string[];
  /** The usage of each chunk that has one. */
  usage: unknown[];
  /** The model of each chunk (error frames have none). */
  models: string[];
  errors: StreamError[];
  done: boolean;
}

interface Chunk {
  error?: StreamError;
  id?: string;
  object?: string;
  model: string;
  usage?: unknown;
  choices: {
    delta: { role?: string; content?: string | null; tool_calls?: { index: number; id?: string; type?: string; function: { name?: string; arguments: string } }[] };
    finish_reason: string | null;
  }[];
}

/**
 * Reads the SSE text as a client would. Asserts it is whole `data: ` frames each ended by a blank
 * line, nothing after [DONE], and every chunk a chat.completion.chunk with a choices array and, when
 * `id` is given, that id.
 */
export function readChunks(sse: string, id?: string): Chunks {
  const frames = sse.split('\n\n');
  assert.equal(frames.pop(), '', 'whole frames only: the output ends with a blank line');
  const r: Chunks = { frames: [], roleChunks: 0, text: '', toolCalls: [], toolDeltas: [], finishReasons: [], usage: [], models: [], errors: [], done: false };
  for (const frame of frames) {
    assert.ok(frame.startsWith('data: '), `not a data: frame: ${JSON.stringify(frame)}`);
    assert.equal(r.done, false, 'nothing after [DONE]');
    r.frames.push(frame);
    const data = frame.slice(6);
    if (data === '[DONE]') {
      r.done = true;
      continue;
    }
    const c = JSON.parse(data) as Chunk;
    if (c.error) {
      r.errors.push(c.error);
      continue;
    }
    assert.equal(c.object, 'chat.completion.chunk', frame);
    if (id !== undefined) assert.equal(c.id, id, frame);
    assert.ok(Array.isArray(c.choices), `no choices array: ${frame}`);
    r.models.push(c.model);
    if (c.usage) r.usage.push(c.usage);
    for (const ch of c.choices) {
      if (ch.delta.role) {
        assert.equal(ch.delta.role, 'assistant', frame);
        r.roleChunks++;
      }
      r.text += ch.delta.content ?? '';
      for (const t of ch.delta.tool_calls ?? []) {
        r.toolDeltas.push({ index: t.index, ...(t.id && { id: t.id }), ...(t.type && { type: t.type }), ...(t.function.name && { name: t.function.name }), arguments: t.function.arguments });
        const call = (r.toolCalls[t.index] ??= { arguments: '' });
        if (t.id) call.id = t.id;
        if (t.type) call.type = t.type;
        if (t.function.name) call.name = t.function.name;
        call.arguments += t.function.arguments;
      }
      if (ch.finish_reason) r.finishReasons.push(ch.finish_reason);
    }
  }
  return r;
}

/** Feeds the pieces through the converter, then flushes it: its whole output as text. */
export function convert(conv: StreamConverter, pieces: readonly Uint8Array[]): string {
  return pieces.map((p) => dec(conv.transform(p))).join('') + dec(conv.flush());
}
