import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { maskKey, maskKeyShapes, maskSecrets, redactRandomTokens } from '../../src/core/redact';
import { makeTestCore } from '../support/core';
import { assertNoLeak } from '../support/leaks';

/** How many characters of `key` the mask reveals (ellipsis excluded). */
function revealed(mask: string): number {
  return Array.from(mask.replace('…', '')).length;
}

describe('maskKey', () => {
  it('shows the first 6 and last 4 characters of a long key', () => {
    const key = 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789-a1b2';
    assert.equal(maskKey(key), 'sk-ant…a1b2');
  });

  it('masks common key shapes without revealing their middle', () => {
    const keys = [
      'sk-proj-Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7jKl0nOp3rSt6vWx9zAb2dEf5h',
      'sk-Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7jKl0n',
      'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q',
      'gsk_0123456789abcdefghijABCDEFGHIJ0123456789abcdefgh',
    ];
    for (const key of keys) {
      const mask = maskKey(key);
      assert.equal(mask, `${key.slice(0, 6)}…${key.slice(-4)}`);
      assert.ok(!mask.includes(key.slice(6, -4)));
    }
  });

  it('shows at most 2 + 2 characters of a key of 12 characters or fewer', () => {
    assert.equal(maskKey('abcdefghijkl'), 'ab…kl');
    assert.equal(maskKey('abcdefgh'), 'ab…gh');
    for (let n = 8; n <= 12; n++) assert.ok(revealed(maskKey('x'.repeat(n))) <= 4, `length ${n}`);
  });

  it('shows nothing of a key under 8 characters', () => {
    for (const key of ['', 'a', 'abc', 'abcdefg']) assert.equal(maskKey(key), '…');
  });

  it('never reveals more than 10 characters, nor more than half of any key', () => {
    for (let n = 0; n <= 200; n++) {
      const key = Array.from({ length: n }, (_, i) => String.fromCharCode(33 + (i % 90))).join('');
      const mask = maskKey(key);
      assert.ok(revealed(mask) <= 10, `length ${n}: ${mask}`);
      assert.ok(revealed(mask) <= n / 2, `length ${n}: ${mask}`);
      assert.ok(mask.includes('…'));
    }
  });

  it('grows the shown part with the key length up to 6 + 4', () => {
    assert.equal(maskKey('abcdefghijklm'), 'abc…klm'); // 13 chars
    assert.equal(maskKey('abcdefghijklmnopqrst'), 'abcde…qrst'); // 20 chars
    assert.equal(maskKey('abcdefghijklmnopqrstuvwx'), 'abcdef…uvwx'); // 24 chars
  });

  it('does not split characters outside the BMP', () => {
    const key = '😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀';
    assert.equal(maskKey(key), '😀😀😀😀😀😀…😀😀😀😀');
  });
});

describe('redactSecrets', () => {
  const secret = 'sk-ant-api03-SECRETSECRETSECRET-zz99';

  it('replaces every occurrence of a secret by its mask', () => {
    const text = `auth failed for ${secret}; retry with ${secret}.`;
    const out = maskSecrets(text, [secret]);
    assert.equal(out, `auth failed for ${maskKey(secret)}; retry with ${maskKey(secret)}.`);
    assert.ok(!out.includes('SECRET'));
  });

  it('redacts several secrets, including one inside another, and regex characters', () => {
    const inner = 'abcd1234efgh';
    const outer = `xx${inner}yy-longer`;
    const weird = 'a.b*c+d?e(f)[g]$h^';
    const text = `${outer} | ${inner} | ${weird} | a-b-c-d-e-f-g-h`;
    const out = maskSecrets(text, new Set([inner, outer, weird]));
    assert.equal(out, `${maskKey(outer)} | ${maskKey(inner)} | ${maskKey(weird)} | a-b-c-d-e-f-g-h`);
  });

  it('ignores secrets shorter than 8 characters and leaves other text alone', () => {
    assert.equal(maskSecrets('the word short stays', ['short', '']), 'the word short stays');
    assert.equal(maskSecrets('nothing to hide', []), 'nothing to hide');
  });

  it('redacts with whatever list it is given now, also when lists alternate or are reused (compiled-pattern cache)', () => {
    const one = Object.freeze(['first-secret-AAAA1111']);
    const two = Object.freeze(['second-secret-BBBB2222', 'first-secret-AAAA1111']);
    const text = 'first-secret-AAAA1111 and second-secret-BBBB2222';
    for (let i = 0; i < 3; i++) {
      assert.equal(maskSecrets(text, one), `${maskKey('first-secret-AAAA1111')} and second-secret-BBBB2222`);
      assert.equal(maskSecrets(text, one), `${maskKey('first-secret-AAAA1111')} and second-secret-BBBB2222`, 'same frozen list twice');
      assert.equal(maskSecrets(text, two), `${maskKey('first-secret-AAAA1111')} and ${maskKey('second-secret-BBBB2222')}`);
      assert.equal(maskSecrets(text, []), text);
    }
    const mutable = ['first-secret-AAAA1111'];
    assert.equal(maskSecrets(text, mutable), `${maskKey('first-secret-AAAA1111')} and second-secret-BBBB2222`);
    mutable.push('second-secret-BBBB2222'); // a changed (unfrozen) list is not mistaken for the previous one
    assert.equal(maskSecrets(text, mutable), `${maskKey('first-secret-AAAA1111')} and ${maskKey('second-secret-BBBB2222')}`);
  });
});

describe('redactRandomTokens', () => {
  it('redacts runs of 20+ token characters and keeps ordinary text', () => {
    assert.equal(redactRandomTokens('a'.repeat(19)), 'a'.repeat(19));
    assert.equal(redactRandomTokens('key ' + 'a'.repeat(20) + ' end'), 'key [redacted] end');
    assert.equal(redactRandomTokens('sk-proj-AbC_123-xyz789QRSTuvw0 and AIzaSyD-0123456789abcdefghijkl'), '[redacted] and [redacted]');
    assert.equal(redactRandomTokens('gpt-4o-mini returned 401 (invalid key sk-…9f2a)'), 'gpt-4o-mini returned 401 (invalid key sk-…9f2a)');
    // Long model names are not keys.
    for (const model of ['claude-3-5-sonnet-20241022', 'gpt-4o-mini-2024-07-18', 'gemini-2.0-flash-thinking-exp-01-21', 'mistral-large-experimental-2411']) {
      assert.equal(redactRandomTokens(`track_request ${model} x3`), `track_request ${model} x3`);
    }
    // Key shapes: a 32-character Mistral key, a DeepSeek hex key, a Groq key.
    assert.equal(redactRandomTokens('k=' + 'Ab3dEf7hIj1lMn5pQr9tUv2xYz4bCd6f'), 'k=[redacted]');
    assert.equal(redactRandomTokens('sk-' + '0123456789abcdef0123456789abcdef'), '[redacted]');
    assert.equal(redactRandomTokens('gsk_' + 'a1B2'.repeat(13)), '[redacted]');
  });
});

describe('the core text masker (replies to agents)', () => {
  it('masks a secret the core holds even when nothing about its shape says it is a key', async () => {
    // OPENAI_API_KEY holds something that is not an OpenAI key: listed with a warning, and a secret all the same.
    const odd = 'Team-Shared-Pass-7f3a9c2e1b4d';
    const { core } = makeTestCore({ env: { OPENAI_API_KEY: odd }, discoverEnvKeys: true });
    assert.equal(maskKeyShapes(`model ${odd}`), `model ${odd}`, 'its shape alone does not give it away');
    const mask = await core.textMasker();
    const out = mask(`unknown model ${odd} (and sk-ant-api03-${'Ab1'.repeat(30)})`);
    assertNoLeak(out, [odd, `sk-ant-api03-${'Ab1'.repeat(30)}`], 'masked text', { piece: 8 });
    assert.match(out, /unknown model Team-S…/);
  });
});
