// The stored form of the key list: reading it (tolerating damage and newer versions' rows), ids,
// secret names, and the checks on what a user gives with a key (label, expiry).
import { randomBytes } from 'node:crypto';
import type { StateStore } from './ports';
import type { KeyMeta } from './types';
import { PROVIDERS } from './providers';
import { maskKeyShapes } from './redact';

export const STATE_KEY = 'aikm.keys.v1';
export const DAY_MS = 86_400_000;

export class KeyError extends Error {}

/** What reading the stored key list found wrong, kept across reads so each problem is said once. */
export interface KeyListReport {
  warnings: string[];
  /** The damaged stored value last reported (its JSON), so it is copied and reported once. */
  checkedRaw?: string;
}

/**
 * The key metadata in a stored value: every entry that is one, from a list or (as a damaged file
 * may have it) the values of an object. Before entries are left out, the store keeps a copy.
 */
export function readKeyList(raw: unknown, state: StateStore, report: KeyListReport): KeyMeta[] {
  if (raw === undefined) return [];
  const rows: unknown[] = Array.isArray(raw) ? raw : typeof raw === 'object' && raw !== null ? Object.values(raw) : [];
  const keys = rows.filter(isKeyMeta);
  if (Array.isArray(raw) && keys.length === rows.length) return keys;
  const foreign = rows.filter(isForeignKeyRow).length;
  if (Array.isArray(raw) && keys.length + foreign === rows.length) {
    // Nothing is dropped (they are written back as they are): no copy, and said once.
    const note = `The stored key list (state '${STATE_KEY}') has ${foreign === 1 ? 'an entry' : 'entries'} this version cannot use (a provider or status of a newer version?); ${foreign === 1 ? 'it is' : 'they are'} kept as ${foreign === 1 ? 'it is' : 'they are'}.`;
    if (!report.warnings.includes(note)) report.warnings.push(note);
    return keys;
  }
  const json = JSON.stringify(raw);
  if (json === report.checkedRaw) return keys;
  report.checkedRaw = json;
  let where: string | undefined;
  let noCopy = '';
  try {
    where = state.backup?.(STATE_KEY, 'damaged key list');
  } catch (err) {
    noCopy = `; no copy of it could be kept (${err instanceof Error ? err.message : String(err)})`;
  }
  const left = rows.length - keys.length - foreign;
  const parts = [
    ...(!Array.isArray(raw) ? ['not a list'] : []),
    ...(left > 0 ? [`${left} unreadable ${left === 1 ? 'entry' : 'entries'}, left out`] : []),
    ...(foreign > 0 ? [`${foreign} ${foreign === 1 ? 'entry' : 'entries'} this version cannot use (a provider or status of a newer version?), kept as they are`] : []),
  ];
  report.warnings.push(
    `The stored key list (state '${STATE_KEY}') has problems (${parts.join('; ')}): ` +
      `${keys.length} key(s) are in use${where ? `, and the stored value was kept in ${where}` : ''}${noCopy}.` +
      (left > 0 ? ' Keys left out still have their secrets in secret storage; add them again to use them.' : ''),
  );
  return keys;
}

export function isKeyMeta(v: unknown): v is KeyMeta {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const k = v as Partial<KeyMeta>;
  return (
    typeof k.id === 'string' &&
    typeof k.provider === 'string' &&
    PROVIDERS.some((p) => p.id === k.provider) &&
    typeof k.masked === 'string' &&
    (k.source === 'vault' || k.source === 'env') &&
    (k.status === 'healthy' || k.status === 'resting' || k.status === 'disabled')
  );
}

/** A key row this version cannot use but must not drop: an id and a provider, and more it does not know. */
export function isForeignKeyRow(v: unknown): v is { id: string; provider: string } {
  if (isKeyMeta(v) || typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const r = v as { id?: unknown; provider?: unknown };
  return typeof r.id === 'string' && r.id !== '' && typeof r.provider === 'string' && r.provider !== '';
}

export function secretName(keyId: string): string {
  return `key/${keyId}`;
}

export function retiredName(keyId: string): string {
  return `key/${keyId}#previous`;
}

export function newId(provider: string): string {
  return `${provider}-${randomBytes(3).toString('hex')}`;
}

/** The trimmed label; refuses one holding a key (labels live in state and are shown unmasked). */
export function checkLabel(value: string | undefined): string | undefined {
  const label = value?.trim();
  if (!label) return undefined;
  if (maskKeyShapes(label) !== label) {
    throw new KeyError('The label looks like it contains an API key. Labels are stored and shown in plain text: use a short name such as "work" or "personal" and pass the key as the key itself. Nothing was stored.');
  }
  return label;
}

/**
 * An expiry: a real calendar date (2027-01-31, the end of that day in UTC) or date and time
 * (2027-01-31T12:00:00Z), in the future. Date.parse alone takes "0" (2000-01-01) and rolls
 * 2027-02-30 over into March.
 */
export function parseExpiry(value: string, now: Date): string {
  const v = value.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(v);
  const hint = 'Use a date such as 2027-01-31 (ISO 8601, optionally with a time and zone: 2027-01-31T18:00:00Z).';
  if (!m) throw new KeyError(`expires_at '${value}' is not a date. ${hint}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) {
    throw new KeyError(`expires_at '${value}' is not a real calendar date. ${hint}`);
  }
  const t = m[4] ? Date.parse(v) : day.getTime() + DAY_MS - 1;
  if (Number.isNaN(t)) throw new KeyError(`expires_at '${value}' is not a date. ${hint}`);
  if (t <= now.getTime()) throw new KeyError(`expires_at ${v} is in the past: a key cannot be added already expired. Give the date it will expire, or leave expires_at out.`);
  return new Date(t).toISOString();
}
