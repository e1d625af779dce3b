import type * as vscode from 'vscode';
import type { StateStore } from '../core/ports';

/**
 * StateStore over a VS Code Memento (workspaceState or globalState).
 *
 * While a write is in flight, the host can echo an older write back into the memento (seen with
 * globalState in VS Code 1.139: update(4), update(5), then get() briefly returns 4 again). So our
 * own latest write wins until VS Code has stored it; after that the memento is read as usual,
 * which keeps changes made by other windows visible.
 */
export class MementoState implements StateStore {
  private readonly pending = new Map<string, { value: unknown; seq: number }>();
  private seq = 0;

  constructor(private readonly memento: vscode.Memento) {}

  get<T>(key: string): T | undefined {
    const p = this.pending.get(key);
    if (p) return p.value as T | undefined;
    return this.memento.get<T>(key);
  }

  async update(key: string, value: unknown): Promise<void> {
    const seq = ++this.seq;
    // A JSON copy, as the memento itself keeps.
    this.pending.set(key, { value: value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown), seq });
    try {
      await this.memento.update(key, value);
    } finally {
      if (this.pending.get(key)?.seq === seq) this.pending.delete(key);
    }
  }
}
