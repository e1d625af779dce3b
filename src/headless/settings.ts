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
      budget: { ...DEFAULT_BUDGET, ...(isObject(raw.budget) ? (raw.budget as Partial<BudgetConfig>) : {}) },
      baseUrls: (raw.baseUrls as Settings['baseUrls'] | undefined) ?? {},
      priceOverrides: prices.overrides,
      disabledProviders: (raw.disabledProviders as string[] | undefined) ?? [],
    };
    return { settings, warnings };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
