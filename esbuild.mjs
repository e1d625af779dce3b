// Bundles the extension and the headless CLI into dist/; with --tests, also transpiles
// src/ and test/ file-by-file into out/ so unit and integration tests run as plain JS.
import * as esbuild from 'esbuild';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const tests = process.argv.includes('--tests');
/** The bundled price snapshot's version, which the pricing says it uses. */
const GENAI_PRICES_VERSION = JSON.parse(readFileSync('node_modules/@pydantic/genai-prices/package.json', 'utf8')).version;
// Overwrite in place by default (parallel builds and running tests never see a missing file).
const clean = process.argv.includes('--clean') || production;

// Large data packages live in their own files under dist/vendor/ and are required on first use,
// so loading the extension does not parse megabytes of price and tokenizer tables.
const VENDOR = {
  '@pydantic/genai-prices': 'genai-prices',
  'gpt-tokenizer/encoding/o200k_base': 'o200k_base',
  'gpt-tokenizer/encoding/cl100k_base': 'cl100k_base',
};
const vendorExternal = {
  name: 'vendor-external',
  setup(build) {
    const filter = new RegExp(`^(${Object.keys(VENDOR).map((k) => k.replace(/[/.]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: `./vendor/${VENDOR[args.path]}.js`, external: true }));
  },
};

// In the extension bundle, src/mcp/index.ts and src/gateway/index.ts become requires of dist/mcp.js
// and dist/gateway.js, their own bundles, loaded on first use.
const lazyMcp = {
  name: 'lazy-mcp',
  setup(build) {
    build.onResolve({ filter: /^(\.\.\/)+(mcp|gateway)\/index$/ }, (args) => ({ path: `./${args.path.split('/').at(-2)}.js`, external: true }));
  },
};

const bundle = {
  entryPoints: { cli: 'src/cli.ts', mcp: 'src/mcp/index.ts', gateway: 'src/gateway/index.ts' },
  plugins: [vendorExternal],
  outdir: 'dist',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['vscode'],
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  define: {
    AIKM_VERSION: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version),
    AIKM_GENAI_PRICES_VERSION: JSON.stringify(GENAI_PRICES_VERSION),
  },
};

const extensionBundle = { ...bundle, entryPoints: { extension: 'src/extension.ts' }, plugins: [vendorExternal, lazyMcp], supported: { 'dynamic-import': false } };

const vendorBundle = {
  ...bundle,
  plugins: [],
  entryPoints: Object.fromEntries(Object.entries(VENDOR).map(([pkg, name]) => [`vendor/${name}`, pkg])),
  sourcemap: false,
};

// The webview's script (browser code: no Node, no vscode); CSS it imports lands beside it.
const webviewBundle = {
  entryPoints: { 'webview/panel': 'src/webview/panel.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: production,
  sourcemap: !production,
  legalComments: 'none',
  logLevel: 'warning',
};

function tsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

if (watch) {
  await esbuild.build(vendorBundle);
  const ctxs = await Promise.all([esbuild.context(bundle), esbuild.context(extensionBundle), esbuild.context(webviewBundle)]);
  await Promise.all(ctxs.map((c) => c.watch()));
  console.log('[esbuild] watching src/ …');
} else {
  if (clean) rmSync('dist', { recursive: true, force: true });
  await esbuild.build(bundle);
  await esbuild.build(extensionBundle);
  await esbuild.build(vendorBundle);
  await esbuild.build(webviewBundle);
  if (tests) {
    if (clean) rmSync('out', { recursive: true, force: true });
    await esbuild.build({
      entryPoints: [...tsFiles('src'), ...tsFiles('test')].filter((f) => !f.startsWith(join('src', 'webview'))),
      outdir: 'out',
      outbase: '.',
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      logLevel: 'warning',
      define: { AIKM_GENAI_PRICES_VERSION: JSON.stringify(GENAI_PRICES_VERSION) },
    });
  }
}
