// Command-palette actions. Every command takes an optional argument object (for scripts, tests and
// chat buttons), checked against its schema in ./args; it prompts only for what is missing and
// returns a result object. Errors are shown and returned as { error }, never thrown.
import * as vscode from 'vscode';
import type { z } from 'zod';
import type { SurfaceDeps } from '../deps';
import { redactKeys } from '../../core/leakScan';
import * as args from './args';
import { Cancelled, type CommandContext, type Result } from './shared';
import { addKey, listKeys, removeKey, rotateKey, validateAllKeys } from './keys';
import { recordUsage, resetUsage, setBudget } from './budget';
import { exportUsage } from './usageExport';
import { restoreMovedKey, scanForLeakedKeys } from './leakScan';

/** Context key: at least one API key is stored or configured. */
export const HAS_KEYS_CONTEXT = 'aiKeyManager.hasKeys';

interface CommandDef {
  id: string;
  run(raw: unknown): Promise<Result>;
}

function command<S extends z.ZodType>(id: string, schema: S, run: (a: z.output<S>) => Promise<Result>): CommandDef {
  return { id, run: (raw) => run(args.parseArgs(schema, raw)) };
}

function commandTable(ctx: CommandContext): CommandDef[] {
  return [
    command('aiKeyManager.addKey', args.addKeyArgs, (a) => addKey(ctx, a)),
    command('aiKeyManager.removeKey', args.removeKeyArgs, (a) => removeKey(ctx, a)),
    command('aiKeyManager.rotateKey', args.rotateKeyArgs, (a) => rotateKey(ctx, a)),
    command('aiKeyManager.validateAllKeys', args.validateAllKeysArgs, () => validateAllKeys(ctx)),
    command('aiKeyManager.listKeys', args.listKeysArgs, (a) => listKeys(ctx, a)),
    command('aiKeyManager.setBudget', args.setBudgetArgs, (a) => setBudget(ctx, a)),
    command('aiKeyManager.recordUsage', args.recordUsageArgs, (a) => recordUsage(ctx, a)),
    command('aiKeyManager.exportUsage', args.exportUsageArgs, (a) => exportUsage(ctx, a)),
    command('aiKeyManager.resetUsage', args.resetUsageArgs, (a) => resetUsage(ctx, a)),
    command('aiKeyManager.scanForLeakedKeys', args.scanForLeakedKeysArgs, (a) => scanForLeakedKeys(ctx, a)),
    command('aiKeyManager.restoreMovedKey', args.restoreMovedKeyArgs, (a) => restoreMovedKey(ctx, a)),
  ];
}

/** Registers the command-palette actions (except the MCP ones registered in extension.ts). */
export function registerCommands(deps: SurfaceDeps): vscode.Disposable[] {
  const ctx: CommandContext = { core: deps.core, log: deps.log };
  // Hides Remove/Rotate API Key in the palette while there is no key to act on (package.json menus).
  let hadKeys: boolean | undefined;
  const syncKeysContext = (): void => {
    const has = deps.core.listKeys().length > 0;
    if (has === hadKeys) return;
    hadKeys = has;
    void vscode.commands.executeCommand('setContext', HAS_KEYS_CONTEXT, has);
  };
  syncKeysContext();
  const unsubscribe = deps.core.onDidChange((kind) => {
    if (kind === 'keys') syncKeysContext();
  });
  const commands = commandTable(ctx).map(({ id, run }) =>
    vscode.commands.registerCommand(id, async (raw?: unknown): Promise<Result> => {
      try {
        return await run(raw);
      } catch (err) {
        if (err instanceof Cancelled) return { cancelled: true };
        const message = redactKeys(err instanceof Error ? err.message : String(err));
        deps.log.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(message);
        return { error: message };
      }
    }),
  );
  return [...commands, { dispose: unsubscribe }];
}
