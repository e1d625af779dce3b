// The key pool: secrets only in the SecretVault, everything else (mask, label, status, dates) in state.
import type { Clock, SecretVault, StateStore } from './ports';
import { systemClock } from './ports';
import { modifyState } from './storedDoc';
import type { KeyMeta, KeyStatus, ValidationOutcome } from './types';
import { maskKey } from './redact';
import { PROVIDERS, checkKeyFormat, getProvider, withArticle } from './providers';
import {
  DAY_MS,
  KeyError,
  STATE_KEY,
  checkLabel,
  isForeignKeyRow,
  newId,
  parseExpiry,
  readKeyList,
  retiredName,
  secretName,
  type KeyListReport,
} from './keyRecords';

export { KeyError, secretName };
export const ROLLBACK_GRACE_DAYS = 7;
export const DEFAULT_REST_SECONDS = 60;

/** What callers pass to add/rotate: the key itself, or the name of an env var that holds it. */
export interface KeyInput {
  apiKey?: string;
  envVar?: string;
}

export interface KeyView extends KeyMeta {
  /** Whole days since the key was added or last rotated; null when unknown (discovered env keys). */
  ageDays: number | null;
  /** Human warnings: expiring soon, expired, old, disabled. */
  warnings: string[];
}


/** Stored form: when rotate() replaced an env-backed key, rollback returns to that variable (never copied to the vault). */
type StoredMeta = KeyMeta & { retiredEnvVar?: string };

export interface KeyPoolOptions {
  clock?: Clock;
  /** Where env-var keys are read from (process.env headless). */
  env?: Record<string, string | undefined>;
  /** List keys found in the providers' standard env vars without adding them (headless host). */
  discoverEnv?: boolean;
}

export class KeyPool {
  private readonly clock: Clock;
  private readonly env: Record<string, string | undefined>;
  private readonly listeners = new Set<() => void>();
  private secretsCache: { basis: unknown; generation: number; secrets: readonly string[] } | undefined;
  /** Bumped around every vault write of this pool, so a secrets list read meanwhile is not cached. */
  private vaultGeneration = 0;

  constructor(
    private readonly vault: SecretVault,
    private readonly state: StateStore,
    private readonly opts: KeyPoolOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.env = opts.env ?? {};
    this.stored(); // problems with the stored list are in `warnings` from the start, for the host to show
  }

  onDidChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** All keys (stored and discovered), optionally for one provider, with retired ones hidden. */
  list(provider?: string): KeyView[] {
    const id = provider === undefined ? undefined : getProvider(provider).id;
    return this.all()
      .filter((k) => (id === undefined || k.provider === id))
      .map((k) => this.view(this.healed(k)));
  }

  /** Keys the router may use now: healthy, or resting whose rest is over; not expired. */
  usable(provider: string): KeyMeta[] {
    return this.list(provider).filter((k) => this.isUsable(k));
  }

  async add(provider: string, input: KeyInput, extra: { label?: string; expiresAt?: string } = {}): Promise<{ key: KeyView; format: { ok: boolean; message: string } }> {
    const spec = getProvider(provider);
    if (!spec.requiresKey) throw new KeyError(`${spec.displayName} does not use an API key; nothing to add.`);
    const expiresAt = extra.expiresAt === undefined ? undefined : parseExpiry(extra.expiresAt, this.clock.now());
    const label = checkLabel(extra.label);
    const { secret, source, envVar } = this.resolveInput(spec.id, input);
    // One rule on every surface: a key that does not have this provider's shape is not stored.
    const format = checkKeyFormat(spec.id, secret);
    if (!format.ok) throw new KeyError(format.message);
    // A discovered env key may be added by its own variable name (to label it); the same secret any other way is a duplicate.
    const others = this.all().filter((k) => k.provider === spec.id && !(k.id.startsWith('env:') && k.envVar === envVar));
    await this.refuseDuplicate(others, secret, spec.displayName);
    const meta: KeyMeta = {
      id: newId(spec.id),
      provider: spec.id,
      label,
      masked: maskKey(secret),
      source,
      envVar,
      createdAt: this.clock.now().toISOString(),
      status: 'healthy',
      expiresAt,
    };
    if (source === 'vault') await this.vaultStore(secretName(meta.id), secret);
    await this.save((keys) => [...keys, meta]);
    return { key: this.view(meta), format };
  }

  async remove(provider: string, keyId?: string): Promise<KeyMeta> {
    const target = this.pick(provider, keyId, 'remove');
    if (target.id.startsWith('env:')) {
      throw new KeyError(`Key ${target.id} comes from the environment variable ${target.envVar}; unset it there to remove it.`);
    }
    await this.vaultDelete(secretName(target.id));
    await this.vaultDelete(retiredName(target.id));
    await this.save((keys) => keys.filter((k) => k.id !== target.id));
    return target;
  }

  /** Replaces a key's secret, keeping the old one for rollback for ROLLBACK_GRACE_DAYS. */
  async rotate(provider: string, input: KeyInput, keyId?: string): Promise<{ key: KeyView; previousMasked: string; rollbackUntil: string; format: { ok: boolean; message: string } }> {
    const target = this.pick(provider, keyId, 'rotate');
    if (target.id.startsWith('env:')) {
      throw new KeyError(`Key ${target.id} comes from ${target.envVar}; change that variable to rotate it, or add a stored key.`);
    }
    const { secret, source, envVar } = this.resolveInput(target.provider, input, 'new_key');
    const format = checkKeyFormat(target.provider, secret);
    if (!format.ok) throw new KeyError(format.message);
    const old = await this.secretOf(target);
    if (old === secret) throw new KeyError(`The new key is the same as the current one (${target.masked}); nothing rotated.`);
    await this.refuseDuplicate(this.all().filter((k) => k.provider === target.provider && k.id !== target.id), secret, getProvider(target.provider).displayName);
    const now = this.clock.now();
    const rollbackUntil = new Date(now.getTime() + ROLLBACK_GRACE_DAYS * DAY_MS).toISOString();
    // An env-backed key is remembered by its variable name only: env secrets never go into the vault.
    if (old !== undefined && target.source === 'vault') await this.vaultStore(retiredName(target.id), old);
    else await this.vaultDelete(retiredName(target.id));
    if (source === 'vault') await this.vaultStore(secretName(target.id), secret);
    else await this.vaultDelete(secretName(target.id));
    const updated: StoredMeta = {
      ...target,
      masked: maskKey(secret),
      source,
      envVar,
      rotatedAt: now.toISOString(),
      status: 'healthy',
      restingUntil: undefined,
      lastValidation: undefined,
      lastValidatedAt: undefined,
      retiredUntil: rollbackUntil,
      retiredMasked: target.masked,
      retiredEnvVar: target.source === 'env' ? target.envVar : undefined,
    };
    await this.save((keys) => keys.map((k) => (k.id === target.id ? updated : k)));
    return { key: this.view(updated), previousMasked: target.masked, rollbackUntil, format };
  }

  /** Restores the key that rotate() replaced, while its grace period lasts. */
  async rollback(provider: string, keyId?: string): Promise<KeyView> {
    const target: StoredMeta = this.pick(provider, keyId, 'roll back');
    const envVar = target.retiredEnvVar;
    const old = envVar ? this.env[envVar]?.trim() || undefined : await this.vault.get(retiredName(target.id));
    if (!target.retiredUntil || Date.parse(target.retiredUntil) < this.clock.now().getTime() || (!old && !envVar)) {
      throw new KeyError(`Key ${target.id} has no previous key to roll back to (none kept, or its ${ROLLBACK_GRACE_DAYS}-day grace period is over).`);
    }
    if (!old) throw new KeyError(`The previous key of ${target.id} came from ${envVar}, which is no longer set; set it again to roll back.`);
    if (envVar) await this.vaultDelete(secretName(target.id));
    else await this.vaultStore(secretName(target.id), old);
    await this.vaultDelete(retiredName(target.id));
    const restored: StoredMeta = {
      ...target,
      masked: maskKey(old),
      source: envVar ? 'env' : 'vault',
      envVar,
      status: 'healthy',
      retiredUntil: undefined,
      retiredMasked: undefined,
      retiredEnvVar: undefined,
      rotatedAt: this.clock.now().toISOString(),
    };
    await this.save((keys) => keys.map((k) => (k.id === target.id ? restored : k)));
    return this.view(restored);
  }

  /** The secret of a key, for a request to its provider. Never returned to a caller outside core. */
  async secret(provider: string, keyId?: string): Promise<{ meta: KeyMeta; secret: string }> {
    const meta = this.pick(provider, keyId, 'use');
    const problem = meta.source === 'env' ? this.envProblem(meta) : undefined;
    if (problem === 'own' || problem === 'format') throw new KeyError(`Key ${meta.id} cannot be used: ${this.envWarning(meta, problem)}. Remove it, and add the key from the provider's own variable or paste it.`);
    const secret = await this.secretOf(meta);
    if (secret === undefined) {
      throw new KeyError(
        meta.source === 'env'
          ? `The environment variable ${meta.envVar} behind key ${meta.id} is not set.`
          : `The secret for key ${meta.id} is missing from secret storage. Remove it and add the key again.`,
      );
    }
    return { meta, secret };
  }

  /** Applies a validation result: invalid → disabled, rate limited → resting, valid → healthy. */
  async recordValidation(keyId: string, outcome: ValidationOutcome, retryAfterSeconds?: number): Promise<KeyMeta | undefined> {
    const now = this.clock.now();
    let status: KeyStatus | undefined;
    let restingUntil: string | undefined;
    if (outcome === 'valid') status = 'healthy';
    else if (outcome === 'invalid' || outcome === 'format_invalid') status = 'disabled';
    else if (outcome === 'rate_limited') {
      status = 'resting';
      restingUntil = new Date(now.getTime() + (retryAfterSeconds ?? DEFAULT_REST_SECONDS) * 1000).toISOString();
    }
    return this.patch(keyId, (k) => ({
      ...k,
      lastValidatedAt: now.toISOString(),
      lastValidation: outcome,
      ...(status ? { status, restingUntil } : {}),
    }));
  }

  /** Marks a key after a failed real request (track_request with a 401/429-like error). */
  async setStatus(keyId: string, status: KeyStatus, restSeconds = DEFAULT_REST_SECONDS): Promise<KeyMeta | undefined> {
    const restingUntil = status === 'resting' ? new Date(this.clock.now().getTime() + restSeconds * 1000).toISOString() : undefined;
    return this.patch(keyId, (k) => ({ ...k, status, restingUntil }));
  }

  /**
   * The secrets readableSecrets() last found, without reading the vault (empty until it ran): for
   * masking in synchronous paths, on top of the key-shape masking that catches any key.
   */
  cachedSecrets(): readonly string[] {
    return this.secretsCache?.secrets ?? [];
  }

  /**
   * Every secret that can be read now, skipping unreadable ones (a locked vault): what cannot be
   * read cannot leak. For scrubbing every reply, so the result is cached until the key metadata
   * changes (in this process or, through the state store, in another) or this pool writes the vault.
   */
  async readableSecrets(): Promise<readonly string[]> {
    return (await this.collectSecrets()).secrets;
  }

  private async collectSecrets(): Promise<{ secrets: readonly string[]; failures: unknown[] }> {
    // The stored metadata is the basis: every change of a key's secret also changes its metadata.
    const basis = this.state.get<unknown>(STATE_KEY);
    const cached = this.secretsCache;
    if (cached && cached.basis === basis && cached.generation === this.vaultGeneration) return { secrets: cached.secrets, failures: [] };
    const generation = this.vaultGeneration;
    const secrets: string[] = [];
    const failures: unknown[] = [];
    for (const k of this.all()) {
      try {
        const s = await this.secretOf(k);
        if (s) secrets.push(s);
      } catch (err) {
        failures.push(err);
      }
    }
    Object.freeze(secrets);
    // Not cached when a secret could not be read, or when the vault was written meanwhile.
    if (failures.length === 0 && generation === this.vaultGeneration) this.secretsCache = { basis, generation, secrets };
    return { secrets, failures };
  }

  // --- internals -------------------------------------------------------------------------------

  private readonly report: KeyListReport = { warnings: [] };
  /** Problems found in the stored key list (entries left out, a copy kept), for the host to show. */
  get warnings(): string[] {
    return this.report.warnings;
  }

  private stored(): KeyMeta[] {
    return this.readStored(this.state.get<unknown>(STATE_KEY));
  }

  private readStored(raw: unknown): KeyMeta[] {
    return readKeyList(raw, this.state, this.report);
  }

  private discovered(): KeyMeta[] {
    if (!this.opts.discoverEnv) return [];
    const stored = this.stored();
    const out: KeyMeta[] = [];
    for (const spec of PROVIDERS) {
      if (!spec.requiresKey) continue;
      const envVar = spec.envVars.find((v) => this.env[v]?.trim());
      if (!envVar || stored.some((k) => k.envVar === envVar)) continue;
      const persisted = this.state.get<Record<string, Partial<KeyMeta>>>(`${STATE_KEY}.env`)?.[`env:${envVar}`] ?? {};
      // No createdAt: when the variable was set is unknown, and any date we made up would show as its age.
      out.push({
        status: 'healthy',
        ...persisted,
        id: `env:${envVar}`,
        provider: spec.id,
        masked: maskKey(this.env[envVar]!.trim()),
        source: 'env',
        envVar,
        label: `from ${envVar}`,
      });
    }
    return out;
  }

  private all(): KeyMeta[] {
    return [...this.stored(), ...this.discovered()];
  }

  /** Why keys stored in the vault cannot be read now (headless without AIKM_PASSPHRASE), or undefined. */
  vaultLocked(): string | undefined {
    return this.vault.lockedReason?.();
  }

  /** Is the secret there to be read: an env key's variable is set, a vault key's vault is unlocked. */
  private hasMaterial(k: KeyMeta): boolean {
    if (k.source === 'vault') return this.vaultLocked() === undefined;
    return this.envProblem(k) === undefined;
  }

  /** Why an environment variable's key cannot be used: not set, or not a key of that provider's shape. */
  private envProblem(k: KeyMeta): 'unset' | 'format' | 'own' | undefined {
    if (k.envVar && /^AIKM_/i.test(k.envVar)) return 'own'; // stored by an older version that allowed it
    const value = k.envVar ? this.env[k.envVar]?.trim() : undefined;
    if (!value) return 'unset';
    return checkKeyFormat(k.provider, value).ok ? undefined : 'format';
  }

  private async vaultStore(name: string, secret: string): Promise<void> {
    this.vaultGeneration++;
    this.secretsCache = undefined;
    try {
      await this.vault.store(name, secret);
    } finally {
      this.vaultGeneration++;
      this.secretsCache = undefined;
    }
  }

  private async vaultDelete(name: string): Promise<void> {
    this.vaultGeneration++;
    this.secretsCache = undefined;
    try {
      await this.vault.delete(name);
    } finally {
      this.vaultGeneration++;
      this.secretsCache = undefined;
    }
  }

  private envWarning(k: KeyMeta, problem: 'format' | 'own'): string {
    return problem === 'own'
      ? `${k.envVar} is one of AI Key Manager's own variables, not an API key, so it is not used`
      : `${k.envVar} does not hold ${withArticle(getProvider(k.provider).displayName)} key (its value fails the format check), so it is not used`;
  }

  private async secretOf(k: KeyMeta): Promise<string | undefined> {
    if (k.source === 'env') return k.envVar ? this.env[k.envVar]?.trim() || undefined : undefined;
    return this.vault.get(secretName(k.id));
  }

  private resolveInput(provider: string, input: KeyInput, keyArg: 'api_key' | 'new_key' = 'api_key'): { secret: string; source: 'vault' | 'env'; envVar?: string } {
    const name = getProvider(provider).displayName;
    if (input.apiKey !== undefined && input.envVar !== undefined) {
      throw new KeyError(`Give either ${keyArg} or env_var, not both.`);
    }
    if (input.envVar !== undefined) {
      const v = input.envVar.trim();
      const spec = getProvider(provider);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) throw new KeyError(`'${input.envVar}' is not a valid environment variable name.`);
      // AI Key Manager's own variables hold its passphrase and settings: never a key to send anywhere.
      if (/^AIKM_/i.test(v)) {
        throw new KeyError(`${v} is one of AI Key Manager's own variables, not an API key. env_var must name the variable that holds the ${name} key, e.g. ${spec.envVars[0]}.`);
      }
      const value = this.env[v]?.trim();
      if (!value) throw new KeyError(`The environment variable ${v} is not set (or empty) where AI Key Manager runs.`);
      const format = checkKeyFormat(spec.id, value);
      if (!format.ok) {
        // Said without the value: it is somebody else's secret as likely as a mistyped key.
        const looks = format.otherProvider ? `; it looks like ${withArticle(getProvider(format.otherProvider).displayName)} key` : '';
        throw new KeyError(`The value of ${v} is not ${withArticle(name)} key (${spec.keyFormatHint}${looks}), so it was not used. Name ${spec.envVars.join(' or ')}, or a variable that holds ${withArticle(name)} key.`);
      }
      return { secret: value, source: 'env', envVar: v };
    }
    if (input.apiKey === undefined || input.apiKey === '') {
      throw new KeyError(`No ${name} key given. Pass ${keyArg} or env_var (in VS Code, leave both out to be asked in a password box).`);
    }
    return { secret: input.apiKey, source: 'vault' };
  }

  private pick(provider: string, keyId: string | undefined, verb: string): KeyMeta {
    const spec = getProvider(provider);
    if (!spec.requiresKey) {
      throw new KeyError(`${spec.displayName} does not use an API key, so there is no key to ${verb}. It only needs the server running (${spec.defaultBaseUrl} unless its base URL is changed).`);
    }
    const keys = this.all().filter((k) => k.provider === spec.id);
    if (keyId !== undefined) {
      const k = keys.find((x) => x.id === keyId);
      if (!k) {
        const ids = keys.map((x) => `${x.id} (${x.masked})`).join(', ');
        throw new KeyError(`No ${spec.displayName} key with id '${keyId}'. ${ids ? `Keys: ${ids}.` : 'None are stored.'}`);
      }
      return this.healed(k);
    }
    if (keys.length === 0) {
      throw new KeyError(`No key stored for ${spec.id}. Run 'AI Keys: Add API Key' or call add_api_key.`);
    }
    if (keys.length > 1 && verb !== 'use') {
      throw new KeyError(`There are ${keys.length} ${spec.displayName} keys; say which to ${verb} with key_id: ${keys.map((x) => `${x.id} (${x.masked})`).join(', ')}.`);
    }
    // For a request, prefer a key the router counts as usable.
    const healed = keys.map((k) => this.healed(k));
    return healed.find((k) => this.isUsable(k)) ?? healed.find((k) => k.status === 'healthy') ?? healed[0];
  }

  /** Healthy (after healing), not expired, and its secret is present. */
  private isUsable(k: KeyMeta): boolean {
    const now = this.clock.now().getTime();
    return k.status === 'healthy' && !(k.expiresAt && Date.parse(k.expiresAt) <= now) && this.hasMaterial(k);
  }

  private async refuseDuplicate(keys: KeyMeta[], secret: string, displayName: string): Promise<void> {
    for (const existing of keys) {
      if ((await this.secretOf(existing)) === secret) {
        throw new KeyError(`This ${displayName} key is already stored (id ${existing.id}, ${existing.masked}).`);
      }
    }
  }

  /** A resting key whose rest is over is healthy again. */
  private healed(k: KeyMeta): KeyMeta {
    if (k.status === 'resting' && (!k.restingUntil || Date.parse(k.restingUntil) <= this.clock.now().getTime())) {
      return { ...k, status: 'healthy', restingUntil: undefined };
    }
    return k;
  }

  private view(k: KeyMeta): KeyView {
    const now = this.clock.now().getTime();
    const since = k.rotatedAt ?? k.createdAt;
    const ageDays = since === undefined ? null : Math.max(0, Math.floor((now - Date.parse(since)) / DAY_MS));
    const warnings: string[] = [];
    if (k.expiresAt) {
      const left = (Date.parse(k.expiresAt) - now) / DAY_MS;
      if (left <= 0) warnings.push(`expired on ${k.expiresAt.slice(0, 10)}`);
      else if (left <= 14) warnings.push(`expires in ${Math.ceil(left)} day(s) (${k.expiresAt.slice(0, 10)})`);
    }
    if (k.source === 'vault' && ageDays !== null && ageDays >= 90) warnings.push(`not rotated for ${ageDays} days`);
    if (k.status === 'disabled') warnings.push('disabled: the provider rejected it; rotate or remove it');
    if (k.status === 'resting') warnings.push(`rate limited until ${k.restingUntil}`);
    const env = k.source === 'env' ? this.envProblem(k) : undefined;
    if (env === 'unset') warnings.push(`${k.envVar} is not set`);
    if (env === 'format' || env === 'own') warnings.push(this.envWarning(k, env));
    const locked = k.source === 'vault' ? this.vaultLocked() : undefined;
    if (locked) warnings.push(`cannot be used: ${locked}`);
    // A value that is not that provider's key may be any secret: not even its ends are shown.
    const masked = env === 'format' || env === 'own' ? '(hidden: not a key)' : k.masked;
    return { ...k, masked, ageDays, warnings };
  }

  private async patch(keyId: string, f: (k: KeyMeta) => KeyMeta): Promise<KeyMeta | undefined> {
    if (keyId.startsWith('env:')) {
      const current = this.discovered().find((k) => k.id === keyId);
      if (!current) return undefined;
      const next = f(current);
      const entry = JSON.parse(JSON.stringify({ status: next.status, restingUntil: next.restingUntil, lastValidatedAt: next.lastValidatedAt, lastValidation: next.lastValidation })) as Partial<KeyMeta>;
      await modifyState<Record<string, Partial<KeyMeta>>>(this.state, `${STATE_KEY}.env`, (all) => ({ ...(all ?? {}), [keyId]: entry }));
      this.fire();
      return next;
    }
    if (!this.stored().some((k) => k.id === keyId)) return undefined;
    // Applied to the key as stored when written (another process may have changed it meanwhile).
    let next: KeyMeta | undefined;
    await this.save((keys) => keys.map((k) => (k.id === keyId ? (next = f(k)) : k)));
    return next;
  }

  /**
   * Changes the stored key list by `change`, applied to the list as it is when written: where the
   * state is shared with other processes (headless), their additions and removals are kept.
   */
  private async save(change: (keys: KeyMeta[]) => KeyMeta[]): Promise<void> {
    await modifyState<unknown[]>(this.state, STATE_KEY, (current) => {
      // Drop undefined fields so state stays compact and JSON-clean.
      const next: unknown[] = change(this.readStored(current)).map((k) => JSON.parse(JSON.stringify(k)) as KeyMeta);
      // Rows of a newer version stay, so going back and forth between versions loses no key.
      const rows: unknown[] = Array.isArray(current) ? current : typeof current === 'object' && current !== null ? Object.values(current) : [];
      return [...next, ...rows.filter((r) => isForeignKeyRow(r) && !next.some((k) => (k as KeyMeta).id === r.id))];
    });
    this.fire();
  }

  private fire(): void {
    for (const l of this.listeners) l();
  }
}

