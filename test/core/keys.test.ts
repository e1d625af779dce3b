import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { KeyError, KeyPool, ROLLBACK_GRACE_DAYS, DEFAULT_REST_SECONDS, secretName, type KeyPoolOptions } from '../../src/core/keys';
import { MemoryState, MemoryVault, TestClock } from '../support/ports';
import { assertNoLeak } from '../support/leaks';
import { maskKey } from '../../src/core/redact';
import { PROVIDERS } from '../../src/core/providers';

const DAY_MS = 86_400_000;
const START = Date.parse('2025-03-01T12:00:00.000Z');

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function rand(n: number): string {
  return Array.from(randomBytes(n), (b) => ALNUM[b % ALNUM.length]).join('');
}

/** Canary keys of each provider's real shape; CANARY sits where no mask can show it. */
const canary = {
  anthropic: (): string => `sk-ant-api03-CANARY${rand(40)}`,
  openai: (): string => `sk-proj-CANARY${rand(40)}`,
  google: (): string => `AIzaCANARY${rand(29)}`,
};

/**
 * Fails when a secret is in `value` whole, or any 8 consecutive characters of its private part (from
 * CANARY on; the prefix is public and appears in format hints). A mask shows at most 4 of them.
 */
function assertNoSecret(value: unknown, secrets: string[], where: string): void {
  assertNoLeak(value, secrets.map((key) => ({ key, from: Math.max(0, key.indexOf('CANARY')) })), where, { piece: 8 });
}

function world(opts: Omit<KeyPoolOptions, 'clock'> = {}) {
  const vault = new MemoryVault();
  const state = new MemoryState(); // round-trips values through JSON, like a Memento or a state file
  const clock = new TestClock(START);
  const pool = new KeyPool(vault, state, { ...opts, clock });
  const secrets: string[] = [];
  const key = (p: keyof typeof canary): string => {
    const s = canary[p]();
    secrets.push(s);
    return s;
  };
  /** The canary is never in state: only in the vault (or the environment). */
  const assertStateClean = (): void => {
    const dump = state.dump();
    assertNoSecret(dump, secrets, `state ${dump}`);
    assert.ok(!dump.includes('CANARY'), `state contains key material: ${dump}`);
  };
  const vaultValues = (): string[] => [...vault.data.values()];
  return { vault, state, clock, pool, key, secrets, assertStateClean, vaultValues };
}

async function rejects(p: Promise<unknown>, re: RegExp, secrets: string[] = []): Promise<string> {
  let message = '';
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof KeyError, `expected KeyError, got ${String(e)}`);
    message = e.message;
    assert.match(message, re);
    return true;
  });
  assertNoSecret(message, secrets, `error message '${message}'`);
  return message;
}

describe('KeyPool.add', () => {
  it('stores the secret only in the vault and returns the masked key with its format check', async () => {
    const w = world();
    const secret = w.key('anthropic');
    const r = await w.pool.add('anthropic', { apiKey: secret }, { label: '  work  ' });

    assert.equal(r.key.masked, maskKey(secret));
    assert.ok(r.key.masked.length <= 11 && r.key.masked.includes('…'));
    assertNoSecret(r, [secret], 'the add result');
    assert.equal(r.format.ok, true);
    assert.match(r.format.message, /Anthropic/);

    assert.equal(await w.vault.get(secretName(r.key.id)), secret);
    assert.deepEqual(w.vaultValues(), [secret]);

    const [meta] = w.pool.list();
    assert.equal(meta.id, r.key.id);
    assert.equal(meta.provider, 'anthropic');
    assert.equal(meta.label, 'work');
    assert.equal(meta.source, 'vault');
    assert.equal(meta.status, 'healthy');
    assert.equal(meta.createdAt, new Date(START).toISOString());
    assert.deepEqual(meta.warnings, []);
    assert.ok(w.state.dump().includes(r.key.id), 'metadata is kept in state');
    assert.equal((await w.pool.secret('anthropic')).secret, secret);
    w.assertStateClean();
  });

  it('refuses a label that holds a key (any provider shape), without storing anything', async () => {
    const w = world();
    const secret = w.key('openai');
    const pasted = { anthropic: w.key('anthropic'), openai: w.key('openai'), google: w.key('google') };
    for (const [shape, k] of Object.entries(pasted)) {
      for (const label of [k, `work ${k}`, `(${k})`]) {
        const before = w.state.dump();
        const msg = await rejects(w.pool.add('openai', { apiKey: secret }, { label }), /label looks like it contains an API key/, w.secrets);
        assert.match(msg, /Nothing was stored/, `${shape}: ${msg}`);
        assert.equal(w.state.dump(), before, `${shape}: state changed on refusal`);
        assert.equal(w.vault.data.size, 0, `${shape}: the vault changed on refusal`);
      }
    }
    // An ordinary label, even a long model-like one, is kept.
    const r = await w.pool.add('openai', { apiKey: secret }, { label: 'claude-sonnet-4-20250514 backup' });
    assert.equal(r.key.label, 'claude-sonnet-4-20250514 backup');
    w.assertStateClean();
  });

  it('accepts provider aliases and stores keys of several providers side by side', async () => {
    const w = world();
    const a = await w.pool.add('claude', { apiKey: w.key('anthropic') });
    const g = await w.pool.add('gemini', { apiKey: w.key('google') });
    const o = await w.pool.add('openai', { apiKey: w.key('openai') });
    assert.equal(a.key.provider, 'anthropic');
    assert.equal(g.key.provider, 'google');
    assert.equal(o.key.provider, 'openai');
    assert.deepEqual(w.pool.list('google').map((k) => k.id), [g.key.id]);
    assert.equal(w.pool.list().length, 3);
    assert.deepEqual(new Set(await w.pool.readableSecrets()), new Set(w.secrets));
    w.assertStateClean();
  });

  it('refuses a key that is already stored, naming the existing id but not the key', async () => {
    const w = world({ env: {} });
    const secret = w.key('openai');
    const first = await w.pool.add('openai', { apiKey: secret });
    const msg = await rejects(w.pool.add('openai', { apiKey: secret }), /already stored/, w.secrets);
    assert.ok(msg.includes(first.key.id) && msg.includes(first.key.masked));
    assert.equal(w.pool.list().length, 1);
    w.assertStateClean();
  });

  it('refuses the same secret given through an environment variable', async () => {
    const secret = canary.openai();
    const w = world({ env: { MY_OPENAI: secret } });
    w.secrets.push(secret);
    await w.pool.add('openai', { apiKey: secret });
    await rejects(w.pool.add('openai', { envVar: 'MY_OPENAI' }), /already stored/, w.secrets);
    assert.equal(w.pool.list().length, 1);
  });

  it("refuses a key of another provider's shape, naming that provider", async () => {
    const w = world();
    const anthropicKey = w.key('anthropic');
    const googleKey = w.key('google');
    const msg = await rejects(w.pool.add('openai', { apiKey: anthropicKey }), /Anthropic/, w.secrets);
    assert.match(msg, /not an OpenAI key/);
    await rejects(w.pool.add('anthropic', { apiKey: googleKey }), /Google Gemini/, w.secrets);
    await rejects(w.pool.add('google', { apiKey: w.key('openai') }), /OpenAI/, w.secrets);
    assert.equal(w.pool.list().length, 0);
    assert.equal(w.vault.data.size, 0);
    w.assertStateClean();
  });

  it('refuses keys with spaces, too-short keys, keyless providers and unknown providers', async () => {
    const w = world();
    const secret = w.key('anthropic');
    await rejects(w.pool.add('anthropic', { apiKey: ` ${secret}` }), /spaces/, w.secrets);
    await rejects(w.pool.add('anthropic', { apiKey: `${secret}\n` }), /line break/, w.secrets);
    await rejects(w.pool.add('anthropic', { apiKey: 'abc' }), /Anthropic/);
    await rejects(w.pool.add('anthropic', {}), /No Anthropic key given/);
    await rejects(w.pool.add('local', { apiKey: secret }), /does not use an API key/);
    await assert.rejects(w.pool.add('nope', { apiKey: secret }), /Unknown provider 'nope'.*anthropic/);
    assert.equal(w.vault.data.size, 0);
  });

  it('refuses a key that fits no shape of the provider, saying which shape it expects, and stores nothing', async () => {
    const w = world();
    const odd = `odd-${rand(30)}`;
    w.secrets.push(odd);
    await rejects(w.pool.add('anthropic', { apiKey: odd }), /does not look like an Anthropic key: expected a key that starts with sk-ant-/, w.secrets);
    await rejects(w.pool.add('anthropic', { apiKey: 'hello-not-a-key' }), /does not look like an Anthropic key/, w.secrets);
    assert.equal(w.vault.data.size, 0);
    assert.equal(w.pool.list().length, 0);
  });

  it('refuses another provider’s key, naming that provider', async () => {
    const w = world();
    const openai = w.key('openai');
    await rejects(w.pool.add('anthropic', { apiKey: openai }), /looks like an OpenAI key .*not an Anthropic key/, w.secrets);
    const stored = await w.pool.add('anthropic', { apiKey: w.key('anthropic') });
    await rejects(w.pool.rotate('anthropic', { apiKey: openai }, stored.key.id), /looks like an OpenAI key/, w.secrets);
    assert.equal(w.vault.data.size, 1);
  });

  it('rejects an expiry that is not a date', async () => {
    const w = world();
    for (const bad of ['soon', '0', '1', '-1', '2027', '31/01/2027', '2027-1-31']) {
      await rejects(w.pool.add('anthropic', { apiKey: w.key('anthropic') }, { expiresAt: bad }), /is not a date\. Use a date such as 2027-01-31/);
    }
    for (const unreal of ['2027-02-30', '2027-13-01', '2027-00-10', '2026-11-31']) {
      await rejects(w.pool.add('anthropic', { apiKey: w.key('anthropic') }, { expiresAt: unreal }), /is not a real calendar date/);
    }
    await rejects(w.pool.add('anthropic', { apiKey: w.key('anthropic') }, { expiresAt: '2000-01-01' }), /is in the past: a key cannot be added already expired/);
    assert.equal(w.pool.list().length, 0);
  });

  it('notifies listeners on change', async () => {
    const w = world();
    let calls = 0;
    const off = w.pool.onDidChange(() => calls++);
    const r = await w.pool.add('anthropic', { apiKey: w.key('anthropic') });
    assert.equal(calls, 1);
    off();
    await w.pool.remove('anthropic', r.key.id);
    assert.equal(calls, 1);
  });
});

describe('KeyPool with a damaged stored key list', () => {
  it('keeps the keys an object-shaped list holds, keeps a copy first, and the next add keeps them', async () => {
    const w = world();
    const first = await w.pool.add('anthropic', { apiKey: w.key('anthropic') });
    const second = await w.pool.add('openai', { apiKey: w.key('openai') });
    const list = JSON.parse(w.state.raw('aikm.keys.v1')) as unknown[];
    // As a hand edit or another tool might leave it: an object, with one entry that is no key at all.
    const damaged = { a: list[0], b: list[1], c: { hello: 'world' } };
    w.state.seed('aikm.keys.v1', damaged);
    assert.deepEqual(w.pool.list().map((k) => k.id).sort(), [first.key.id, second.key.id].sort());
    assert.equal(w.pool.warnings.length, 1);
    assert.match(w.pool.warnings[0], /^The stored key list \(state 'aikm\.keys\.v1'\) has problems \(not a list; 1 unreadable entry, left out\): 2 key\(s\) are in use, and the stored value was kept in backup 1\./);
    assert.deepEqual(JSON.parse(w.state.backups[0].raw), damaged);
    const third = await w.pool.add('google', { apiKey: w.key('google') });
    assert.deepEqual(w.pool.list().map((k) => k.id).sort(), [first.key.id, second.key.id, third.key.id].sort(), 'nothing was overwritten');
    assert.ok(Array.isArray(JSON.parse(w.state.raw('aikm.keys.v1'))), 'written back as a list');
    assert.equal(w.state.backups.length, 1, 'copied once');
    w.assertStateClean();
  });

  it('keeps rows of a newer version (a provider it does not know) when it writes the list, and says so at startup', async () => {
    const w = world();
    const mine = await w.pool.add('openai', { apiKey: w.key('openai') });
    const newer = { id: 'cohere-1a2b', provider: 'cohere', masked: 'co-…9f9f', source: 'vault', status: 'healthy', createdAt: START, tier: 'pro' };
    w.state.seed('aikm.keys.v1', [...(JSON.parse(w.state.raw('aikm.keys.v1')) as unknown[]), newer]);
    // A fresh start (a new window) knows before anything lists the keys.
    const pool = new KeyPool(w.vault, w.state, { clock: w.clock });
    const said = ["The stored key list (state 'aikm.keys.v1') has an entry this version cannot use (a provider or status of a newer version?); it is kept as it is."];
    assert.deepEqual(pool.warnings, said);
    await pool.add('anthropic', { apiKey: w.key('anthropic') });
    await pool.remove('openai', mine.key.id);
    await pool.setStatus(pool.list('anthropic')[0].id, 'resting', 60);
    assert.deepEqual(pool.warnings, said, 'said once, however often the list is written');
    assert.equal(w.state.backups.length, 0, 'nothing dropped: no copy');
    const stored = JSON.parse(w.state.raw('aikm.keys.v1')) as { id: string }[];
    assert.deepEqual(stored.map((r) => r.id).sort(), [pool.list('anthropic')[0].id, newer.id].sort());
    assert.deepEqual(stored.find((r) => r.id === newer.id), newer, 'unchanged');
  });

  it('still lists the keys when no copy of a damaged list can be kept, and says so', () => {
    const w = world();
    w.state.backup = () => {
      throw new Error('disk full');
    };
    w.state.seed('aikm.keys.v1', [{ id: 'openai-1', provider: 'openai', masked: 'sk-…abcd', source: 'vault', status: 'healthy' }, 7]);
    const pool = new KeyPool(w.vault, w.state, { clock: w.clock });
    assert.deepEqual(pool.list().map((k) => k.id), ['openai-1']);
    assert.match(pool.warnings[0], /1 key\(s\) are in use; no copy of it could be kept \(disk full\)\./);
  });
});

describe('KeyPool env_var keys', () => {
  it('never takes an AIKM_* variable, nor a variable whose value is not that provider’s key, and never says the value', async () => {
    const passphrase = 'correct horse battery staple 1234567890';
    const openai = canary.openai();
    const env: Record<string, string | undefined> = { AIKM_PASSPHRASE: passphrase, AIKM_OPENAI_KEY: openai, HOME_DIR: '/home/someone/projects/x', MY_KEY: openai };
    const w = world({ env });
    w.secrets.push(passphrase, openai);
    const own = await rejects(w.pool.add('openai', { envVar: 'AIKM_PASSPHRASE' }), /^AIKM_PASSPHRASE is one of AI Key Manager's own variables, not an API key\. env_var must name the variable that holds the OpenAI key, e.g\. OPENAI_API_KEY\.$/, w.secrets);
    assert.ok(!own.includes(passphrase.slice(0, 6)));
    // Even when its value has a key's shape.
    await rejects(w.pool.add('openai', { envVar: 'aikm_openai_key' }), /own variables/, w.secrets);
    const other = await rejects(w.pool.add('openai', { envVar: 'HOME_DIR' }), /^The value of HOME_DIR is not an OpenAI key \(starts with sk-, sk-proj- or sk-svcacct-\), so it was not used\. Name OPENAI_API_KEY, or a variable that holds an OpenAI key\.$/, w.secrets);
    assert.ok(!other.includes('/home'), 'the value is not in the message');
    await rejects(w.pool.rotate('openai', { envVar: 'AIKM_PASSPHRASE' }, (await w.pool.add('openai', { envVar: 'MY_KEY' })).key.id), /own variables/, w.secrets);
    assert.equal(w.vault.data.size, 0);
    assert.deepEqual(w.pool.list().map((k) => k.envVar), ['MY_KEY'], 'only the variable that holds an OpenAI key');
  });

  it('never uses an AIKM_* variable an older version stored as a key', async () => {
    const openaiShaped = canary.openai();
    const w = world({ env: { AIKM_PASSPHRASE: openaiShaped } });
    w.state.seed('aikm.keys.v1', [{ id: 'openai-old', provider: 'openai', masked: 'sk-…0000', source: 'env', envVar: 'AIKM_PASSPHRASE', status: 'healthy' }]);
    assert.deepEqual(w.pool.usable('openai'), []);
    assert.deepEqual(w.pool.list()[0].warnings, ["AIKM_PASSPHRASE is one of AI Key Manager's own variables, not an API key, so it is not used"]);
    assert.equal(w.pool.list()[0].masked, '(hidden: not a key)');
    const message = await rejects(w.pool.secret('openai', 'openai-old'), /^Key openai-old cannot be used: AIKM_PASSPHRASE is one of AI Key Manager's own variables/, [openaiShaped]);
    assert.ok(!message.includes(openaiShaped.slice(-8)));
  });

  it('does not use a provider’s own variable when its value is not that provider’s key, and says so', async () => {
    const w = world({ env: { OPENAI_API_KEY: 'not-a-key-at-all-0123456789', ANTHROPIC_API_KEY: canary.anthropic() }, discoverEnv: true });
    const openai = w.pool.list('openai');
    assert.equal(openai.length, 1);
    assert.deepEqual(openai[0].warnings, ['OPENAI_API_KEY does not hold an OpenAI key (its value fails the format check), so it is not used']);
    assert.equal(openai[0].masked, '(hidden: not a key)');
    assert.deepEqual(w.pool.usable('openai'), []);
    assert.equal(w.pool.usable('anthropic').length, 1);
  });

  it('reads the key from the environment and never copies it into the vault', async () => {
    const secret = canary.anthropic();
    const env: Record<string, string | undefined> = { TEAM_ANTHROPIC_KEY: `${secret}\n` };
    const w = world({ env });
    w.secrets.push(secret);
    const r = await w.pool.add('anthropic', { envVar: ' TEAM_ANTHROPIC_KEY ' });
    assert.equal(r.key.source, 'env');
    assert.equal(r.key.envVar, 'TEAM_ANTHROPIC_KEY');
    assert.equal(r.key.masked, maskKey(secret));
    assert.equal(r.format.ok, true);
    assert.equal(w.vault.data.size, 0);
    assert.equal((await w.pool.secret('anthropic')).secret, secret);
    assert.equal(w.pool.usable('anthropic').length, 1);

    // The variable is read each time, not remembered.
    const next = canary.anthropic();
    w.secrets.push(next);
    env.TEAM_ANTHROPIC_KEY = next;
    assert.equal((await w.pool.secret('anthropic')).secret, next);

    delete env.TEAM_ANTHROPIC_KEY;
    assert.equal(w.pool.usable('anthropic').length, 0);
    assert.ok(w.pool.list()[0].warnings.includes('TEAM_ANTHROPIC_KEY is not set'));
    await rejects(w.pool.secret('anthropic'), /environment variable TEAM_ANTHROPIC_KEY .* is not set/);
    assert.equal(w.vault.data.size, 0);
    w.assertStateClean();
  });

  it('gives a clear error for a missing, empty or malformed variable, or both inputs at once', async () => {
    const w = world({ env: { EMPTY: '  ' } });
    await rejects(w.pool.add('anthropic', { envVar: 'MISSING_VAR' }), /environment variable MISSING_VAR is not set/);
    await rejects(w.pool.add('anthropic', { envVar: 'EMPTY' }), /EMPTY is not set \(or empty\)/);
    await rejects(w.pool.add('anthropic', { envVar: '1BAD-NAME' }), /not a valid environment variable name/);
    await rejects(w.pool.add('anthropic', { envVar: 'X', apiKey: w.key('anthropic') }), /either api_key or env_var/);
    assert.equal(w.pool.list().length, 0);
  });

  it('checks the shape of a key read from a variable', async () => {
    const g = canary.google();
    const w = world({ env: { WRONG: g } });
    w.secrets.push(g);
    await rejects(w.pool.add('anthropic', { envVar: 'WRONG' }), /Google Gemini/, w.secrets);
  });
});

describe('KeyPool.remove', () => {
  it('removes the only key of a provider and deletes its secret', async () => {
    const w = world();
    const r = await w.pool.add('anthropic', { apiKey: w.key('anthropic') });
    const other = await w.pool.add('openai', { apiKey: w.key('openai') });
    const removed = await w.pool.remove('anthropic');
    assert.equal(removed.id, r.key.id);
    assert.deepEqual(w.pool.list().map((k) => k.id), [other.key.id]);
    assert.equal(await w.vault.get(secretName(r.key.id)), undefined);
    assert.deepEqual(w.vaultValues(), [w.secrets[1]]);
    await rejects(w.pool.remove('anthropic'), /No key stored for anthropic/);
  });

  it('needs key_id when the provider has several keys, and lists them', async () => {
    const w = world();
    const a = await w.pool.add('anthropic', { apiKey: w.key('anthropic') });
    const b = await w.pool.add('anthropic', { apiKey: w.key('anthropic') });
    const msg = await rejects(w.pool.remove('anthropic'), /2 Anthropic keys; say which to remove with key_id/, w.secrets);
    assert.ok(msg.includes(a.key.id) && msg.includes(b.key.id));
    assert.equal(w.pool.list().length, 2);

    await w.pool.remove('anthropic', b.key.id);
    assert.deepEqual(w.pool.list().map((k) => k.id), [a.key.id]);
    assert.deepEqual(w.vaultValues(), [w.secrets[0]]);
  });

  it('refuses an unknown id, listing the ids that exist', async () => {
    const w = world();
    const a = await w.pool.add('anthropic', { apiKey: w.key('anthropic') });
    const msg = await rejects(w.pool.remove('anthropic', 'anthropic-000000'), /No Anthropic key with id 'anthropic-000000'/, w.secrets);
    assert.ok(msg.includes(`${a.key.id} (${a.key.masked})`));
    await rejects(w.pool.remove('openai', a.key.id), /None are stored/);
    assert.equal(w.pool.list().length, 1);
  });
});

describe('KeyPool.rotate and rollback', () => {
  it('names new_key (rotate_key\'s argument) when no new key is given', async () => {
    const w = world();
    await w.pool.add('openai', { apiKey: w.key('openai') });
    const msg = await rejects(w.pool.rotate('openai', {}), /Pass new_key or env_var/);
    assert.doesNotMatch(msg, /api_key/);
    await rejects(w.pool.rotate('openai', { apiKey: w.key('openai'), envVar: 'X' }), /either new_key or env_var/);
  });

  it('replaces the secret, keeps the old one for rollback, and rolls back within the grace period', async () => {
    const w = world();
    const oldKey = w.key('anthropic');
    const newKey = w.key('anthropic');
    const { key } = await w.pool.add('anthropic', { apiKey: oldKey });
    w.clock.advance(DAY_MS);

    const r = await w.pool.rotate('anthropic', { apiKey: newKey });
    const rotatedAt = w.clock.now();
    assert.equal(r.key.id, key.id);
    assert.equal(r.key.masked, maskKey(newKey));
    assert.equal(r.previousMasked, maskKey(oldKey));
    assert.equal(r.key.rotatedAt, rotatedAt.toISOString());
    assert.equal(r.rollbackUntil, new Date(rotatedAt.getTime() + ROLLBACK_GRACE_DAYS * DAY_MS).toISOString());
    assert.equal(r.key.retiredMasked, maskKey(oldKey));
    assert.equal((await w.pool.secret('anthropic')).secret, newKey);
    assert.ok(w.vaultValues().includes(oldKey), 'the old secret is kept in the vault for rollback');
    w.assertStateClean();

    w.clock.advance(ROLLBACK_GRACE_DAYS * DAY_MS - 1000);
    const back = await w.pool.rollback('anthropic');
    assert.equal(back.masked, maskKey(oldKey));
    assert.equal(back.retiredUntil, undefined);
    assert.equal((await w.pool.secret('anthropic')).secret, oldKey);
    assert.deepEqual(w.vaultValues(), [oldKey]);
    await rejects(w.pool.rollback('anthropic'), /no previous key to roll back to/);
    w.assertStateClean();
  });

  it('refuses rollback after the grace period and keeps the new key', async () => {
    const w = world();
    await w.pool.add('anthropic', { apiKey: w.key('anthropic') });
    const newKey = w.key('anthropic');
    await w.pool.rotate('anthropic', { apiKey: newKey });
    w.clock.advance(ROLLBACK_GRACE_DAYS * DAY_MS + 1000);
    await rejects(w.pool.rollback('anthropic'), new RegExp(`${ROLLBACK_GRACE_DAYS}-day grace period is over`));
    assert.equal((await w.pool.secret('anthropic')).secret, newKey);
  });

  it('refuses a rotation to the same key, to another provider\'s key, or to a key stored elsewhere', async () => {
    const w = world();
    const a = w.key('anthropic');
    const b = w.key('anthropic');
    const first = await w.pool.add('anthropic', { apiKey: a });
    await w.pool.add('anthropic', { apiKey: b });
    await rejects(w.pool.rotate('anthropic', { apiKey: w.key('anthropic') }), /say which to rotate with key_id/);
    await rejects(w.pool.rotate('anthropic', { apiKey: a }, first.key.id), /same as the current one/, w.secrets);
    await rejects(w.pool.rotate('anthropic', { apiKey: w.key('openai') }, first.key.id), /OpenAI/, w.secrets);
    await rejects(w.pool.rotate('anthropic', { apiKey: b }, first.key.id), /already stored/, w.secrets);
    assert.equal((await w.pool.secret('anthropic', first.key.id)).secret, a);
    assert.equal(w.pool.list('anthropic').find((k) => k.id === first.key.id)?.rotatedAt, undefined);
  });

  it('clears a disabled or resting status on rotation', async () => {
    const w = world();
    const { key } = await w.pool.add('openai', { apiKey: w.key('openai') });
    await w.pool.recordValidation(key.id, 'invalid');
    assert.equal(w.pool.usable('openai').length, 0);
    const r = await w.pool.rotate('openai', { apiKey: w.key('openai') });
    assert.equal(r.key.status, 'healthy');
    assert.equal(r.key.lastValidation, undefined);
    assert.equal(w.pool.usable('openai').length, 1);
  });

  it('never copies an env-backed secret into the vault when rotating away from it, and can roll back to it', async () => {
    const envSecret = canary.anthropic();
    const w = world({ env: { TEAM_KEY: envSecret } });
    w.secrets.push(envSecret);
    await w.pool.add('anthropic', { envVar: 'TEAM_KEY' });
    const stored = w.key('anthropic');
    const r = await w.pool.rotate('anthropic', { apiKey: stored });
    assert.equal(r.key.source, 'vault');
    assert.equal(r.previousMasked, maskKey(envSecret));
    assert.deepEqual(w.vaultValues(), [stored]);

    const back = await w.pool.rollback('anthropic');
    assert.equal(back.source, 'env');
    assert.equal(back.envVar, 'TEAM_KEY');
    assert.equal(w.vault.data.size, 0);
    assert.equal((await w.pool.secret('anthropic')).secret, envSecret);
    w.assertStateClean();
  });
});

describe('KeyPool.recordValidation and status', () => {
  it('disables an invalid key and heals it when validated again', async () => {
    const w = world();
    const { key } = await w.pool.add('google', { apiKey: w.key('google') });
    const meta = await w.pool.recordValidation(key.id, 'invalid');
    assert.equal(meta?.status, 'disabled');
    assert.equal(meta?.lastValidation, 'invalid');
    assert.equal(meta?.lastValidatedAt, new Date(START).toISOString());
    const [view] = w.pool.list('google');
    assert.equal(view.status, 'disabled');
    assert.ok(view.warnings.some((x) => x.startsWith('disabled')));
    assert.deepEqual(w.pool.usable('google'), []);

    await w.pool.recordValidation(key.id, 'valid');
    assert.equal(w.pool.list('google')[0].status, 'healthy');
    assert.equal(w.pool.usable('google').length, 1);
    w.assertStateClean();
  });

  it('rests a rate-limited key for the retry-after time, then heals it', async () => {
    const w = world();
    const { key } = await w.pool.add('openai', { apiKey: w.key('openai') });
    const meta = await w.pool.recordValidation(key.id, 'rate_limited', 120);
    assert.equal(meta?.status, 'resting');
    assert.equal(meta?.restingUntil, new Date(START + 120_000).toISOString());
    assert.deepEqual(w.pool.usable('openai'), []);
    assert.ok(w.pool.list()[0].warnings.some((x) => x.includes('rate limited until')));

    w.clock.advance(119_000);
    assert.equal(w.pool.list()[0].status, 'resting');
    assert.deepEqual(w.pool.usable('openai'), []);
    w.clock.advance(1_000);
    assert.equal(w.pool.list()[0].status, 'healthy');
    assert.equal(w.pool.list()[0].restingUntil, undefined);
    assert.equal(w.pool.usable('openai').length, 1);
  });

  it('rests for the default time without retry-after, and keeps status when unreachable', async () => {
    const w = world();
    const { key } = await w.pool.add('openai', { apiKey: w.key('openai') });
    const rested = await w.pool.recordValidation(key.id, 'rate_limited');
    assert.equal(rested?.restingUntil, new Date(START + DEFAULT_REST_SECONDS * 1000).toISOString());
    await w.pool.recordValidation(key.id, 'valid');
    const m = await w.pool.recordValidation(key.id, 'unreachable');
    assert.equal(m?.status, 'healthy');
    assert.equal(m?.lastValidation, 'unreachable');
    assert.equal(await w.pool.recordValidation('openai-nope', 'valid'), undefined);
  });

  it('setStatus rests or disables a key after a failed request', async () => {
    const w = world();
    const { key } = await w.pool.add('openai', { apiKey: w.key('openai') });
    await w.pool.setStatus(key.id, 'resting', 30);
    assert.equal(w.pool.list()[0].restingUntil, new Date(START + 30_000).toISOString());
    w.clock.advance(30_000);
    assert.equal(w.pool.usable('openai').length, 1);
    await w.pool.setStatus(key.id, 'disabled');
    assert.equal(w.pool.usable('openai').length, 0);
  });
});

describe('KeyPool expiry, age and usable()', () => {
  it('warns before expiry, and an expired key is not usable', async () => {
    const w = world();
    const expiresAt = new Date(START + 10 * DAY_MS).toISOString();
    const { key } = await w.pool.add('anthropic', { apiKey: w.key('anthropic') }, { expiresAt });
    assert.equal(key.expiresAt, expiresAt);
    assert.deepEqual(key.warnings, [`expires in 10 day(s) (${expiresAt.slice(0, 10)})`]);
    assert.equal(w.pool.usable('anthropic').length, 1);

    w.clock.advance(10 * DAY_MS);
    assert.deepEqual(w.pool.list()[0].warnings, [`expired on ${expiresAt.slice(0, 10)}`]);
    assert.deepEqual(w.pool.usable('anthropic'), []);
  });

  it('does not warn about an expiry more than 14 days away, and warns about old keys', async () => {
    const w = world();
    await w.pool.add('anthropic', { apiKey: w.key('anthropic') }, { expiresAt: new Date(START + 400 * DAY_MS).toISOString() });
    assert.deepEqual(w.pool.list()[0].warnings, []);
    w.clock.advance(89 * DAY_MS);
    assert.equal(w.pool.list()[0].ageDays, 89);
    assert.deepEqual(w.pool.list()[0].warnings, []);
    w.clock.advance(DAY_MS);
    assert.deepEqual(w.pool.list()[0].warnings, ['not rotated for 90 days']);
  });

  it('usable() keeps only healthy, unexpired keys, and secret() picks a usable one', async () => {
    const w = world();
    const secrets = [w.key('openai'), w.key('openai'), w.key('openai'), w.key('openai')];
    const expired = await w.pool.add('openai', { apiKey: secrets[0] }, { expiresAt: new Date(START + DAY_MS).toISOString() });
    const disabled = await w.pool.add('openai', { apiKey: secrets[1] });
    const resting = await w.pool.add('openai', { apiKey: secrets[2] });
    const good = await w.pool.add('openai', { apiKey: secrets[3] });
    await w.pool.recordValidation(disabled.key.id, 'invalid');
    await w.pool.recordValidation(resting.key.id, 'rate_limited', 3 * DAY_MS);
    w.clock.advance(2 * DAY_MS);

    assert.deepEqual(w.pool.usable('openai').map((k) => k.id), [good.key.id]);
    const chosen = await w.pool.secret('openai');
    assert.equal(chosen.meta.id, good.key.id);
    assert.equal(chosen.secret, secrets[3]);
    assert.notEqual(expired.key.id, good.key.id);
    w.assertStateClean();
  });
});

describe('KeyPool env discovery', () => {
  it('looks in the first env var of every keyed provider in the catalog', () => {
    const keyed = PROVIDERS.filter((p) => p.requiresKey);
    const env = Object.fromEntries(keyed.map((p, i) => [p.envVars[0], `catalog-test-value-${i}-abcdefghijklmnop`]));
    const w = world({ env, discoverEnv: true });
    assert.deepEqual(
      w.pool.list().map((k) => k.provider).sort(),
      keyed.map((p) => p.id).sort(),
    );
  });

  it('lists keys found in the standard variables without copying them', async () => {
    const a = canary.anthropic();
    const g = canary.google();
    const env = { ANTHROPIC_API_KEY: a, GOOGLE_API_KEY: g, OPENAI_API_KEY: '  ' };
    const w = world({ env, discoverEnv: true });
    w.secrets.push(a, g);
    const list = w.pool.list();
    assert.deepEqual(list.map((k) => k.id).sort(), ['env:ANTHROPIC_API_KEY', 'env:GOOGLE_API_KEY']);
    const ak = list.find((k) => k.provider === 'anthropic')!;
    assert.equal(ak.source, 'env');
    assert.equal(ak.masked, maskKey(a));
    assert.equal(ak.label, 'from ANTHROPIC_API_KEY');
    assert.equal(w.pool.usable('google').length, 1);
    assert.equal((await w.pool.secret('google')).secret, g);
    assert.equal(w.vault.data.size, 0);

    // Status of a discovered key is persisted, still without its secret.
    await w.pool.recordValidation('env:ANTHROPIC_API_KEY', 'invalid');
    assert.equal(w.pool.list('anthropic')[0].status, 'disabled');
    await rejects(w.pool.remove('anthropic'), /comes from the environment variable ANTHROPIC_API_KEY/);
    w.assertStateClean();

    assert.equal(world({ env }).pool.list().length, 0, 'without discoverEnv nothing is listed');
  });

  it('reports the age of a discovered key as unknown, not as days since 1970', async () => {
    const a = canary.anthropic();
    const w = world({ env: { ANTHROPIC_API_KEY: a }, discoverEnv: true });
    w.secrets.push(a);
    w.clock.advance(400 * DAY_MS);
    const [k] = w.pool.list();
    assert.equal(k.id, 'env:ANTHROPIC_API_KEY');
    assert.equal(k.ageDays, null);
    assert.equal(k.createdAt, undefined);
    assert.deepEqual(k.warnings, []);
    await w.pool.recordValidation(k.id, 'valid');
    assert.equal(w.pool.list()[0].ageDays, null, 'still unknown after its status is persisted');
    // A stored key has a known age.
    await w.pool.add('openai', { apiKey: w.key('openai') });
    w.clock.advance(3 * DAY_MS);
    assert.equal(w.pool.list('openai')[0].ageDays, 3);
  });

  it('refuses to add a discovered secret again, but lets it be added by its own variable', async () => {
    const a = canary.anthropic();
    const w = world({ env: { ANTHROPIC_API_KEY: a }, discoverEnv: true });
    w.secrets.push(a);
    await rejects(w.pool.add('anthropic', { apiKey: a }), /already stored \(id env:ANTHROPIC_API_KEY/, w.secrets);
    const r = await w.pool.add('anthropic', { envVar: 'ANTHROPIC_API_KEY' }, { label: 'main' });
    assert.deepEqual(w.pool.list().map((k) => k.id), [r.key.id]);
    assert.equal(w.vault.data.size, 0);
    w.assertStateClean();
  });
});

describe('KeyPool secrets for scrubbing', () => {
  /** Returns the same object until the key is updated, like a Memento or the state file. */
  const stableState = (): MemoryState => new MemoryState({ copy: 'stable' });
  class CountingVault extends MemoryVault {
    reads = 0;
    locked = false;
    override async get(name: string): Promise<string | undefined> {
      this.reads++;
      if (this.locked) throw new Error('Set AIKM_PASSPHRASE');
      return super.get(name);
    }
  }

  it('reads the vault once while keys are unchanged, and again after add, rotate, rollback and remove', async () => {
    const vault = new CountingVault();
    const state = stableState();
    const pool = new KeyPool(vault, state, { clock: new TestClock(START) });
    const a = canary.anthropic();
    const o = canary.openai();
    const added = await pool.add('anthropic', { apiKey: a });
    await pool.add('openai', { apiKey: o });
    assert.deepEqual(new Set(await pool.readableSecrets()), new Set([a, o]));
    const reads = vault.reads;
    for (let i = 0; i < 5; i++) assert.deepEqual(new Set(await pool.readableSecrets()), new Set([a, o]));
    assert.equal(vault.reads, reads, 'cached while nothing changed');

    const a2 = canary.anthropic();
    await pool.rotate('anthropic', { apiKey: a2 }, added.key.id);
    assert.deepEqual(new Set(await pool.readableSecrets()), new Set([a2, o]), 'rotated secret is scrubbed at once');
    await pool.rollback('anthropic', added.key.id);
    assert.deepEqual(new Set(await pool.readableSecrets()), new Set([a, o]));
    await pool.remove('anthropic', added.key.id);
    assert.deepEqual(await pool.readableSecrets(), [o]);
    assert.ok(Object.isFrozen(await pool.readableSecrets()), 'callers cannot change the cached list');
  });

  it('sees a key another writer added to the shared state', async () => {
    const vault = new CountingVault();
    const state = stableState();
    const pool = new KeyPool(vault, state, { clock: new TestClock(START) });
    const a = canary.anthropic();
    await pool.add('anthropic', { apiKey: a });
    assert.deepEqual(await pool.readableSecrets(), [a]);
    const other = new KeyPool(vault, state, { clock: new TestClock(START) }); // e.g. another window over the same storage
    const o = canary.openai();
    await other.add('openai', { apiKey: o });
    assert.deepEqual(new Set(await pool.readableSecrets()), new Set([a, o]));
  });

  it('skips secrets that cannot be read and does not cache that answer', async () => {
    const vault = new CountingVault();
    const pool = new KeyPool(vault, stableState(), { clock: new TestClock(START), env: { OPENAI_API_KEY: 'sk-proj-envENVenvENVenvENVenv0123456789' }, discoverEnv: true });
    const a = canary.anthropic();
    await pool.add('anthropic', { apiKey: a });
    vault.locked = true;
    assert.deepEqual(await pool.readableSecrets(), ['sk-proj-envENVenvENVenvENVenv0123456789']);
    vault.locked = false;
    assert.deepEqual(new Set(await pool.readableSecrets()), new Set([a, 'sk-proj-envENVenvENVenvENVenv0123456789']));
  });
});
