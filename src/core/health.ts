// Provider health: after FAILURE_LIMIT consecutive failures a provider cools down for COOLDOWN_MS,
// and a successful request or check ends that early. Kept in memory: health is about now.
import type { Clock } from './ports';
import { systemClock } from './ports';
import { maskKeyShapes } from './redact';

export const FAILURE_LIMIT = 3;
export const COOLDOWN_MS = 5 * 60_000;

export interface ProviderHealth {
  healthy: boolean;
  consecutiveFailures: number;
  cooldownUntil?: string;
  lastError?: string;
}

export class HealthTracker {
  private readonly state = new Map<string, { failures: number; until?: number; lastError?: string }>();

  constructor(private readonly clock: Clock = systemClock) {}

  success(provider: string): void {
    this.state.set(provider, { failures: 0 });
  }

  failure(provider: string, error?: string, immediate = false): void {
    const s = this.state.get(provider) ?? { failures: 0 };
    s.failures += 1;
    // Shown by stats, routing skip reasons, resources and prompts: never keep a key-shaped token.
    s.lastError = error === undefined ? s.lastError : maskKeyShapes(error);
    if (immediate || s.failures >= FAILURE_LIMIT) s.until = this.clock.now().getTime() + COOLDOWN_MS;
    this.state.set(provider, s);
  }

  /** Whether anything was heard from the provider since start-up (a request or a live check). */
  checked(provider: string): boolean {
    return this.state.has(provider);
  }

  get(provider: string): ProviderHealth {
    const s = this.state.get(provider);
    if (!s) return { healthy: true, consecutiveFailures: 0 };
    const cooling = s.until !== undefined && s.until > this.clock.now().getTime();
    return {
      healthy: !cooling,
      consecutiveFailures: s.failures,
      cooldownUntil: cooling ? new Date(s.until!).toISOString() : undefined,
      lastError: s.lastError,
    };
  }
}
