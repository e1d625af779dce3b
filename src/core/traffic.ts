// What the gateway asks of the core for real traffic: which keys to try (least recently used first),
// the key itself only as the headers of the upstream request, what each answer says about a key
// (rate limited → rests, rejected → disabled), and whether the budget lets a paid request through.
import type { Clock } from './ports';
import type { KeyPool } from './keys';
import type { AuditLog } from './audit';
import type { BudgetStatus } from './budget';
import { authHeaders } from './endpoints';
import { getProvider } from './providers';
import { formatUsd } from './money';
import { maskAll } from './redact';

/** How long a key rests after a 429 that said nothing about when to come back. */
export const DEFAULT_REST_MS = 60_000;

export interface TrafficDeps {
  keys: KeyPool;
  audit: AuditLog;
  clock: Clock;
  budget(): BudgetStatus;
}

/** A key the provider rejected in real traffic: disabled until the user acts. */
export interface KeyDisabled {
  provider: string;
  keyId: string;
  masked: string;
  status: number;
}

export class Traffic {
  /** Key id → when a request last went out with it (ms), for least-recently-used order. */
  private readonly lastUsed = new Map<string, number>();
  private readonly disabledListeners = new Set<(e: KeyDisabled) => void>();

  constructor(private readonly deps: TrafficDeps) {}

  /** The keys that may serve `provider` now, least recently used first. Empty for a keyless provider. */
  keysFor(provider: string): { id: string; masked: string }[] {
    const spec = getProvider(provider);
    if (!spec.requiresKey) return [];
    return this.deps.keys
      .usable(spec.id)
      .map((k) => ({ id: k.id, masked: k.masked, used: this.lastUsed.get(k.id) ?? 0 }))
      .sort((a, b) => a.used - b.used)
      .map(({ id, masked }) => ({ id, masked }));
  }

  /** Why no key can serve `provider` now, and (when all rest) when the first one may again. */
  noKeyReason(provider: string): { message: string; retryAt?: Date } {
    const spec = getProvider(provider);
    const keys = this.deps.keys.list(spec.id);
    const locked = this.deps.keys.vaultLocked();
    if (locked && keys.length > 0 && keys.every((k) => k.source === 'vault')) return { message: `The ${spec.displayName} keys cannot be read: ${locked}` };
    if (keys.length === 0) return { message: `No key stored for ${spec.displayName}. Run 'AI Keys: Add API Key' (or the MCP tool add_api_key).` };
    const resting = keys.filter((k) => k.status === 'resting' && k.restingUntil).map((k) => Date.parse(k.restingUntil!));
    if (resting.length > 0) {
      const retryAt = new Date(Math.min(...resting));
      return { message: `Every ${spec.displayName} key is rate limited; the first may be used again at ${retryAt.toISOString()}.`, retryAt };
    }
    return { message: `No ${spec.displayName} key can be used: ${keys.map((k) => `${k.masked} is ${k.status}`).join(', ')}. Rotate or add a key with 'AI Keys: Rotate API Key'.` };
  }

  /** Headers that authenticate a request to the provider with this key. Only for the upstream request. */
  async authFor(provider: string, keyId: string | undefined): Promise<Record<string, string>> {
    const spec = getProvider(provider);
    if (!spec.requiresKey || keyId === undefined) return authHeaders(spec, undefined);
    const { secret } = await this.deps.keys.secret(spec.id, keyId);
    this.lastUsed.set(keyId, this.deps.clock.now().getTime());
    return authHeaders(spec, secret);
  }

  /** `text` with the stored secrets and key-shaped tokens masked (an upstream error body may quote a key). */
  mask(text: string): string {
    return maskAll(text, this.deps.keys.cachedSecrets());
  }

  /** The provider rate-limited this key: it rests for `ms` (or the default) and others serve meanwhile. */
  async rateLimited(provider: string, keyId: string, ms: number | undefined): Promise<void> {
    const seconds = Math.max(1, Math.ceil((ms ?? DEFAULT_REST_MS) / 1000));
    await this.deps.keys.setStatus(keyId, 'resting', seconds);
    this.deps.audit.record({ action: 'key_rate_limited', via: 'gateway', provider, keyId, ok: false, detail: `resting ${seconds} s` });
  }

  /** The provider rejected this key: it is disabled until the user rotates or re-validates it. */
  async rejected(provider: string, keyId: string, status: number): Promise<void> {
    await this.deps.keys.setStatus(keyId, 'disabled');
    this.deps.audit.record({ action: 'key_disabled', via: 'gateway', provider, keyId, ok: false, detail: `the provider answered HTTP ${status}` });
    const masked = this.deps.keys.list(provider).find((k) => k.id === keyId)?.masked ?? keyId;
    for (const l of this.disabledListeners) {
      try {
        l({ provider: getProvider(provider).id, keyId, masked, status });
      } catch {
        // A listener never breaks a request.
      }
    }
  }

  /** Calls `listener` whenever real traffic disables a key; returns the unsubscribe. */
  onKeyDisabled(listener: (e: KeyDisabled) => void): () => void {
    this.disabledListeners.add(listener);
    return () => this.disabledListeners.delete(listener);
  }

  /**
   * Why the budget refuses a request to `provider` now (enforcement on, a limit reached, a paid
   * provider), or undefined. Local models always pass.
   */
  budgetRefusal(provider: string): string | undefined {
    if (!getProvider(provider).requiresKey) return undefined;
    const b = this.deps.budget();
    if (!b.enforce) return undefined;
    const p = b.day.exceeded ? b.day : b.month.exceeded ? b.month : undefined;
    if (!p || p.limit === null) return undefined;
    const which = p.period === 'day' ? 'daily' : 'monthly';
    return `AI Key Manager: ${which} budget ${formatUsd(p.limit)} reached (${formatUsd(p.spent)} spent). Raise it with 'AI Keys: Set Budget', or turn enforcement off.`;
  }
}
