// Checking keys: the format, then one free request to the provider (listing models). Updates each
// key's status and the provider's health, and audits the check.
import type { KeyPool, KeyView } from './keys';
import type { AuditLog, AuditVia } from './audit';
import type { HealthTracker } from './health';
import { PROVIDERS, checkKeyFormat, getProvider } from './providers';
import { notJudged, validateKeyLive, type LiveValidationResult, type UnreachableReason } from './validate';

export interface ValidateResult {
  provider: string;
  keyId?: string;
  masked?: string;
  format: { ok: boolean; message: string };
  outcome: 'valid' | 'invalid' | 'rate_limited' | 'unreachable' | 'format_invalid' | 'skipped';
  /** Why the provider could not be reached (outcome 'unreachable'); the key was then not judged. */
  reason?: UnreachableReason;
  httpStatus?: number;
  latencyMs?: number;
  retryAfterSeconds?: number;
  message: string;
  keyStatus?: string;
}

const VALIDATE_CONCURRENCY = 4;
/** How long Validate All waits for an Ollama that was never set up before deciding it is not running. */
const PROBE_TIMEOUT_MS = 1500;

export interface KeyCheckerDeps {
  keys: KeyPool;
  health: HealthTracker;
  audit: AuditLog;
  baseUrl(provider: string): string;
  disabled(): readonly string[];
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export class KeyChecker {
  constructor(private readonly deps: KeyCheckerDeps) {}

  /** Format check, then (if live) one free request to the provider. Updates the key's status. */
  async validateKey(provider: string, keyId: string | undefined, live: boolean, via: AuditVia): Promise<ValidateResult> {
    const spec = getProvider(provider);
    let secret: string | undefined;
    let meta: KeyView | undefined;
    if (spec.requiresKey) {
      const found = await this.deps.keys.secret(spec.id, keyId);
      secret = found.secret;
      meta = this.deps.keys.list(spec.id).find((k) => k.id === found.meta.id);
    }
    const format = secret === undefined ? { ok: true, message: `${spec.displayName} does not use an API key.` } : checkKeyFormat(spec.id, secret);
    const base: ValidateResult = { provider: spec.id, keyId: meta?.id, masked: meta?.masked, format, outcome: 'skipped', message: '' };
    if (!live) {
      const r = { ...base, outcome: format.ok ? 'skipped' : 'format_invalid', message: format.ok ? 'Format looks right; live check not requested.' : format.message } as ValidateResult;
      return r;
    }
    let live_: LiveValidationResult;
    try {
      live_ = await validateKeyLive(spec, secret, {
        baseUrl: this.deps.baseUrl(spec.id),
        timeoutMs: this.deps.timeoutMs,
        fetchImpl: this.deps.fetchImpl,
      });
    } catch (err) {
      live_ = notJudged(spec, { outcome: 'unreachable', reason: 'network', latencyMs: 0, message: err instanceof Error ? err.message : String(err) });
    }
    // One unreachable check is one failure like any other: cooldown comes after FAILURE_LIMIT in a row.
    if (live_.outcome === 'unreachable') this.deps.health.failure(spec.id, live_.message);
    else if (live_.outcome === 'valid') this.deps.health.success(spec.id);
    let keyStatus: string | undefined;
    if (meta) keyStatus = (await this.deps.keys.recordValidation(meta.id, live_.outcome, live_.retryAfterSeconds))?.status;
    this.deps.audit.record({ action: 'validate_key', via, provider: spec.id, keyId: meta?.id, ok: live_.outcome === 'valid', detail: live_.outcome });
    return {
      ...base,
      outcome: live_.outcome,
      reason: live_.reason,
      httpStatus: live_.httpStatus,
      latencyMs: live_.latencyMs,
      retryAfterSeconds: live_.retryAfterSeconds,
      message: live_.message,
      keyStatus,
    };
  }

  /**
   * Validates every stored key, a few at a time, and each keyless provider (Ollama) the user set up:
   * one with a base URL configured, or one that answers at its default address. An Ollama that was
   * never set up and is not running is not reported.
   */
  async validateAll(via: AuditVia, onProgress?: (done: number, total: number) => void): Promise<ValidateResult[]> {
    const jobs: { provider: string; keyId?: string }[] = this.deps.keys.list().map((k) => ({ provider: k.provider, keyId: k.id }));
    const keyless = PROVIDERS.filter((spec) => !spec.requiresKey && !this.deps.disabled().includes(spec.id));
    const setUp = await Promise.all(keyless.map(async (spec) => this.isConfigured(spec.id) || (await this.answers(spec.id))));
    keyless.forEach((spec, i) => setUp[i] && jobs.push({ provider: spec.id }));
    const results: ValidateResult[] = new Array(jobs.length);
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const i = next++;
        const j = jobs[i];
        try {
          results[i] = await this.validateKey(j.provider, j.keyId, true, via);
        } catch (err) {
          results[i] = { provider: j.provider, keyId: j.keyId, format: { ok: false, message: '' }, outcome: 'unreachable', message: err instanceof Error ? err.message : String(err) };
        }
        onProgress?.(++done, jobs.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(VALIDATE_CONCURRENCY, jobs.length) }, worker));
    return results;
  }

  /** A base URL for this provider was set (setting or environment), rather than the default. */
  private isConfigured(provider: string): boolean {
    const spec = getProvider(provider);
    return safe(() => this.deps.baseUrl(spec.id)) !== spec.defaultBaseUrl;
  }

  /** One quick, unrecorded look at whether a keyless provider answers at its address. */
  private async answers(provider: string): Promise<boolean> {
    const r = await validateKeyLive(getProvider(provider), undefined, {
      baseUrl: this.deps.baseUrl(provider),
      timeoutMs: Math.min(this.deps.timeoutMs ?? PROBE_TIMEOUT_MS, PROBE_TIMEOUT_MS),
      fetchImpl: this.deps.fetchImpl,
    }).catch(() => undefined);
    return r !== undefined && r.outcome !== 'unreachable';
  }
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}
