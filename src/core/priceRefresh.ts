// Fresh prices without a release: the bundled genai-prices snapshot serves at once (offline too),
// then the last good data file kept by this host is used, and at most once a day the published data
// file is fetched (ETag, size limit), checked (shape, and sentinel models priced within reason of the
// bundled snapshot, so a corrupt or hostile file cannot price everything at $0), kept atomically and
// swapped in. Anything wrong keeps the data in use and says why.
import type * as GenaiPrices from '@pydantic/genai-prices';
import type { Clock } from './ports';
import type { PricingService } from './pricing';

/** genai-prices' published data file (the same JSON the package is built from). */
export const DEFAULT_PRICE_DATA_URL = 'https://raw.githubusercontent.com/pydantic/genai-prices/main/prices/new_data/v2/data.json';
export const PRICE_REFRESH_INTERVAL_MS = 24 * 60 * 60 * 1000;
export const MAX_PRICE_DATA_BYTES = 16 * 1024 * 1024;

/** Where a host keeps the last good data file (replaced atomically). */
export interface PriceDataStore {
  read(): Promise<string | undefined>;
  write(text: string): Promise<void>;
}

interface Kept {
  v: 1;
  url: string;
  etag?: string;
  /** When this data was downloaded, and when the URL was last asked. */
  fetchedAt: string;
  checkedAt: string;
  data: GenaiPrices.Provider[];
}

export interface PriceRefreshOptions {
  pricing: PricingService;
  store: PriceDataStore;
  clock: Clock;
  url?: string;
  enabled?: boolean;
  fetch?: typeof fetch;
  log?: (line: string) => void;
  timeoutMs?: number;
}

/** Models every data file must price, per genai-prices provider: a check that it is real data. */
const SENTINELS: readonly [model: string, provider: string][] = [
  ['gpt-4o', 'openai'],
  ['claude-3-5-sonnet', 'anthropic'],
  ['gemini-2.0-flash', 'google'],
];

/** Why `data` is not a usable price data file, or undefined; `pricing` prices the sentinels with it. */
export function checkPriceData(data: unknown, pricing: PricingService): string | undefined {
  if (!Array.isArray(data)) return 'it is not a list of providers';
  if (data.length < 5) return `it lists only ${data.length} providers`;
  let models = 0;
  for (const [i, p] of data.entries()) {
    if (typeof p !== 'object' || p === null || typeof (p as { id?: unknown }).id !== 'string' || !Array.isArray((p as { models?: unknown }).models)) return `provider ${i} has no id or no models`;
    for (const m of (p as { models: unknown[] }).models) {
      if (typeof m !== 'object' || m === null || typeof (m as { id?: unknown }).id !== 'string' || typeof (m as { match?: unknown }).match !== 'object' || (m as { prices?: unknown }).prices === undefined) {
        return `a model of ${(p as { id: string }).id} has no id, match or prices`;
      }
      models++;
    }
  }
  if (models < 100) return `it lists only ${models} models`;
  const providers = data as GenaiPrices.Provider[];
  for (const [model, provider] of SENTINELS) {
    let now: { input: number; output: number } | undefined;
    let bundled: { input: number; output: number } | undefined;
    try {
      now = pricing.ratesWith(model, provider, providers);
      bundled = pricing.ratesWith(model, provider);
    } catch (err) {
      return `${model} cannot be priced with it (${err instanceof Error ? err.message : String(err)})`;
    }
    if (!now) return `it has no price for ${model}`;
    if (!(now.input > 0 && now.output > 0)) return `it prices ${model} at $0`;
    if (bundled && (now.input > bundled.input * 10 || now.input < bundled.input / 10 || now.output > bundled.output * 10 || now.output < bundled.output / 10)) {
      return `its price for ${model} ($${now.input}/$${now.output} per million) is more than 10× off the bundled one ($${bundled.input}/$${bundled.output})`;
    }
  }
  return undefined;
}

export class PriceRefresher {
  private readonly url: string;
  private readonly enabled: boolean;
  private kept: Kept | undefined;
  private running: Promise<string> | undefined;

  constructor(private readonly opts: PriceRefreshOptions) {
    this.url = opts.url ?? DEFAULT_PRICE_DATA_URL;
    this.enabled = opts.enabled ?? true;
  }

  /** Uses the last good data kept (when it came from the same URL), then refreshes if a day has passed. */
  async start(): Promise<string> {
    const text = await this.opts.store.read().catch(() => undefined);
    if (text !== undefined) {
      const kept = parseKept(text);
      const why = !kept ? 'it is unreadable' : kept.url !== this.url ? 'it came from another URL' : checkPriceData(kept.data, this.opts.pricing);
      if (why || !kept) this.say(`prices: the kept price data is not used (${why}); the bundled snapshot serves`);
      else {
        try {
          this.opts.pricing.useData(kept.data, { kind: 'refreshed', fetchedAt: kept.fetchedAt, url: kept.url });
          this.kept = kept;
        } catch (err) {
          this.say(`prices: the kept price data is not used (${err instanceof Error ? err.message : String(err)})`);
        }
      }
    }
    if (!this.enabled) return 'Price refresh is off; the prices in use stay as they are.';
    const due = !this.kept || this.opts.clock.now().getTime() - Date.parse(this.kept.checkedAt) >= PRICE_REFRESH_INTERVAL_MS;
    return due ? this.refresh() : `Prices were checked at ${this.kept?.checkedAt}; the next check is a day later.`;
  }

  /** Fetches the data file now (one at a time); resolves with what happened, in words. Never throws. */
  refresh(): Promise<string> {
    this.running ??= this.fetchOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async fetchOnce(): Promise<string> {
    const now = this.opts.clock.now().toISOString();
    const keep = (why: string): string => {
      const msg = `prices: not refreshed from ${this.url}: ${why}. The prices in use stay.`;
      this.say(msg);
      return msg;
    };
    let res: Response;
    try {
      const f = this.opts.fetch ?? fetch;
      res = await f(this.url, {
        headers: { accept: 'application/json', ...(this.kept?.etag && this.kept.url === this.url ? { 'if-none-match': this.kept.etag } : {}) },
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
        redirect: 'follow',
      });
    } catch (err) {
      return keep(`it could not be reached (${err instanceof Error ? err.message : String(err)})`);
    }
    if (res.status === 304 && this.kept) {
      this.kept = { ...this.kept, checkedAt: now };
      await this.save(this.kept);
      return 'Prices are up to date (not modified since the last download).';
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      return keep(`it answered HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > MAX_PRICE_DATA_BYTES) {
      await res.body?.cancel().catch(() => undefined);
      return keep(`it is ${declared} bytes, over the ${MAX_PRICE_DATA_BYTES}-byte limit`);
    }
    const text = await readLimited(res, MAX_PRICE_DATA_BYTES);
    if (text === undefined) return keep(`it is over the ${MAX_PRICE_DATA_BYTES}-byte limit`);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      return keep('it is not JSON');
    }
    const why = checkPriceData(data, this.opts.pricing);
    if (why) return keep(`${why}`);
    const kept: Kept = { v: 1, url: this.url, ...(res.headers.get('etag') ? { etag: res.headers.get('etag')! } : {}), fetchedAt: now, checkedAt: now, data: data as GenaiPrices.Provider[] };
    try {
      this.opts.pricing.useData(kept.data, { kind: 'refreshed', fetchedAt: now, url: this.url });
    } catch (err) {
      return keep(`the price library refused it (${err instanceof Error ? err.message : String(err)})`);
    }
    this.kept = kept;
    await this.save(kept);
    const msg = `Prices refreshed from ${this.url} at ${now}.`;
    this.say(`prices: ${msg}`);
    return msg;
  }

  private async save(kept: Kept): Promise<void> {
    try {
      await this.opts.store.write(JSON.stringify(kept));
    } catch (err) {
      this.say(`prices: could not keep the price data (${err instanceof Error ? err.message : String(err)}); it is used until the next start`);
    }
  }

  private say(line: string): void {
    this.opts.log?.(line);
  }
}

function parseKept(text: string): Kept | undefined {
  try {
    const k = JSON.parse(text) as Partial<Kept>;
    return k && k.v === 1 && typeof k.url === 'string' && typeof k.fetchedAt === 'string' && typeof k.checkedAt === 'string' && Array.isArray(k.data) ? (k as Kept) : undefined;
  } catch {
    return undefined;
  }
}

/** The body as text, or undefined once it passes `limit` bytes (the rest is not read). */
async function readLimited(res: Response, limit: number): Promise<string | undefined> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(out);
}
