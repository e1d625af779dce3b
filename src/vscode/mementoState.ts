import { createHash } from 'node:crypto';
import type * as vscode from 'vscode';
import type { StateStore } from '../core/ports';

/** Digests of our writes kept per key, to recognise a late echo of any of them. */
const WRITES_REMEMBERED = 4096;

interface OwnWrite {
  /** Our latest value (a JSON copy, as the memento keeps). */
  value: unknown;
  /** The object the memento held right after that write: while it still holds it, nothing changed. */
  seen: unknown;
  latest: string;
  /** Digests of the JSON of our writes this session (and of values they replaced), oldest first. */
  written: Set<string>;
}

const digest = (json: string | undefined): string => (json === undefined ? 'undefined' : createHash('sha1').update(json).digest('base64'));

/** Makes `json` (digest `d`) the latest value of `w`, remembered as the newest of its writes. */
function remember(w: OwnWrite, d: string, json: string | undefined): void {
  w.value = json === undefined ? undefined : (JSON.parse(json) as unknown);
  w.latest = d;
  w.written.delete(d); // re-inserted as the newest
  w.written.add(d);
  if (w.written.size > WRITES_REMEMBERED) w.written.delete(w.written.values().next().value as string);
}

/**
 * StateStore over a VS Code Memento (workspaceState or globalState).
 *
 * VS Code echoes our own writes back into the memento, and an echo can land long after newer
 * writes (seen with globalState in VS Code 1.139: after 16 quick writes, get() returned write 1).
 * So our latest write wins over any value equal to one we wrote this session; a value we never
 * wrote (another window's change) is taken as it is.
 */
export class MementoState implements StateStore {
  private readonly own = new Map<string, OwnWrite>();

  constructor(private readonly memento: vscode.Memento) {}

  /**
   * VS Code passes other windows' globalState writes into this memento, without an event: readers
   * that keep a decoded copy (the all-workspaces usage) look again at most once a second.
   */
  revision(): number {
    return Math.floor(Date.now() / 1000);
  }

  keys(): readonly string[] {
    return this.memento.keys();
  }

  get<T>(key: string): T | undefined {
    const current = this.memento.get<T>(key);
    const w = this.own.get(key);
    if (!w) return current;
    if (current === w.seen) return w.value as T | undefined;
    const json = current === undefined ? undefined : JSON.stringify(current);
    const d = digest(json);
    if (!w.written.has(d)) {
      // Another window's change: now the latest. Echoes of our older writes still never win over it.
      remember(w, d, json);
      w.seen = current;
      return current;
    }
    if (d === w.latest) w.seen = current;
    return w.value as T | undefined;
  }

  async update(key: string, value: unknown): Promise<void> {
    const json = value === undefined ? undefined : JSON.stringify(value);
    // The value this write replaces counts as superseded too: VS Code may echo it back late
    // (seen: the key's state from before the first write, after several writes).
    const prior = this.memento.get(key);
    const stored = this.memento.update(key, value);
    const w = this.own.get(key) ?? { value: undefined, seen: undefined, latest: '', written: new Set<string>() };
    const priorDigest = digest(prior === undefined ? undefined : JSON.stringify(prior));
    if (!w.written.has(priorDigest)) w.written.add(priorDigest);
    remember(w, digest(json), json);
    w.seen = this.memento.get(key);
    this.own.set(key, w);
    await stored;
  }

  /** Keeps the stored value under `<key>.corrupt-<time>` in the same memento. */
  backup(key: string, _reason: string): string | undefined {
    const value = this.memento.get(key);
    if (value === undefined) return undefined;
    const copyKey = `${key}.corrupt-${new Date().toISOString()}`;
    void this.memento.update(copyKey, value);
    return `the extension state key '${copyKey}'`;
  }
}
