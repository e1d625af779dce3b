// One way tests make a core on in-memory ports: the parts are returned so a test can look inside
// (state dumps, vault contents) or change settings as a user would.
import { AiKeyManagerCore, type CoreOptions } from '../../src/core/service';
import type { Clock } from '../../src/core/ports';
import { MemorySettings, MemoryState, MemoryVault, fixedClock, type SettingsInit } from './ports';

export interface TestCoreParts {
  core: AiKeyManagerCore;
  vault: MemoryVault;
  state: MemoryState;
  ledgerState: MemoryState;
  /** Set with `allUsage: true`: the all-workspaces totals, as VS Code keeps them. */
  allUsageState?: MemoryState;
  settings: MemorySettings;
  clock: Clock;
}

export interface TestCoreOptions extends Partial<Omit<CoreOptions, 'settings'>> {
  /** Settings to start from, or a MemorySettings the test keeps. */
  settings?: SettingsInit | MemorySettings;
  /** Keep the all-workspaces totals apart, as VS Code does. */
  allUsage?: boolean;
}

/** A core on in-memory ports, in UTC at FIXED_NOW unless told otherwise, reading no real environment. */
export function makeTestCore(opts: TestCoreOptions = {}): TestCoreParts {
  const { settings: init, allUsage, ...rest } = opts;
  const settings = init instanceof MemorySettings ? init : new MemorySettings(init);
  const vault = (rest.vault as MemoryVault | undefined) ?? new MemoryVault();
  const state = (rest.state as MemoryState | undefined) ?? new MemoryState({ copy: 'clone' });
  const ledgerState = (rest.ledgerState as MemoryState | undefined) ?? new MemoryState({ copy: 'clone' });
  const allUsageState = (rest.allUsageState as MemoryState | undefined) ?? (allUsage ? new MemoryState({ copy: 'clone' }) : undefined);
  const clock = rest.clock ?? fixedClock;
  const core = new AiKeyManagerCore({
    timeZone: 'UTC',
    env: {},
    ...rest,
    vault,
    state,
    ledgerState,
    ...(allUsageState ? { allUsageState } : {}),
    settings,
    clock,
  });
  return { core, vault, state, ledgerState, allUsageState, settings, clock };
}
