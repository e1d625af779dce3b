import * as vscode from 'vscode';
import type { SurfaceDeps } from './deps';
import type { GatewayController, GatewayState } from './gateway';
import type { BudgetStatus } from '../core/budget';
import type { UsageGroup } from '../core/ledger';
import { maskKeyShapes } from '../core/redact';
import { formatUsd as usd, formatUsdLimit as usdLimit } from '../core/money';

export const STATUS_BAR_ID = 'aiKeyManager.budget';
export const DEBUG_STATUS_BAR_COMMAND = 'aiKeyManager.debug.statusBar';
const MODE_SETTING = 'aiKeyManager.statusBar.mode';
const MIN_RENDER_INTERVAL_MS = 250;
/** Re-render now and then so the day rolls over without a request. */
const REFRESH_MS = 60_000;

export type StatusBarMode = 'full' | 'compact' | 'hidden';

const PANEL_COMMAND = 'aiKeyManager.showPanel';
const ADD_KEY_COMMAND = 'aiKeyManager.addKey';
const FIRST_STEP_TOOLTIP = 'AI Key Manager: no API keys yet. Click to add your first key; your spend against your budget shows here after that.';

/** No key, no spend this month and no budget: a new user, who needs a first step more than "$0.00 today". */
export function isFirstRun(budget: BudgetStatus, keyCount: number): boolean {
  return keyCount === 0 && budget.month.spent === 0 && budget.day.limit === null && budget.month.limit === null;
}

export interface StatusBarSnapshot {
  text: string;
  tooltip: string;
  /** Theme color id of the background, e.g. 'statusBarItem.warningBackground'. */
  backgroundColor: string | undefined;
  /** What a screen reader announces for the item. */
  accessibilityLabel: string | undefined;
  /** The command a click runs. */
  command: string | undefined;
  visible: boolean;
  renders: number;
}

/** The status-bar budget indicator: today's spend against the daily budget. */
export function registerStatusBar(deps: SurfaceDeps, gateway?: GatewayController): vscode.Disposable[] {
  const { core, log } = deps;
  const item = vscode.window.createStatusBarItem(STATUS_BAR_ID, vscode.StatusBarAlignment.Right, 100);
  item.name = 'AI Key Manager budget';
  let visible = false;
  let renders = 0;
  let lastRender = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const render = (): void => {
    timer = undefined;
    lastRender = Date.now();
    renders++;
    try {
      const mode = readMode();
      const budget = core.budget();
      if (isFirstRun(budget, core.listKeys().length)) {
        // Nothing to show a budget of yet: point at the first step instead of "$0.00 today".
        item.text = mode === 'compact' ? '$(key)' : '$(key) Add an API key';
        item.tooltip = FIRST_STEP_TOOLTIP;
        item.accessibilityInformation = { label: FIRST_STEP_TOOLTIP, role: 'button' };
        item.command = ADD_KEY_COMMAND;
      } else {
        const top = core.usage({ days: 1, groupBy: 'model' }).groups.slice(0, 3);
        item.text = statusText(budget, mode);
        item.tooltip = tooltip(budget, top, gateway?.state());
        // The text is codicon syntax and a slash; say it in words.
        item.accessibilityInformation = { label: accessibleText(budget), role: 'button' };
        item.command = PANEL_COMMAND;
      }
      item.backgroundColor = budget.anyExceeded
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : budget.anyAlert
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
      visible = mode !== 'hidden';
      if (visible) item.show();
      else item.hide();
    } catch (err) {
      log.warn(`status bar: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  // At most one render per MIN_RENDER_INTERVAL_MS; a change always leads to a render soon after.
  const schedule = (): void => {
    if (timer) return;
    const wait = Math.max(0, lastRender + MIN_RENDER_INTERVAL_MS - Date.now());
    if (wait === 0) render();
    else timer = setTimeout(render, wait);
  };

  render();
  const unsubscribe = core.onDidChange(() => schedule());
  const refresh = setInterval(schedule, REFRESH_MS);
  const disposables: vscode.Disposable[] = [
    item,
    ...(gateway ? [gateway.onDidChange(() => schedule())] : []),
    { dispose: unsubscribe },
    {
      dispose: () => {
        clearInterval(refresh);
        if (timer) clearTimeout(timer);
      },
    },
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('aiKeyManager.statusBar') || e.affectsConfiguration('aiKeyManager.budget')) schedule();
    }),
  ];
  if (deps.context.extensionMode === vscode.ExtensionMode.Test) {
    disposables.push(
      vscode.commands.registerCommand(DEBUG_STATUS_BAR_COMMAND, (): StatusBarSnapshot => ({
        text: item.text,
        tooltip: typeof item.tooltip === 'string' ? item.tooltip : (item.tooltip?.value ?? ''),
        backgroundColor: item.backgroundColor instanceof vscode.ThemeColor ? item.backgroundColor.id : undefined,
        accessibilityLabel: item.accessibilityInformation?.label,
        command: typeof item.command === 'string' ? item.command : item.command?.command,
        visible,
        renders,
      })),
    );
  }
  return disposables;
}

function readMode(): StatusBarMode {
  const v = vscode.workspace.getConfiguration().get<string>(MODE_SETTING, 'full');
  return v === 'compact' || v === 'hidden' ? v : 'full';
}

export function statusText(budget: BudgetStatus, mode: StatusBarMode): string {
  const spent = usd(budget.day.spent);
  if (mode === 'compact') return `$(credit-card) ${spent}`;
  return budget.day.limit === null ? `$(credit-card) ${spent} today` : `$(credit-card) ${spent} / ${usdLimit(budget.day.limit)}`;
}

/** What a screen reader says, e.g. "AI spend today: $1.84 of the $10 daily budget (18%). This month: $20.50, no monthly budget. Opens the usage and budget panel." */
export function accessibleText(budget: BudgetStatus): string {
  const period = (p: BudgetStatus['day'], name: string): string =>
    p.limit === null ? `${usd(p.spent)}, no ${name} budget` : `${usd(p.spent)} of the ${usdLimit(p.limit)} ${name} budget (${Math.round(p.percent ?? 0)}%)`;
  const state = budget.anyExceeded ? ' Budget exceeded.' : budget.anyAlert ? ' Budget alert.' : '';
  return `AI spend today: ${period(budget.day, 'daily')}. This month: ${period(budget.month, 'monthly')}.${state} Opens the usage and budget panel.`;
}

/** The gateway's line in the tooltip: where it listens, or why not. */
export function gatewayLine(g: GatewayState | undefined): string | undefined {
  if (!g) return undefined;
  if (g.url) return `Gateway: listening on ${g.url} (tools connect with "AI Keys: Connect a Tool to the Gateway").`;
  if (!g.enabled) return 'Gateway: off (aiKeyManager.gateway.enabled).';
  return g.error ? `Gateway: not running: ${g.error}` : 'Gateway: starting…';
}

function tooltip(budget: BudgetStatus, top: UsageGroup[], gateway?: GatewayState): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.isTrusted = false;
  const line = (label: string, p: BudgetStatus['day']): string => {
    const limit = p.limit === null ? 'no limit' : `of ${usdLimit(p.limit)} (${Math.round(p.percent ?? 0)}%)`;
    const state = p.exceeded ? ' — **exceeded**' : p.alert ? ' — alert' : '';
    const unpriced = p.unpriced.requests > 0 ? `  \n+ ${p.unpriced.requests} request${p.unpriced.requests === 1 ? '' : 's'} (${p.unpriced.tokens.toLocaleString('en-US')} tokens) to models with no known price: cost unknown, not counted` : '';
    return `${label}: **${usd(p.spent)}** ${limit}${state}  \nprojected ${usd(p.projected)}${unpriced}`;
  };
  md.appendMarkdown('**AI Key Manager — budget**\n\n');
  md.appendMarkdown(line('Today', budget.day) + '\n\n');
  md.appendMarkdown(line(`This month (${budget.month.key})`, budget.month) + '\n\n');
  md.appendMarkdown(`Projections assume the last ${budget.burnRate.days} days' average: ${usd(budget.burnRate.usdPerDay)}/day.\n\n`);
  if (budget.enforce) md.appendMarkdown('Budget is enforced: requests over the limit are refused or downgraded.\n\n');
  if (top.length > 0) {
    md.appendMarkdown('Top models today:\n\n');
    for (const g of top) {
      const name = maskKeyShapes(g.model ? `${g.provider}/${g.model}` : g.key);
      md.appendMarkdown(`- ${escapeMarkdown(name)}: ${usd(g.costUsd)} (${g.requests} request${g.requests === 1 ? '' : 's'})\n`);
    }
    md.appendMarkdown('\n');
  } else md.appendMarkdown('No requests recorded today.\n\n');
  const gw = gatewayLine(gateway);
  if (gw) md.appendMarkdown(`${escapeMarkdown(gw)}\n\n`);
  md.appendMarkdown('Click for the usage & budget panel.');
  return md;
}

/** Escapes inline markdown and theme-icon syntax (the text sits mid-line, after "- "). */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>|~]/g, '\\$&').replace(/\$\(/g, '\\$(');
}
