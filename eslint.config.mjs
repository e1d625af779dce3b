// ESLint (flat config): TypeScript rules, and the layers of ARCHITECTURE in the README enforced as
// import zones, so a broken layer fails `npm run lint` (and so `npm test` and CI).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const layer = (dir) => [`../${dir}`, `../${dir}/*`, `../../${dir}/*`];
const NODE = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/** `no-restricted-imports` for one layer: `paths` are module names, `layers` sibling folders of src/. */
function zone(files, { layers = [], modules = [], why }) {
  return {
    files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: modules.map((name) => ({ name, message: why })),
          patterns: layers.length ? [{ group: layers.flatMap(layer), message: why }] : [],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'test-results/**', '.vscode-test/**', 'media/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['**/*.mjs', 'scripts/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', URLSearchParams: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', structuredClone: 'readonly', performance: 'readonly', document: 'readonly', window: 'readonly', navigator: 'readonly', localStorage: 'readonly', globalThis: 'readonly' } },
  },
  {
    // Required on first use, not imported: the price database and the encoders are large, and
    // extension activation must stay fast (tests check what is loaded when).
    files: ['src/core/pricing.ts', 'src/core/tokenize.ts', 'test/core/pricing.test.ts', 'test/core/tokenize.test.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  zone(['src/core/**/*.ts'], {
    modules: ['vscode'],
    layers: ['vscode', 'mcp', 'headless', 'webview', 'gateway'],
    why: 'src/core is the domain layer: no vscode, and nothing from the hosts or surfaces (mcp, headless, vscode, webview, gateway) that build on it.',
  }),
  zone(['src/mcp/**/*.ts'], {
    modules: ['vscode'],
    layers: ['vscode', 'webview', 'headless'],
    why: 'src/mcp runs in every host: no vscode, and no host (vscode, headless) or panel code.',
  }),
  zone(['src/gateway/**/*.ts'], {
    modules: ['vscode'],
    layers: ['vscode', 'webview', 'headless', 'mcp'],
    why: 'src/gateway is host-agnostic: no vscode, and no host or surface code.',
  }),
  zone(['src/headless/**/*.ts'], {
    modules: ['vscode'],
    layers: ['vscode', 'webview'],
    why: 'src/headless is the CLI host: no vscode.',
  }),
  zone(['src/webview/**/*.ts'], {
    modules: ['vscode', ...NODE],
    layers: ['vscode', 'mcp', 'headless', 'gateway'],
    why: 'src/webview runs in the panel page (a browser): no node modules, no vscode API, no host code.',
  }),
);
