// `npm start` as a person uses it: run through npm exactly as the README says, opened in a browser
// that keeps its profile, stopped with Ctrl+C and started again. Keys, usage, budgets and the user's
// own settings must still be there. Run by `npm test` after the integration suite (node --test).
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { chromiumPath, CHROMIUM_ARGS, REPO, START_PORT as DEFAULT_PORT } from '../host/codeServer.mjs';
import { readQuickInput, readNotifications } from '../host/uiBridge.mjs';
import { STATUS_ITEM } from '../../scripts/smoke.mjs';

const { chromium } = createRequire(import.meta.url)('playwright-core');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const canary = `sk-ant-api03-CANARY${[...randomBytes(40)].map((b) => ALNUM[b % ALNUM.length]).join('')}`;

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

function portFree(p) {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(p, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

/** `npm start -- <args>` in its own process group; resolves once it printed the URL (or exited). */
function npmStart(args) {
  const child = spawn('npm', ['start', '--', ...args], { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  // npm passes Ctrl+C on and then ends by that signal (code null, signal SIGINT).
  const exited = new Promise((r) => child.on('exit', (code, signal) => r(code ?? signal)));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no URL within 240 s:\n${out}\n${err}`)), 240_000);
    child.stdout.on('data', () => {
      const url = /(http:\/\/127\.0\.0\.1:\d+\/\?\S+)/.exec(out)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  return {
    ready,
    exited,
    output: () => ({ out, err }),
    /** Ctrl+C, as in the terminal: the whole group gets SIGINT. */
    stop: async () => {
      try {
        process.kill(-child.pid, 'SIGINT');
      } catch {
        // already gone
      }
      return exited;
    },
  };
}

describe('npm start (through npm, in a browser that keeps its profile)', { timeout: 900_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'aikm-e2e-'));
  const data = join(root, 'profile');
  const browserProfile = join(root, 'browser');
  let context;
  let page;
  let port;
  const settingsFile = join(data, 'user-data', 'User', 'settings.json');

  before(async () => {
    port = await freePort();
    // The user's own settings, with a comment: a start must keep both.
    mkdirSync(join(data, 'user-data', 'User'), { recursive: true });
    writeFileSync(settingsFile, '{\n  // my own settings\n  "editor.fontSize": 15,\n}\n');
  });

  after(async () => {
    await context?.close().catch(() => {});
    rmSync(root, { recursive: true, force: true });
  });

  const qi = () => page.evaluate(readQuickInput);
  async function waitQi(ok, what, ms = 20_000) {
    let last;
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
      last = await qi();
      if (ok(last)) return last;
    }
    await page.screenshot({ path: join(REPO, 'test-results', 'e2e-start-failure.png') }).catch(() => {});
    assert.fail(`the quick input did not show ${what}; it shows ${JSON.stringify(last)} (screenshot test-results/e2e-start-failure.png)`);
  }
  async function toast(re, ms = 20_000) {
    let last;
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
      last = await page.evaluate(readNotifications);
      const hit = last.find((n) => re.test(n.message));
      if (hit) return hit;
    }
    await page.screenshot({ path: join(REPO, 'test-results', 'e2e-start-failure.png') }).catch(() => {});
    assert.fail(`no notification matching ${re}; shown: ${JSON.stringify(last)} (screenshot test-results/e2e-start-failure.png)`);
  }
  async function statusText(re, ms = 60_000) {
    const item = page.locator(STATUS_ITEM);
    let last = '';
    for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) {
      last = ((await item.innerText().catch(() => '')) ?? '').trim();
      if (re.test(last)) return last;
    }
    assert.fail(`the status bar item did not show ${re}; it shows '${last}'`);
  }
  /** Runs a palette command by its full title, e.g. 'AI Keys: Set Budget'. */
  async function palette(title) {
    await page.keyboard.press('F1');
    await waitQi((s) => s.visible, 'the command palette');
    await page.keyboard.type(title);
    await waitQi((s) => s.items?.find((i) => i.focused)?.label === title, `'${title}' selected`);
    await page.keyboard.press('Enter');
  }
  async function enter(title, value) {
    await waitQi((s) => s.visible && s.title === title, `'${title}'`);
    if (value !== undefined) {
      await page.keyboard.press('ControlOrMeta+a');
      await page.keyboard.type(value);
      await waitQi((s) => s.value === value && s.severity !== 'error', `'${value}' accepted by '${title}'`);
      await sleep(150);
    }
    await page.keyboard.press('Enter');
  }

  it('says what to do when the port is taken', async () => {
    const blocker = createServer();
    const taken = await freePort();
    await new Promise((r) => blocker.listen(taken, '127.0.0.1', r));
    try {
      const run = npmStart(['--data', join(root, 'other'), '--port', String(taken)]);
      assert.equal(await run.ready, undefined, 'no URL is printed');
      assert.equal(await run.exited, 2);
      assert.match(run.output().err, new RegExp(`Port ${taken} on 127\\.0\\.0\\.1 is in use by another program\\. Stop it, or start on another port: npm start -- --port \\d+`));
    } finally {
      blocker.close();
    }
    // Without --port it is always the same port (so the browser keeps its storage for it).
    const fixed = createServer();
    const held = await new Promise((r) => fixed.once('error', () => r(false)).listen(DEFAULT_PORT, '127.0.0.1', () => r(true)));
    try {
      const run = npmStart(['--data', join(root, 'other')]);
      assert.equal(await run.exited, 2, held ? 'we hold the default port' : 'something else holds the default port');
      assert.match(run.output().err, new RegExp(`Port ${DEFAULT_PORT} on 127\\.0\\.0\\.1 is in use by another program\\. Stop it, or start on another port: npm start -- --port \\d+`));
    } finally {
      if (held) fixed.close();
    }
  });

  it('--smoke checks the workbench a new user sees and saves its screenshots', async () => {
    const shots = ['start-walkthrough.png', 'start-toast.png'].map((f) => join(REPO, 'test-results', f));
    for (const f of shots) rmSync(f, { force: true });
    const run = npmStart(['--smoke']);
    const code = await run.exited;
    const { out, err } = run.output();
    assert.equal(code, 0, `npm start -- --smoke failed:\n${out}\n${err}`);
    assert.match(out, /smoke: workbench ".*code-server"; the AI Key Manager status-bar item reads "Add an API key"/);
    assert.match(out, /smoke: the first-run walkthrough opened/);
    assert.match(out, /smoke: a command's notification toast showed: "AI Key Manager MCP server restarted with a new token\."/);
    for (const f of shots) assert.ok(statSync(f).size > 10_000, `${f} is an image of the workbench`);
  });

  it('keeps keys, usage, budgets and the user’s own settings across a restart', async () => {
    const first = npmStart(['--data', data, '--port', String(port)]);
    const url = await first.ready;
    assert.ok(url, `npm start did not print a URL: ${JSON.stringify(first.output())}`);
    assert.ok(url.startsWith(`http://127.0.0.1:${port}/`), url);
    let spentBefore;
    try {
      context = await chromium.launchPersistentContext(browserProfile, { executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
      page = context.pages()[0] ?? (await context.newPage());
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      await statusText(/Add an API key/);

      // A second start on the same profile is refused, with the URL of the running one.
      const second = npmStart(['--data', data, '--port', String(await freePort())]);
      assert.equal(await second.exited, 2);
      assert.match(second.output().err, new RegExp(`already running on this profile \\(pid \\d+\\): open http://127\\.0\\.0\\.1:${port}/`));

      // The status bar's first step adds a key.
      await page.locator(STATUS_ITEM).click();
      await enter('Add an API key for which provider?');
      await enter('Add Anthropic API key', canary);
      await toast(/^Added the Anthropic key sk-ant…\w{4} to secret storage\./);
      await palette('AI Keys: Set Budget');
      await enter('Set Budget (1/4): the daily limit', '5');
      await enter('Set Budget (2/4): the monthly limit');
      await enter('Set Budget (3/4): the alert threshold');
      await enter('Set Budget (4/4): enforcement');
      await toast(/^Budget saved: daily \$5\./);
      await palette('AI Keys: Record Usage Manually');
      await enter('Record usage for which provider?');
      await waitQi((s) => s.title === 'Anthropic model' && s.items?.length > 1, 'the Anthropic models');
      await page.keyboard.press('Enter');
      await enter('Input tokens', '100000');
      await enter('Output tokens', '1000');
      await toast(/^Recorded Anthropic /);
      // Spend against the $5 budget, once the status bar shows the recorded request (it renders a moment later).
      spentBefore = await statusText(/^\$(?!0\.00 )[\d.]+ \/ \$5$/);
    } finally {
      await first.stop();
    }
    // Ctrl+C stopped VS Code too: its port is free and the profile no longer says it is running.
    assert.ok(await portFree(port), `port ${port} is still taken after Ctrl+C`);
    assert.ok(!existsSync(join(data, 'server.json')), 'the profile still says npm start is running');

    // Settings were merged, not rewritten: the user's comment and setting are still there.
    const settings = readFileSync(settingsFile, 'utf8');
    assert.match(settings, /\/\/ my own settings/);
    assert.match(settings, /"editor\.fontSize": 15/);
    assert.match(settings, /"aiKeyManager\.budget\.daily": 5/);

    const again = npmStart(['--data', data, '--port', String(port)]);
    const url2 = await again.ready;
    assert.equal(url2, url, 'the same address as before');
    try {
      await page.goto(url2, { waitUntil: 'domcontentloaded' });
      // The usage recorded before the restart is still there, counted once (statusText fails after 60 s otherwise).
      assert.equal(await statusText(/^\$(?!0\.00 )[\d.]+ \/ \$5$/), spentBefore);
      await palette('AI Keys: List Keys');
      const list = await waitQi((s) => s.visible && /^AI keys/.test(s.title ?? ''), 'the key list');
      assert.ok(list.items?.some((i) => /Anthropic\s+sk-ant…\w{4}/.test(i.label)), `the key is still there: ${JSON.stringify(list.items)}`);
      await page.keyboard.press('Escape');
    } finally {
      await again.stop();
    }
    assert.ok(await portFree(port));

    // The key never reached a file in plain text: not in the profile, not in the browser's storage.
    const leaks = [];
    const walk = (dir) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        const st = statSync(p, { throwIfNoEntry: false });
        if (!st) continue;
        if (st.isDirectory()) walk(p);
        else if (st.isFile() && st.size < 50_000_000 && readFileSync(p).includes(canary.slice(13))) leaks.push(p);
      }
    };
    walk(data);
    walk(browserProfile);
    assert.deepEqual(leaks, [], 'files holding the key in plain text');
  });

  it('after a crash of npm start, the next start stops the VS Code it left running and starts normally', async () => {
    const first = npmStart(['--data', data, '--port', String(port)]);
    assert.ok(await first.ready);
    const claim = JSON.parse(readFileSync(join(data, 'server.json'), 'utf8'));
    assert.ok(claim.codeServerPid > 0 && claim.pid > 0, JSON.stringify(claim));
    process.kill(claim.pid, 'SIGKILL'); // npm start dies without cleaning up…
    await first.exited;
    assert.ok(!(await portFree(port)), '…and its VS Code keeps the port');
    const next = npmStart(['--data', data, '--port', String(port)]);
    try {
      const url = await next.ready;
      assert.ok(url?.startsWith(`http://127.0.0.1:${port}/`), `no URL: ${JSON.stringify(next.output())}`);
      assert.match(next.output().out, new RegExp(`stopping a VS Code \\(pid ${claim.codeServerPid}\\) left running by an earlier npm start on this profile`));
    } finally {
      await next.stop();
    }
    assert.ok(await portFree(port));
  });
});
