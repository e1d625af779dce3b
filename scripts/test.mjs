#!/usr/bin/env node
// npm test: lint, build, type-check, unit tests (node:test + c8 coverage), then the integration suite in a
// real VS Code host (test/host/run.mjs); webview tests run in headless Chromium after the host install,
// and the npm start tests (test/e2e) last. Flags: --unit, --integration (only that part);
// other flags (--screenshot, --verbose, --keep, --timeout N) go to the host launcher.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDeps } from './ensureDeps.mjs';

const args = process.argv.slice(2);
const onlyUnit = args.includes('--unit');
const onlyIntegration = args.includes('--integration');
const hostArgs = args.filter((a) => a !== '--unit' && a !== '--integration');
const t0 = Date.now();

function step(title, cmd, cmdArgs, extraEnv = {}) {
  process.stdout.write(`\n▶ ${title}\n`);
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (r.status !== 0) {
    process.stderr.write(`\n✖ ${title} failed (exit ${r.status ?? r.signal}).\n`);
    process.exit(r.status || 1);
  }
}

function files(dir, suffix) {
  try {
    return readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? files(p, suffix) : p.endsWith(suffix) ? [p] : [];
    });
  } catch {
    return [];
  }
}

ensureDeps();
// First: a broken layer (core importing vscode, the webview importing node) fails before anything runs.
step('lint (ESLint: TypeScript rules and layer import zones)', process.execPath, ['node_modules/eslint/bin/eslint.js', '--max-warnings', '0', '.']);
step('build (esbuild: dist/ and out/)', process.execPath, ['esbuild.mjs', '--tests', '--clean']);
step('type-check (tsc --noEmit, strict)', process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.', '--noEmit']);

if (!onlyIntegration) {
  const unit = files('out/test', '.test.js').filter((f) => !f.startsWith(join('out', 'test', 'integration')) && !f.startsWith(join('out', 'test', 'webview')));
  if (unit.length === 0) { process.stderr.write('✖ no unit test files found under out/test\n'); process.exit(1); }
  step(`unit tests (${unit.length} files, coverage of src/)`, process.execPath, [
    'node_modules/c8/bin/c8.js', '--reporter=text-summary', '--reporter=html', '--report-dir=test-results/coverage',
    '--include=out/src/**', '--exclude=out/src/vscode/**', '--exclude=out/src/extension.js',
    process.execPath, '--test', '--test-reporter=spec', ...unit,
  ]);
}
if (!onlyUnit) {
  step('install the test host if missing (Debian chromium, Node 24, code-server)', 'bash', ['test/host/install.sh']);
  const browser = files(join('out', 'test', 'webview'), '.test.js');
  // The build always compiles test/webview; none there means a broken build, not "nothing to test".
  if (browser.length === 0) { process.stderr.write('✖ no webview test files found under out/test/webview; check that esbuild.mjs --tests compiles test/webview.\n'); process.exit(1); }
  step(`webview tests in headless Chromium (${browser.length} files)`, process.execPath, ['--test', '--test-reporter=spec', ...browser]);
  step('integration tests in a real VS Code host', process.execPath, ['test/host/run.mjs', '--tests', 'out/test/integration/index.js', ...hostArgs]);
  // Last: it packages a production build into dist/, which the steps above do not expect.
  const e2e = files(join('test', 'e2e'), '.test.mjs');
  if (e2e.length === 0) { process.stderr.write('✖ no npm start tests found under test/e2e\n'); process.exit(1); }
  step('npm start as a person uses it (a restart keeps keys, usage and settings)', process.execPath, ['--test', '--test-reporter=spec', ...e2e]);
}
process.stdout.write(`\n✔ all tests passed in ${((Date.now() - t0) / 1000).toFixed(0)}s\n`);
