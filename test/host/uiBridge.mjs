// Lets integration tests (in the extension host) use the workbench the way a person does: press keys,
// type, and read what the quick input, the notifications and webviews show. The launcher serves it on
// 127.0.0.1 with a random path; the extension host finds it in AIKM_TEST_UI. test/integration/ui.ts
// is the client.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { REPO } from './codeServer.mjs';

/** Reads the quick input widget (the command palette, quick picks and input boxes) from the DOM. */
export function readQuickInput() {
  const w = document.querySelector('.quick-input-widget');
  if (!w || w.style.display === 'none' || w.getClientRects().length === 0) return { visible: false };
  const text = (sel) => w.querySelector(sel)?.textContent?.trim() ?? '';
  const box = w.querySelector('.quick-input-box .monaco-inputbox');
  const severity = ['error', 'warning', 'info'].find((s) => box?.classList.contains(s)) ?? null;
  const input = w.querySelector('.quick-input-box input');
  const rows = [...w.querySelectorAll('.quick-input-list .monaco-list-row')].filter((r) => r.getClientRects().length > 0);
  return {
    visible: true,
    title: text('.quick-input-title'),
    value: input?.value ?? '',
    password: input?.type === 'password',
    placeholder: input?.placeholder ?? '',
    // The message under the box: validation, or the prompt when there is none.
    message: text('.quick-input-message'),
    severity,
    items: rows.map((r) => ({
      label: r.querySelector('.label-name')?.textContent?.trim() ?? '',
      description: r.querySelector('.label-description')?.textContent?.trim() ?? '',
      detail: r.querySelector('.quick-input-list-detail')?.textContent?.trim() ?? '',
      focused: r.classList.contains('focused'),
    })),
  };
}

/** The visible notification toasts and the notification center's entries, newest first. */
export function readNotifications() {
  return [...document.querySelectorAll('.notification-list-item')].map((n) => ({
    message: n.querySelector('.notification-list-item-message')?.textContent?.trim() ?? '',
    buttons: [...n.querySelectorAll('.monaco-button')].map((b) => b.textContent?.trim() ?? ''),
  }));
}

/**
 * Starts the bridge. `getPage` returns the workbench page once it exists. Returns { url, close }.
 * POST <url>/<action> with a JSON body: press {key}, type {text}, quickInput, notifications,
 * webview {selector?, script} (runs `script` as a function body in the first webview frame that has
 * `selector`, and returns its JSON result), workbench {script} (the same in the workbench page),
 * click {selector} (a real mouse click on the first visible match), screenshot {name} (saved as
 * test-results/<name>.png).
 */
export async function startUiBridge(getPage) {
  const secret = randomBytes(16).toString('hex');
  const actions = {
    press: async (page, { key }) => void (await page.keyboard.press(key)),
    type: async (page, { text }) => void (await page.keyboard.type(text)),
    quickInput: (page) => page.evaluate(readQuickInput),
    notifications: (page) => page.evaluate(readNotifications),
    workbench: (page, { script }) => page.evaluate((body) => new Function(body)(), script),
    click: async (page, { selector }) => void (await page.locator(selector).filter({ visible: true }).first().click({ timeout: 5000 })),
    screenshot: async (page, { name }) => {
      if (!/^[\w.-]+$/.test(name ?? '')) throw new Error('screenshot needs a plain file name');
      await page.screenshot({ path: join(REPO, 'test-results', `${name}.png`) });
      return { path: `test-results/${name}.png` };
    },
    webview: async (page, { selector = 'body', script }) => {
      for (const frame of page.frames()) {
        if (!frame.url().includes('webview')) continue;
        const found = await frame.$(selector).catch(() => null);
        if (found) return frame.evaluate((body) => new Function(body)(), script);
      }
      throw new Error(`no webview frame has ${selector}`);
    },
  };
  const server = createServer(async (req, res) => {
    const [, token, action] = (req.url ?? '').split('/');
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? null));
    };
    if (token !== secret || req.method !== 'POST' || !Object.hasOwn(actions, action ?? '')) return send(404, { error: 'unknown' });
    let raw = '';
    for await (const chunk of req) raw += chunk;
    try {
      const page = getPage();
      if (!page) return send(503, { error: 'the workbench page is not open yet' });
      send(200, await actions[action](page, raw ? JSON.parse(raw) : {}));
    } catch (e) {
      send(500, { error: e instanceof Error ? e.message : String(e) });
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/${secret}`, close: () => new Promise((r) => server.close(r)) };
}
