#!/usr/bin/env node
// npm start: install what is missing, build, and open the extension (loaded from source) in a real
// VS Code — a local code-server on 127.0.0.1 — then print the URL. Ctrl+C stops everything.
// Flags: --port N (default 0 = random), --folder DIR (workspace to open), --smoke (open the URL in
// headless Chromium, save test-results/start.png, and exit: proves the URL serves the workbench).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { ensureDeps } from './ensureDeps.mjs';

const argv = process.argv.slice(2);
const opt = (n, d) => { const i = argv.indexOf(`--${n}`); return i >= 0 ? argv[i + 1] : d; };
ensureDeps();
execFileSync(process.execPath, ['esbuild.mjs'], { stdio: 'inherit' });
const { ensureHost, startCodeServer, workbenchUrl, cacheDir, chromiumPath, CHROMIUM_ARGS, REPO } = await import('../test/host/codeServer.mjs');
const host = ensureHost();
// A persistent profile, so keys, settings and the ledger survive restarts.
const runDir = join(cacheDir(), 'dev');
const folder = resolve(opt('folder', join(runDir, 'workspace')));
mkdirSync(folder, { recursive: true });
const port = Number(opt('port', 0));
if (!Number.isInteger(port) || port < 0 || port > 65535) { console.error(`--port needs a port number (got '${opt('port')}')`); process.exit(2); }
const server = await startCodeServer({ host, runDir, port });
const url = workbenchUrl(server.url, { folder });
const stop = async (code = 0) => { await server.stop(); process.exit(code); };
for (const [sig, code] of [['SIGINT', 0], ['SIGTERM', 0], ['SIGHUP', 129]]) process.on(sig, () => void stop(code));
process.stdout.write(`\nAI Key Manager is running in VS Code ${host.versions.VSCODE_VERSION} (code-server).\nOpen this URL in a browser:\n\n  ${url}\n\nPress Ctrl+C to stop.\n`);

if (argv.includes('--smoke')) {
  // Proves the URL serves a workbench with this extension running: its status-bar item shows.
  let code = 0;
  let browser;
  try {
    const { chromium } = createRequire(import.meta.url)('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    const item = page.locator('.statusbar-item', { hasText: /today/ }).first();
    await item.waitFor({ timeout: 60_000 });
    const title = await page.title();
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO, 'test-results', 'start.png') });
    process.stdout.write(`smoke: workbench "${title}", AI Key Manager status bar shows "${(await item.textContent())?.trim()}"; screenshot test-results/start.png\n`);
  } catch (e) {
    console.error(`smoke: the workbench did not show AI Key Manager: ${e.message}`);
    code = 1;
  } finally {
    await browser?.close().catch(() => {});
    await stop(code);
  }
}
