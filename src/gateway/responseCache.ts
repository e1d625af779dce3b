// The gateway's optional exact-match response cache (off by default): a non-streamed generating
// request whose provider, path, query, body and meaning-bearing headers are byte-for-byte those of an
// earlier one gets that earlier 200 reply again, without going upstream. Least recently used
// entries go first when the size limit is reached; entries expire after the TTL.
import { createHash } from 'node:crypto';
import type * as http from 'node:http';
import { LRUCache } from 'lru-cache';

import type { ResponseCacheOptions } from './options';

export { DEFAULT_CACHE, type ResponseCacheOptions } from './options';

export interface CachedReply {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  model?: string;
}

/** Client headers that change what a provider answers, so they are part of the key. */
const KEYED_HEADERS = ['anthropic-version', 'anthropic-beta', 'openai-beta', 'openai-organization', 'openai-project', 'x-goog-user-project'] as const;

/** The most one reply may take; bigger replies are not kept. */
export const MAX_ENTRY_BYTES = 4 * 1024 * 1024;

export class ResponseCache {
  private readonly lru: LRUCache<string, CachedReply>;

  constructor(opts: ResponseCacheOptions) {
    const maxSize = Math.max(1024, Math.floor(opts.maxBytes));
    this.lru = new LRUCache<string, CachedReply>({
      maxSize,
      maxEntrySize: Math.min(maxSize, MAX_ENTRY_BYTES),
      sizeCalculation: (v) => Math.max(1, v.body.length + 256),
      ttl: Math.max(1000, Math.floor(opts.ttlMs)),
    });
  }

  /** The key of one request: provider, method, path, query, the headers that matter, and the body. */
  static key(provider: string, method: string, path: string, search: string, headers: http.IncomingHttpHeaders, body: Uint8Array): string {
    const h = createHash('sha256');
    h.update(`${provider}\0${method}\0${path}${search}\0`);
    for (const name of KEYED_HEADERS) h.update(`${name}:${String(headers[name] ?? '')}\0`);
    h.update(body);
    return h.digest('hex');
  }

  /** Whether the client asked not to be served from a cache (Cache-Control: no-cache / no-store). */
  static refused(headers: http.IncomingHttpHeaders): boolean {
    return /no-cache|no-store/i.test(String(headers['cache-control'] ?? ''));
  }

  get(key: string): CachedReply | undefined {
    return this.lru.get(key);
  }

  /** Keeps a reply when it fits (bigger ones are not kept). */
  set(key: string, reply: CachedReply): void {
    if (reply.body.length <= MAX_ENTRY_BYTES) this.lru.set(key, reply);
  }

  get size(): number {
    return this.lru.size;
  }

  clear(): void {
    this.lru.clear();
  }
}
