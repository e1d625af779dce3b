#!/usr/bin/env node
// npm start: install what is missing, build the extension into a .vsix, install it into a local VS Code
// (code-server on 127.0.0.1, a profile kept across restarts) and print the URL. Ctrl+C stops it.
// Run with --help for the options.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDeps } from './ensureDeps.mjs';
import { ensureHost, startCodeServer, installExtension, workbenchUrl, cacheDir, REPO, START_PORT as DEFAULT_PORT } from '../test/host/codeServer.mjs';

const HELP = `npm start [-- options]

Builds AI Key Manager, installs it into a local VS Code (code-server) and prints the URL to open.
Keys, usage, budgets and settings are kept between starts: the VS Code profile is in the data folder,
and the browser keeps secrets and workspace state per address, so open the same URL (same port) each time.

  --port N       port on 127.0.0.1 (default ${DEFAULT_PORT})
  --folder DIR   the folder to open (default: <data>/workspace)
  --data DIR     the VS Code profile to use (default: ~/.cache/aikm-test/dev)
  --smoke        check the URL serves the workbench with the extension running, save screenshots of
                 the first-run walkthrough and a notification to test-results/, then stop. Uses a
                 temporary profile and a free port unless --data / --port are given.
  --help         this text`;

function fail(message) {
  console.error(`✖ ${message}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: { port: { type: 'string' }, folder: { type: 'string' }, data: { type: 'string' }, smoke: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  }).values;
} catch (e) {
  fail(`${e.message.replace(/\.?$/, '.')} Run 'npm start -- --help'.`);
}
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const smoke = args.smoke === true;
const port = Number(args.port ?? (smoke ? 0 : DEFAULT_PORT));
if (!/^\d+$/.test(args.port ?? '0') || port > 65535) fail(`--port needs a port number from 0 to 65535 (got '${args.port}').`);

ensureDeps();
const dataArg = args.data;
const temporary = smoke && !dataArg;
const runDir = resolve(dataArg ?? (temporary ? mkdtempSync(join(tmpdir(), 'aikm-smoke-')) : join(cacheDir(), 'dev')));
mkdirSync(runDir, { recursive: true });
const folder = resolve(args.folder ?? join(runDir, 'workspace'));
mkdirSync(folder, { recursive: true });

// Another `npm start` on this profile, or another program on the port: say which, before building.
const pidFile = join(runDir, 'server.json');
const running = await readRunning(pidFile);
if (running) fail(`AI Key Manager is already running on this profile (pid ${running.pid}): open ${running.url}\n  Stop it with Ctrl+C in its terminal (or 'kill ${running.pid}') before starting it again.`);
if (port !== 0 && !(await portIsFree(port))) {
  fail(
    `Port ${port} on 127.0.0.1 is in use by another program. Stop it, or start on another port: npm start -- --port ${port === DEFAULT_PORT ? 8080 : DEFAULT_PORT}\n` +
      '  The browser keeps keys and workspace state per address, so after a port change they start empty; going back to the old port brings them back.',
  );
}

const host = ensureHost();
process.stdout.write('▶ building the extension (.vsix) and installing it into the VS Code profile\n');
const vsix = join(runDir, 'ai-key-manager.vsix');
execFileSync(process.execPath, [join(REPO, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', vsix], {
  cwd: REPO,
  stdio: ['ignore', 'ignore', 'inherit'],
});
installExtension({ host, runDir, vsix });

const server = await startCodeServer({ host, runDir, port });
const url = workbenchUrl(server.url, { folder });
writeFileSync(pidFile, JSON.stringify({ pid: process.pid, url }));
let stopping = false;
// The extension saves usage a moment after each change (and VS Code then passes it to the browser);
// stopping at once after a request would lose it.
const SAVE_GRACE_MS = 1500;
const stop = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nStopping (giving the extension a moment to save)…\n');
  await new Promise((r) => setTimeout(r, SAVE_GRACE_MS));
  await server.stop();
  rmSync(pidFile, { force: true });
  if (temporary) rmSync(runDir, { recursive: true, force: true });
  process.exit(code);
};
for (const [sig, code] of [['SIGINT', 0], ['SIGTERM', 0], ['SIGHUP', 129]]) process.on(sig, () => void stop(code));
server.child.on('exit', (code, signal) => {
  if (stopping) return;
  console.error(`✖ VS Code (code-server) stopped unexpectedly (${code ?? signal}). Its log: ${server.logFile}`);
  void stop(4);
});
process.stdout.write(
  `\nAI Key Manager is running in VS Code ${host.versions.VSCODE_VERSION} (code-server).\nOpen this URL in a browser:\n\n  ${url}\n\n` +
    `Profile: ${runDir}${temporary ? ' (temporary)' : ''}\nPress Ctrl+C to stop.\n`,
);

if (smoke) {
  const { smokeCheck } = await import('./smoke.mjs');
  await stop(await smokeCheck(url, join(REPO, 'test-results')));
}

/** The `npm start` recorded in the profile, if its process is alive and its port still taken. */
async function readRunning(file) {
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    process.kill(r.pid, 0);
    return (await portIsFree(Number(new URL(r.url).port))) ? undefined : r;
  } catch {
    return undefined; // unreadable, or the process is gone: a leftover from a crash
  }
}

function portIsFree(p) {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(p, '127.0.0.1', () => probe.close(() => done(true)));
  });
}
