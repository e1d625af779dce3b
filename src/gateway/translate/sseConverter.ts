// What the SSE stream converters share: bytes in (split anywhere, \n, \r\n or \r line ends), one
// call per whole event, OpenAI chunks out as soon as an event is complete. After an error event
// nothing more is sent (no [DONE]), as OpenAI's own streams do.
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { CUT, ChunkWriter, bytes } from './chunks';
import type { ChatUsage, ReplyMeta, StreamConverter } from './types';

export abstract class SseConverter implements StreamConverter {
  protected readonly writer: ChunkWriter;
  /** OpenAI SSE text owed to the client. */
  protected out = '';
  private failed = false;
  private ended = false;
  private endsWithCR = false;
  private readonly parser: EventSourceParser;
  private readonly decoder = new TextDecoder();

  constructor(meta: ReplyMeta) {
    this.writer = new ChunkWriter(meta);
    this.parser = createParser({
      onEvent: (ev) => {
        if (!this.failed) this.event(ev.data);
      },
    });
  }

  /** One whole upstream event's data. */
  protected abstract event(data: string): void;
  /** The usage for the client's usage chunk, from what the stream said. */
  protected abstract usage(): ChatUsage | undefined;

  /** The upstream reported an error: it is passed on and the stream ends there. */
  protected fail(message: string): void {
    this.failed = true;
    this.out += this.writer.error(message);
  }

  transform(chunk: Uint8Array): Uint8Array {
    const text = this.decoder.decode(chunk, { stream: true });
    if (text) this.endsWithCR = text.endsWith('\r');
    this.parser.feed(text);
    return this.take();
  }

  flush(complete = true): Uint8Array {
    if (this.ended) return this.take();
    this.ended = true;
    this.parser.feed(this.decoder.decode());
    // A \r at the very end is a whole line end (no \n can follow): the parser waits for one.
    if (this.endsWithCR) this.parser.feed('\n');
    // An event the stream cut before its blank line is dropped, as SSE says.
    this.parser.reset();
    if (!this.failed) this.out += complete ? this.writer.end(this.usage()) : this.writer.error(CUT);
    return this.take();
  }

  private take(): Uint8Array {
    const b = bytes(this.out);
    this.out = '';
    return b;
  }
}
