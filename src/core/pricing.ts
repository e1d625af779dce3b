// USD cost of a request, from the @pydantic/genai-prices database or user overrides.

import type * as GenaiPrices from '@pydantic/genai-prices';
import type { CostBreakdown } from './types';
import { PROVIDERS, type ProviderSpec } from './providers';
import { PRICE_CORRECTIONS, type PriceCorrection, type PriceRow } from './priceCorrections';

/**
 * Token counts of one request. `inputTokens` excludes cached tokens (like Anthropic's
 * `usage.input_tokens`); cache reads and writes are counted separately at their own rates.
 */
export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
}

/** A user-set price in USD per million tokens. Wins over the database. */
export interface PriceOverride {
  model: string;
  provider?: string;
  inputPerMTok: number;
  outputPerMTok: number;
  /** Defaults to `inputPerMTok`. */
  cacheReadPerMTok?: number;
  /** Defaults to `inputPerMTok`. */
  cacheWritePerMTok?: number;
}

export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
  readonly suggestions: string[];
  readonly model: string;
  readonly provider: string | undefined;

  constructor(model: string, provider: string | undefined, suggestions: string[]) {
    const where = provider ? ` for provider ${provider}` : '';
    const hint = suggestions.length > 0 ? ` Did you mean: ${suggestions.join(', ')}?` : '';
    super(`No price known for model "${model}"${where}.${hint} Check the model name, or add a price override for it.`);
    this.model = model;
    this.provider = provider;
    this.suggestions = suggestions;
  }
}

type Genai = typeof GenaiPrices;

/** The version of @pydantic/genai-prices bundled (set at build time). */
declare const AIKM_GENAI_PRICES_VERSION: string | undefined;
const GENAI_PRICES_VERSION: string = typeof AIKM_GENAI_PRICES_VERSION === 'string' ? AIKM_GENAI_PRICES_VERSION : 'unknown';

/** Where the database prices come from: the snapshot bundled with this version, or a refreshed data file. */
export type PriceDataSource = { kind: 'bundled'; version: string } | { kind: 'refreshed'; fetchedAt: string; url: string };
type PriceValue = GenaiPrices.ModelPrice[string];

let genai: Genai | undefined;

/** The price database is large: load it on first use so extension activation stays fast. */
function db(): Genai {
  genai ??= require('@pydantic/genai-prices') as Genai;
  return genai;
}

// From the provider catalog: each entry's genai-prices id, model families and whether it resells.
const PRICED = PROVIDERS.filter((p): p is ProviderSpec & { pricingId: string } => p.pricingId !== null);
/** Our provider ids and aliases → genai-prices provider ids. */
const GENAI_PROVIDER: Readonly<Record<string, string>> = Object.fromEntries(PRICED.flatMap((p) => [p.id, ...p.aliases].map((name) => [name, p.pricingId])));
/** genai-prices provider ids → ours. */
const OUR_PROVIDER: Readonly<Record<string, string>> = Object.fromEntries(PRICED.map((p) => [p.pricingId, p.id]));
/** Providers whose models are free (local): not looked up. */
const LOCAL_PROVIDERS = new Set(PROVIDERS.filter((p) => p.pricingId === null).flatMap((p) => [p.id, ...p.aliases]));
/** Tried in this order when no provider is given and the database cannot infer one: model makers, hosts, resellers. */
const SEARCH_ORDER = [...PRICED.filter((p) => p.modelFamilies), ...PRICED.filter((p) => !p.modelFamilies && !p.aggregator), ...PRICED.filter((p) => p.aggregator)].map((p) => p.pricingId);

const INFER_RULES: ReadonlyArray<readonly [RegExp, string]> = PRICED.flatMap((p) => (p.modelFamilies ? [[p.modelFamilies, p.id] as const] : []));

interface Counts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

interface DbMatch {
  calc: GenaiPrices.PriceCalculation;
  provider: string;
}

export class PricingService {
  private overrides: PriceOverride[] = [];
  private readonly now: () => Date;
  private readonly nameCache = new Map<string, string[]>();

  private source: PriceDataSource = { kind: 'bundled', version: GENAI_PRICES_VERSION };

  constructor(opts: { overrides?: PriceOverride[]; now?: () => Date } = {}) {
    this.now = opts.now ?? (() => new Date());
    if (opts.overrides) this.setOverrides(opts.overrides);
  }

  /** Where the database prices come from now: the bundled snapshot, or data refreshed at a time. */
  get dataSource(): PriceDataSource {
    return this.source;
  }

  /**
   * Uses `providers` (genai-prices' data file, already checked with checkPriceData) instead of what is
   * active; throws, changing nothing, when the library refuses it.
   */
  useData(providers: GenaiPrices.Provider[], source: PriceDataSource): void {
    db().updatePrices(({ setProviderData }: { setProviderData: (d: GenaiPrices.Provider[]) => void }) => setProviderData(providers));
    this.nameCache.clear();
    this.source = source;
  }

  /** Where a cost's price came from, in words (with the data's version or date). */
  sourceText(source: CostBreakdown['source']): string {
    if (source === 'override') return 'your price override (aiKeyManager.pricing.overrides)';
    if (source === 'correction') return "a dated price correction shipped with AI Key Manager (the data's price is out of date; see src/core/priceCorrections.ts)";
    if (source === 'provider') return "the provider's own figure in its reply";
    if (source === 'local') return 'a local model: no charge';
    if (source === 'unpriced') return 'no price known';
    const d = this.source;
    return d.kind === 'bundled' ? `genai-prices ${d.version} (the snapshot bundled with AI Key Manager)` : `genai-prices data refreshed ${utcMinute(d.fetchedAt)} from ${d.url}`;
  }

  /** The price data in use, in a few words: "genai-prices 0.1.8 bundled", "genai-prices refreshed 2026-12-01 09:30 UTC". */
  dataLabel(): string {
    const d = this.source;
    return d.kind === 'bundled' ? `genai-prices ${d.version} bundled` : `genai-prices refreshed ${utcMinute(d.fetchedAt)}`;
  }

  /** Where this cost's price came from, in words; a correction says which and why. */
  costSourceText(cost: Pick<CostBreakdown, 'source' | 'correction'>): string {
    const c = cost.source === 'correction' ? cost.correction : undefined;
    return c ? `a dated price correction shipped with AI Key Manager: ${c.why} (since ${c.since}; ${c.source})` : this.sourceText(cost.source);
  }

  /** The database's price for a model, per million tokens in and out, priced with `providers` (or the active data). */
  ratesWith(model: string, genaiProvider: string, providers?: GenaiPrices.Provider[]): { input: number; output: number } | undefined {
    const provider = providers?.find((p) => p.id === genaiProvider);
    if (providers && !provider) return undefined;
    const calc = db().calcPrice({ input_tokens: 1_000_000, output_tokens: 1_000_000 }, model, { providerId: genaiProvider, ...(provider && { provider }), timestamp: this.now() });
    return calc ? { input: calc.input_price, output: calc.output_price } : undefined;
  }

  setOverrides(overrides: PriceOverride[]): void {
    for (const o of overrides) validateOverride(o);
    this.overrides = overrides.map((o) => ({ ...o }));
  }

  /** USD cost; throws UnknownModelError (with close matches) for an unknown model. */
  estimate(model: string, tokens: TokenCounts, provider?: string): CostBreakdown {
    const counts = validateTokens(tokens);
    const name = validateModel(model);
    const prov = normalizeProvider(provider) ?? inferProvider(name);

    const override = findIn(this.overrides, name, prov);
    if (override) return overrideCost(name, override.provider ?? prov ?? 'unknown', override, counts);
    const corrected = this.corrected(name, prov, counts);
    if (corrected) return corrected;

    if (prov !== undefined && LOCAL_PROVIDERS.has(prov)) return breakdown(name, 'local', 0, 0, 0, 0, 0, 'local');

    const match = this.lookup(name, prov, counts);
    if (!match) throw new UnknownModelError(name, prov, this.suggest(name, prov));
    // A given provider (e.g. openrouter priced at the vendor's rate) is who was actually called.
    return dbCost(match, normalizeProvider(provider) ?? match.provider, counts);
  }

  /** The model's context window in tokens, when the price data knows it. */
  contextWindow(model: string, provider?: string): number | undefined {
    const prov = normalizeProvider(provider) ?? inferProvider(model);
    const zero = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    // An alias corrected to the model it names today has that model's window too.
    const c = this.correctionFor(model.trim(), prov);
    const name = c && 'aliasOf' in c ? c.aliasOf : model.trim();
    const w = this.lookup(name, prov, zero)?.calc.model.context_window;
    return typeof w === 'number' && w > 0 ? w : undefined;
  }

  /** Close matches for a model name (edit distance / substring), best first. */
  suggest(model: string, provider?: string, limit = 5): string[] {
    const query = modelKey(model);
    if (query === '' || limit <= 0) return [];
    const prov = normalizeProvider(provider);
    if (prov !== undefined && LOCAL_PROVIDERS.has(prov)) return [];

    const candidates = new Set<string>();
    for (const o of this.overrides) {
      if (!prov || !o.provider || normalizeProvider(o.provider) === prov) candidates.add(o.model);
    }
    const providers = prov ? [GENAI_PROVIDER[prov] ?? prov] : SEARCH_ORDER;
    for (const p of providers) for (const n of this.modelNames(p)) candidates.add(n);

    const ranked = [...candidates]
      .map((c) => ({ c, key: modelKey(c), score: similarity(query, modelKey(c)) }))
      // Not the name asked about itself (the data may list it under another model, which was refused).
      .filter((x) => x.score < 0.45 && x.key !== query)
      .sort((a, b) => a.score - b.score || a.c.length - b.c.length || a.c.localeCompare(b.c));
    // One name per model: "claude-3.5-sonnet" and "anthropic/claude-3-5-sonnet" are the same suggestion.
    const seen = new Set<string>();
    const out: string[] = [];
    for (const { c, key } of ranked) {
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(c);
      if (out.length === limit) break;
    }
    return out;
  }

  /** Whether a model is priced (override or database). */
  has(model: string, provider?: string): boolean {
    const name = model.trim();
    if (name === '') return false;
    const prov = normalizeProvider(provider) ?? inferProvider(name);
    if (findIn(this.overrides, name, prov)) return true;
    if (this.corrected(name, prov, { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 })) return true;
    if (prov !== undefined && LOCAL_PROVIDERS.has(prov)) return true;
    return this.lookup(name, prov, { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 }) !== undefined;
  }

  /**
   * The data's price per million tokens for a model (none when it has no price for exactly that
   * model), at noon UTC today: a correction is about list prices, not an off-peak hour.
   */
  dataRates(model: string, provider: string): { input: number; output: number } | undefined {
    const noon = new Date(`${this.now().toISOString().slice(0, 10)}T12:00:00Z`);
    const calc = this.lookup(model, normalizeProvider(provider), { input: 1_000_000, output: 1_000_000, cacheRead: 0, cacheWrite: 0 }, noon)?.calc;
    return calc ? { input: calc.input_price, output: calc.output_price } : undefined;
  }

  /** The shipped correction for a model, while the data still says what the row says it said. */
  private correctionFor(name: string, prov: string | undefined): PriceCorrection | undefined {
    const c = findIn(PRICE_CORRECTIONS, name, prov);
    return c && this.dataStillSays(c) ? c : undefined;
  }

  /** The cost by a shipped correction (correctionFor). */
  private corrected(name: string, prov: string | undefined, counts: Counts): CostBreakdown | undefined {
    const c = this.correctionFor(name, prov);
    if (!c) return undefined;
    const row = { since: c.since, source: c.source, why: c.why };
    if (!('aliasOf' in c)) return { ...overrideCost(c.model, c.provider, c, counts, 'correction'), correction: row };
    // An alias: the data's price for the model it names today (none: the data lost that model, so no correction).
    const match = this.lookup(c.aliasOf, c.provider, counts);
    return match && { ...dbCost(match, c.provider, counts), source: 'correction', correction: row };
  }

  /** Whether the data in use still says what it said when `c` was written (else the data wins). */
  private dataStillSays(c: PriceCorrection): boolean {
    const now = this.dataRates(c.model, c.provider);
    if (c.dataSaid === null) return now === undefined;
    return now !== undefined && Math.abs(now.input - c.dataSaid.input) < 1e-9 && Math.abs(now.output - c.dataSaid.output) < 1e-9;
  }

  private lookup(model: string, prov: string | undefined, counts: Counts, at?: Date): DbMatch | undefined {
    const { calcPrice } = db();
    const usage: GenaiPrices.Usage = {
      // genai-prices counts input_tokens as the total, cache reads and writes included.
      input_tokens: counts.input + counts.cacheRead + counts.cacheWrite,
      cache_read_tokens: counts.cacheRead,
      cache_write_tokens: counts.cacheWrite,
      output_tokens: counts.output,
    };
    const timestamp = at ?? this.now();
    for (const [name, providerId] of candidates(model, prov)) {
      const calc = calcPrice(usage, name, { providerId, timestamp });
      // The data matches by prefix: "gemini-1.5-flash-8b" finds "gemini-1.5-flash". Another size or tier is another model.
      if (calc && sameModel(name, calc.model)) return { calc, provider: OUR_PROVIDER[calc.provider.id] ?? calc.provider.id };
    }
    return undefined;
  }

  /** The ids and exact names of a provider's models in the database: what a suggestion may name (prefix patterns are fragments). */
  private modelNames(genaiProvider: string): string[] {
    let names = this.nameCache.get(genaiProvider);
    if (!names) {
      const found = new Set<string>();
      for (const m of db().findProvider({ providerId: genaiProvider })?.models ?? []) {
        found.add(m.id);
        collectExactNames(m.match, found);
      }
      names = [...found];
      this.nameCache.set(genaiProvider, names);
    }
    return names;
  }
}

/** (model name, genai provider id) pairs to try, most literal first. */
function candidates(model: string, prov: string | undefined): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  const add = (name: string, p: string | undefined): void => {
    if (!out.some(([n, q]) => n === name && q === p)) out.push([name, p]);
  };
  const genaiProv = prov ? (GENAI_PROVIDER[prov] ?? prov) : undefined;
  const bare = model.replace(/^models\//i, '');
  add(model, genaiProv);
  add(bare, genaiProv);

  const slash = bare.indexOf('/');
  const vendor = slash > 0 ? bare.slice(0, slash).toLowerCase() : undefined;
  const rest = slash > 0 ? bare.slice(slash + 1) : bare;
  // "anthropic/claude-…": a vendor prefix names the provider, unless routed through OpenRouter.
  if (vendor && GENAI_PROVIDER[vendor] && prov !== 'openrouter' && (!prov || GENAI_PROVIDER[vendor] === genaiProv)) {
    add(rest, GENAI_PROVIDER[vendor]);
  }
  if (prov === 'openrouter') {
    // Not in OpenRouter's list: fall back to the vendor's direct price.
    const direct = vendor ? GENAI_PROVIDER[vendor] : GENAI_PROVIDER[inferProvider(rest) ?? ''];
    if (direct) add(rest, direct);
  }
  if (!prov) {
    for (const p of SEARCH_ORDER) {
      add(bare, p);
      add(rest, p);
    }
  }
  return out;
}

function dbCost({ calc }: DbMatch, provider: string, c: Counts): CostBreakdown {
  const price = calc.model_price;
  const totalInput = c.input + c.cacheRead + c.cacheWrite;
  const inputRate = rate(price.input_mtok, totalInput);
  // Without a cache rate, genai-prices charges cached tokens at the input rate.
  const cacheReadRate = price.cache_read_mtok === undefined ? inputRate : rate(price.cache_read_mtok, totalInput);
  const cacheWriteRate = price.cache_write_mtok === undefined ? inputRate : rate(price.cache_write_mtok, totalInput);
  const cacheReadCost = (c.cacheRead * cacheReadRate) / 1e6;
  const cacheWriteCost = (c.cacheWrite * cacheWriteRate) / 1e6;
  const inputCost = Math.max(0, calc.input_price - cacheReadCost - cacheWriteCost);
  return breakdown(
    calc.model.id,
    provider,
    inputCost,
    calc.output_price,
    cacheReadCost,
    cacheWriteCost,
    calc.total_price,
    'genai-prices',
  );
}

/** Per-MTok rate; a tiered price applies the tier reached by the request's total input tokens. */
function rate(value: PriceValue, totalInputTokens: number): number {
  if (value === undefined) return 0;
  if (typeof value === 'number') return value;
  let r = value.base;
  for (const tier of [...value.tiers].sort((a, b) => a.start - b.start)) {
    if (totalInputTokens > tier.start) r = tier.price;
  }
  return r;
}

/**
 * The override (or correction) for a model: exact name first, then the same name normalized (an alias
 * row only by its exact name: normalizing drops '-latest'); a given provider must match.
 */
function findIn<T extends { model: string; provider?: string }>(list: readonly T[], model: string, prov: string | undefined): T | undefined {
  const lower = model.toLowerCase();
  const key = modelKey(model);
  let best: { o: T; rank: number } | undefined;
  for (const o of list) {
    const oProv = normalizeProvider(o.provider);
    if (oProv && prov && oProv !== prov) continue;
    const nameRank = o.model.trim().toLowerCase() === lower ? 2 : !('aliasOf' in o) && modelKey(o.model) === key ? 1 : 0;
    if (nameRank === 0) continue;
    const provRank = oProv ? (prov ? 2 : 0) : 1;
    const rank = provRank * 3 + nameRank;
    if (!best || rank > best.rank) best = { o, rank };
  }
  return best?.o;
}

function overrideCost(model: string, provider: string, base: Omit<PriceOverride, 'model'> & Partial<Pick<PriceRow, 'above'>>, c: Counts, source: 'override' | 'correction' = 'override'): CostBreakdown {
  // Over a long-context threshold, every token of the request is priced at the long-context rates.
  const o = base.above && c.input + c.cacheRead + c.cacheWrite > base.above.inputTokens ? base.above : base;
  const inputCost = (c.input * o.inputPerMTok) / 1e6;
  const outputCost = (c.output * o.outputPerMTok) / 1e6;
  const cacheReadCost = (c.cacheRead * (o.cacheReadPerMTok ?? o.inputPerMTok)) / 1e6;
  const cacheWriteCost = (c.cacheWrite * (o.cacheWritePerMTok ?? o.inputPerMTok)) / 1e6;
  const total = inputCost + outputCost + cacheReadCost + cacheWriteCost;
  return breakdown(model, provider, inputCost, outputCost, cacheReadCost, cacheWriteCost, total, source);
}

function breakdown(
  model: string,
  provider: string,
  input: number,
  output: number,
  cacheRead: number,
  cacheWrite: number,
  total: number,
  source: CostBreakdown['source'],
): CostBreakdown {
  return {
    model,
    provider,
    inputCost: clean(input),
    outputCost: clean(output),
    cacheReadCost: clean(cacheRead),
    cacheWriteCost: clean(cacheWrite),
    totalCost: clean(total),
    currency: 'USD',
    source,
  };
}

/** Drops floating-point noise (0.026000000000000002 → 0.026). */
function clean(x: number): number {
  return Number(x.toPrecision(12));
}

function validateTokens(t: TokenCounts): Counts {
  const check = (field: keyof TokenCounts, value: number | undefined): number => {
    const v = value ?? 0;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new Error(`Invalid token count: ${field} must be a non-negative whole number, got ${String(value)}.`);
    }
    return v;
  };
  return {
    input: check('inputTokens', t.inputTokens),
    output: check('outputTokens', t.outputTokens),
    cacheRead: check('cacheReadTokens', t.cacheReadTokens),
    cacheWrite: check('cacheWriteTokens', t.cacheWriteTokens),
  };
}

function validateModel(model: string): string {
  const name = typeof model === 'string' ? model.trim() : '';
  if (name === '') throw new Error('No model name given: pass the model id, e.g. "claude-3-5-sonnet".');
  return name;
}

/**
 * Price overrides as read from user settings: keeps the valid entries and explains each one it drops,
 * so one typo cannot stop the extension or the CLI from starting. `where` names the setting.
 */
export function checkPriceOverrides(raw: unknown, where: string): { overrides: PriceOverride[]; warnings: string[] } {
  if (raw === undefined || raw === null) return { overrides: [], warnings: [] };
  if (!Array.isArray(raw)) {
    return { overrides: [], warnings: [`${where} must be a list of { "model", "inputPerMTok", "outputPerMTok" } entries; it was ignored.`] };
  }
  const overrides: PriceOverride[] = [];
  const warnings: string[] = [];
  raw.forEach((entry: unknown, i) => {
    const at = `${where}[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      warnings.push(`${at} must be an object like { "model": "my-model", "inputPerMTok": 1, "outputPerMTok": 2 }; it was ignored.`);
      return;
    }
    const o = entry as PriceOverride;
    try {
      validateOverride(o);
      overrides.push({ ...o });
    } catch (err) {
      warnings.push(`${at}: ${err instanceof Error ? err.message : String(err)} This entry was ignored; fix it to use the price.`);
    }
  });
  return { overrides, warnings };
}

function validateOverride(o: PriceOverride): void {
  if (typeof o.model !== 'string' || o.model.trim() === '') {
    throw new Error('Invalid price override: "model" must be a non-empty model name.');
  }
  if (o.provider !== undefined && (typeof o.provider !== 'string' || o.provider.trim() === '')) {
    throw new Error(`Invalid price override for "${o.model}": "provider" must be a provider id such as "openai", or left out.`);
  }
  const rates: Array<[string, number | undefined, boolean]> = [
    ['inputPerMTok', o.inputPerMTok, true],
    ['outputPerMTok', o.outputPerMTok, true],
    ['cacheReadPerMTok', o.cacheReadPerMTok, false],
    ['cacheWritePerMTok', o.cacheWritePerMTok, false],
  ];
  for (const [field, value, required] of rates) {
    if (value === undefined && !required) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(
        `Invalid price override for "${o.model}": ${field} must be a non-negative number of USD per million tokens, got ${String(value)}.`,
      );
    }
  }
}

/** An ISO time to the minute: "2026-12-01 09:30 UTC". */
function utcMinute(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/** Our id for a provider name or alias ('gemini' → 'google'); other names lowercased as they are. */
function normalizeProvider(provider: string | undefined): string | undefined {
  const p = provider?.trim().toLowerCase();
  if (!p) return undefined;
  return PROVIDERS.find((s) => s.id === p || s.aliases.includes(p))?.id ?? p;
}

/** Words that tell models of one family apart: sizes (8b, 20b) and tiers (mini, lite, safeguard, …). */
const DISTINCT_WORD = /^(\d+(\.\d+)?[bmk]|mini|nano|lite|micro|tiny|small|medium|large|pro|max|plus|ultra|guard|safeguard|instant|vision|turbo|flash|haiku|sonnet|opus|reasoner|coder|thinking)$/;

function distinctWords(name: string): Set<string> {
  return new Set(
    name
      .toLowerCase()
      .split(/[^a-z0-9.]+/)
      .filter((w) => DISTINCT_WORD.test(w)),
  );
}

/** Whether the data's model is the one named (or a dated/suffixed form of it), not a sibling of another size or tier. */
export function sameModel(requested: string, found: { id: string; name?: string }): boolean {
  const have = new Set([...distinctWords(found.id), ...distinctWords(found.name ?? '')]);
  const rest = requested.replace(/^models\//i, '').replace(/^[^/]+\//, '');
  return [...distinctWords(rest)].every((w) => have.has(w));
}

/** Our provider id for a model name, from its vendor prefix or its family name. */
function inferProvider(model: string): string | undefined {
  const lower = model.toLowerCase().replace(/^models\//, '');
  const slash = lower.indexOf('/');
  if (slash > 0) {
    const vendor = GENAI_PROVIDER[lower.slice(0, slash)];
    return vendor ? OUR_PROVIDER[vendor] : undefined;
  }
  return INFER_RULES.find(([re]) => re.test(lower))?.[1];
}

/** Lenient comparison key: case, vendor prefix, "3.5" vs "3-5", date and "-latest" suffixes. */
function modelKey(model: string): string {
  let k = model.trim().toLowerCase().replace(/^models\//, '');
  const slash = k.indexOf('/');
  if (slash > 0 && GENAI_PROVIDER[k.slice(0, slash)]) k = k.slice(slash + 1);
  return k
    .replace(/(\d)\.(\d)/g, '$1-$2')
    .replace(/-latest$/, '')
    .replace(/-(\d{8}|\d{4}-\d{2}-\d{2})$/, '');
}

function collectExactNames(match: GenaiPrices.MatchLogic, into: Set<string>): void {
  if ('equals' in match) into.add(match.equals);
  else if ('or' in match) for (const m of match.or) collectExactNames(m, into);
}

/** 0 = identical, 1 = unrelated. Substrings rank ahead of edits. */
function similarity(query: string, candidate: string): number {
  if (query === candidate) return 0;
  const shorter = Math.min(query.length, candidate.length);
  const longer = Math.max(query.length, candidate.length);
  if (shorter >= 3 && (candidate.includes(query) || query.includes(candidate))) {
    return 0.3 * (1 - shorter / longer);
  }
  return levenshtein(query, candidate) / longer;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost));
    }
    prev = cur;
  }
  return prev[b.length];
}
