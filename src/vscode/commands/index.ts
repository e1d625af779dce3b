// Command-palette actions. Every command takes an optional argument object (for scripts, tests and
// chat buttons), checked against its schema in ./args; it prompts only for what is missing and
// returns a result object. Errors are shown and returned as { error }, never thrown.
import * as vscode from 'vscode';
import type { ZodType } from 'zod';
import type { SurfaceDeps } from '../deps';
import { maskKeyShapes } from '../../core/redact';
import { argSchemas, givenArgs, parseArgs, type ArgSchemas, type Args } from './args';
import { loadMcpEntry } from '../mcpEntry';
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

let schemas: Promise<ArgSchemas> | undefined;

/** The argument schemas, built from dist/mcp.js on the first command given arguments, so activation parses no zod. */
function argSchemasOnce(): Promise<ArgSchemas> {
  schemas ??= loadMcpEntry()
    .then(argSchemas)
    .catch((err: unknown) => {
      schemas = undefined;
      throw err;
    });
  return schemas;
}

function command<N extends keyof ArgSchemas>(id: string, schema: N, run: (a: Args<N>) => Promise<Result>): CommandDef {
  return {
    id,
    run: async (raw) => {
      // Run from the palette or a menu: no arguments to check, so no need to load the schemas.
      // Every schema takes {} (all its arguments are optional; a unit test holds them to that).
      if (Object.keys(givenArgs(raw)).length === 0) return run({} as Args<N>);
      const all = await argSchemasOnce();
      // Checked by the schema named N; TypeScript cannot follow a generic key into the object.
      return run(parseArgs(all[schema] as ZodType, raw) as Args<N>);
    },
  };
}

function commandTable(ctx: CommandContext): CommandDef[] {
  return [
    command('aiKeyManager.addKey', 'addKeyArgs', (a) => addKey(ctx, a)),
    command('aiKeyManager.removeKey', 'removeKeyArgs', (a) => removeKey(ctx, a)),
    command('aiKeyManager.rotateKey', 'rotateKeyArgs', (a) => rotateKey(ctx, a)),
    command('aiKeyManager.validateAllKeys', 'validateAllKeysArgs', () => validateAllKeys(ctx)),
    command('aiKeyManager.listKeys', 'listKeysArgs', (a) => listKeys(ctx, a)),
    command('aiKeyManager.setBudget', 'setBudgetArgs', (a) => setBudget(ctx, a)),
    command('aiKeyManager.recordUsage', 'recordUsageArgs', (a) => recordUsage(ctx, a)),
    command('aiKeyManager.exportUsage', 'exportUsageArgs', (a) => exportUsage(ctx, a)),
    command('aiKeyManager.resetUsage', 'resetUsageArgs', (a) => resetUsage(ctx, a)),
    command('aiKeyManager.scanForLeakedKeys', 'scanForLeakedKeysArgs', (a) => scanForLeakedKeys(ctx, a)),
    command('aiKeyManager.restoreMovedKey', 'restoreMovedKeyArgs', (a) => restoreMovedKey(ctx, a)),
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
        const message = maskKeyShapes(err instanceof Error ? err.message : String(err));
        deps.log.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(message);
        return { error: message };
      }
    }),
  );
  return [...commands, { dispose: unsubscribe }];
}
