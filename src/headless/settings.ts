// Headless settings in AIKM_HOME/config.json (the extension uses VS Code settings instead).
import * as fs from 'node:fs';
import type { BudgetConfig } from '../core/budget';
import type { Settings, SettingsSource } from '../core/service';
import { writeFileAtomic } from './atomicFile';

export const DEFAULT_BUDGET: BudgetConfig = { daily: 0, monthly: 0, alertThreshold: 0.8, enforce: false };

export class FileSettings implements SettingsSource {
  private settings: Settings;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly filePath: string) {
    this.settings = FileSettings.read(filePath);
  }

  static read(filePath: string): Settings {
    let raw: Partial<Settings> & { budget?: Partial<BudgetConfig> } = {};
    if (fs.existsSync(filePath)) {
      try {
        raw = JSON.parse(fs.readFileSync(filePath, 'utf8')) as typeof raw;
      } catch (err) {
        throw new Error(`The config file ${filePath} is not valid JSON (${err instanceof Error ? err.message : err}). Fix or delete it.`);
      }
    }
    return {
      budget: { ...DEFAULT_BUDGET, ...(raw.budget ?? {}) },
      baseUrls: raw.baseUrls ?? {},
      priceOverrides: raw.priceOverrides ?? [],
      disabledProviders: raw.disabledProviders ?? [],
    };
  }

  get(): Settings {
    return this.settings;
  }

  async setBudget(patch: Partial<BudgetConfig>): Promise<void> {
    this.settings = { ...this.settings, budget: { ...this.settings.budget, ...patch } };
    await writeFileAtomic(this.filePath, JSON.stringify(this.settings, null, 2) + '\n', 0o600);
    for (const l of this.listeners) l();
  }

  onDidChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
