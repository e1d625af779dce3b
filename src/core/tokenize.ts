// Token counting: exact for OpenAI models (gpt-tokenizer), a documented estimate for the rest.

import type * as O200k from 'gpt-tokenizer/encoding/o200k_base';
import { PROVIDERS } from './providers';

export interface TokenCount {
  tokens: number;
  /** True when counted with the model's real tokenizer, whole (no run cut into pieces). */
  exact: boolean;
  /** Places where text was cut without a safe place near (a run without whitespace longer than MAX_RUN, or a very long stretch with no space or line break to cut before); then `exact` is false. */
  runCuts?: number;
  /** Encoding name (`o200k_base`, `cl100k_base`) or `APPROX_TOKENIZER`. */
  tokenizer: string;
}

type Encoding = 'o200k_base' | 'cl100k_base';
type Encoder = Pick<typeof O200k, 'countTokens' | 'clearMergeCache'>;

/**
 * Used for models whose tokenizer we do not ship (Claude, Gemini, Llama, Mistral, …):
 * ASCII text at ~4 characters per token, and one token per other code point (CJK, emoji and
 * accented letters usually cost at least one token each). Errs high, which is the safe side for budgets.
 */
export const APPROX_TOKENIZER = 'approx:4-chars-per-token';
const ASCII_CHARS_PER_TOKEN = 4;

/** Checked in order: the first family that matches the model name decides the encoding. */
const OPENAI_FAMILIES: ReadonlyArray<readonly [RegExp, Encoding]> = [
  [/^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o1|o3|o4)(?=$|[-.:])/, 'o200k_base'],
  [/^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada-002)(?=$|[-.:])/, 'cl100k_base'],
];
/** Model makers other than OpenAI (a `gpt-…` name on OpenRouter or Groq is OpenAI's own model). */
const NON_OPENAI_PROVIDERS = new Set(PROVIDERS.filter((p) => p.modelFamilies && p.id !== 'openai').flatMap((p) => [p.id, ...p.aliases]));

const encoders = new Map<Encoding, Encoder>();

/** Lazy: each encoding's rank table is megabytes and only needed when an OpenAI model is counted. */
function encoder(encoding: Encoding): Encoder {
  let enc = encoders.get(encoding);
  if (!enc) {
    enc =
      encoding === 'o200k_base'
        ? (require('gpt-tokenizer/encoding/o200k_base') as Encoder)
        : (require('gpt-tokenizer/encoding/cl100k_base') as Encoder);
    encoders.set(encoding, enc);
  }
  return enc;
}

/** The OpenAI encoding for a model, or undefined when the model is not a known OpenAI family. */
export function openaiEncoding(model: string, provider?: string): Encoding | undefined {
  if (provider && NON_OPENAI_PROVIDERS.has(provider.trim().toLowerCase())) return undefined;
  // "openai/gpt-4o" (OpenRouter) and "ft:gpt-4o-mini:org::id" (fine-tunes) use the base model's encoding.
  const name = model.trim().toLowerCase().replace(/^openai\//, '').replace(/^ft:/, '');
  return OPENAI_FAMILIES.find(([re]) => re.test(name))?.[1];
}

/**
 * The longest text counted, in characters and in UTF-8 bytes (about the MCP HTTP host's 4 MiB body
 * limit, which also counts the JSON around the text); longer text is refused: count a part, or give
 * token numbers.
 */
export const MAX_TEXT_CHARS = 2_000_000;
export const MAX_TEXT_BYTES = 4_000_000;
/**
 * BPE takes time quadratic in the UTF-8 length of a piece (a run without whitespace is one piece:
 * 40,000 letters took 2.4 s, a megabyte minutes). Runs longer than this many bytes are counted in
 * pieces of at most this length; a multiple of 3 so digit runs, which the encodings split in
 * threes, still split the same.
 */
export const MAX_RUN = 333;
/** Text is counted in segments of about this many characters, cut where the count cannot change. */
const SEGMENT_CHARS = 16_384;
/** Fewer characters than the merge cache has entries (one piece is at least a character). */
const CACHE_CLEAR_CHARS = 60_000;

/** Thrown for text over MAX_TEXT_CHARS: an input error, not a failure. */
export class TextTooLongError extends Error {}

export function countTokens(text: string, model: string, provider?: string): TokenCount {
  let last: TokenCount | undefined;
  for (const step of counting(text, model, provider)) last = step;
  return last!;
}

/**
 * countTokens without holding the event loop: it yields (setImmediate) after every `sliceMs` of
 * work, so a 2,000,000-character text never blocks other requests for more than about that long.
 */
export async function countTokensAsync(text: string, model: string, provider?: string, sliceMs = 20): Promise<TokenCount> {
  let last: TokenCount | undefined;
  let sliceStart = Date.now();
  for (const step of counting(text, model, provider)) {
    last = step;
    if (Date.now() - sliceStart >= sliceMs) {
      await new Promise((r) => setImmediate(r));
      sliceStart = Date.now();
    }
  }
  return last!;
}

/** The running count after each segment; the last one is the answer. */
function* counting(text: string, model: string, provider?: string): Generator<TokenCount> {
  const bytes = text.length > MAX_TEXT_BYTES / 3 ? utf8Bytes(text) : 0;
  if (text.length > MAX_TEXT_CHARS || bytes > MAX_TEXT_BYTES) {
    const size = text.length > MAX_TEXT_CHARS ? `${text.length.toLocaleString('en-US')} characters` : `${bytes.toLocaleString('en-US')} bytes of UTF-8`;
    throw new TextTooLongError(
      `The text is ${size}; at most ${MAX_TEXT_CHARS.toLocaleString('en-US')} characters and ${MAX_TEXT_BYTES.toLocaleString('en-US')} bytes are counted. Count a part of it, or give the token numbers instead.`,
    );
  }
  const encoding = openaiEncoding(model, provider);
  if (!encoding) {
    yield { tokens: approximateTokens(text), exact: false, tokenizer: APPROX_TOKENIZER };
    return;
  }
  const enc = encoder(encoding);
  // Special-token strings such as "<|endoftext|>" in user text count as plain text, as the API does.
  const options = { disallowedSpecial: new Set<string>() };
  let tokens = 0;
  let runCuts = 0;
  let cached = 0;
  for (const seg of segments(text)) {
    // gpt-tokenizer's merge cache evicts in time that grows with what it evicted before: on text of
    // unique pieces (base64, hex) 2 MB took 11 s. Emptied before it can fill (100,000 pieces), it never evicts.
    if ((cached += seg.text.length) > CACHE_CLEAR_CHARS) {
      enc.clearMergeCache();
      cached = seg.text.length;
    }
    tokens += enc.countTokens(seg.text, options);
    if (!seg.exact) runCuts++;
    yield { tokens, exact: runCuts === 0, tokenizer: encoding, ...(runCuts ? { runCuts } : {}) };
  }
  if (text === '') yield { tokens: 0, exact: true, tokenizer: encoding };
}

const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0x3000 || c === 0xfeff;
function utf8Bytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) n += utf8Length(text.charCodeAt(i));
  return n;
}

/** UTF-8 bytes of a UTF-16 unit (a surrogate pair's two units: 2 + 2). */
const utf8Length = (c: number): number => (c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3);
const isAlnumAscii = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * Cuts text into segments whose token counts add up to the count of the whole. A cut goes before a
 * space, or before a newline after an ASCII letter or digit, with non-space text on both sides: the
 * encodings' pre-tokenizers start a new piece there anyway (o200k_base and cl100k_base alike). A run
 * of more than MAX_RUN UTF-8 bytes without whitespace is cut every MAX_RUN bytes (`exact: false`,
 * never inside a surrogate pair): merges across such a cut are lost, which moves the count by about
 * a token per cut, upwards in every case measured.
 */
function* segments(text: string): Generator<{ text: string; exact: boolean }> {
  let start = 0;
  let runBytes = utf8Length(text.charCodeAt(0));
  let exact = true;
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) runBytes = 0;
    else if ((runBytes += utf8Length(c)) > MAX_RUN && !(c >= 0xdc00 && c <= 0xdfff)) {
      yield { text: text.slice(start, i), exact };
      start = i;
      runBytes = utf8Length(c);
      exact = false; // the next segment starts inside a run
      continue;
    }
    if (i - start < SEGMENT_CHARS) continue;
    const prev = text.charCodeAt(i - 1);
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 32;
    const afterNext = i + 2 < text.length ? text.charCodeAt(i + 2) : 32;
    // Before the last space of any whitespace run (the space starts the next piece), or before a line
    // break (LF or CRLF) that follows an ASCII letter or digit and precedes text.
    const safe =
      (c === 32 && !isSpace(next)) ||
      (c === 10 && isAlnumAscii(prev) && !isSpace(next)) ||
      (c === 13 && next === 10 && isAlnumAscii(prev) && !isSpace(afterNext));
    // Text with no such place for long (say, lines ending in punctuation) is cut anyway, and counted as a cut.
    const forced = !safe && i - start >= 4 * SEGMENT_CHARS && !(c >= 0xdc00 && c <= 0xdfff);
    if (safe || forced) {
      yield { text: text.slice(start, i), exact };
      start = i;
      exact = safe;
    }
  }
  if (start < text.length) yield { text: text.slice(start), exact };
}

/** See APPROX_TOKENIZER. */
export function approximateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x80) ascii++;
    else other++;
  }
  return Math.ceil(ascii / ASCII_CHARS_PER_TOKEN) + other;
}
