import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { APPROX_TOKENIZER, MAX_RUN, MAX_TEXT_BYTES, MAX_TEXT_CHARS, TextTooLongError, countTokens, countTokensAsync } from '../../src/core/tokenize';

const isTokenizerLoaded = (): boolean => Object.keys(require.cache).some((k) => k.includes('gpt-tokenizer'));

describe('countTokens', () => {
  it('does not load gpt-tokenizer for non-OpenAI models', () => {
    countTokens('hello there', 'claude-3-5-sonnet', 'anthropic');
    assert.equal(isTokenizerLoaded(), false);
    countTokens('hello there', 'gpt-4o');
    assert.equal(isTokenizerLoaded(), true);
  });

  // Reference counts from OpenAI's "How to count tokens with tiktoken" cookbook.
  it('counts exactly with cl100k_base for gpt-4, gpt-4-turbo and gpt-3.5', () => {
    for (const model of ['gpt-4', 'gpt-4-turbo', 'gpt-4-0613', 'gpt-3.5-turbo']) {
      assert.deepEqual(countTokens('tiktoken is great!', model), { tokens: 6, exact: true, tokenizer: 'cl100k_base' }, model);
      assert.equal(countTokens('お誕生日おめでとう', model).tokens, 9, model);
    }
  });

  it('counts exactly with o200k_base for gpt-4o, gpt-4.1, gpt-5 and o-series', () => {
    for (const model of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-nano', 'gpt-5', 'gpt-5.2', 'o1', 'o3-mini', 'o4-mini', 'openai/gpt-4o']) {
      assert.deepEqual(countTokens('お誕生日おめでとう', model), { tokens: 8, exact: true, tokenizer: 'o200k_base' }, model);
    }
    assert.equal(countTokens('tiktoken is great!', 'gpt-4o', 'openai').tokens, 6);
  });

  it('counts special-token text as plain text instead of throwing', () => {
    const r = countTokens('a <|endoftext|> b', 'gpt-4o');
    assert.equal(r.exact, true);
    assert.ok(r.tokens > 3, `expected the marker split into several tokens, got ${r.tokens}`);
  });

  it('approximates other models at ~4 ASCII characters per token', () => {
    assert.deepEqual(countTokens('abcdefgh', 'claude-3-5-sonnet'), { tokens: 2, exact: false, tokenizer: APPROX_TOKENIZER });
    assert.equal(countTokens('hello world!!', 'gemini-2.0-flash', 'google').tokens, 4); // 13 chars → ceil(13/4)
    assert.equal(countTokens('お誕生日', 'llama3.2', 'local').tokens, 4); // one per non-ASCII code point
    assert.equal(countTokens('x'.repeat(4000), 'mistral-large-latest').tokens, 1000);
    // A non-OpenAI provider is never counted with an OpenAI tokenizer.
    assert.equal(countTokens('abcd', 'gpt-4o', 'anthropic').exact, false);
  });

  it('returns zero for empty text on both paths', () => {
    assert.deepEqual(countTokens('', 'gpt-4o'), { tokens: 0, exact: true, tokenizer: 'o200k_base' });
    assert.equal(countTokens('', 'claude-3-5-sonnet').tokens, 0);
  });
});

/** gpt-tokenizer on the whole text at once: the reference the segmented count must match. */
function wholeCount(text: string, encoding: 'o200k_base' | 'cl100k_base'): number {
  const enc = require(`gpt-tokenizer/encoding/${encoding}`) as { countTokens(t: string, o: object): number };
  return enc.countTokens(text, { disallowedSpecial: new Set() });
}

function sourceCorpus(): string {
  const parts: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mjs|md|css)$/.test(name)) parts.push(readFileSync(p, 'utf8'));
    }
  };
  for (const d of ['src', 'test', 'scripts', 'media']) walk(d);
  parts.push(readFileSync('README.md', 'utf8'));
  return parts.join('\n');
}

describe('countTokens on long text', () => {
  it('counts in segments that add up exactly to the whole, for o200k_base and cl100k_base', () => {
    const corpus = sourceCorpus();
    assert.ok(corpus.length > 200_000, `a corpus of ${corpus.length} characters spans many segments`);
    for (const [model, encoding] of [['gpt-4o', 'o200k_base'], ['gpt-4', 'cl100k_base']] as const) {
      const r = countTokens(corpus, model);
      assert.deepEqual(r, { tokens: wholeCount(corpus, encoding), exact: true, tokenizer: encoding }, model);
    }
  });

  it('stays exact on random mixes of words, spaces, newlines, punctuation, digits and non-Latin text', () => {
    const parts = ['the', ' ', '\n', '.', ',', '\n\n', '  ', '   ', '123', '4567', 'foo_bar', 'é', '日本語', '😀', '\t', '\t ', '-', '!?', 'http://x.y/z', '\r\n', 'a\r\nb', '\n ', 'ABC', "'s", '//', ' \n', '.\n', '.\r\n'];
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let k = 0; k < 12; k++) {
      let text = '';
      while (text.length < 50_000) {
        const p = parts[Math.floor(rnd() * parts.length)];
        // keep runs without whitespace short, so this is about the cuts at spaces and newlines
        text += /\S$/.test(text) && /^\S/.test(p) && rnd() < 0.5 ? ` ${p}` : p;
      }
      for (const [model, encoding] of [['gpt-4o', 'o200k_base'], ['gpt-4', 'cl100k_base']] as const) {
        const r = countTokens(text, model);
        if (r.exact) assert.equal(r.tokens, wholeCount(text, encoding), `mix ${k}, ${model}`);
        else assert.ok(Math.abs(r.tokens - wholeCount(text, encoding)) <= (r.runCuts ?? 0) * 2, `mix ${k}, ${model}: off by more than the cuts allow`);
      }
    }
  });

  it('cuts CSV with CRLF line ends and double-spaced text exactly, into segments', async () => {
    const csv = Array.from({ length: 20_000 }, (_, i) => `${i},item${i},${(i * 1.5).toFixed(1)}`).join('\r\n');
    const spaced = Array.from({ length: 30_000 }, (_, i) => ['alpha', 'beta', 'gamma'][i % 3]).join('  ');
    for (const text of [csv, spaced]) {
      let yields = 0;
      let running = true;
      const tick = (): void => {
        yields++;
        if (running) setImmediate(tick);
      };
      setImmediate(tick);
      const r = await countTokensAsync(text, 'gpt-4o', undefined, 0);
      running = false;
      assert.deepEqual(r, { tokens: wholeCount(text, 'o200k_base'), exact: true, tokenizer: 'o200k_base' });
      assert.ok(yields >= 5, `counted in one piece (${yields} yields)`);
    }
  });

  it('cuts runs without whitespace longer than MAX_RUN bytes, says so, and stays within about a token per cut', () => {
    const samples: Record<string, string> = {
      letters: 'x'.repeat(12_000),
      hex: Array.from({ length: 12_000 }, (_, i) => '0123456789abcdef'[(i * 7919) % 16]).join(''),
      cjk: '机器学习是人工智能的一个分支它使计算机能够在没有明确编程的情况下学习'.repeat(120),
    };
    for (const [name, text] of Object.entries(samples)) {
      const r = countTokens(text, 'gpt-4o');
      const bytes = Buffer.byteLength(text);
      assert.equal(r.exact, false, name);
      assert.equal(r.runCuts, Math.ceil(bytes / MAX_RUN) - 1, `${name}: one cut per ${MAX_RUN} bytes`);
      const whole = wholeCount(text, 'o200k_base');
      assert.ok(r.tokens >= whole && r.tokens - whole <= 1.5 * r.runCuts!, `${name}: ${r.tokens} vs ${whole} with ${r.runCuts} cuts`);
    }
    // Digit runs split in threes, and MAX_RUN is a multiple of 3: still exact in count.
    const digits = '1234567890'.repeat(2000);
    assert.equal(countTokens(digits, 'gpt-4o').tokens, wholeCount(digits, 'o200k_base'));
  });

  it('refuses text over the stated size with a clear error, by characters and by UTF-8 bytes', () => {
    assert.throws(() => countTokens('a'.repeat(MAX_TEXT_CHARS + 1), 'gpt-4o'), (e: unknown) => e instanceof TextTooLongError && /^The text is 2,000,001 characters; at most 2,000,000 characters and 4,000,000 bytes are counted\. Count a part of it, or give the token numbers instead\.$/.test((e as Error).message));
    const fits = Math.floor(MAX_TEXT_BYTES / 3);
    const cjk = '语'.repeat(fits + 1); // 3 bytes each: under the character limit, over the byte limit
    assert.throws(() => countTokens(cjk, 'gpt-4o'), /The text is 4,000,002 bytes of UTF-8; at most/);
    assert.throws(() => countTokens(cjk, 'claude-3-5-sonnet'), TextTooLongError, 'the same limit for the estimate');
    assert.equal(countTokens('语'.repeat(fits), 'claude-3-5-sonnet').tokens, fits);
  });

  it('countTokensAsync gives the same count and lets other work run between segments', async () => {
    const text = sourceCorpus().slice(0, 200_000);
    let ticks = 0;
    let running = true;
    const tick = (): void => {
      ticks++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const r = await countTokensAsync(text, 'gpt-4o', undefined, 0); // yield after every segment
    running = false;
    assert.deepEqual(r, countTokens(text, 'gpt-4o'));
    assert.ok(ticks >= 5, `other work ran ${ticks} times while 200,000 characters were counted`);
  });
});
