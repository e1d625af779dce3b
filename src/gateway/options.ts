// The gateway's settings and their defaults, apart from the gateway itself so a host can read them
// without loading it.
export interface ResponseCacheOptions {
  ttlMs: number;
  maxBytes: number;
}

export const DEFAULT_CACHE: ResponseCacheOptions = { ttlMs: 3_600_000, maxBytes: 64 * 1024 * 1024 };

export interface RetryPolicy {
  /** Tries per key for 5xx, connection errors and timeouts (first try included). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No new try (another key included) starts this long after the request came in. */
  maxTotalMs?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 4000, maxTotalMs: 60_000 };

/** How long to wait for a provider's answer (its response headers) on one try. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 300_000;
