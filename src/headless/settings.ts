// Headless settings in AIKM_HOME/config.json (the extension uses VS Code settings instead).
// Invalid entries are dropped with a warning (printed on stderr at startup), never fatal.
// Another process may change the file (its own set_budget, or the user editing it): reads notice
// a replaced file and load it again, and set_budget changes the file as it is now, under its lock.
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_BUDGET, settleLimit, thresholdProblem, type BudgetConfig } from '../core/budget';
import { formatUsdLimit } from '../core/money';
import { checkPriceOverrides } from '../core/pricing';
import { PROVIDERS, findProvider } from '../core/providers';
import type { Settings, SettingsSource } from '../core/service';
import { writeFileAtomic } from './atomicFile';
import { withFileLock, type FileLockOptions } from './fileLock';

type RawConfig = Record<string, unknown>;

export class FileSettings implements SettingsSource {
  private settings: Settings;
  private problems: string[];
  private sig: string | undefined;
  private checkedThisTick = false;
  private readonly listeners = new Set<() => void>();

  /** Throws only when config.json exists but is not JSON. */
  constructor(
    private readonly filePath: string,
    private readonly lockOptions: FileLockOptions = {},
  ) {
    this.sig = statSig(filePath);
    const loaded = load(filePath);
    const parsed = parse(loaded.raw, filePath);
    this.settings = parsed.settings;
    this.problems = [...loaded.warnings, ...parsed.warnings];
  }

  /** What is wrong with config.json, one message per problem (the host prints them at startup). */
  get warnings(): string[] {
    return [...this.problems];
  }

  get(): Settings {
    this.refresh();
    return this.settings;
  }

  /** Changes the budget in config.json as it is on disk now, keeping everything else in it (ignored entries included). */
  async setBudget(patch: Partial<BudgetConfig>): Promise<void> {
    await fs.promises.mkdir(dirname(this.filePath), { recursive: true, mode: 0o700 });
    await withFileLock(
      `${this.filePath}.lock`,
      async () => {
        const { raw } = load(this.filePath);
        const budget = isObject(raw.budget) ? raw.budget : {};
        const next: RawConfig = { ...raw, budget: { ...budget, ...patch } };
        await writeFileAtomic(this.filePath, JSON.stringify(next, null, 2) + '\n', 0o600);
        const parsed = parse(next, this.filePath);
        this.settings = parsed.settings;
        this.problems = parsed.warnings;
        this.sig = statSig(this.filePath);
      },
      this.lockOptions,
    );
    this.notify();
  }

  onDidChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Loads config.json again if it was replaced (checked at most once per tick). */
  private refresh(): void {
    if (this.checkedThisTick) return;
    this.checkedThisTick = true;
    queueMicrotask(() => (this.checkedThisTick = false));
    const sig = statSig(this.filePath);
    if (sig === this.sig) return;
    let next: { settings: Settings; warnings: string[] };
    try {
      const loaded = load(this.filePath);
      next = parse(loaded.raw, this.filePath);
      next.warnings.unshift(...loaded.warnings);
    } catch {
      return; // half-edited by hand: keep the last good settings until it is valid again
    }
    this.sig = sig;
    this.settings = next.settings;
    this.problems = next.warnings;
    queueMicrotask(() => this.notify()); // not from inside get(): listeners read settings themselves
  }

  private notify(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // a listener's failure must not break reading or saving settings
      }
    }
  }
}

function load(filePath: string): { raw: RawConfig; warnings: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { raw: {}, warnings: [] };
    throw new Error(`Cannot read the config file ${filePath}: ${(err as Error).message}. Check its permissions.`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`The config file ${filePath} is not valid JSON (${err instanceof Error ? err.message : err}). Fix or delete it.`, { cause: err });
  }
  if (!isObject(parsed)) {
    return { raw: {}, warnings: [`${filePath} must hold a JSON object like { "budget": { "daily": 10 } }; it was ignored and defaults are used.`] };
  }
  return { raw: parsed, warnings: [] };
}

function parse(raw: RawConfig, filePath: string): { settings: Settings; warnings: string[] } {
  const warnings: string[] = [];
  const prices = checkPriceOverrides(raw.priceOverrides, `${filePath}: priceOverrides`);
  warnings.push(...prices.warnings);
  const settings: Settings = {
    budget: parseBudget(raw.budget, `${filePath}: budget`, warnings),
    baseUrls: parseBaseUrls(raw.baseUrls, `${filePath}: baseUrls`, warnings),
    priceOverrides: prices.overrides,
    disabledProviders: parseDisabled(raw.disabledProviders, `${filePath}: disabledProviders`, warnings),
    allowAgentBudgetChanges: raw.allowAgentBudgetChanges === true,
  };
  if (raw.allowAgentBudgetChanges !== undefined && typeof raw.allowAgentBudgetChanges !== 'boolean') {
    warnings.push(`${filePath}: allowAgentBudgetChanges must be true or false, without quotes (got ${describe(raw.allowAgentBudgetChanges)}); agents cannot loosen the budget until it is fixed.`);
  }
  return { settings, warnings };
}

/** Provider ids routing must skip: a list of known ids; anything else is dropped with a warning. */
function parseDisabled(raw: unknown, where: string, warnings: string[]): string[] {
  if (raw === undefined) return [];
  const ids = PROVIDERS.map((p) => p.id);
  if (!Array.isArray(raw)) {
    warnings.push(`${where} must be a list of provider ids like ["groq", "deepseek"] (got ${describe(raw)}); no provider is disabled until it is fixed.`);
    return [];
  }
  const out: string[] = [];
  for (const v of raw) {
    const spec = typeof v === 'string' ? findProvider(v) : undefined;
    if (spec) out.push(spec.id);
    else warnings.push(`${where}: ${describe(v)} is not a provider and was ignored; the providers are ${ids.join(', ')}.`);
  }
  return out;
}

/** Base-URL overrides by provider id: strings only; other entries are dropped with a warning. */
function parseBaseUrls(raw: unknown, where: string, warnings: string[]): Settings['baseUrls'] {
  if (raw === undefined) return {};
  if (!isObject(raw)) {
    warnings.push(`${where} must be an object like { "openai": "https://proxy.example/v1" } (got ${describe(raw)}); the default URLs are used until it is fixed.`);
    return {};
  }
  const out: Settings['baseUrls'] = {};
  for (const [k, v] of Object.entries(raw)) {
    const spec = findProvider(k);
    if (!spec) warnings.push(`${where}: "${k}" is not a provider and was ignored.`);
    else if (typeof v !== 'string') warnings.push(`${where}.${k} must be a URL string (got ${describe(v)}); the default URL is used.`);
    else out[spec.id] = v;
  }
  return out;
}

function statSig(path: string): string | undefined {
  try {
    const st = fs.statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return undefined;
  }
}

const BUDGET_KEYS = ['daily', 'monthly', 'alertThreshold', 'enforce'] as const;

/** The budget in config.json; each invalid value falls back to its default with a warning. */
function parseBudget(raw: unknown, where: string, warnings: string[]): BudgetConfig {
  const budget = { ...DEFAULT_BUDGET };
  if (raw === undefined) return budget;
  if (!isObject(raw)) {
    warnings.push(`${where} must be an object like { "daily": 10, "monthly": 200 } (got ${describe(raw)}); no budget limits apply until it is fixed.`);
    return budget;
  }
  for (const key of Object.keys(raw)) {
    if (!(BUDGET_KEYS as readonly string[]).includes(key)) warnings.push(`${where}: unknown budget setting "${key}" was ignored; the settings are ${BUDGET_KEYS.join(', ')}.`);
  }
  for (const period of ['daily', 'monthly'] as const) {
    const v = raw[period];
    if (v === undefined) continue;
    const { limit, problem } = settleLimit(v);
    budget[period] = limit;
    if (problem !== undefined) {
      warnings.push(
        `${where}.${period} must be a number of US dollars ≥ 0 (0 = no limit) in whole cents, e.g. "${period}": 10 (got ${describe(v)}${typeof v === 'string' ? ': remove the quotes' : `: it ${problem}`}). ${limit > 0 ? `A ${period} limit of ${formatUsdLimit(limit)} applies` : `No ${period} limit applies`} until it is fixed.`,
      );
    }
  }
  const t = raw.alertThreshold;
  if (t !== undefined) {
    const problem = thresholdProblem(t);
    if (problem === undefined) budget.alertThreshold = t as number;
    else warnings.push(`${where}.alertThreshold ${problem} (got ${describe(t)}); using ${DEFAULT_BUDGET.alertThreshold}.`);
  }
  const e = raw.enforce;
  if (e !== undefined) {
    if (typeof e === 'boolean') budget.enforce = e;
    else warnings.push(`${where}.enforce must be true or false, without quotes (got ${describe(e)}); the budget is not enforced until it is fixed.`);
  }
  return budget;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
