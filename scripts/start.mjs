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
const server = await startCodeServer({ host, runDir, port: Number(opt('port', 0)) });
const url = workbenchUrl(server.url, { folder });
const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.stdout.write(`\nAI Key Manager is running in VS Code ${host.versions.VSCODE_VERSION} (code-server).\nOpen this URL in a browser:\n\n  ${url}\n\nPress Ctrl+C to stop.\n`);

if (argv.includes('--smoke')) {
  const { chromium } = createRequire(import.meta.url)('playwright-core');
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForTimeout(8000);
  const title = await page.title();
  mkdirSync(join(REPO, 'test-results'), { recursive: true });
  await page.screenshot({ path: join(REPO, 'test-results', 'start.png') });
  await browser.close();
  process.stdout.write(`smoke: workbench title "${title}"; screenshot test-results/start.png\n`);
  await stop();
}
