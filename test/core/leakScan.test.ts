import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { scanText, keyAt, commentPrefix, movedNote, findMovedNotes, LEAK_SCAN_INCLUDE } from '../../src/core/leakScan';
import { maskKey, maskKeyShapes } from '../../src/core/redact';

/** Deterministic canary characters of the given alphabet (varied, so they do not look like placeholders). */
function fill(n: number, alphabet: string, seed = 7): string {
  let s = '';
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += alphabet[(x >>> 16) % alphabet.length];
  }
  return s;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

const CANARIES: Record<string, string> = {
  anthropic: 'sk-ant-api03-CANARY' + fill(40, ALNUM, 1),
  openai: 'sk-proj-CANARY' + fill(40, ALNUM, 2),
  google: 'AIza' + fill(35, ALNUM, 3),
  openrouter: 'sk-or-v1-' + fill(64, HEX, 4),
  groq: 'gsk_' + fill(52, ALNUM, 5),
  mistral: fill(32, ALNUM, 6),
  deepseek: 'sk-' + fill(32, HEX, 8),
};

describe('leakScan.scanText', () => {
  it('finds every provider key shape in a .env file with the right line, column, name and mask', () => {
    const entries = Object.entries(CANARIES);
    const text = ['# keys', ...entries.map(([p, k]) => `${p.toUpperCase()}_API_KEY=${k}`), 'DEBUG=true'].join('\n');
    const found = scanText(text);
    assert.deepEqual(
      found.map((f) => [f.provider, f.line, f.column, f.name, f.masked]),
      entries.map(([p, k], i) => [p, i + 2, p.length + '_API_KEY='.length + 1, `${p.toUpperCase()}_API_KEY`, maskKey(k)]),
    );
    for (const f of found) {
      assert.equal(keyAt(text, f), CANARIES[f.provider]);
      assert.ok(!JSON.stringify(f).includes(CANARIES[f.provider]), 'a finding must not carry the key');
    }
  });

  it('finds keys in JSON (settings.json style) and reports the setting name', () => {
    const text = JSON.stringify({ 'editor.fontSize': 14, 'myTool.openai.apiKey': CANARIES.openai, nested: { token: CANARIES.google } }, null, 2);
    const found = scanText(text);
    assert.equal(found.length, 2);
    assert.deepEqual(found.map((f) => [f.provider, f.line, f.name]), [
      ['openai', 3, 'myTool.openai.apiKey'],
      ['google', 5, 'token'],
    ]);
    const lines = text.split('\n');
    assert.equal(lines[found[1].line - 1].slice(found[1].column - 1, found[1].column - 1 + found[1].length), CANARIES.google);
  });

  it('finds keys in YAML and TOML, quoted or not, and with CRLF line ends', () => {
    const yaml = `llm:\r\n  provider: anthropic\r\n  api_key: "${CANARIES.anthropic}"\r\n  fallback:\r\n    key: ${CANARIES.groq}\r\n`;
    assert.deepEqual(scanText(yaml).map((f) => [f.provider, f.line, f.column, f.name]), [
      ['anthropic', 3, 13, 'api_key'],
      ['groq', 5, 10, 'key'],
    ]);
    const toml = `[providers.deepseek]\napi_key = '${CANARIES.deepseek}'\n`;
    assert.deepEqual(scanText(toml).map((f) => [f.provider, f.line, f.column, f.name]), [['deepseek', 2, 12, 'api_key']]);
  });

  it('reports a key without a provider prefix (Mistral) only when the line names the provider', () => {
    assert.equal(scanText(`MISTRAL_API_KEY=${CANARIES.mistral}`)[0]?.provider, 'mistral');
    assert.deepEqual(scanText(`checksum=${CANARIES.mistral}`), []);
    assert.deepEqual(scanText(`"commit": "${fill(32, HEX, 9)}"`), [], 'an md5-like hash is not a key');
  });

  it('has no false positives on ordinary text, hashes, lockfile integrity and placeholders', () => {
    const text = [
      'The quick brown fox jumps over the lazy dog; supercalifragilisticexpialidocious.',
      'import { something_really_long_identifier_name } from "./module";',
      '"integrity": "sha512-8Vd+' + fill(60, ALNUM, 10).replace(/(.{11})/g, '$1/') + '==",',
      '"resolved": "https://registry.npmjs.org/task-runner-cli-extended/-/task-runner-cli-extended-1.2.3.tgz",',
      'OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
      'ANTHROPIC_API_KEY=sk-ant-your-anthropic-key-goes-here-000000',
      'GEMINI_API_KEY=AIzaSyExampleExampleExampleExample12345',
      'commit 3f786850e387550fdab836ed7e6dc881de23001b a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6',
      'masked: sk-ant…a1b2 is fine',
    ].join('\n');
    assert.deepEqual(scanText(text), []);
  });

  it('never finds a key inside a longer token', () => {
    assert.deepEqual(scanText(`prefix${CANARIES.google}`), []);
    assert.deepEqual(scanText(`${CANARIES.google}suffix`), []);
  });

  it('finds several keys on one line and the same key twice', () => {
    const text = `a=${CANARIES.openai} b=${CANARIES.openai},c=${CANARIES.groq}`;
    const found = scanText(text);
    assert.deepEqual(found.map((f) => [f.provider, f.column]), [
      ['openai', 3],
      ['openai', 3 + CANARIES.openai.length + 3],
      ['groq', 3 + 2 * (CANARIES.openai.length + 3)],
    ]);
  });
});

describe('leakScan.maskKeyShapes', () => {
  it('masks key-shaped tokens and leaves other text alone', () => {
    const out = maskKeyShapes(`model ${CANARIES.anthropic} claude-sonnet-4-20250514 ${CANARIES.groq}.`);
    assert.equal(out, `model ${maskKey(CANARIES.anthropic)} claude-sonnet-4-20250514 ${maskKey(CANARIES.groq)}.`);
  });
});

describe('leakScan include glob', () => {
  it('names the config file types the workspace scan reads', () => {
    for (const part of ['.env', '.env.*', '*.json', '*.yaml', '*.yml', '*.toml', '*.ini', '.npmrc']) {
      assert.ok(LEAK_SCAN_INCLUDE.includes(part), part);
    }
  });
});

describe('leakScan.maskKeyShapes after escapes', () => {
  it('masks a key that follows a JSON or string escape (\\n, \\t, \\uXXXX)', () => {
    for (const key of Object.values(CANARIES)) {
      const json = JSON.stringify({ error: `401\n${key}\t${key}\u0001${key}` });
      const out = maskKeyShapes(json);
      assert.ok(!out.includes(key.slice(-16)), `${out} still holds the key`);
      assert.deepEqual(JSON.parse(out), { error: `401\n${maskKey(key)}\t${maskKey(key)}\u0001${maskKey(key)}` });
    }
  });
});

describe('leakScan notes left where a key was taken out', () => {
  it('uses each file type’s comment syntax, and none for plain JSON', () => {
    const cases: [string, string | undefined][] = [
      ['.env', '#'],
      ['app/.env.local', '#'],
      ['prod.env', '#'],
      ['config.yaml', '#'],
      ['c.yml', '#'],
      ['pyproject.toml', '#'],
      ['.npmrc', '#'],
      ['settings.ini', ';'],
      ['package.json', undefined],
      ['config/settings.json', undefined],
      ['.vscode/settings.json', '//'],
      ['tsconfig.jsonc', '//'],
      ['C:\\work\\.env', '#'],
    ];
    for (const [file, prefix] of cases) assert.equal(commentPrefix(file), prefix, file);
  });

  it('says where the key went and how to put it back, with its mask and id, never the key', () => {
    const note = movedNote('#', { name: 'OPENAI_API_KEY', provider: 'openai', masked: maskKey(CANARIES.openai), keyId: 'openai-k1a2b3', column: 16, date: '2026-12-01' });
    assert.equal(
      note,
      `# AI Key Manager moved OPENAI_API_KEY (the OpenAI key ${maskKey(CANARIES.openai)}) into VS Code's secret storage on 2026-12-01; apps that read this file now get an empty value. To put it back here, run 'AI Keys: Restore Moved Key' (key id openai-k1a2b3, column 16).`,
    );
    assert.ok(!note.includes(CANARIES.openai));
    assert.deepEqual(scanText(note), [], 'the note itself is not a finding');
  });

  it('finds the notes it left, with their line, key id and variable name', () => {
    const a = movedNote('#', { name: 'OPENAI_API_KEY', provider: 'openai', masked: maskKey(CANARIES.openai), keyId: 'openai-k1', column: 16, date: '2026-12-01' });
    const b = movedNote(';', { provider: 'groq', masked: maskKey(CANARIES.groq), keyId: 'groq-k2', column: 7, date: '2026-12-01' });
    const c = movedNote('//', { name: 'apiKey', provider: 'google', masked: maskKey(CANARIES.google), keyId: 'google-k3', column: 15, date: '2026-12-01' });
    const text = `# mine\n${a}\nOPENAI_API_KEY=\r\n  ${b}\n  key=\n# AI Key Manager moved nothing (a look-alike without an id)\n  ${c}\n  "apiKey": "",\n`;
    assert.deepEqual(
      findMovedNotes(text).map((n) => [n.line, n.keyId, n.column, n.name]),
      [
        [2, 'openai-k1', 16, 'OPENAI_API_KEY'],
        [4, 'groq-k2', 7, undefined],
        [7, 'google-k3', 15, 'apiKey'],
      ],
    );
    assert.deepEqual(findMovedNotes('OPENAI_API_KEY=\n'), []);
  });
});
