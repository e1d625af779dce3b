import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { APPROX_TOKENIZER, countTokens } from '../../src/core/tokenize';

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
