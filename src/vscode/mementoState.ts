import type * as vscode from 'vscode';
import type { StateStore } from '../core/ports';

const RECENT_WRITES = 8;

interface OwnWrite {
  /** Our latest value (a JSON copy, as the memento keeps). */
  value: unknown;
  /** The object the memento held right after that write: while it still holds it, nothing changed. */
  seen: unknown;
  /** JSON of our last few writes, to recognise a late echo of one of them. */
  recent: (string | undefined)[];
}

/**
 * StateStore over a VS Code Memento (workspaceState or globalState).
 *
 * VS Code can echo an older write of ours back into the memento after a newer one (seen with
 * globalState in VS Code 1.139: update(4), update(5), then get() returns 4 for a while). So our
 * latest write wins over any value that equals one of our recent writes; a value we never wrote
 * (another window's change) is taken as it is.
 */
export class MementoState implements StateStore {
  private readonly own = new Map<string, OwnWrite>();

  constructor(private readonly memento: vscode.Memento) {}

  get<T>(key: string): T | undefined {
    const current = this.memento.get<T>(key);
    const w = this.own.get(key);
    if (!w || current === w.seen) return w ? (w.value as T | undefined) : current;
    const json = current === undefined ? undefined : JSON.stringify(current);
    if (!w.recent.includes(json)) {
      this.own.delete(key);
      return current;
    }
    if (json === w.recent[w.recent.length - 1]) w.seen = current;
    return w.value as T | undefined;
  }

  async update(key: string, value: unknown): Promise<void> {
    const json = value === undefined ? undefined : JSON.stringify(value);
    const stored = this.memento.update(key, value);
    const w = this.own.get(key) ?? { value: undefined, seen: undefined, recent: [] };
    w.value = json === undefined ? undefined : (JSON.parse(json) as unknown);
    w.seen = this.memento.get(key);
    w.recent.push(json);
    if (w.recent.length > RECENT_WRITES) w.recent.shift();
    this.own.set(key, w);
    await stored;
  }
}
