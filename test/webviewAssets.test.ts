// The usage & budget panel loads nothing remote: its page, the bundle built from src/webview into
// dist/webview (by esbuild.mjs) and the icons in media/ name no remote resource.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { panelCsp, panelHtml } from '../src/vscode/panelHtml';

const ROOT = join(__dirname, '..', '..');
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), 'utf8');

// Strings in the bundle that look like URLs but load nothing.
const NOT_RESOURCES = new Set([
  'http://www.w3.org/2000/svg', // the SVG namespace of the inline icons
  'https://vscode-elements.github.io/components/icon/', // a link in vscode-elements' console hint
]);

describe('the usage panel loads nothing remote', () => {
  it('the built stylesheet has no remote url() and no @import', () => {
    const css = read('dist', 'webview', 'panel.css');
    assert.doesNotMatch(css, /@import/i);
    for (const m of css.matchAll(/url\(\s*(['"]?)([^'")]*)\1\s*\)/gi)) assert.match(m[2], /^data:/, `panel.css loads ${m[2]}`);
  });

  it('the built script names no remote URL (provider API addresses stay in the extension host)', () => {
    const js = read('dist', 'webview', 'panel.js');
    const urls = [...new Set([...js.matchAll(/\b(?:https?|wss?):\/\/[^\s"'`)<>\\]+/g)].map((m) => m[0]))];
    assert.deepEqual(urls.filter((u) => !NOT_RESOURCES.has(u)), []);
    assert.doesNotMatch(js, /\bfetch\(|XMLHttpRequest|new WebSocket\(|importScripts\(/, 'the page makes no requests of its own');
  });

  it('the page loads only its own script and stylesheet, under a CSP with no remote source', () => {
    const cspSource = 'https://file+.vscode-resource.vscode-cdn.net';
    const html = panelHtml({
      scriptUri: `${cspSource}/ext/dist/webview/panel.js`,
      styleUri: `${cspSource}/ext/dist/webview/panel.css`,
      cspSource,
      nonce: 'AAAAAAAAAAAAAAAAAAAAAAAA',
      initialState: { filter: { days: 30 } },
    });
    const loads = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(loads.sort(), [`${cspSource}/ext/dist/webview/panel.css`, `${cspSource}/ext/dist/webview/panel.js`]);
    const csp = panelCsp(cspSource, 'AAAAAAAAAAAAAAAAAAAAAAAA');
    assert.match(csp, /^default-src 'none';/);
    const sources = csp.split(';').flatMap((d) => d.trim().split(/\s+/).slice(1));
    assert.deepEqual([...new Set(sources.filter((s) => /:\/\//.test(s)))], [cspSource], 'the only origin allowed is the webview resource origin');
    assert.ok(!sources.includes('*') && !sources.includes('https:') && !sources.includes("'unsafe-inline'") && !sources.includes("'unsafe-eval'"));
  });

  it('the icons in media/ reference nothing outside themselves', () => {
    for (const f of readdirSync(join(ROOT, 'media')).filter((n) => n.endsWith('.svg'))) {
      const svg = read('media', f).replace(/xmlns(:\w+)?="[^"]*"/g, '');
      assert.doesNotMatch(svg, /(?:href|src)\s*=|url\(|:\/\//, `media/${f} references another resource`);
    }
  });
});
