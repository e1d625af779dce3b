// Test helpers for the wire formats: feed a tap whole, split at every byte, or in random pieces,
// and check the bytes passed on and the usage read do not depend on where the chunks broke.
import * as assert from 'node:assert/strict';
import type { ResponseTap } from '../../../src/gateway/wire/types';
import { rng } from '../../support/rng';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export type TapRun = { out: Uint8Array; result: ReturnType<ResponseTap['end']> };

function join(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Feeds the chunks through a fresh tap, as the server would: transform each, flush, end. */
export function run(tap: ResponseTap, chunks: readonly Uint8Array[]): TapRun {
  const out = chunks.map((c) => tap.transform(c));
  if (tap.flush) out.push(tap.flush());
  return { out: join(out), result: tap.end() };
}


/** Every way to cut the bytes in two, byte by byte, plus `random` cuts into many small pieces. */
export function* splits(bytes: Uint8Array, random = 50): Generator<Uint8Array[]> {
  for (let i = 1; i < bytes.length; i++) yield [bytes.slice(0, i), bytes.slice(i)];
  const next = rng(bytes.length);
  for (let r = 0; r < random; r++) {
    const pieces: Uint8Array[] = [];
    let at = 0;
    const max = r % 2 ? 3 : 17;
    while (at < bytes.length) {
      const n = 1 + Math.floor(next() * max);
      pieces.push(bytes.slice(at, at + n));
      at += n;
    }
    yield pieces;
  }
  yield Array.from(bytes, (b) => Uint8Array.of(b));
}

/**
 * Runs the payload whole, then split every way: the bytes passed on and the result must match the
 * whole run each time. Returns the whole run.
 */
export function splitInvariant(makeTap: () => ResponseTap, payload: Uint8Array): TapRun {
  const whole = run(makeTap(), [payload]);
  let n = 0;
  for (const pieces of splits(payload)) {
    const got = run(makeTap(), pieces);
    if (dec(got.out) !== dec(whole.out) || Buffer.compare(Buffer.from(got.out), Buffer.from(whole.out)) !== 0) {
      assert.fail(`split #${n} (${pieces.map((p) => p.length).join('+')}) changed the bytes passed on`);
    }
    assert.deepEqual(got.result, whole.result, `split #${n} (${pieces.map((p) => p.length).join('+')}) changed the result`);
    n++;
  }
  return whole;
}

/** SSE text from events: each `lines` joined by `eol`, events separated by a blank line. */
export function sse(events: readonly string[][], eol = '\n'): string {
  return events.map((lines) => lines.join(eol) + eol + eol).join('');
}

/** `data: <json>` lines for SSE events without an event name. */
export function dataEvents(objs: readonly unknown[], eol = '\n'): string {
  return sse(
    objs.map((o) => [`data: ${typeof o === 'string' ? o : JSON.stringify(o)}`]),
    eol,
  );
}

/** Random bytes, repeatable. */
export function garbage(seed: number, n: number): Uint8Array {
  const next = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
}

export const NOW = new Date('2026-12-01T12:00:00Z');
export const url = (path: string): URL => new URL(`http://127.0.0.1:4000${path}`);
