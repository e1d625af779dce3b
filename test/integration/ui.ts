// The workbench as a person uses it, from inside the extension host: keys pressed and text typed in the
// real browser, and what the quick input and notifications show, read from its DOM. Served by the
// code-server launcher (test/host/uiBridge.mjs); absent under @vscode/test-electron, where tests that
// need it are skipped.
import { waitUntil } from '../support/waitFor';

export interface QuickInputItem {
  label: string;
  description: string;
  detail: string;
  focused: boolean;
}

export interface QuickInputState {
  visible: boolean;
  title?: string;
  value?: string;
  password?: boolean;
  placeholder?: string;
  /** Validation message, or the prompt when there is none. */
  message?: string;
  /** Severity of the validation message shown, if any. */
  severity?: 'error' | 'warning' | 'info' | null;
  items?: QuickInputItem[];
}

export interface Notification {
  message: string;
  buttons: string[];
}

const base = process.env.AIKM_TEST_UI;

/** Whether the real workbench UI can be driven here. */
export const hasUi = base !== undefined && base !== '';

async function call<T>(action: string, body: object = {}): Promise<T> {
  if (!base) throw new Error('AIKM_TEST_UI is not set: the UI bridge exists only under the code-server launcher.');
  const res = await fetch(`${base}/${action}`, { method: 'POST', body: JSON.stringify(body) });
  const data = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(`UI bridge ${action}: ${data?.error ?? res.status}`);
  return data;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const ui = {
  press: (key: string) => call<null>('press', { key }),
  type: (text: string) => call<null>('type', { text }),
  quickInput: () => call<QuickInputState>('quickInput'),
  notifications: () => call<Notification[]>('notifications'),
  /** Runs `script` (a function body) in the webview frame that has `selector`; returns its result. */
  webview: <T>(script: string, selector?: string) => call<T>('webview', { script, selector }),
  /** Runs `script` (a function body) in the workbench page; returns its result. */
  workbench: <T>(script: string) => call<T>('workbench', { script }),
  /** A real mouse click on the first visible element matching `selector`. */
  click: (selector: string) => call<null>('click', { selector }),
  /** Saves a screenshot of the workbench as test-results/<name>.png. */
  screenshot: (name: string) => call<{ path: string }>('screenshot', { name }),

  /** Waits until the quick input shows a state `ok` accepts; fails with what it last showed. */
  waitQuickInput(ok: (s: QuickInputState) => boolean, what: string, ms = 10_000): Promise<QuickInputState> {
    return waitUntil(() => this.quickInput(), ok, `the quick input to show ${what}`, { timeoutMs: ms, intervalMs: 50 });
  },

  /** Waits for the box or list titled `title` (and, if given, a validation/prompt message matching `message`). */
  waitFor(title: string | RegExp, message?: RegExp): Promise<QuickInputState> {
    const titleOk = (t = '') => (typeof title === 'string' ? t === title : title.test(t));
    return this.waitQuickInput((s) => s.visible && titleOk(s.title) && (!message || message.test(s.message ?? '')), `'${title}'${message ? ` with ${message}` : ''}`);
  },

  /** Replaces the text in the focused input box with `text`, and waits until the box shows it. */
  async fill(text: string): Promise<void> {
    await this.press('ControlOrMeta+a');
    if (text) await this.type(text);
    else await this.press('Backspace');
    await this.waitQuickInput((s) => s.value === text, `the value '${text}'`);
  },

  /**
   * Presses Enter once the box's validation has caught up with what was typed (a message for a
   * half-typed value such as "7." would make VS Code ignore the Enter).
   */
  async accept(): Promise<void> {
    await sleep(150);
    await this.waitQuickInput((s) => s.severity !== 'error', 'no validation error');
    await this.press('Enter');
  },

  waitHidden(ms = 10_000): Promise<QuickInputState> {
    return this.waitQuickInput((s) => !s.visible, 'nothing (closed)', ms);
  },
};
