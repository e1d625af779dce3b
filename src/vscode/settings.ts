import * as vscode from 'vscode';
import type { BudgetConfig } from '../core/budget';
import type { PriceOverride } from '../core/pricing';
import type { Settings, SettingsSource } from '../core/service';
import { PROVIDERS } from '../core/providers';

const SECTION = 'aiKeyManager';

/** Settings from VS Code configuration (`aiKeyManager.*`). */
export class VsCodeSettings implements SettingsSource, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly sub: vscode.Disposable;

  constructor() {
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
    return {
      budget: {
        daily: num('budget.daily', 0),
        monthly: num('budget.monthly', 0),
        alertThreshold: Math.min(1, Math.max(0.01, num('budget.alertThreshold', 0.8))),
        enforce: c.get<boolean>('budget.enforce', false),
      },
      baseUrls: Object.fromEntries(PROVIDERS.map((p) => [p.id, c.get<string>(`providers.${p.id}.baseUrl`) || undefined])),
      priceOverrides: c.get<PriceOverride[]>('pricing.overrides', []),
      disabledProviders: c.get<string[]>('providers.disabled', []),
    };
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
