// Response taps shared by the wire formats: a JSON body read at its end, an SSE stream read event
// by event (eventsource-parser), an NDJSON stream read line by line. Every tap passes bytes on as
// they come; only the OpenAI usage-chunk filter holds anything back, and never more than the line
// it has not seen the end of.
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { isObj, parseJson } from './common';
import type { ResponseTap, WireUsage } from './types';

export interface TapResult {
  usage?: WireUsage;
  model?: string;
  complete: boolean;
}

/** A TapResult with only what is known (no empty model, no absent usage). */
export function tapResult(usage: WireUsage | undefined, model: string | undefined, complete: boolean): TapResult {
  return { ...(usage && { usage }), ...(model && { model }), complete };
}

/** Reads one stream's events; the tap asks it for the result at the end. */
export interface StreamReader<E> {
  read(item: E): void;
  result(): TapResult;
}

const LF = 0x0a;
const CR = 0x0d;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Whole bodies up to this size are parsed; past it only the tail is searched for usage. */
export const JSON_BODY_LIMIT = 8 * 1024 * 1024;
const TAIL_BYTES = 64 * 1024;

/**
 * The value after the last `"key":` in a JSON text fragment (an object, array, number or string),
 * for bodies too large to keep whole; undefined when there is none or it is cut.
 */
export function valueAfterKey(text: string, key: string): unknown {
  const re = new RegExp(`"${key}"\\s*:\\s*`, 'g');
  let start = -1;
  for (let m = re.exec(text); m; m = re.exec(text)) start = m.index + m[0].length;
  if (start < 0) return undefined;
  const open = text[start];
  if (open !== '{' && open !== '[') {
    const m = /^(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|"(?:[^"\\]|\\.)*"|true|false|null)/.exec(text.slice(start));
    return m ? parseJson(m[1]) : undefined;
  }
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return parseJson(text.slice(start, i + 1));
    }
  }
  return undefined;
}

/** A non-streamed body: passed on at once, kept (up to a limit) and read at the end. */
export class JsonTap implements ResponseTap {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private tail: Uint8Array = new Uint8Array(0);

  /** `tailKeys`: top-level keys to look for in the tail of a body too large to keep. */
  constructor(
    private readonly readBody: (json: unknown) => TapResult,
    private readonly tailKeys: readonly string[] = [],
    private readonly limit = JSON_BODY_LIMIT,
  ) {}

  transform(chunk: Uint8Array): Uint8Array {
    if (this.size <= this.limit) {
      this.chunks.push(chunk.slice());
      this.size += chunk.length;
      if (this.size > this.limit) {
        this.tail = concat(this.chunks).slice(-TAIL_BYTES);
        this.chunks = [];
      }
    } else {
      this.tail = concat([this.tail, chunk]).slice(-TAIL_BYTES);
    }
    return chunk;
  }

  end(): TapResult {
    if (this.size <= this.limit) {
      const json = parseJson(concat(this.chunks));
      if (json === undefined) return { complete: false };
      try {
        return this.readBody(json);
      } catch {
        return { complete: true };
      }
    }
    // Too large to keep: rebuild what the tail still shows of the keys that carry usage.
    const text = new TextDecoder().decode(this.tail);
    const partial: Record<string, unknown> = {};
    for (const k of this.tailKeys) {
      const v = valueAfterKey(text, k);
      if (v !== undefined) partial[k] = v;
    }
    try {
      return { ...this.readBody(partial), complete: true };
    } catch {
      return { complete: true };
    }
  }
}

/** An SSE event as the readers see it. */
export interface SseEvent {
  event?: string;
  data: string;
}

/**
 * Drops whole SSE events whose first line is a `data:` line that `drop` picks, passing every other
 * line on as soon as its end is seen. Line ends may be \n, \r\n or \r, split across chunks anywhere.
 */
export class SseEventFilter {
  private pending: Uint8Array[] = [];
  private afterCR = false;
  private crLineDropped = false;
  private atEventStart = true;
  private dropping = false;
  private readonly decoder = new TextDecoder();

  constructor(private readonly drop: (data: string) => boolean) {}

  push(chunk: Uint8Array): Uint8Array {
    const out: Uint8Array[] = [];
    let start = 0;
    if (this.afterCR && chunk.length > 0 && chunk[0] === LF) {
      // The \n of a \r\n whose \r ended the last chunk belongs to that line.
      if (!this.crLineDropped) out.push(chunk.subarray(0, 1));
      start = 1;
    }
    if (chunk.length > 0) this.afterCR = false;
    for (let i = start; i < chunk.length; i++) {
      const b = chunk[i];
      if (b !== LF && b !== CR) continue;
      let end = i + 1;
      if (b === CR) {
        if (i + 1 < chunk.length) {
          if (chunk[i + 1] === LF) end = i + 2;
        } else {
          this.afterCR = true;
        }
      }
      const line = concat([...this.pending, chunk.subarray(start, i)]);
      const dropped = this.decide(line);
      if (!dropped) out.push(...this.pending, chunk.subarray(start, end));
      if (this.afterCR) this.crLineDropped = dropped;
      this.pending = [];
      start = end;
      i = end - 1;
    }
    if (start < chunk.length) this.pending.push(chunk.slice(start));
    return concat(out.length ? out : [new Uint8Array(0)]);
  }

  /** The unterminated last line, if any (the stream has ended). */
  flush(): Uint8Array {
    const rest = concat(this.pending.length ? this.pending : [new Uint8Array(0)]);
    this.pending = [];
    return this.dropping ? new Uint8Array(0) : rest;
  }

  private decide(line: Uint8Array): boolean {
    const empty = line.length === 0;
    if (this.dropping) {
      if (empty) {
        this.dropping = false;
        this.atEventStart = true;
      }
      return true;
    }
    if (empty) {
      this.atEventStart = true;
      return false;
    }
    if (line[0] === 0x3a) return false; // a ":" comment line: ignored by clients, keeps the event start
    const first = this.atEventStart;
    this.atEventStart = false;
    if (!first) return false;
    const text = this.decoder.decode(line);
    if (!text.startsWith('data:')) return false;
    const data = text.slice(text.startsWith('data: ') ? 6 : 5);
    if (!this.drop(data)) return false;
    this.dropping = true;
    return true;
  }
}

/** An SSE response: bytes pass on (through `filter` when given), events go to the reader. */
export class SseTap implements ResponseTap {
  private readonly decoder = new TextDecoder();
  private readonly parser: EventSourceParser;
  private ended = false;
  private endsWithCR = false;

  constructor(
    private readonly reader: StreamReader<SseEvent>,
    private readonly filter?: SseEventFilter,
  ) {
    this.parser = createParser({
      onEvent: (ev) => {
        try {
          reader.read({ ...(ev.event === undefined ? {} : { event: ev.event }), data: ev.data });
        } catch {
          // A reader never breaks the stream.
        }
      },
    });
  }

  transform(chunk: Uint8Array): Uint8Array {
    const text = this.decoder.decode(chunk, { stream: true });
    if (text) this.endsWithCR = text.endsWith('\r');
    this.parser.feed(text);
    return this.filter ? this.filter.push(chunk) : chunk;
  }

  flush(): Uint8Array {
    return this.filter ? this.filter.flush() : new Uint8Array(0);
  }

  end(): TapResult {
    if (!this.ended) {
      this.ended = true;
      this.parser.feed(this.decoder.decode());
      // A \r at the very end is a whole line end (no \n can follow): the parser waits for one.
      if (this.endsWithCR) this.parser.feed('\n');
      this.parser.reset({ consume: true });
    }
    return this.reader.result();
  }
}

/** A newline-delimited JSON response (Ollama): bytes pass on, each whole line goes to the reader. */
export class NdjsonTap implements ResponseTap {
  private pending: Uint8Array[] = [];
  private readonly decoder = new TextDecoder();
  private ended = false;

  constructor(private readonly reader: StreamReader<unknown>) {}

  transform(chunk: Uint8Array): Uint8Array {
    let start = 0;
    for (let i = chunk.indexOf(LF); i >= 0; i = chunk.indexOf(LF, start)) {
      this.line(concat([...this.pending, chunk.subarray(start, i)]));
      this.pending = [];
      start = i + 1;
    }
    if (start < chunk.length) this.pending.push(chunk.slice(start));
    return chunk;
  }

  end(): TapResult {
    if (!this.ended) {
      this.ended = true;
      if (this.pending.length) this.line(concat(this.pending));
      this.pending = [];
    }
    return this.reader.result();
  }

  private line(bytes: Uint8Array): void {
    const text = this.decoder.decode(bytes).trim();
    if (!text) return;
    const json = parseJson(text);
    if (!isObj(json)) return;
    try {
      this.reader.read(json);
    } catch {
      // A reader never breaks the stream.
    }
  }
}

/** A body the gateway does not read (no usage in it), passed on untouched. */
export class PassTap implements ResponseTap {
  transform(chunk: Uint8Array): Uint8Array {
    return chunk;
  }
  end(): TapResult {
    return { complete: true };
  }
}
