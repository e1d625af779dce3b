// Bundles the extension and the headless CLI into dist/; with --tests, also transpiles
// src/ and test/ file-by-file into out/ so unit and integration tests run as plain JS.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const tests = process.argv.includes('--tests');

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

const bundle = {
  entryPoints: { extension: 'src/extension.ts', cli: 'src/cli.ts' },
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
};

const vendorBundle = {
  ...bundle,
  plugins: [],
  entryPoints: Object.fromEntries(Object.entries(VENDOR).map(([pkg, name]) => [`vendor/${name}`, pkg])),
  sourcemap: false,
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
  const ctx = await esbuild.context(bundle);
  await ctx.watch();
  console.log('[esbuild] watching src/ …');
} else {
  rmSync('dist', { recursive: true, force: true });
  await esbuild.build(bundle);
  await esbuild.build(vendorBundle);
  if (tests) {
    rmSync('out', { recursive: true, force: true });
    await esbuild.build({
      entryPoints: [...tsFiles('src'), ...tsFiles('test')],
      outdir: 'out',
      outbase: '.',
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      logLevel: 'warning',
    });
  }
}
