// The one place that knows what key material looks like and how it is hidden: masking a key for
// display, masking known secrets and key-shaped tokens in text, redacting random-looking tokens
// before they are stored, and finding key-like words in a chat prompt.
import { detectProvider } from './providers';

/** A run of key characters; a key is always taken whole, never found inside a longer run. */
export const KEY_RUN = /[A-Za-z0-9_-]{20,}/g;

const ELLIPSIS = '…';
const MIN_SHOWN_LENGTH = 8;
const SMALL_KEY_LENGTH = 12;
/** Secrets shorter than this are not redacted: too likely to match ordinary text. */
const MIN_REDACT_LENGTH = 8;

/**
 * Shows at most the first 6 and last 4 characters of a key, never more than a quarter of it
 * at either end: `sk-ant-api03-abcdef…a1b2` → `sk-ant…a1b2`. Keys of 12 characters or fewer
 * show at most 2 + 2, keys under 8 characters show only `…`.
 */
export function maskKey(key: string): string {
  const chars = Array.from(key); // code points, so a mask never splits a surrogate pair
  const n = chars.length;
  if (n < MIN_SHOWN_LENGTH) return ELLIPSIS;
  const cap = n <= SMALL_KEY_LENGTH ? 2 : Number.POSITIVE_INFINITY;
  const quarter = Math.floor(n / 4);
  const head = Math.min(6, cap, quarter);
  const tail = Math.min(4, cap, quarter);
  return chars.slice(0, head).join('') + ELLIPSIS + chars.slice(n - tail).join('');
}

/** Replaces every occurrence of each secret (8+ characters) in `text` by its mask. */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  const pattern = secretPattern(secrets);
  if (!pattern) return text;
  pattern.lastIndex = 0;
  return text.replace(pattern, (match) => maskKey(match));
}

// Every MCP reply is redacted with the same few secrets: reuse the compiled pattern while they stay the same.
let lastPattern: { secrets: readonly string[] | undefined; source: string; pattern: RegExp | undefined } = { secrets: undefined, source: '', pattern: undefined };

function secretPattern(secrets: Iterable<string>): RegExp | undefined {
  if (secrets === lastPattern.secrets) return lastPattern.pattern; // a frozen list seen before
  const unique = [...new Set(secrets)].filter((s) => s.length >= MIN_REDACT_LENGTH);
  // Longest first, so a secret that contains another is replaced whole.
  unique.sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
  const source = unique.map(escapeRegExp).join('|');
  const pattern = source === '' ? undefined : source === lastPattern.source ? lastPattern.pattern : new RegExp(source, 'g');
  // Only a frozen array is remembered by identity: it cannot change behind our back.
  lastPattern = { secrets: Array.isArray(secrets) && Object.isFrozen(secrets) ? (secrets as readonly string[]) : undefined, source, pattern };
  return pattern;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const KEY_PREFIX = /^(sk-|sk_|AIza|gsk_|xai-|ghp_|github_pat_|hf_|pk-|rk_)[A-Za-z0-9_-]{12,}$/;

/** Every word of `text` that looks like API key material (a provider's key shape, a key prefix, or a long random token). */
export function findKeyLikeTokens(text: string): { token: string; provider?: string }[] {
  const out: { token: string; provider?: string }[] = [];
  for (const raw of text.split(/[\s"'`=:,;()[\]{}<>]+/)) {
    const token = raw.replace(/[.!?]+$/, '');
    if (token.length < 16) continue;
    const provider = detectProvider(token);
    const randomLooking = token.length >= 28 && /^[A-Za-z0-9_-]+$/.test(token) && /[a-z]/.test(token) && /[A-Z]/.test(token) && /\d/.test(token);
    if (provider || KEY_PREFIX.test(token) || randomLooking) out.push({ token, provider });
  }
  return out;
}

/**
 * Replaces every token shaped like a provider key by its mask, without the placeholder and context
 * checks of a leak scan: for sanitizing text that is about to be shown or written.
 */
export function maskKeyShapes(text: string): string {
  return text.replace(KEY_RUN, (token: string, offset: number) => {
    if (detectProvider(token)) return maskKey(token);
    // In JSON or a string literal a key may follow an escape (`\n`, `\t`, `\u0001`): the run then
    // starts with the escape's letters, so look for the key right after them.
    if (offset > 0 && text[offset - 1] === '\\') {
      const skip = /^u[0-9A-Fa-f]{4}/.test(token) ? 5 : 1;
      const rest = token.slice(skip);
      if (detectProvider(rest)) return token.slice(0, skip) + maskKey(rest);
    }
    return token;
  });
}

/** Known secrets and key-shaped tokens masked: what any text shown to a person or an agent gets. */
export function maskAll(text: string, secrets: readonly string[]): string {
  const masked = secrets.some((x) => x.length >= MIN_REDACT_LENGTH && text.includes(x)) ? maskSecrets(text, secrets) : text;
  return maskKeyShapes(masked);
}

/** A piece between '-' or '_' that looks random: 20+ characters, or 12+ mixing letters and digits. */
function randomLooking(segment: string): boolean {
  return segment.length >= 20 || (segment.length >= 12 && /\d/.test(segment) && /[A-Za-z]/.test(segment));
}

/**
 * Replaces runs of key characters that hold a random-looking piece, which may be key material of
 * any provider, with '[redacted]': for text that is stored (errors, audit details). Model names such
 * as claude-3-5-sonnet-20241022 stay readable.
 */
export function redactRandomTokens(text: string): string {
  return text.replace(KEY_RUN, (run) => (run.split(/[-_]/).some(randomLooking) ? '[redacted]' : run));
}
