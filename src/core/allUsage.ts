// VS Code keeps each workspace's usage apart; budgets are per person, so every workspace also writes
// its own share of an all-workspaces total (globalState), and the total adds up all the shares.
import type { Clock, StateStore } from './ports';
import { Ledger, SHARE_ID } from './ledger';

/** globalState key of the all-workspaces usage. */
const ALL_USAGE_KEY = 'aiKeyManager.ledger.all';
const LEGACY_SHARE_KEY = `${ALL_USAGE_KEY}/legacy`;
/** Set when the all-workspaces total started over: workspaces opened later do not bring their older history in. */
export const ALL_USAGE_SINCE_KEY = 'aiKeyManager.ledger.allSince';

/** The all-workspaces ledger, written through this workspace's share (`share`, default 'default'). */
export function openAllUsage(store: StateStore, share: string | undefined, workspace: Ledger, opts: { clock: Clock; timeZone: string }): Ledger {
  const id = share !== undefined && SHARE_ID.test(share) ? share : 'default';
  // The one total of an earlier build (all workspaces in one value) becomes a share of its own.
  const legacy = store.get<unknown>(ALL_USAGE_KEY);
  if (legacy !== undefined && store.get(LEGACY_SHARE_KEY) === undefined) {
    void store.update(LEGACY_SHARE_KEY, legacy).then(() => store.update(ALL_USAGE_KEY, undefined));
    void store.update(ALL_USAGE_SINCE_KEY, opts.clock.now().toISOString());
  }
  const all = new Ledger(store, { clock: opts.clock, timeZone: opts.timeZone, stateKey: `${ALL_USAGE_KEY}/${id}`, sharesPrefix: `${ALL_USAGE_KEY}/` });
  // First start of the total in this workspace: the history it already has counts too, unless the
  // total started over since (a reset) or already held every workspace's (the earlier build's).
  if (store.get(ALL_USAGE_SINCE_KEY) === undefined) all.adoptOnce(workspace);
  return all;
}

/** The total started over (a reset): workspaces opened later do not adopt their older history. */
export function markAllUsageReset(store: StateStore, now: Date): Promise<void> {
  return store.update(ALL_USAGE_SINCE_KEY, now.toISOString());
}
