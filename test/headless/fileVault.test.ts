import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createCipheriv, randomBytes, scryptSync } from 'node:crypto';
import { DEFAULT_KDF, EncryptedFileVault, MIN_PASSPHRASE_LENGTH } from '../../src/headless/fileVault';
import { tempRoot } from '../support/tmp';

const PASS = 'correct horse battery staple';
const CANARY = 'sk-ant-api03-CANARY-7f3a9c2e1b-DO-NOT-LEAK';
const posix = process.platform !== 'win32';

/** A vault file as an earlier version wrote it (format 1 with any scrypt settings), made here with node:crypto. */
function writeVaultFile(path: string, passphrase: string, secrets: Record<string, string>, params: { N: number; r: number; p: number }): void {
  const salt = randomBytes(16);
  const key = scryptSync(passphrase, salt, 32, { ...params, maxmem: 256 * params.N * params.r });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(`aikm-vault:v1:scrypt:${params.N}:${params.r}:${params.p}:${salt.toString('base64')}`));
  const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  fs.mkdirSync(resolve(path, '..'), { recursive: true });
  const file = { version: 1, kdf: { name: 'scrypt', salt: salt.toString('base64'), ...params }, cipher: { name: 'aes-256-gcm', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64') }, data: data.toString('base64') };
  fs.writeFileSync(path, JSON.stringify(file), { mode: 0o600 });
}

const kdfOf = (path: string): { N: number; r: number; p: number; salt: string } => (JSON.parse(fs.readFileSync(path, 'utf8')) as { kdf: { N: number; r: number; p: number; salt: string } }).kdf;

describe('EncryptedFileVault', () => {
  const tmp = tempRoot('aikm-vault-');
  const newPath = () => join(tmp.unique('case'), 'vault.json');

  it('derives the key with scrypt N=2^17, r=8, p=1 (OWASP)', async () => {
    const path = newPath();
    await new EncryptedFileVault(path, PASS).store('anthropic', CANARY);
    const { N, r, p } = kdfOf(path);
    assert.deepEqual({ N, r, p }, { N: 2 ** 17, r: 8, p: 1 });
    assert.deepEqual(DEFAULT_KDF, { N: 2 ** 17, r: 8, p: 1 });
  });

  it('re-encrypts a vault made with weaker settings on the next unlock, keeping its keys and passphrase', async () => {
    const path = newPath();
    writeVaultFile(path, PASS, { anthropic: CANARY, openai: 'sk-proj-second-key-0000' }, { N: 2 ** 15, r: 8, p: 1 });
    const before = kdfOf(path);
    const vault = new EncryptedFileVault(path, PASS);
    const notes = await vault.unlock();
    assert.deepEqual(notes, [`Re-encrypted ${path} with stronger key derivation (scrypt N=2^17, r=8, p=1); the passphrase is unchanged.`]);
    const after = kdfOf(path);
    assert.equal(after.N, 2 ** 17);
    assert.notEqual(after.salt, before.salt, 'a new salt');
    assert.ok(!fs.readFileSync(path, 'utf8').includes('CANARY'));
    const fresh = new EncryptedFileVault(path, PASS);
    assert.equal(await fresh.get('anthropic'), CANARY);
    assert.equal(await fresh.get('openai'), 'sk-proj-second-key-0000');
    assert.deepEqual(await fresh.unlock(), [], 'nothing more to do');
    // A store into a weak vault (without unlock first) upgrades it too.
    const other = newPath();
    writeVaultFile(other, PASS, { a: 'x'.repeat(20) }, { N: 2 ** 14, r: 8, p: 1 });
    await new EncryptedFileVault(other, PASS).store('b', 'y'.repeat(20));
    assert.equal(kdfOf(other).N, 2 ** 17);
    assert.equal(await new EncryptedFileVault(other, PASS).get('a'), 'x'.repeat(20));
  });

  it(`refuses a passphrase under ${MIN_PASSPHRASE_LENGTH} characters for a new vault, but opens an existing vault made with one`, async () => {
    const path = newPath();
    await assert.rejects(new EncryptedFileVault(path, 'short-pass1').store('anthropic', CANARY), /^Error: AIKM_PASSPHRASE is 11 characters; a new vault needs at least 12\. Use a long passphrase/);
    assert.equal(fs.existsSync(path), false, 'no vault was written');
    await new EncryptedFileVault(path, 'twelve-chars').store('anthropic', CANARY);
    const old = newPath();
    writeVaultFile(old, 'short', { anthropic: CANARY }, { ...DEFAULT_KDF });
    assert.equal(await new EncryptedFileVault(old, 'short').get('anthropic'), CANARY);
  });

  it('with a wrong passphrase, unlock says so and the vault counts as locked until the right one opens it', async () => {
    const path = newPath();
    await new EncryptedFileVault(path, PASS).store('anthropic', CANARY);
    const wrong = new EncryptedFileVault(path, 'not the passphrase at all');
    assert.equal(wrong.lockedReason(), undefined, 'not known before it was tried');
    const [note] = await wrong.unlock();
    assert.match(note, /passphrase in AIKM_PASSPHRASE does not match the vault file at/);
    assert.match(wrong.lockedReason() ?? '', /does not open the vault .*its keys are not used/);
    const right = new EncryptedFileVault(path, PASS);
    assert.deepEqual(await right.unlock(), []);
    assert.equal(right.lockedReason(), undefined);
  });

  it('stores, reads back from a fresh instance, and deletes', async () => {
    const path = newPath();
    const a = new EncryptedFileVault(path, PASS);
    assert.equal(await a.get('anthropic'), undefined);
    await a.store('anthropic', CANARY);
    await a.store('openai', 'sk-proj-second-key-0000');

    const b = new EncryptedFileVault(path, PASS);
    assert.equal(await b.get('anthropic'), CANARY);
    assert.equal(await b.get('openai'), 'sk-proj-second-key-0000');
    assert.equal(await b.get('google'), undefined);

    await b.delete('anthropic');
    await b.delete('never-stored');
    const c = new EncryptedFileVault(path, PASS);
    assert.equal(await c.get('anthropic'), undefined);
    assert.equal(await c.get('openai'), 'sk-proj-second-key-0000');
  });

  it('treats names like __proto__ as ordinary entries', async () => {
    const path = newPath();
    await new EncryptedFileVault(path, PASS).store('__proto__', 'value-of-proto-entry');
    assert.equal(await new EncryptedFileVault(path, PASS).get('__proto__'), 'value-of-proto-entry');
    assert.equal(await new EncryptedFileVault(path, PASS).get('toString'), undefined);
  });

  it('rejects a wrong passphrase with an explanation naming the file', async () => {
    const path = newPath();
    await new EncryptedFileVault(path, PASS).store('anthropic', CANARY);
    const wrong = new EncryptedFileVault(path, 'not the passphrase');
    await assert.rejects(wrong.get('anthropic'), (err: Error) => {
      assert.match(err.message, /passphrase in AIKM_PASSPHRASE does not match the vault file at/);
      assert.ok(err.message.includes(path));
      assert.ok(!err.message.includes(CANARY));
      return true;
    });
    await assert.rejects(wrong.store('openai', 'sk-xxxxxxxxxxxx'), /does not match/);
    // The failed store must not have overwritten the vault.
    assert.equal(await new EncryptedFileVault(path, PASS).get('anthropic'), CANARY);
  });

  it('asks for AIKM_PASSPHRASE when none is set', async () => {
    const path = newPath();
    for (const pass of [undefined, '']) {
      const vault = new EncryptedFileVault(path, pass);
      await assert.rejects(vault.store('anthropic', CANARY), /^Error: Set AIKM_PASSPHRASE to store keys headless/);
      await assert.rejects(vault.get('anthropic'), /Set AIKM_PASSPHRASE/);
    }
    assert.equal(fs.existsSync(path), false);
  });

  it('writes the file with mode 600 in a directory created with mode 700', { skip: !posix }, async () => {
    const path = newPath();
    await new EncryptedFileVault(path, PASS).store('anthropic', CANARY);
    assert.equal(fs.statSync(path).mode & 0o777, 0o600);
    assert.equal(fs.statSync(join(path, '..')).mode & 0o777, 0o700);
    fs.chmodSync(path, 0o644);
    await new EncryptedFileVault(path, PASS).store('openai', 'sk-proj-second-key-0000');
    assert.equal(fs.statSync(path).mode & 0o777, 0o600);
  });

  it('never writes the secret or its encodings in plaintext', async () => {
    const path = newPath();
    const vault = new EncryptedFileVault(path, PASS);
    await vault.store('anthropic', CANARY);
    const raw = fs.readFileSync(path);
    for (const needle of [CANARY, 'CANARY', Buffer.from(CANARY).toString('base64'), Buffer.from(CANARY).toString('hex')]) {
      assert.equal(raw.indexOf(needle), -1, `found ${needle.slice(0, 6)}… in the vault file`);
    }
    assert.equal(raw.indexOf(PASS), -1);
    const dirEntries = fs.readdirSync(join(path, '..'));
    assert.deepEqual(dirEntries, ['vault.json'], 'no temp files left behind');
  });

  it('uses a fresh IV for every write', async () => {
    const path = newPath();
    const vault = new EncryptedFileVault(path, PASS);
    await vault.store('k', CANARY);
    const first = JSON.parse(fs.readFileSync(path, 'utf8')) as { cipher: { iv: string }; data: string };
    await vault.store('k', CANARY);
    const second = JSON.parse(fs.readFileSync(path, 'utf8')) as { cipher: { iv: string }; data: string };
    assert.notEqual(first.cipher.iv, second.cipher.iv);
    assert.notEqual(first.data, second.data);
  });

  it('keeps all of 50 concurrent stores', async () => {
    const path = newPath();
    const vault = new EncryptedFileVault(path, PASS);
    const names = Array.from({ length: 50 }, (_, i) => `key-${i}`);
    await Promise.all(names.map((name) => vault.store(name, `secret-value-${name}`)));
    const fresh = new EncryptedFileVault(path, PASS);
    for (const name of names) assert.equal(await fresh.get(name), `secret-value-${name}`);
  });

  it('keeps the keys two instances (two processes) store at the same time, and each sees the other’s', async () => {
    const path = newPath();
    const a = new EncryptedFileVault(path, PASS);
    const b = new EncryptedFileVault(path, PASS);
    assert.equal(await a.get('anthropic'), undefined); // both have read the (missing) file before either writes
    assert.equal(await b.get('openai'), undefined);
    await Promise.all([a.store('key/anthropic-1', CANARY), b.store('key/openai-1', 'sk-proj-second-key-0000'), a.store('key/google-1', 'AIza-third-key-00000000')]);
    assert.equal(await a.get('key/openai-1'), 'sk-proj-second-key-0000', 'a reads b’s key without restarting');
    assert.equal(await b.get('key/anthropic-1'), CANARY);
    await b.delete('key/google-1');
    assert.equal(await a.get('key/google-1'), undefined, 'a sees b’s delete');
    const fresh = new EncryptedFileVault(path, PASS);
    assert.equal(await fresh.get('key/anthropic-1'), CANARY);
    assert.equal(await fresh.get('key/openai-1'), 'sk-proj-second-key-0000');
    assert.deepEqual(fs.readdirSync(join(path, '..')), ['vault.json'], 'no lock or temp files left');
  });

  it('two real processes storing 15 keys each lose none', async () => {
    const path = newPath();
    const script = `
      const { EncryptedFileVault } = require(${JSON.stringify(resolve(__dirname, '../../src/headless/fileVault.js'))});
      const [file, who] = process.argv.slice(-2);
      const vault = new EncryptedFileVault(file, process.env.PASS);
      (async () => { for (let i = 0; i < 15; i++) await vault.store(who + '-' + i, 'secret-' + who + '-' + i); })()
        .catch((e) => { console.error(e); process.exit(1); });`;
    const run = (who: string) =>
      new Promise<void>((resolvePromise, reject) => {
        const child = spawn(process.execPath, ['-e', script, '--', path, who], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PASS } });
        let err = '';
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`child ${who} exited ${code}: ${err}`))));
      });
    await Promise.all([run('a'), run('b')]);
    const vault = new EncryptedFileVault(path, PASS);
    for (const who of ['a', 'b']) for (let i = 0; i < 15; i++) assert.equal(await vault.get(`${who}-${i}`), `secret-${who}-${i}`);
  });

  it('reports a corrupt or tampered file clearly', async () => {
    const path = newPath();
    await new EncryptedFileVault(path, PASS).store('anthropic', CANARY);
    const good = fs.readFileSync(path, 'utf8');

    fs.writeFileSync(path, good.slice(0, good.length / 2));
    await assert.rejects(new EncryptedFileVault(path, PASS).get('anthropic'), (err: Error) => {
      assert.match(err.message, /vault file at .* is corrupt: it is not valid JSON/);
      assert.ok(err.message.includes(path));
      return true;
    });

    fs.writeFileSync(path, JSON.stringify({ version: 99 }));
    await assert.rejects(new EncryptedFileVault(path, PASS).get('anthropic'), /corrupt: unsupported format version 99/);

    const parsed = JSON.parse(good) as { kdf: { N: number }; data: string };
    fs.writeFileSync(path, JSON.stringify({ ...parsed, kdf: { ...parsed.kdf, N: 2 ** 30 } }));
    await assert.rejects(new EncryptedFileVault(path, PASS).get('anthropic'), /corrupt: the key derivation settings/);

    // Flip one ciphertext byte: authentication must fail rather than return garbage.
    const data = Buffer.from(parsed.data, 'base64');
    data[0] ^= 1;
    fs.writeFileSync(path, JSON.stringify({ ...parsed, data: data.toString('base64') }));
    await assert.rejects(new EncryptedFileVault(path, PASS).get('anthropic'), /does not match .*or the file was altered/);
  });
});
