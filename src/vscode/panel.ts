// The usage & budget webview panel: one per window, live while visible, restored after a reload.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { buildDashboard, type DashboardFilter } from '../core/dashboard';
import type { HostMessage, PanelCommand, PanelState, WebviewMessage } from '../webview/protocol';
import type { SurfaceDeps } from './deps';
import { panelHtml } from './panelHtml';

export const PANEL_VIEW_TYPE = 'aiKeyManager.panel';
/** Test mode only: what the open panel shows and what its page has said (see PanelSnapshot). */
export const DEBUG_PANEL_COMMAND = 'aiKeyManager.debug.panel';

export interface PanelSnapshot {
  filter: DashboardFilter;
  visible: boolean;
  active: boolean;
  /** Messages received from the page, by type ('ready' means its script ran under the CSP). */
  received: Record<string, number>;
  /** Models posted to the page. */
  posted: number;
}
const TITLE = 'AI Usage & Budget';
const UPDATE_DEBOUNCE_MS = 150;
const DEFAULT_FILTER: DashboardFilter = { days: 30 };

const COMMANDS: Record<PanelCommand, string> = {
  recordUsage: 'aiKeyManager.recordUsage',
  addKey: 'aiKeyManager.addKey',
  setBudget: 'aiKeyManager.setBudget',
  validateAllKeys: 'aiKeyManager.validateAllKeys',
};

/** The usage & budget webview panel (command aiKeyManager.showPanel registers here). */
export function registerPanel(deps: SurfaceDeps): vscode.Disposable[] {
  let current: UsagePanel | undefined;
  const adopt = (panel: vscode.WebviewPanel, filter: DashboardFilter): UsagePanel => {
    const p = new UsagePanel(panel, deps, filter, () => {
      if (current === p) current = undefined;
    });
    current = p;
    return p;
  };

  const debug: vscode.Disposable[] = [];
  if (deps.context.extensionMode === vscode.ExtensionMode.Test) {
    debug.push(vscode.commands.registerCommand(DEBUG_PANEL_COMMAND, (): PanelSnapshot | null => current?.snapshot() ?? null));
  }

  return [
    ...debug,
    // The panel's title-bar button (and the palette while the panel is active): build the model now.
    vscode.commands.registerCommand('aiKeyManager.refreshPanel', async () => {
      if (current) current.refresh();
      else await vscode.commands.executeCommand('aiKeyManager.showPanel');
    }),
    vscode.commands.registerCommand('aiKeyManager.showPanel', (args?: { days?: number; provider?: string }) => {
      const filter = parseFilter(args);
      if (current) {
        current.reveal();
        if (filter) current.setFilter(filter);
        return;
      }
      const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, TITLE, vscode.ViewColumn.Active, webviewOptions(deps.context.extensionUri));
      adopt(panel, filter ?? DEFAULT_FILTER);
    }),
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        // A second restored panel (should not happen) replaces the first rather than leaking it.
        current?.dispose();
        adopt(panel, parseFilter((state as Partial<PanelState> | undefined)?.filter) ?? DEFAULT_FILTER);
      },
    }),
    { dispose: () => current?.dispose() },
  ];
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableFindWidget: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** A filter from untrusted input (webview message, command argument, saved state), or undefined. */
function parseFilter(value: unknown): DashboardFilter | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as { days?: unknown; provider?: unknown; scope?: unknown };
  const days = typeof v.days === 'number' && Number.isInteger(v.days) && v.days >= 1 && v.days <= 366 ? v.days : DEFAULT_FILTER.days;
  const provider = typeof v.provider === 'string' && /^[a-z0-9_-]{1,40}$/.test(v.provider) ? v.provider : undefined;
  return { days, provider, ...(v.scope === 'all' ? { scope: 'all' as const } : {}) };
}

class UsagePanel {
  private filter: DashboardFilter;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  private readonly received: Record<string, number> = {};
  private posted = 0;

  constructor(
    private readonly panel: vscode.WebviewPanel,
    private readonly deps: SurfaceDeps,
    filter: DashboardFilter,
    private readonly onDispose: () => void,
  ) {
    this.filter = this.knownProvider(filter);
    const uri = deps.context.extensionUri;
    panel.webview.options = webviewOptions(uri);
    panel.iconPath = { light: vscode.Uri.joinPath(uri, 'media', 'panel-light.svg'), dark: vscode.Uri.joinPath(uri, 'media', 'panel-dark.svg') };
    panel.webview.html = this.html();
    const unsubscribe = deps.core.onDidChange(() => this.schedule());
    this.disposables.push(
      { dispose: unsubscribe },
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      panel.onDidChangeViewState((e) => {
        if (e.webviewPanel.visible) this.schedule();
      }),
    );
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** Sends a freshly built model now (not debounced). */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.post(false);
  }

  snapshot(): PanelSnapshot {
    return { filter: { ...this.filter }, visible: this.panel.visible, active: this.panel.active, received: { ...this.received }, posted: this.posted };
  }

  setFilter(filter: DashboardFilter): void {
    this.filter = this.knownProvider(filter);
    this.post(true);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
    this.onDispose();
  }

  private html(): string {
    const webview = this.panel.webview;
    const base = vscode.Uri.joinPath(this.deps.context.extensionUri, 'dist', 'webview');
    return panelHtml({
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(base, 'panel.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(base, 'panel.css')).toString(),
      cspSource: webview.cspSource,
      nonce: randomBytes(18).toString('base64'),
      initialState: { filter: this.filter, model: this.safeModel() },
    });
  }

  private knownProvider(filter: DashboardFilter): DashboardFilter {
    const known = this.deps.core.providersOverview().some((p) => p.id === filter.provider);
    return { days: filter.days, provider: known ? filter.provider : undefined, ...(filter.scope === 'all' ? { scope: 'all' as const } : {}) };
  }

  private safeModel() {
    try {
      return buildDashboard(this.deps.core, this.filter);
    } catch (err) {
      this.deps.log.error(`Usage panel: could not build the dashboard: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** Live updates, coalesced; a hidden webview is not running and asks again when shown. */
  private schedule(): void {
    if (this.disposed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.panel.visible) this.post(false);
    }, UPDATE_DEBOUNCE_MS);
  }

  private post(setFilter: boolean): void {
    if (this.disposed) return;
    const model = this.safeModel();
    if (!model) return;
    const msg: HostMessage = setFilter ? { type: 'model', model, setFilter: true } : { type: 'model', model };
    this.posted++;
    void this.panel.webview.postMessage(msg);
  }

  private onMessage(raw: unknown): void {
    const m = raw as Partial<WebviewMessage> | undefined;
    if (!m || typeof m !== 'object') return;
    const type = String(m.type).slice(0, 40);
    this.received[type] = (this.received[type] ?? 0) + 1;
    switch (m.type) {
      case 'ready':
      case 'filter': {
        const filter = parseFilter((m as { filter?: unknown }).filter);
        if (!filter) return;
        this.filter = this.knownProvider(filter);
        clearTimeout(this.timer);
        // An unknown provider was dropped: tell the page which filter it got.
        this.post(this.filter.provider !== filter.provider);
        return;
      }
      case 'export': {
        const format = (m as { format?: unknown }).format;
        if (format !== 'csv' && format !== 'json') return;
        this.run('aiKeyManager.exportUsage', { format });
        return;
      }
      case 'run': {
        const command = (m as { command?: unknown }).command;
        if (typeof command === 'string' && Object.prototype.hasOwnProperty.call(COMMANDS, command)) this.run(COMMANDS[command as PanelCommand]);
        return;
      }
      default:
        this.deps.log.warn(`Usage panel: ignored an unknown message from the webview (${String(m.type).slice(0, 40)}).`);
    }
  }

  private run(command: string, arg?: unknown): void {
    const args = arg === undefined ? [] : [arg];
    vscode.commands.executeCommand(command, ...args).then(undefined, (err: unknown) => {
      const msg = err instanceof Error ? err.message : String(err);
      this.deps.log.error(`Usage panel: ${command} failed: ${msg}`);
      void vscode.window.showErrorMessage(`AI Key Manager: ${msg}`);
    });
  }
}
