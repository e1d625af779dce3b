// Headless settings in AIKM_HOME/config.json (the extension uses VS Code settings instead).
// Invalid entries are dropped with a warning (printed on stderr at startup), never fatal.
import * as fs from 'node:fs';
import type { BudgetConfig } from '../core/budget';
import { checkPriceOverrides } from '../core/pricing';
import type { Settings, SettingsSource } from '../core/service';
import { writeFileAtomic } from './atomicFile';

export const DEFAULT_BUDGET: BudgetConfig = { daily: 0, monthly: 0, alertThreshold: 0.8, enforce: false };

type RawConfig = Record<string, unknown>;

export class FileSettings implements SettingsSource {
  private raw: RawConfig;
  private settings: Settings;
  private problems: string[];
  private readonly listeners = new Set<() => void>();

  /** Throws only when config.json exists but is not JSON. */
  constructor(private readonly filePath: string) {
    const loaded = FileSettings.load(filePath);
    this.raw = loaded.raw;
    const parsed = FileSettings.parse(this.raw, filePath);
    this.settings = parsed.settings;
    this.problems = [...loaded.warnings, ...parsed.warnings];
  }

  /** What is wrong with config.json, one message per problem (the host prints them at startup). */
  get warnings(): string[] {
    return [...this.problems];
  }

  get(): Settings {
    return this.settings;
  }

  async setBudget(patch: Partial<BudgetConfig>): Promise<void> {
    // Only the budget changes: everything else is written back as the user wrote it, ignored entries included.
    const budget = isObject(this.raw.budget) ? this.raw.budget : {};
    const next: RawConfig = { ...this.raw, budget: { ...budget, ...patch } };
    await writeFileAtomic(this.filePath, JSON.stringify(next, null, 2) + '\n', 0o600);
    this.raw = next;
    const parsed = FileSettings.parse(next, this.filePath);
    this.settings = parsed.settings;
    this.problems = parsed.warnings;
    for (const l of this.listeners) l();
  }

  onDidChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private static load(filePath: string): { raw: RawConfig; warnings: string[] } {
    if (!fs.existsSync(filePath)) return { raw: {}, warnings: [] };
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(filePath, 'utf8'));
    } catch (err) {
      throw new Error(`The config file ${filePath} is not valid JSON (${err instanceof Error ? err.message : err}). Fix or delete it.`);
    }
    if (!isObject(parsed)) {
      return { raw: {}, warnings: [`${filePath} must hold a JSON object like { "budget": { "daily": 10 } }; it was ignored and defaults are used.`] };
    }
    return { raw: parsed, warnings: [] };
  }

  private static parse(raw: RawConfig, filePath: string): { settings: Settings; warnings: string[] } {
    const warnings: string[] = [];
    const prices = checkPriceOverrides(raw.priceOverrides, `${filePath}: priceOverrides`);
    warnings.push(...prices.warnings);
    const settings: Settings = {
      budget: parseBudget(raw.budget, `${filePath}: budget`, warnings),
      baseUrls: (raw.baseUrls as Settings['baseUrls'] | undefined) ?? {},
      priceOverrides: prices.overrides,
      disabledProviders: (raw.disabledProviders as string[] | undefined) ?? [],
    };
    return { settings, warnings };
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
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) budget[period] = v;
    else {
      warnings.push(
        `${where}.${period} must be a number of US dollars ≥ 0 (0 = no limit), e.g. "${period}": 10 (got ${describe(v)}${typeof v === 'string' ? ': remove the quotes' : ''}). No ${period} limit applies until it is fixed.`,
      );
    }
  }
  const t = raw.alertThreshold;
  if (t !== undefined) {
    if (typeof t === 'number' && t > 0 && t <= 1) budget.alertThreshold = t;
    else warnings.push(`${where}.alertThreshold must be a fraction above 0 and at most 1, e.g. 0.8 for 80% (got ${describe(t)}); using ${DEFAULT_BUDGET.alertThreshold}.`);
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
