// Headless SecretVaults: an encrypted file (passphrase from AIKM_PASSPHRASE) and a read-only
// view of environment variables.
import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import type { SecretVault } from '../core/ports';
import { writeFileAtomic } from './atomicFile';
import { withFileLock, type FileLockOptions } from './fileLock';

const FORMAT_VERSION = 1;
const CIPHER = 'aes-256-gcm';
const KEY_LENGTH = 32;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const SALT_LENGTH = 16;
/** OWASP's scrypt guidance (N=2^17, r=8, p=1): 128 MiB and a few hundred ms per unlock, once per process. */
export const DEFAULT_KDF = { N: 2 ** 17, r: 8, p: 1 };
/** A new vault's passphrase is at least this long (an existing one opens with whatever it was made with). */
export const MIN_PASSPHRASE_LENGTH = 12;
// Upper bounds for params read from a file, so a tampered file cannot make us allocate gigabytes.
const MAX_KDF = { N: 2 ** 20, r: 32, p: 16 };

interface KdfParams {
  N: number;
  r: number;
  p: number;
}

/** On-disk layout. Everything but `data` is public; `data` is the encrypted JSON map name → secret. */
interface VaultFile {
  version: number;
  kdf: { name: 'scrypt'; salt: string } & KdfParams;
  cipher: { name: typeof CIPHER; iv: string; tag: string };
  data: string;
}

interface Header {
  salt: Buffer;
  params: KdfParams;
}

/**
 * SecretVault in an AES-256-GCM encrypted JSON file (mode 600), keyed by scrypt from a passphrase.
 * Operations of one instance run one at a time. Several processes (or instances) may share the
 * file: reads notice when it was replaced (inode, size, mtime) and decrypt it again, otherwise the
 * last decrypted content is reused; a store or delete holds the lock file `<file>.lock` while it
 * reads, changes and writes the file, so keys added by two processes at once both survive.
 */
export class EncryptedFileVault implements SecretVault {
  private readonly keys = new Map<string, Promise<Buffer>>(); // salt+params → derived key
  private queue: Promise<unknown> = Promise.resolve();
  /** The file as last read or written, with its signature. */
  private cache: { sig: string; header: Header; secrets: Record<string, string> } | undefined;
  /** Set while the passphrase is known not to open the file: the vault then counts as locked. */
  private wrongPassphrase: string | undefined;

  constructor(
    private readonly filePath: string,
    private readonly passphrase: string | undefined,
    private readonly lockOptions: FileLockOptions = {},
  ) {}

  get(name: string): Promise<string | undefined> {
    return this.serialize(async () => {
      const { secrets } = await this.load();
      return Object.hasOwn(secrets, name) ? secrets[name] : undefined;
    });
  }

  lockedReason(): string | undefined {
    if (!this.passphrase) return `the encrypted vault ${this.filePath} is locked: set AIKM_PASSPHRASE to the passphrase the keys were stored with`;
    return this.wrongPassphrase;
  }

  /**
   * Opens the vault once at start-up, so a wrong passphrase shows as "locked" (routing skips the
   * vault's keys) instead of surfacing on the first request, and re-encrypts a vault made with
   * weaker key derivation settings than DEFAULT_KDF. Returns what the user should be told.
   */
  unlock(): Promise<string[]> {
    return this.serialize(async () => {
      if (!this.passphrase || !fs.existsSync(this.filePath)) return [];
      try {
        const { header } = await this.load();
        if (!isWeak(header.params)) return [];
      } catch (err) {
        return [err instanceof Error ? err.message : String(err)];
      }
      await withFileLock(
        `${this.filePath}.lock`,
        async () => {
          const { header, secrets } = await this.load();
          if (isWeak(header.params)) await this.save({ salt: randomBytes(SALT_LENGTH), params: { ...DEFAULT_KDF } }, Object.assign(emptyMap(), secrets));
        },
        this.lockOptions,
      );
      return [`Re-encrypted ${this.filePath} with stronger key derivation (scrypt N=2^${Math.log2(DEFAULT_KDF.N)}, r=${DEFAULT_KDF.r}, p=${DEFAULT_KDF.p}); the passphrase is unchanged.`];
    });
  }

  store(name: string, value: string): Promise<void> {
    return this.change((secrets) => {
      secrets[name] = value;
      return true;
    });
  }

  delete(name: string): Promise<void> {
    return this.change((secrets) => {
      if (!Object.hasOwn(secrets, name)) return false;
      delete secrets[name];
      return true;
    });
  }

  /** Read-modify-write under the lock file; `edit` returns false when there is nothing to write. */
  private change(edit: (secrets: Record<string, string>) => boolean): Promise<void> {
    return this.serialize(async () => {
      this.requirePassphrase();
      await fs.promises.mkdir(dirname(this.filePath), { recursive: true, mode: 0o700 });
      await withFileLock(
        `${this.filePath}.lock`,
        async () => {
          const { header, secrets, created } = await this.load();
          if (created && this.passphrase!.length < MIN_PASSPHRASE_LENGTH) {
            throw new Error(
              `AIKM_PASSPHRASE is ${this.passphrase!.length} characters; a new vault needs at least ${MIN_PASSPHRASE_LENGTH}. ` +
                `Use a long passphrase (four or more random words, say) and set the same one every time.`,
            );
          }
          const copy = Object.assign(emptyMap(), secrets); // the cached map stays as read if the write fails
          // A vault made with weaker settings is written back with the current ones.
          if (edit(copy)) await this.save(isWeak(header.params) ? { salt: randomBytes(SALT_LENGTH), params: { ...DEFAULT_KDF } } : header, copy);
        },
        this.lockOptions,
      );
    });
  }

  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const result = this.queue.then(op);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private requirePassphrase(): string {
    if (!this.passphrase) {
      throw new Error(
        `Set AIKM_PASSPHRASE to store keys headless: the CLI encrypts them in ${this.filePath} with that passphrase. ` +
          `Use a long passphrase and set the same one every time (e.g. export AIKM_PASSPHRASE='…'), ` +
          `or provide keys through environment variables instead.`,
      );
    }
    return this.passphrase;
  }

  /** The vault's content; decrypted again only if the file was replaced since it was last read. */
  private async load(): Promise<{ header: Header; secrets: Readonly<Record<string, string>>; created?: true }> {
    const passphrase = this.requirePassphrase();
    let raw: string;
    let sig: string;
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.filePath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.cache = undefined;
        this.wrongPassphrase = undefined;
        return { header: { salt: randomBytes(SALT_LENGTH), params: { ...DEFAULT_KDF } }, secrets: emptyMap(), created: true };
      }
      throw err;
    }
    try {
      sig = sigOf(await handle.stat());
      if (this.cache?.sig === sig) return this.cache;
      raw = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
    const file = this.parse(raw);
    const header: Header = { salt: Buffer.from(file.kdf.salt, 'base64'), params: pickParams(file.kdf) };
    const key = await this.deriveKey(passphrase, header);
    let plain: string;
    try {
      const decipher = createDecipheriv(CIPHER, key, Buffer.from(file.cipher.iv, 'base64'), {
        authTagLength: TAG_LENGTH,
      });
      decipher.setAAD(additionalData(header));
      decipher.setAuthTag(Buffer.from(file.cipher.tag, 'base64'));
      plain = Buffer.concat([decipher.update(Buffer.from(file.data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      this.wrongPassphrase = `the passphrase in AIKM_PASSPHRASE does not open the vault ${this.filePath}: its keys are not used`;
      throw new Error(
        `The passphrase in AIKM_PASSPHRASE does not match the vault file at ${this.filePath} (or the file was altered). ` +
          `Set AIKM_PASSPHRASE to the passphrase used when the keys were stored. If it is lost, move the file ` +
          `away to start an empty vault and add the keys again.`,
      );
    }
    this.wrongPassphrase = undefined;
    this.cache = { sig, header, secrets: this.parseSecrets(plain) };
    return this.cache;
  }

  private async save(header: Header, secrets: Record<string, string>): Promise<void> {
    const key = await this.deriveKey(this.requirePassphrase(), header);
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv(CIPHER, key, iv, { authTagLength: TAG_LENGTH });
    cipher.setAAD(additionalData(header));
    const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    const file: VaultFile = {
      version: FORMAT_VERSION,
      kdf: { name: 'scrypt', salt: header.salt.toString('base64'), ...header.params },
      cipher: { name: CIPHER, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64') },
      data: data.toString('base64'),
    };
    await fs.promises.mkdir(dirname(this.filePath), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.filePath, JSON.stringify(file, null, 2) + '\n', 0o600);
    const st = await fs.promises.stat(this.filePath).catch(() => undefined);
    this.cache = st ? { sig: sigOf(st), header, secrets } : undefined;
  }

  private deriveKey(passphrase: string, { salt, params }: Header): Promise<Buffer> {
    const id = `${salt.toString('base64')}:${params.N}:${params.r}:${params.p}`;
    let key = this.keys.get(id);
    if (!key) {
      key = new Promise<Buffer>((resolve, reject) => {
        const maxmem = 128 * params.N * params.r * 2; // scrypt needs 128·N·r bytes; Node's default cap is 32 MiB
        scrypt(passphrase, salt, KEY_LENGTH, { ...params, maxmem }, (err, derived) =>
          err ? reject(err) : resolve(derived),
        );
      });
      key.catch(() => this.keys.delete(id));
      this.keys.set(id, key);
    }
    return key;
  }

  private parse(raw: string): VaultFile {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw this.corrupt('it is not valid JSON');
    }
    const f = value as Partial<VaultFile> | null;
    if (typeof f !== 'object' || f === null) throw this.corrupt('it is not a JSON object');
    if (f.version !== FORMAT_VERSION) {
      throw this.corrupt(`unsupported format version ${JSON.stringify(f.version)} (expected ${FORMAT_VERSION})`);
    }
    const { kdf, cipher } = f;
    if (
      typeof kdf !== 'object' ||
      kdf === null ||
      kdf.name !== 'scrypt' ||
      typeof kdf.salt !== 'string' ||
      base64Length(kdf.salt) < 8 ||
      !validParams(kdf)
    ) {
      throw this.corrupt('the key derivation settings are missing or invalid');
    }
    if (
      typeof cipher !== 'object' ||
      cipher === null ||
      cipher.name !== CIPHER ||
      typeof cipher.iv !== 'string' ||
      base64Length(cipher.iv) !== IV_LENGTH ||
      typeof cipher.tag !== 'string' ||
      base64Length(cipher.tag) !== TAG_LENGTH ||
      typeof f.data !== 'string'
    ) {
      throw this.corrupt('the cipher settings or encrypted data are missing');
    }
    return f as VaultFile;
  }

  private parseSecrets(plain: string): Record<string, string> {
    let value: unknown;
    try {
      value = JSON.parse(plain);
    } catch {
      throw this.corrupt('the decrypted content is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw this.corrupt('the decrypted content is not a map of names to keys');
    }
    const secrets = emptyMap();
    for (const [name, secret] of Object.entries(value)) {
      if (typeof secret !== 'string') throw this.corrupt(`the entry ${JSON.stringify(name)} is not a string`);
      secrets[name] = secret;
    }
    return secrets;
  }

  private corrupt(reason: string): Error {
    return new Error(
      `The vault file at ${this.filePath} is corrupt: ${reason}. Restore it from a backup, or move it away ` +
        `to start an empty vault and add the keys again.`,
    );
  }
}

function sigOf(st: fs.Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

// No prototype, so a key named e.g. "__proto__" is stored like any other.
function emptyMap(): Record<string, string> {
  return Object.create(null) as Record<string, string>;
}

function isWeak(p: KdfParams): boolean {
  return p.N < DEFAULT_KDF.N || p.r < DEFAULT_KDF.r;
}

function pickParams(p: KdfParams): KdfParams {
  return { N: p.N, r: p.r, p: p.p };
}

function validParams(p: Partial<KdfParams>): boolean {
  return (
    intIn(p.N, 2, MAX_KDF.N) &&
    (p.N & (p.N - 1)) === 0 && // a power of two
    intIn(p.r, 1, MAX_KDF.r) &&
    intIn(p.p, 1, MAX_KDF.p)
  );
}

function intIn(v: unknown, min: number, max: number): v is number {
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
}

function base64Length(s: string): number {
  return Buffer.from(s, 'base64').length;
}

// Binds the public header to the ciphertext, so changed KDF settings fail authentication.
function additionalData({ salt, params }: Header): Buffer {
  return Buffer.from(`aikm-vault:v${FORMAT_VERSION}:scrypt:${params.N}:${params.r}:${params.p}:${salt.toString('base64')}`);
}
