// The response cache's settings, apart from the cache itself so a host can read them without loading it.
export interface ResponseCacheOptions {
  ttlMs: number;
  maxBytes: number;
}

export const DEFAULT_CACHE: ResponseCacheOptions = { ttlMs: 3_600_000, maxBytes: 64 * 1024 * 1024 };
