// Small pieces the panel's sections share: icons, buttons, status badges, empty table rows.
import { h, icon } from './dom';

// Codicon paths (MIT, microsoft/vscode-codicons), drawn inline so no font or remote file is needed.
export const ICON = {
  graph: 'M1.5 14h13v1h-13a.5.5 0 0 1-.5-.5v-13h1V14zm2-2V8h2v4h-2zm3 0V5h2v7h-2zm3 0V3h2v9h-2zm3 0V7h2v5h-2z',
  key: 'M10.5 1a4.5 4.5 0 0 0-4.36 5.64L1 11.8V15h3.2v-1.6h1.6v-1.6h1.6l1.56-1.56A4.5 4.5 0 1 0 10.5 1zm1.2 4.6a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6z',
  check: 'M6.27 10.87h.71l4.56-4.56-.71-.71-4.2 4.21-1.92-1.92L4 8.6l2.27 2.27z',
  error: 'M8.6 1c1.6.1 3.1.9 4.2 2 1.3 1.4 2 3.1 2 5.1 0 1.6-.6 3.1-1.6 4.4-1 1.2-2.4 2.1-4 2.4-1.6.3-3.2.1-4.6-.7-1.4-.8-2.5-2-3.1-3.5C.9 9.2.8 7.5 1.3 6c.5-1.6 1.4-2.9 2.8-3.8C5.4 1.3 7 .9 8.6 1zm.5 12.9c1.3-.3 2.5-1 3.4-2.1.8-1.1 1.3-2.4 1.2-3.8 0-1.6-.6-3.2-1.7-4.3-1-1-2.2-1.6-3.6-1.7-1.3-.1-2.7.2-3.8 1-1.1.8-1.9 1.9-2.3 3.3-.4 1.3-.4 2.7.2 4 .6 1.3 1.5 2.3 2.7 3 1.2.7 2.6.9 3.9.6zM7.9 7.5L10.3 5l.7.7-2.4 2.5 2.4 2.5-.7.7-2.4-2.5-2.4 2.5-.7-.7 2.4-2.5-2.4-2.5.7-.7 2.4 2.5z',
  warning: 'M7.56 1h.88l6.54 12.26-.44.74H1.44L1 13.26 7.56 1zM8 2.28L2.28 13H13.7L8 2.28zM8.625 12v-1h-1.25v1h1.25zm-1.25-2V6h1.25v4h-1.25z',
};

export function button(label: string, attrs: Record<string, string | boolean>, onClick: () => void): HTMLElement {
  const b = h('vscode-button', attrs, label);
  b.addEventListener('click', onClick);
  return b;
}

/** A coloured status with an icon; `why` is shown on hover and read by screen readers after the text. */
export function statusBadge(kind: 'ok' | 'warn' | 'error' | 'muted', text: string, why?: string): HTMLElement {
  const path = kind === 'ok' ? ICON.check : kind === 'error' ? ICON.error : kind === 'warn' ? ICON.warning : null;
  return h(
    'span',
    { class: `status ${kind}`, ...(why ? { title: why } : {}) },
    path ? icon(path) : h('span', { class: 'dot', 'aria-hidden': 'true' }),
    text,
    why ? h('span', { class: 'sr-only' }, `: ${why}`) : null,
  );
}

export function emptyRow(span: number, text: string): HTMLElement {
  return h('tr', { class: 'empty-row' }, h('td', { colspan: span }, text));
}
