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
  /** Digests of the JSON of our writes this session, oldest first. */
  written: Set<string>;
}

const digest = (json: string | undefined): string => (json === undefined ? 'undefined' : createHash('sha1').update(json).digest('base64'));

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
    const d = digest(current === undefined ? undefined : JSON.stringify(current));
    if (!w.written.has(d)) {
      this.own.delete(key);
      return current;
    }
    if (d === w.latest) w.seen = current;
    return w.value as T | undefined;
  }

  async update(key: string, value: unknown): Promise<void> {
    const json = value === undefined ? undefined : JSON.stringify(value);
    const stored = this.memento.update(key, value);
    const d = digest(json);
    const w = this.own.get(key) ?? { value: undefined, seen: undefined, latest: d, written: new Set<string>() };
    w.value = json === undefined ? undefined : (JSON.parse(json) as unknown);
    w.seen = this.memento.get(key);
    w.latest = d;
    w.written.delete(d); // re-inserted as the newest
    w.written.add(d);
    if (w.written.size > WRITES_REMEMBERED) w.written.delete(w.written.values().next().value as string);
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
