// Fresh prices in VS Code: after activation, the last good price data kept in the extension's global
// storage is used, and once a day genai-prices' data file is fetched (aiKeyManager.pricing.refresh,
// aiKeyManager.pricing.dataUrl). "AI Keys: Refresh Prices" fetches it now.
import * as vscode from 'vscode';
import { join } from 'node:path';
import type { SurfaceDeps } from './deps';
import { PriceRefresher } from '../core/priceRefresh';
import { filePriceDataStore } from '../headless/priceStore';

export function registerPriceRefresh(deps: SurfaceDeps): vscode.Disposable[] {
  const { core, log, context } = deps;
  const store = filePriceDataStore(join(context.globalStorageUri.fsPath, 'prices.json'));
  const refresher = () => {
    const cfg = vscode.workspace.getConfiguration('aiKeyManager.pricing');
    const url = cfg.get<string>('dataUrl', '')?.trim();
    return new PriceRefresher({ pricing: core.pricing, store, clock: core.clock, enabled: cfg.get<boolean>('refresh', true) !== false, ...(url && { url }), log: (line) => log.info(line) });
  };
  let current: PriceRefresher | undefined;
  // After activation: activate() stays fast, and the bundled snapshot serves meanwhile.
  const timer = setTimeout(() => {
    current = refresher();
    void current.start().catch((err: unknown) => log.warn(`prices: ${err instanceof Error ? err.message : String(err)}`));
  }, 0);
  return [
    { dispose: () => clearTimeout(timer) },
    vscode.commands.registerCommand('aiKeyManager.refreshPrices', async () => {
      current = refresher();
      const msg = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'AI Key Manager: refreshing prices…' }, () => current!.refresh());
      const ok = !msg.startsWith('prices: not refreshed');
      void (ok ? vscode.window.showInformationMessage(`AI Key Manager: ${msg} Prices in use: ${core.pricing.sourceText('genai-prices')}.`) : vscode.window.showWarningMessage(`AI Key Manager: ${msg.replace(/^prices: /, '')}`, 'Show Log').then((c) => c && log.show()));
      return { message: msg, prices: core.pricing.sourceText('genai-prices') };
    }),
  ];
}
