// Builds the core for the headless CLI from AIKM_HOME and the environment.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { AiKeyManagerCore } from '../core/service';
import { EncryptedFileVault } from './fileVault';
import { FileStateStore } from './fileState';
import { FileSettings } from './settings';
import { FileJournal, removeStaleTempFiles, replayJournals } from './journal';
import { PriceRefresher } from '../core/priceRefresh';
import { filePriceDataStore } from './priceStore';

export function aikmHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.AIKM_HOME?.trim() || join(os.homedir(), '.ai-key-manager');
}

export interface HeadlessHost {
  core: AiKeyManagerCore;
  home: string;
  warnings: string[];
  /** Opens the vault (a wrong passphrase then counts as locked; weak settings are upgraded) and checks permissions: more warnings. */
  prepare(): Promise<string[]>;
  /**
   * Starts refreshing prices in the background (AIKM_HOME/prices.json keeps the last good data;
   * AIKM_PRICE_REFRESH=0 turns it off, AIKM_PRICE_DATA_URL names another data file).
   */
  refreshPrices(log: (line: string) => void): void;
  close(): Promise<void>;
}

export function createHeadlessCore(env: NodeJS.ProcessEnv = process.env): HeadlessHost {
  const home = aikmHome(env);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  const state = new FileStateStore(join(home, 'state.json'));
  const ledgerState = new FileStateStore(join(home, 'ledger.json'));
  const timeout = validationTimeout(env.AIKM_VALIDATION_TIMEOUT_MS);
  const settings = new FileSettings(join(home, 'config.json'));
  const vault = new EncryptedFileVault(join(home, 'vault.json'), env.AIKM_PASSPHRASE || undefined);
  const journalDir = join(home, 'journal');
  const journal = new FileJournal(journalDir);
  const core = new AiKeyManagerCore({
    journal,
    vault,
    state,
    ledgerState,
    settings,
    env,
    discoverEnvKeys: true,
    validationTimeoutMs: timeout.ms,
  });
  return {
    core,
    home,
    // The core re-checks price overrides, but FileSettings already dropped the bad ones and says where.
    warnings: [...timeout.warnings, ...settings.warnings, ...state.warnings, ...ledgerState.warnings, ...core.ledger.warnings, ...core.warnings],
    prepare: async () => {
      const stale = removeStaleTempFiles([home, journalDir]);
      return [
        ...permissionWarnings(home),
        ...(stale > 0 ? [`Removed ${stale} temporary file(s) left by a process that was stopped while writing.`] : []),
        ...(await replayJournals(journalDir, core.ledger, journal)),
        ...(await vault.unlock()),
      ];
    },
    refreshPrices: (log) => {
      const store = filePriceDataStore(join(home, 'prices.json'), 0o600);
      const enabled = env.AIKM_PRICE_REFRESH !== '0' && env.AIKM_PRICE_REFRESH !== 'false';
      const url = env.AIKM_PRICE_DATA_URL?.trim() || undefined;
      void new PriceRefresher({ pricing: core.pricing, store, clock: core.clock, enabled, ...(url && { url }), log }).start().catch((err: unknown) => log(`prices: ${err instanceof Error ? err.message : String(err)}`));
    },
    close: async () => {
      await core.flush();
      await Promise.all([state.flush(), ledgerState.flush()]);
      journal.close();
      core.dispose();
    },
  };
}

/** AIKM_VALIDATION_TIMEOUT_MS as a positive number of milliseconds; anything else falls back to the default. */
function validationTimeout(raw: string | undefined): { ms?: number; warnings: string[] } {
  if (raw === undefined || raw.trim() === '') return { warnings: [] };
  const ms = Number(raw);
  if (Number.isFinite(ms) && ms > 0) return { ms, warnings: [] };
  return { warnings: [`AIKM_VALIDATION_TIMEOUT_MS must be a positive number of milliseconds (got '${raw}'); using the default.`] };
}

/** AIKM_HOME holds the encrypted vault, key metadata and usage: only its owner should read it. */
function permissionWarnings(home: string): string[] {
  if (process.platform === 'win32') return [];
  const mode = fs.statSync(home).mode & 0o777;
  if ((mode & 0o077) === 0) return [];
  return [`${home} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 700 '${home}'`];
}
