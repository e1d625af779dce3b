import type * as vscode from 'vscode';
import type { SecretVault } from '../core/ports';

const PREFIX = 'aiKeyManager.secret.';

/** SecretVault backed by VS Code SecretStorage (the OS keychain on desktop). */
export class SecretStorageVault implements SecretVault {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(name: string): Promise<string | undefined> {
    return Promise.resolve(this.secrets.get(PREFIX + name));
  }

  async store(name: string, value: string): Promise<void> {
    await this.secrets.store(PREFIX + name, value);
  }

  async delete(name: string): Promise<void> {
    await this.secrets.delete(PREFIX + name);
  }
}
