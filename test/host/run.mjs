#!/usr/bin/env node
// Runs a mocha test module inside a REAL VS Code extension host:
//   code-server (VS Code 1.139 server on Node 24)  <— websocket —>  headless Debian Chromium (workbench)
// The workbench URL payload names this repo as the development extension and the test module as
// extensionTestsPath; the test result comes back through window.codeAutomationExit.
//
// Usage: node test/host/run.mjs --tests out/test/integration/index.js
//          [--folder DIR] [--timeout 300] [--screenshot] [--keep] [--verbose]
// Exit: the runner's code (0 pass, 1 failures), 124 timeout, 2 driver error, 3 browser error,
//       4 code-server did not start.
import { mkdirSync, rmSync, cpSync, createWriteStream, mkdtempSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { format } from 'node:util';
import { createRequire } from 'node:module';
import { ensureHost, startCodeServer, workbenchUrl, chromiumPath, CHROMIUM_ARGS, REPO } from './codeServer.mjs';
import { startUiBridge } from './uiBridge.mjs';

const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : dflt; };

const testsPath = resolve(opt('tests', join(REPO, 'out/test/integration/index.js')));
const timeoutSec = Number(opt('timeout', 300));
if (!(timeoutSec > 0)) { console.error(`[host] --timeout needs a number of seconds (got '${opt('timeout')}')`); process.exit(2); }
const timeoutMs = timeoutSec * 1000;
const outDir = resolve(process.env.AIKM_TEST_OUTPUT || join(REPO, 'test-results'));
const logDir = join(outDir, 'host-logs');
const verbose = flag('verbose');
const t0 = Date.now();
const ts = () => `[+${((Date.now() - t0) / 1000).toFixed(1)}s]`;
const say = (m) => process.stdout.write(`[host] ${m}\n`);
/** Logged by test/integration/zz-screenshot.test.ts when the workbench shows what the screenshot should. */
const SCREENSHOT_MARKER = 'AIKM_SCREENSHOT_NOW';
// Workbench chatter that is not from our extension host; kept in workbench.log, out of stdout.
const NOISE = /^(\[(ChatModelSelection|AgentHost|AgentHost:remote|AccountPolicyGate|reconnection-grace-time|Service Worker)\]|Creating a socket|Resolving connection token|Resolved connection token|Updating additional builtin extensions cache|DialogService: Dialog requested during smoke test|getaddrinfo ENOTFOUND|Timed out waiting for authentication provider|Error while getting the latest version)/;

if (!existsSync(testsPath)) { console.error(`[host] test module not found: ${testsPath} (build with 'node esbuild.mjs --tests')`); process.exit(2); }
rmSync(logDir, { recursive: true, force: true });
mkdirSync(logDir, { recursive: true });

let server;
let browser;
let page;
let bridge;
let tempFolder;
let exitCode;
let stopping = false;
// Each step on its own: a missing log folder must not keep the rest (and the exit code) from happening.
const attempt = (what, f) => { try { f(); } catch (e) { say(`could not ${what}: ${e.message}`); } };
const shutdown = async () => {
  if (stopping) return; stopping = true;
  if (browser) await browser.close().catch(() => {});
  await bridge?.close();
  if (server) {
    await server.stop();
    const logs = join(server.runDir, 'user-data', 'logs');
    if (existsSync(logs)) attempt('copy the server logs', () => cpSync(logs, join(logDir, 'server-logs'), { recursive: true, force: true }));
    if (existsSync(server.logFile)) attempt('copy code-server.log', () => cpSync(server.logFile, join(logDir, 'code-server.log')));
    if (!flag('keep')) attempt('remove the run folder', () => rmSync(server.runDir, { recursive: true, force: true }));
  }
  if (tempFolder && !flag('keep')) attempt('remove the test workspace', () => rmSync(tempFolder, { recursive: true, force: true }));
};
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) process.on(sig, () => { shutdown().finally(() => process.exit(code)); });

try {
  const host = ensureHost();
  const folder = opt('folder') ? resolve(opt('folder')) : (tempFolder = mkdtempSync(join(tmpdir(), 'aikm-ws-')));
  bridge = await startUiBridge(() => page);
  server = await startCodeServer({
    host,
    // The test driver loads this repo and the test module from the URL payload (and drops toasts).
    smokeTestDriver: true,
    settings: { 'workbench.startupEditor': 'none', 'chat.disableAIFeatures': false },
    env: { AIKM_TEST_OUTPUT: outDir, AIKM_TEST_SCREENSHOT: flag('screenshot') ? '1' : '', AIKM_TEST_UI: bridge.url },
  });
  say(`VS Code ${host.versions.VSCODE_VERSION} (code-server ${host.versions.CODE_SERVER_VERSION}) at ${server.url} after ${Date.now() - t0} ms`);
  const { chromium } = require('playwright-core');
  try {
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
  } catch (e) {
    throw Object.assign(new Error(`Headless Chromium did not start: ${e.message}`), { exitCode: 3 });
  }
  page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  const browserLog = createWriteStream(join(logDir, 'browser-console.log'));
  const workbenchLog = createWriteStream(join(logDir, 'workbench.log'));
  let done;
  const finished = new Promise((r) => (done = r));
  page.on('console', (m) => browserLog.write(`${ts()} [${m.type()}] ${m.text()}\n`));
  page.on('pageerror', (e) => browserLog.write(`${ts()} [pageerror] ${e?.stack ?? e}\n`));
  page.on('crash', () => { console.error(`${ts()} [host] the workbench page crashed in Chromium`); done(3); });
  browser.on('disconnected', () => { if (stopping) return; console.error(`${ts()} [host] Chromium exited during the tests (see ${logDir})`); done(3); });
  server.child.on('exit', (code, signal) => { if (stopping) return; console.error(`${ts()} [host] code-server exited during the tests (${code ?? signal}); see ${logDir}/code-server.log`); done(4); });
  const wantShot = process.env.AIKM_TEST_SCREENSHOT === '1' || flag('screenshot');
  const shotPath = join(outDir, 'workbench.png');
  let shotTaken = false;
  const takeShot = async () => {
    await page.screenshot({ path: shotPath }).then(() => { shotTaken = true; say(`screenshot: ${shotPath}`); }, (e) => say(`screenshot failed: ${e.message}`));
  };
  await page.exposeFunction('codeAutomationLog', async (type, logArgs) => {
    const line = format(...(Array.isArray(logArgs) ? logArgs : [logArgs]));
    workbenchLog.write(`${ts()} [${type}] ${line}\n`);
    // The last integration test shows the extension's surfaces, then asks for the picture.
    if (wantShot && line.includes(SCREENSHOT_MARKER)) return takeShot();
    if (!verbose && NOISE.test(line)) return;
    (type === 'error' ? process.stderr : process.stdout).write(line + '\n');
  });
  await page.exposeFunction('codeAutomationExit', async (code) => {
    if (wantShot && !shotTaken) await takeShot();
    done(code);
  });
  const timer = setTimeout(() => { console.error(`${ts()} [host] TIMEOUT: the tests did not finish within ${timeoutMs / 1000}s (see ${logDir})`); done(124); }, timeoutMs);
  const url = workbenchUrl(server.url, { folder, extensionPath: REPO, testsPath });
  if (verbose) say(`opening ${url}`);
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  } catch (e) {
    throw Object.assign(new Error(`The browser could not open the workbench: ${e.message}`), { exitCode: 3 });
  }
  exitCode = await finished;
  clearTimeout(timer);
  browserLog.end(); workbenchLog.end();
} catch (e) {
  console.error(`[host] ${e.message}`);
  exitCode = e.exitCode ?? 2;
} finally {
  await shutdown();
}
// Tests use canary keys (…CANARY…); none may reach a log, whatever the tests themselves checked.
attempt('scan the logs for canary keys', () => {
  const leaks = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else for (const m of readFileSync(p, 'utf8').matchAll(/[\w-]*CANARY[\w-]{8,}/g)) leaks.push(`${p}: ${m[0].slice(0, 14)}…`);
    }
  };
  if (existsSync(logDir)) walk(logDir);
  if (leaks.length > 0) {
    console.error(`[host] a canary key reached the logs:\n  ${[...new Set(leaks)].slice(0, 10).join('\n  ')}`);
    if (exitCode === 0) exitCode = 5;
  }
});
say(`exit ${exitCode} after ${((Date.now() - t0) / 1000).toFixed(1)}s (logs: ${logDir})`);
process.exit(typeof exitCode === 'number' ? exitCode : 1);
