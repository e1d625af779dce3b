// Token counting: exact for OpenAI models (gpt-tokenizer), a documented estimate for the rest.

import type * as O200k from 'gpt-tokenizer/encoding/o200k_base';
import { PROVIDERS } from './providers';

export interface TokenCount {
  tokens: number;
  /** True when counted with the model's real tokenizer. */
  exact: boolean;
  /** Encoding name (`o200k_base`, `cl100k_base`) or `APPROX_TOKENIZER`. */
  tokenizer: string;
}

type Encoding = 'o200k_base' | 'cl100k_base';
type Encoder = Pick<typeof O200k, 'countTokens'>;

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

export function countTokens(text: string, model: string, provider?: string): TokenCount {
  const encoding = openaiEncoding(model, provider);
  if (encoding) {
    if (text === '') return { tokens: 0, exact: true, tokenizer: encoding };
    // Special-token strings such as "<|endoftext|>" in user text count as plain text, as the API does.
    const tokens = encoder(encoding).countTokens(text, { disallowedSpecial: new Set() });
    return { tokens, exact: true, tokenizer: encoding };
  }
  return { tokens: approximateTokens(text), exact: false, tokenizer: APPROX_TOKENIZER };
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
