// Finds provider API keys pasted into text files (.env, JSON, YAML, TOML, INI), by the key
// shapes of the provider catalog. Findings carry the key's position and mask, never the key.
import { KEY_RUN, maskKey } from './redact';
import { PROVIDERS, detectProvider, getProvider } from './providers';

export interface LeakFinding {
  provider: string;
  /** 1-based line and column (UTF-16 units, as editors count). */
  line: number;
  column: number;
  /** Where the key is: it is `text.slice(offset, offset + length)`. */
  offset: number;
  length: number;
  masked: string;
  /** The variable or setting the key is assigned to, when the line shows one (e.g. OPENAI_API_KEY). */
  name?: string;
}

/** Files the workspace scan reads (a VS Code glob). `settings.json` is covered by `*.json`. */
export const LEAK_SCAN_INCLUDE = '**/{.env,.env.*,*.env,*.json,*.jsonc,*.yaml,*.yml,*.toml,*.ini,.npmrc}';
export const LEAK_SCAN_EXCLUDE = '**/{node_modules,.git}/**';
/** Larger files are skipped: keys live in small config files. */
export const LEAK_SCAN_MAX_BYTES = 1_000_000;

/** Values that are obviously examples, not keys. */
const PLACEHOLDER = /x{5,}|your|example|placeholder|changeme|redacted|here/i;
const MIN_DISTINCT_CHARS = 8;
const ASSIGNED_NAME = /(?:^|[\s{,;:/])["']?([A-Za-z_][\w.-]*)["']?\s*[:=]\s*["']?$/;

/** Providers whose keys have no fixed prefix: only reported when the line names the provider. */
const PREFIXLESS = new Set(PROVIDERS.filter((p) => p.keyPattern && !/^\^[A-Za-z]/.test(p.keyPattern.source)).map((p) => p.id));

/** Provider keys in `text`, in order of appearance. */
export function scanText(text: string): LeakFinding[] {
  const findings: LeakFinding[] = [];
  let lineStarts: number[] | undefined;
  for (const m of text.matchAll(KEY_RUN)) {
    const token = m[0];
    const provider = detectProvider(token);
    if (!provider || looksLikePlaceholder(token)) continue;
    const offset = m.index;
    lineStarts ??= computeLineStarts(text);
    const lineIndex = lineOf(lineStarts, offset);
    const lineStart = lineStarts[lineIndex];
    const lineEnd = lineIndex + 1 < lineStarts.length ? lineStarts[lineIndex + 1] : text.length;
    const lineText = text.slice(lineStart, lineEnd);
    if (PREFIXLESS.has(provider) && !mentionsProvider(lineText, provider)) continue;
    const f: LeakFinding = { provider, line: lineIndex + 1, column: offset - lineStart + 1, offset, length: token.length, masked: maskKey(token) };
    const name = ASSIGNED_NAME.exec(text.slice(lineStart, offset))?.[1];
    if (name) f.name = name;
    findings.push(f);
  }
  return findings;
}

/** The key a finding points at. Only for moving it into secret storage; never display it. */
export function keyAt(text: string, f: Pick<LeakFinding, 'offset' | 'length'>): string {
  return text.slice(f.offset, f.offset + f.length);
}

function looksLikePlaceholder(token: string): boolean {
  return PLACEHOLDER.test(token) || new Set(token).size < MIN_DISTINCT_CHARS;
}

function mentionsProvider(lineText: string, provider: string): boolean {
  const spec = getProvider(provider);
  const lower = lineText.toLowerCase();
  return [spec.id, ...spec.envVars].some((word) => lower.includes(word.toLowerCase()));
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  return starts;
}

function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// --- notes left where a key was taken out of a file ----------------------------------------------

/**
 * The line-comment prefix of a file the scan reads, or undefined when it has none: plain JSON (VS
 * Code's own settings and .jsonc files take // comments).
 */
export function commentPrefix(fileName: string): string | undefined {
  const path = fileName.replace(/\\/g, '/').toLowerCase();
  const base = path.split('/').pop()!;
  if (/^\.env(\..*)?$|\.env$|\.ya?ml$|\.toml$|^\.npmrc$/.test(base)) return '#';
  if (base.endsWith('.ini')) return ';';
  if (base.endsWith('.jsonc') || /(^|\/)\.vscode\/[^/]+\.json$/.test(path)) return '//';
  return undefined;
}

export interface MovedNote {
  /** 1-based line of the note. */
  line: number;
  keyId: string;
  /** 1-based column, on the line below the note, where the key was. */
  column: number;
  /** The variable the key was assigned to, as the note names it. */
  name?: string;
  /** The note line itself, for display. */
  text: string;
}

const NOTE_TAG = 'AI Key Manager moved';
const NOTE = /^[ \t]*(?:#|;|\/\/)[ \t]*AI Key Manager moved (?:(\S+) \()?.*\(key id ([A-Za-z0-9:_-]+), column (\d+)\)/;

/**
 * The comment left above a line whose key was moved into secret storage: where it went, and how to
 * put it back (the key's id, and the column on the next line it came from). Holds the key's mask
 * and id, never the key.
 */
export function movedNote(prefix: string, n: { name?: string; provider: string; masked: string; keyId: string; column: number; date: string }): string {
  const what = `${n.name ? `${n.name} (` : ''}the ${getProvider(n.provider).displayName} key ${n.masked}${n.name ? ')' : ''}`;
  return `${prefix} ${NOTE_TAG} ${what} into VS Code's secret storage on ${n.date}; apps that read this file now get an empty value. To put it back here, run 'AI Keys: Restore Moved Key' (key id ${n.keyId}, column ${n.column}).`;
}

/** Notes left by movedNote in `text`. */
export function findMovedNotes(text: string): MovedNote[] {
  if (!text.includes(NOTE_TAG)) return [];
  const notes: MovedNote[] = [];
  text.split(/\r?\n|\r/).forEach((line, i) => {
    const m = NOTE.exec(line);
    if (m) notes.push({ line: i + 1, keyId: m[2], column: Number(m[3]), ...(m[1] ? { name: m[1] } : {}), text: line.trim() });
  });
  return notes;
}
