import type * as vscode from 'vscode';
import type { StateStore } from '../core/ports';

/** StateStore over a VS Code Memento (workspaceState or globalState). */
export class MementoState implements StateStore {
  constructor(private readonly memento: vscode.Memento) {}

  get<T>(key: string): T | undefined {
    return this.memento.get<T>(key);
  }

  async update(key: string, value: unknown): Promise<void> {
    await this.memento.update(key, value);
  }
}
