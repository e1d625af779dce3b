// Headless settings in AIKM_HOME/config.json (the extension uses VS Code settings instead).
// Another process may change the file (its own set_budget, or the user editing it): reads notice
// a replaced file and load it again, and set_budget changes the file as it is now, under its lock.
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import type { BudgetConfig } from '../core/budget';
import type { Settings, SettingsSource } from '../core/service';
import { writeFileAtomic } from './atomicFile';
import { withFileLock, type FileLockOptions } from './fileLock';

export const DEFAULT_BUDGET: BudgetConfig = { daily: 0, monthly: 0, alertThreshold: 0.8, enforce: false };

type RawConfig = Partial<Settings> & { budget?: Partial<BudgetConfig> } & Record<string, unknown>;

export class FileSettings implements SettingsSource {
  private settings: Settings;
  private sig: string | undefined;
  private checkedThisTick = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly filePath: string,
    private readonly lockOptions: FileLockOptions = {},
  ) {
    this.sig = statSig(filePath);
    this.settings = FileSettings.read(filePath);
  }

  static read(filePath: string): Settings {
    return toSettings(readRaw(filePath));
  }

  get(): Settings {
    this.refresh();
    return this.settings;
  }

  /** Changes the budget in config.json as it is on disk now, keeping everything else in it. */
  async setBudget(patch: Partial<BudgetConfig>): Promise<void> {
    await fs.promises.mkdir(dirname(this.filePath), { recursive: true, mode: 0o700 });
    await withFileLock(
      `${this.filePath}.lock`,
      async () => {
        const raw = readRaw(this.filePath);
        const next: RawConfig = { ...raw, budget: { ...DEFAULT_BUDGET, ...(raw.budget ?? {}), ...patch } };
        await writeFileAtomic(this.filePath, JSON.stringify(next, null, 2) + '\n', 0o600);
        this.settings = toSettings(next);
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
    let next: Settings;
    try {
      next = FileSettings.read(this.filePath);
    } catch {
      return; // half-edited by hand: keep the last good settings until it is valid again
    }
    this.sig = sig;
    this.settings = next;
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

function readRaw(filePath: string): RawConfig {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`Cannot read the config file ${filePath}: ${(err as Error).message}. Check its permissions.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`The config file ${filePath} is not valid JSON (${err instanceof Error ? err.message : err}). Fix or delete it.`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`The config file ${filePath} must hold a JSON object. Fix or delete it.`);
  return raw as RawConfig;
}

function toSettings(raw: RawConfig): Settings {
  return {
    budget: { ...DEFAULT_BUDGET, ...(raw.budget ?? {}) },
    baseUrls: raw.baseUrls ?? {},
    priceOverrides: raw.priceOverrides ?? [],
    disabledProviders: raw.disabledProviders ?? [],
  };
}

function statSig(path: string): string | undefined {
  try {
    const st = fs.statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return undefined;
  }
}
