import * as vscode from 'vscode';
import { DEFAULT_BUDGET, settleLimit, type BudgetConfig } from '../core/budget';
import { formatUsdLimit } from '../core/money';
import { checkPriceOverrides } from '../core/pricing';
import type { Settings, SettingsSource } from '../core/service';
import { PROVIDERS } from '../core/providers';

const SECTION = 'aiKeyManager';

/** Settings from VS Code configuration (`aiKeyManager.*`). */
export class VsCodeSettings implements SettingsSource, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly sub: vscode.Disposable;
  private reported = '';
  private problems: string[] = [];
  private limitProblems: string[] = [];

  /** `onWarning` hears each problem with the settings once (until it is fixed and comes back). */
  constructor(private readonly onWarning: (message: string) => void = () => undefined) {
    this.sub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) this.emitter.fire();
    });
  }

  get(): Settings {
    const c = vscode.workspace.getConfiguration(SECTION);
    const num = (k: string, d: number) => {
      const v = c.get<number>(k, d);
      return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : d;
    };
    // A limit that is no whole number of cents (1e-320, say) becomes the nearest stricter one, and is reported.
    const limit = (k: string): number => {
      const v = c.get<unknown>(k, 0);
      const { limit: settled, problem } = settleLimit(v);
      if (problem !== undefined) {
        this.limitProblems.push(`${SECTION}.${k} ${problem} (got ${String(v)}); ${settled > 0 ? `a limit of ${formatUsdLimit(settled)} applies` : 'no limit applies'} until it is fixed.`);
      }
      return settled;
    };
    this.limitProblems = [];
    return {
      budget: {
        daily: limit('budget.daily'),
        monthly: limit('budget.monthly'),
        alertThreshold: Math.min(1, Math.max(0.01, num('budget.alertThreshold', DEFAULT_BUDGET.alertThreshold))),
        enforce: c.get<boolean>('budget.enforce', DEFAULT_BUDGET.enforce),
      },
      baseUrls: Object.fromEntries(PROVIDERS.map((p) => [p.id, c.get<string>(`providers.${p.id}.baseUrl`) || undefined])),
      priceOverrides: this.priceOverrides(c),
      disabledProviders: c.get<string[]>('providers.disabled', []),
    };
  }

  /** Current problems with the settings (e.g. price overrides that were ignored). */
  get warnings(): string[] {
    return [...this.problems];
  }

  /** The valid entries of aiKeyManager.pricing.overrides; invalid ones are dropped and reported. */
  private priceOverrides(c: vscode.WorkspaceConfiguration) {
    const checked = checkPriceOverrides(c.get<unknown>('pricing.overrides', []), `${SECTION}.pricing.overrides`);
    const overrides = checked.overrides;
    const warnings = [...this.limitProblems, ...checked.warnings];
    this.problems = warnings;
    const key = warnings.join('\n');
    if (key !== this.reported) {
      this.reported = key;
      for (const w of warnings) this.onWarning(w);
    }
    return overrides;
  }

  async setBudget(patch: Partial<BudgetConfig>): Promise<void> {
    const c = vscode.workspace.getConfiguration(SECTION);
    for (const [k, v] of Object.entries(patch)) await c.update(`budget.${k}`, v, vscode.ConfigurationTarget.Global);
  }

  onDidChange(listener: () => void): () => void {
    const d = this.emitter.event(listener);
    return () => d.dispose();
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}
