// The one check that no key material got out: not a whole canary key, and not any piece of one long
// enough to matter (a mask shows at most the first 6 and last 4 characters).
import * as assert from 'node:assert/strict';

/** A canary key, or one whose first `from` characters are a public prefix (e.g. "gsk_") not to look for. */
export type Canary = string | { key: string; from: number };

/**
 * Fails when `value` (text, or anything that JSON.stringify can write) holds a canary whole or any
 * `piece` consecutive characters of its private part (default 12).
 */
export function assertNoLeak(value: unknown, canaries: Iterable<Canary>, where: string, opts: { piece?: number } = {}): void {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '';
  const n = opts.piece ?? 12;
  for (const c of canaries) {
    const key = typeof c === 'string' ? c : c.key;
    const secret = typeof c === 'string' ? c : c.key.slice(c.from);
    assert.ok(!text.includes(key), `${where} contains a whole canary key (${key.slice(0, 6)}…)`);
    for (let i = 0; i + n <= secret.length; i++) {
      const part = secret.slice(i, i + n);
      assert.ok(!text.includes(part), `${where} contains '${part}', ${n} characters of a canary key`);
    }
  }
}
