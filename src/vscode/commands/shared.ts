// What the command modules share: cancelling, picking a provider or key, confirming, validating.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SurfaceDeps } from '../deps';
import { PROVIDERS, getProvider, type ProviderSpec } from '../../core/providers';
import type { KeyView } from '../../core/keys';
import type { ValidateResult } from '../../core/service';
import { maskKeyShapes } from '../../core/redact';

export type Result = object;

/** What every command is given. */
export type CommandContext = Pick<SurfaceDeps, 'core' | 'log'>;

/** Thrown when the user dismisses a prompt; the command then returns { cancelled: true }. */
export class Cancelled extends Error {}
export const cancel = (): never => {
  throw new Cancelled('cancelled');
};

export const keyTitle = (k: Pick<KeyView, 'provider' | 'masked' | 'label'>): string =>
  `${getProvider(k.provider).displayName} key ${k.masked}${k.label ? ` (${k.label})` : ''}`;

/** Providers in catalog order (so Enter picks the same one every time), each saying whether a key is stored. */
export async function pickProvider(ctx: CommandContext, title: string, keyed: boolean): Promise<ProviderSpec> {
  const items = PROVIDERS.filter((p) => !keyed || p.requiresKey).map((p) => {
    const keys = p.requiresKey ? ctx.core.listKeys(p.id) : [];
    const stored = keys.length === 0 ? undefined : keys.length === 1 ? '$(key) has a key' : `$(key) has ${keys.length} keys`;
    return {
      label: p.displayName,
      description: p.requiresKey ? (stored ?? 'no key yet') : 'no API key needed',
      detail: keys.length ? `Stored: ${keys.map((k) => k.masked).join(', ')}` : p.requiresKey ? `Key ${p.keyFormatHint}` : undefined,
      spec: p,
    };
  });
  const picked = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
  return picked?.spec ?? cancel();
}

/** The key `keyId` names, the only key of `provider`, or the one the user picks. */
export async function pickKey(ctx: CommandContext, a: { keyId?: string; provider?: string }, title: string): Promise<KeyView> {
  const { keyId, provider } = a;
  const keys = ctx.core.listKeys(provider);
  if (keyId) {
    const k = keys.find((x) => x.id === keyId);
    if (!k) throw new Error(`No key with id '${keyId}'${provider ? ` for ${provider}` : ''}. Run 'AI Keys: List Keys' to see the stored keys.`);
    return k;
  }
  if (keys.length === 0) {
    throw new Error(provider ? `No key stored for ${getProvider(provider).id}. Run 'AI Keys: Add API Key'.` : "No API keys stored. Run 'AI Keys: Add API Key'.");
  }
  if (provider && keys.length === 1) return keys[0];
  return quickPickKey(keys, title);
}

export async function quickPickKey(keys: KeyView[], title: string): Promise<KeyView> {
  const picked = await vscode.window.showQuickPick(
    keys.map((k) => ({
      label: `$(key) ${getProvider(k.provider).displayName}  ${k.masked}`,
      description: [k.label, k.status, k.source === 'env' ? `from ${k.envVar}` : undefined].filter(Boolean).join(' · '),
      detail: k.warnings.length ? `$(warning) ${k.warnings.join(' · ')}` : k.lastValidation ? `last check: ${k.lastValidation} (${k.lastValidatedAt?.slice(0, 10)})` : 'not validated yet',
      key: k,
    })),
    { title, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.key ?? cancel();
}

/** A modal confirmation; a dialog that cannot be shown (e.g. in test hosts) counts as "no". */
export async function confirm(ctx: CommandContext, message: string, detail: string, action: string): Promise<boolean> {
  try {
    return (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action;
  } catch (err) {
    ctx.log.warn(`confirmation dialog could not be shown (${err instanceof Error ? err.message : String(err)}); nothing done.`);
    return false;
  }
}

export async function validateOne(ctx: CommandContext, provider: string, keyId: string, show = false): Promise<ValidateResult> {
  const r = await ctx.core.validateKey(provider, keyId, true, 'command');
  const result = { ...r, message: maskKeyShapes(r.message) };
  if (show) {
    const text = `${getProvider(provider).displayName} ${r.masked ?? ''}: ${r.outcome}. ${result.message}`;
    if (r.outcome === 'valid') void vscode.window.showInformationMessage(text);
    else void vscode.window.showWarningMessage(text);
  }
  return result;
}

/** Shows `message` with a "Validate now" button, without waiting for it. */
export function offerValidation(ctx: CommandContext, message: string, key: KeyView): void {
  void vscode.window.showInformationMessage(message, 'Validate now').then(async (choice) => {
    if (choice !== 'Validate now') return;
    try {
      await validateOne(ctx, key.provider, key.id, true);
    } catch (err) {
      void vscode.window.showErrorMessage(maskKeyShapes(err instanceof Error ? err.message : String(err)));
    }
  });
}

/** A file path (absolute, or relative to the first workspace folder) or a URI string. */
export function toUri(s: string): vscode.Uri {
  if (/^[a-zA-Z][\w+.-]+:/.test(s)) return vscode.Uri.parse(s, true);
  if (path.isAbsolute(s)) return vscode.Uri.file(s);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder) throw new Error(`'${s}' is a relative path and no folder is open. Give an absolute path.`);
  return vscode.Uri.joinPath(folder, s);
}
