// Builds the core for the headless CLI from AIKM_HOME and the environment.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { AiKeyManagerCore } from '../core/service';
import { EncryptedFileVault } from './fileVault';
import { FileStateStore } from './fileState';
import { FileSettings } from './settings';

export function aikmHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.AIKM_HOME?.trim() || join(os.homedir(), '.ai-key-manager');
}

export interface HeadlessHost {
  core: AiKeyManagerCore;
  home: string;
  warnings: string[];
  close(): Promise<void>;
}

export function createHeadlessCore(env: NodeJS.ProcessEnv = process.env): HeadlessHost {
  const home = aikmHome(env);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const state = new FileStateStore(join(home, 'state.json'));
  const ledgerState = new FileStateStore(join(home, 'ledger.json'));
  const core = new AiKeyManagerCore({
    vault: new EncryptedFileVault(join(home, 'vault.json'), env.AIKM_PASSPHRASE || undefined),
    state,
    ledgerState,
    settings: new FileSettings(join(home, 'config.json')),
    env,
    discoverEnvKeys: true,
    validationTimeoutMs: env.AIKM_VALIDATION_TIMEOUT_MS ? Number(env.AIKM_VALIDATION_TIMEOUT_MS) : undefined,
  });
  return {
    core,
    home,
    warnings: [...state.warnings, ...ledgerState.warnings, ...core.ledger.warnings],
    close: async () => {
      await core.flush();
      await Promise.all([state.flush(), ledgerState.flush()]);
      core.dispose();
    },
  };
}
