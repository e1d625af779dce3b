// Messages between the extension host and the usage & budget webview, and the webview's saved state.
// Types only: both sides import them (the host with `import type`).
import type { DashboardFilter, DashboardModel } from '../core/dashboard';

export type { DashboardFilter, DashboardModel };

/** Commands the panel may ask the host to run (the host accepts no others). */
export type PanelCommand = 'recordUsage' | 'addKey' | 'setBudget' | 'validateAllKeys';

export type WebviewMessage =
  /** The page loaded (first time, or again after being hidden): send a fresh model for this filter. */
  | { type: 'ready'; filter: DashboardFilter }
  | { type: 'filter'; filter: DashboardFilter }
  | { type: 'export'; format: 'csv' | 'json' }
  | { type: 'run'; command: PanelCommand };

/** A model for the panel's current filter; with `setFilter`, the host changed the filter (e.g. showPanel's arguments). */
export type HostMessage = { type: 'model'; model: DashboardModel; setFilter?: boolean };

/** What the webview keeps through vscode.setState, and what the serializer gets back after a reload. */
export interface PanelState {
  filter: DashboardFilter;
  model?: DashboardModel;
  /** The chart's data table is expanded. */
  tableOpen?: boolean;
  /** Providers hidden from the chart through its legend. */
  hiddenSeries?: string[];
  scrollY?: number;
}
