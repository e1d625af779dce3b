// The usage & budget panel's HTML: a pure function (no vscode import) so the browser test serves
// exactly the page the extension does.
import type { PanelState } from '../webview/protocol';

export interface PanelHtmlOptions {
  /** URI of dist/webview/panel.js as the webview sees it (webview.asWebviewUri). */
  scriptUri: string;
  /** URI of dist/webview/panel.css. */
  styleUri: string;
  /** webview.cspSource. */
  cspSource: string;
  /** A fresh random nonce per page (base64 or hex). */
  nonce: string;
  /** The filter and first model, so the page renders without waiting for a message. */
  initialState: PanelState;
}

const ATTR_ESCAPES: Record<string, string> = { '&': '&amp;', '"': '&quot;', "'": '&#39;', '<': '&lt;', '>': '&gt;' };
const escapeAttr = (s: string): string => s.replace(/[&"'<>]/g, (c) => ATTR_ESCAPES[c]);

/** JSON that is safe inside a <script> element: no '</script>', no '<!--', no line separators. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function panelHtml(o: PanelHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(o.nonce)) throw new Error('panelHtml: the nonce must be at least 16 base64 or hex characters.');
  const nonce = escapeAttr(o.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(panelCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>AI Usage &amp; Budget</title>
<link rel="stylesheet" nonce="${nonce}" href="${escapeAttr(o.styleUri)}">
</head>
<body>
<main id="app" aria-busy="true"><noscript>The usage panel needs scripts enabled.</noscript></main>
<script type="application/json" id="aikm-initial-state">${jsonForScript(o.initialState)}</script>
<script nonce="${nonce}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
}
