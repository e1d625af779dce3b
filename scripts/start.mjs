#!/usr/bin/env node
// npm start: install what is missing, build the extension into a .vsix, install it into a local VS Code
// (code-server on 127.0.0.1, a profile kept across restarts) and print the URL. Ctrl+C stops it.
// Run with --help for the options.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  --data DIR     the VS Code profile to use (default: ${join(cacheDir(), 'dev')})
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

// One `npm start` per profile: the claim file holds our pid, then code-server's and the URL.
const pidFile = join(runDir, 'server.json');
let claimed = false;
let codeServerPid;
let server;
let stopping = false;
// Whatever ends this process, it does not leave code-server (its own session) or the claim behind.
process.on('exit', () => {
  if (!server && codeServerPid) killGroup(codeServerPid, 'SIGKILL');
  if (claimed) rmSync(pidFile, { force: true });
  if (temporary) rmSync(runDir, { recursive: true, force: true });
});
await claimProfile();
if (port !== 0 && !(await portIsFree(port))) await portTaken(port);

// The extension saves usage a moment after each change (and VS Code then passes it to the browser);
// stopping at once after a request would lose it.
const SAVE_GRACE_MS = 1500;
const stop = async (code = 0) => {
  if (stopping) return;
  stopping = true;
  if (server) {
    process.stdout.write('\nStopping (giving the extension a moment to save)…\n');
    await new Promise((r) => setTimeout(r, SAVE_GRACE_MS));
    await server.stop();
  }
  process.exit(code); // the exit handler stops a code-server still starting
};
// Ctrl+C is how npm start is meant to end; during --smoke it is an interrupted check.
for (const [sig, code] of [['SIGINT', smoke ? 130 : 0], ['SIGTERM', smoke ? 143 : 0], ['SIGHUP', 129]]) process.on(sig, () => void stop(code));

const host = ensureHost();
process.stdout.write('▶ building the extension (.vsix) and installing it into the VS Code profile\n');
const vsix = join(runDir, 'ai-key-manager.vsix');
execFileSync(process.execPath, [join(REPO, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', vsix], {
  cwd: REPO,
  stdio: ['ignore', 'ignore', 'inherit'],
});
installExtension({ host, runDir, vsix });

try {
  server = await startCodeServer({ host, runDir, port, onSpawn: (child) => writeClaim({ codeServerPid: (codeServerPid = child.pid) }) });
} catch (e) {
  if (/EADDRINUSE/.test(e.message)) await portTaken(port); // taken while we built
  console.error(`✖ ${e.message}`);
  process.exit(e.exitCode ?? 4);
}
const url = workbenchUrl(server.url, { folder });
writeClaim({ url });
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

/** Takes the profile, or says where the npm start that has it runs. A claim left by a crash is taken over. */
async function claimProfile() {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(pidFile, JSON.stringify({ pid: process.pid, port }), { flag: 'wx' });
      claimed = true;
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    const other = readClaim();
    if (other && alive(other.pid)) {
      fail(
        `AI Key Manager is already running on this profile (pid ${other.pid})${other.url ? `: open ${other.url}` : `, starting on port ${other.port}`}\n` +
          `  Stop it with Ctrl+C in its terminal (or 'kill ${other.pid}') before starting it again, or use another profile: npm start -- --data DIR`,
      );
    }
    // That npm start is gone; a code-server it left running on this profile goes too.
    if (other?.codeServerPid && isOurCodeServer(other.codeServerPid)) {
      process.stdout.write(`▶ stopping a VS Code (pid ${other.codeServerPid}) left running by an earlier npm start on this profile\n`);
      killGroup(other.codeServerPid, 'SIGTERM');
      for (let i = 0; i < 50 && alive(other.codeServerPid); i++) await new Promise((r) => setTimeout(r, 100));
      killGroup(other.codeServerPid, 'SIGKILL');
    }
    rmSync(pidFile, { force: true });
  }
  fail(`Could not claim the profile ${runDir} (another npm start keeps taking it). Try again.`);
}

function readClaim() {
  try {
    return JSON.parse(readFileSync(pidFile, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeClaim(fields) {
  writeFileSync(pidFile, JSON.stringify({ ...readClaim(), ...fields }));
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // gone already
  }
}

/** Whether `pid` is still a code-server of this profile (not another process that got its number since). */
function isOurCodeServer(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(join(runDir, 'user-data'));
  } catch {
    return false;
  }
}

async function portTaken(p) {
  let alt = 8080;
  while (alt < 8100 && !(await portIsFree(alt))) alt++;
  fail(
    `Port ${p} on 127.0.0.1 is in use by another program. Stop it, or start on another port: npm start -- --port ${alt}\n` +
      '  The browser keeps keys and workspace state per address, so after a port change they start empty; going back to the old port brings them back.',
  );
}

function portIsFree(p) {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(p, '127.0.0.1', () => probe.close(() => done(true)));
  });
}
