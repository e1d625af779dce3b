// What `npm run package` puts in the .vsix: vsce's own file list, so a .vscodeignore mistake shows.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..');

describe('the .vsix contents', () => {
  it('holds the bundles, the webview, media, README, LICENSE and package.json, and nothing else', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' });
    const files = out.split('\n').map((l) => l.trim()).filter(Boolean).sort();
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/extension.js', 'dist/mcp.js', 'dist/cli.js', 'dist/webview/panel.js', 'dist/webview/panel.css', 'dist/vendor/genai-prices.js', 'media/keys.svg', 'media/screenshots/panel-dark.png', 'media/walkthrough/add-key.md']) {
      assert.ok(files.includes(f), `${f} is not packaged (have ${files.join(', ')})`);
    }
    const stray = files.filter((f) => !/^(package\.json|README\.md|LICENSE|dist\/.+\.(js|css)|media\/.+)$/.test(f));
    assert.deepEqual(stray, [], 'files outside dist/, media/, README, LICENSE and package.json');
    assert.ok(!files.some((f) => f.endsWith('.map')), 'source maps are not packaged');
  });
});
