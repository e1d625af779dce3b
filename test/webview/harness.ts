// Serves the panel exactly as the extension builds it (panelHtml + dist/webview) on 127.0.0.1 and
// opens it in headless Chromium with a stand-in for VS Code's webview API.
import * as http from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { AiKeyManagerCore } from '../../src/core/service';
import type { BudgetConfig } from '../../src/core/budget';
import type { PriceOverride } from '../../src/core/pricing';
import { panelHtml } from '../../src/vscode/panelHtml';
import type { PanelState, WebviewMessage } from '../../src/webview/protocol';
import { THEMES, type ThemeName } from './themes';
import type { TestClock } from '../support/ports';
import { makeTestCore } from '../support/core';

// --- the core ----------------------------------------------------------------------------------

/** A core for the panel: no budget unless given, prices as overrides (see test/support/core.ts). */
export function makeCore(opts: { clock: TestClock; budget: Partial<BudgetConfig>; prices: PriceOverride[]; allUsage?: boolean }): AiKeyManagerCore {
  return makeTestCore({
    settings: { budget: { daily: 0, monthly: 0, alertThreshold: 0.8, enforce: false, ...opts.budget }, priceOverrides: opts.prices },
    clock: opts.clock,
    allUsage: opts.allUsage,
  }).core;
}

// --- the page server -----------------------------------------------------------------------------

const DIST = join(process.cwd(), 'dist', 'webview');
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

export interface PanelServer {
  origin: string;
  /** Serves a fresh page for this state (new nonce each time, like the extension); returns its HTML. */
  setState(state: PanelState): string;
  close(): Promise<void>;
}

export async function startServer(): Promise<PanelServer> {
  let html = '';
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(html);
        return;
      }
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204).end();
        return;
      }
      if (url.pathname.startsWith('/dist/webview/')) {
        const file = normalize(join(DIST, url.pathname.slice('/dist/webview/'.length)));
        if (!file.startsWith(DIST + sep)) {
          res.writeHead(403).end();
          return;
        }
        try {
          const body = await readFile(file);
          res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' });
          res.end(body);
        } catch {
          res.writeHead(404).end();
        }
        return;
      }
      res.writeHead(404).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    setState(state) {
      html = panelHtml({
        scriptUri: `${origin}/dist/webview/panel.js`,
        styleUri: `${origin}/dist/webview/panel.css`,
        cspSource: origin,
        nonce: randomBytes(18).toString('base64'),
        initialState: state,
      });
      return html;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// --- the browser -----------------------------------------------------------------------------------

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update'],
  });
}

export interface PanelPage {
  page: Page;
  context: BrowserContext;
  /** Everything the page posted to the "host", in order (JSON copies). */
  messages: WebviewMessage[];
  /** Console errors, page errors and CSP violations. */
  problems: string[];
  /** Waits for a posted message that matches. */
  nextMessage(pred: (m: WebviewMessage) => boolean, timeoutMs?: number): Promise<WebviewMessage>;
  /** Sends a message as the extension host does (webview.postMessage). */
  send(message: unknown): Promise<void>;
  setTheme(name: ThemeName): Promise<void>;
}

// Runs in the page before any of its scripts: the part of VS Code's webview API the panel uses.
// State survives reloads in sessionStorage, as VS Code keeps it while a webview is hidden.
const SHIM = `
(() => {
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return Object.freeze({
      postMessage: (m) => window.__aikmPost(JSON.stringify(m)),
      getState: () => { const s = sessionStorage.getItem('aikm-state'); return s ? JSON.parse(s) : undefined; },
      setState: (s) => { sessionStorage.setItem('aikm-state', JSON.stringify(s)); return s; },
    });
  };
  document.addEventListener('securitypolicyviolation', (e) => window.__aikmProblem('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
})();
`;

export async function openPanel(browser: Browser, server: PanelServer, opts: { theme?: ThemeName; width?: number; height?: number } = {}): Promise<PanelPage> {
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 }, locale: 'en-US', timezoneId: 'UTC', deviceScaleFactor: 1 });
  const page = await context.newPage();
  const messages: WebviewMessage[] = [];
  const problems: string[] = [];
  const waiters = new Set<() => void>();
  await page.exposeFunction('__aikmPost', (json: string) => {
    messages.push(JSON.parse(json) as WebviewMessage);
    for (const w of [...waiters]) w();
  });
  await page.exposeFunction('__aikmProblem', (text: string) => problems.push(text));
  await page.addInitScript(SHIM);
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()}`));
  page.on('request', (req) => {
    if (!req.url().startsWith(server.origin)) problems.push(`request outside the panel's origin: ${req.url()}`);
  });

  const p: PanelPage = {
    page,
    context,
    messages,
    problems,
    nextMessage(pred, timeoutMs = 5000) {
      const seen = messages.length;
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = messages.slice(seen).find(pred);
          if (!m) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(m);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message from the panel within ${timeoutMs} ms; got ${JSON.stringify(messages.slice(seen))}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    async send(message) {
      await page.evaluate((m) => window.postMessage(m, '*'), message);
    },
    async setTheme(name) {
      const theme = THEMES[name];
      await page.evaluate((t) => {
        for (const [k, v] of Object.entries(t.vars)) document.documentElement.style.setProperty(k, v);
        document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light');
        document.body.classList.add(t.bodyClass);
        document.body.dataset.vscodeThemeKind = t.kind;
      }, theme);
    },
  };
  // The theme is applied before the page's script runs, as VS Code does.
  const theme = THEMES[opts.theme ?? 'dark'];
  await page.addInitScript((t) => {
    // Init scripts run before <html> exists: set the variables as soon as it does.
    const setVars = () => {
      for (const [k, v] of Object.entries(t.vars)) document.documentElement.style.setProperty(k, v);
    };
    if (document.documentElement) setVars();
    else {
      const mo = new MutationObserver(() => {
        if (!document.documentElement) return;
        mo.disconnect();
        setVars();
      });
      mo.observe(document, { childList: true });
    }
    document.addEventListener('DOMContentLoaded', () => {
      document.body.classList.add(t.bodyClass);
      document.body.dataset.vscodeThemeKind = t.kind;
    });
  }, theme);
  // The page's last step at start-up is to post 'ready'.
  const ready = p.nextMessage((m) => m.type === 'ready');
  await page.goto(`${server.origin}/`);
  await ready;
  return p;
}
