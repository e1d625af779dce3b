// Key commands: Add, Remove, Rotate, Validate All and List Keys.
import * as vscode from 'vscode';
import { askForKey } from '../keyPrompt';
import { detectProvider, getProvider, withArticle, type ProviderSpec } from '../../core/providers';
import type { ValidateResult } from '../../core/service';
import type { UnreachableReason } from '../../core/validate';
import { maskKeyShapes } from '../../core/redact';
import type { Args } from './args';
import { cancel, confirm, keyTitle, offerValidation, pickKey, pickProvider, quickPickKey, validateOne, type CommandContext, type Result } from './shared';

export async function addKey(ctx: CommandContext, a: Args<'addKeyArgs'>): Promise<Result> {
  const given = a.apiKey;
  const envVar = a.envVar;
  const providerArg = a.provider ?? (given ? detectProvider(given) : undefined);
  const spec = providerArg ? getProvider(providerArg) : await pickProvider(ctx, 'Add an API key for which provider?', true);
  if (!spec.requiresKey) throw new Error(`${spec.displayName} does not use an API key; nothing to add.`);
  const answer = given || envVar ? undefined : ((await askForKey(spec.id, 'add')) ?? cancel());
  return storeKey(ctx, spec, answer?.provider ?? spec.id, { apiKey: given ?? answer?.secret, envVar }, a);
}

/** Adds a key under `provider` (asked for under `askedFor`, which differs when the key was clearly another provider's). */
async function storeKey(
  ctx: CommandContext,
  askedFor: ProviderSpec,
  provider: string,
  input: { apiKey?: string; envVar?: string },
  a: { label?: string; expiresAt?: string; validate?: boolean },
  extra = '',
): Promise<Result> {
  const { key, format } = await ctx.core.addKey(provider, input, { label: a.label, expiresAt: a.expiresAt }, 'command');
  ctx.log.info(`added ${key.provider} key ${key.id} (${key.masked})`);
  const moved = key.provider !== askedFor.id;
  const name = getProvider(key.provider).displayName;
  const note = moved ? ` It has the shape of ${withArticle(name)} key, so it is stored under ${name} rather than ${askedFor.displayName}.${extra}` : '';
  let validation: ValidateResult | undefined;
  if (a.validate) validation = await validateOne(ctx, key.provider, key.id);
  else offerValidation(ctx, `Added the ${keyTitle(key)} to secret storage.${note}`, key);
  return { key, format, validation, ...(moved ? { storedUnder: key.provider, askedFor: askedFor.id } : {}) };
}

export async function removeKey(ctx: CommandContext, a: Args<'removeKeyArgs'>): Promise<Result> {
  const key = await pickKey(ctx, a, 'Remove which key?');
  if (a.confirm !== true && !(await confirm(ctx, `Remove the ${keyTitle(key)}?`, 'Its secret is deleted from secret storage. This cannot be undone.', 'Remove'))) {
    cancel();
  }
  await ctx.core.removeKey(key.provider, key.id, 'command');
  ctx.log.info(`removed ${key.provider} key ${key.id} (${key.masked})`);
  void vscode.window.showInformationMessage(`Removed the ${keyTitle(key)}.`);
  return { removed: { id: key.id, provider: key.provider, masked: key.masked } };
}

export async function rotateKey(ctx: CommandContext, a: Args<'rotateKeyArgs'>): Promise<Result> {
  const key = await pickKey(ctx, a, 'Rotate which key?');
  const envVar = a.envVar;
  const answer = a.newKey || envVar ? undefined : ((await askForKey(key.provider, 'rotate')) ?? cancel());
  const spec = getProvider(key.provider);
  if (answer && answer.provider !== key.provider) {
    return storeKey(ctx, spec, answer.provider, { apiKey: answer.secret }, { validate: a.validate }, ` The ${keyTitle(key)} was not rotated.`);
  }
  const newKey = a.newKey ?? answer?.secret;
  const r = await ctx.core.rotateKey(key.provider, { apiKey: newKey, envVar }, key.id, 'command');
  ctx.log.info(`rotated ${key.provider} key ${key.id} (${r.previousMasked} → ${r.key.masked})`);
  offerValidation(
    ctx,
    `Rotated the ${getProvider(key.provider).displayName} key ${r.previousMasked} → ${r.key.masked}. The old key can be restored until ${r.rollbackUntil.slice(0, 10)}.`,
    r.key,
  );
  return { key: r.key, previousMasked: r.previousMasked, rollbackUntil: r.rollbackUntil, format: r.format };
}

export async function validateAllKeys(ctx: CommandContext): Promise<Result> {
  const raw = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Validating AI keys', cancellable: false },
    async (progress) => {
      let reported = 0;
      return ctx.core.validateAll('command', (done, total) => {
        progress.report({ message: `${done} of ${total}`, increment: ((done - reported) / total) * 100 });
        reported = done;
      });
    },
  );
  const results = raw.map((r) => ({ ...r, message: maskKeyShapes(r.message) }));
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  const problems = results.filter((r) => r.outcome !== 'valid' && r.outcome !== 'skipped');
  const summary = results.length === 0 ? 'No keys to validate.' : Object.entries(counts).map(([k, n]) => `${n} ${k.replace('_', ' ')}`).join(', ') + '.';
  ctx.log.info(`validate all: ${summary}`);
  for (const r of problems) ctx.log.info(`validate ${r.provider}${r.masked ? ` ${r.masked}` : ''}: ${r.outcome}: ${r.message}`);
  let shown: string;
  if (results.length === 0) {
    shown = "No keys to validate. Add one with 'AI Keys: Add API Key'.";
    void vscode.window.showInformationMessage(shown, 'Add API Key').then((c) => c && vscode.commands.executeCommand('aiKeyManager.addKey'));
  } else if (problems.length === 0) {
    shown = `Key check: ${summary}`;
    void vscode.window.showInformationMessage(shown);
  } else {
    shown = `Key check: ${summary} ${problems.map(problemText).join(' ')}`;
    void vscode.window.showWarningMessage(shown, 'List Keys').then((c) => c && vscode.commands.executeCommand('aiKeyManager.listKeys'));
  }
  return { results, counts, summary, shown };
}

export async function listKeys(ctx: CommandContext, a: Args<'listKeysArgs'>): Promise<Result> {
  const keys = ctx.core.listKeys();
  if (a.pick === false) return { keys };
  if (keys.length === 0) {
    void vscode.window.showInformationMessage('No API keys stored yet.', 'Add API Key').then((c) => c && vscode.commands.executeCommand('aiKeyManager.addKey'));
    return { keys };
  }
  const chosen = a.keyId ? await pickKey(ctx, { keyId: a.keyId }, '') : await quickPickKey(keys, 'AI keys — pick one to validate, rotate or remove');
  const actions = [
    { label: '$(pass) Validate', id: 'validate' as const },
    { label: '$(sync) Rotate', id: 'rotate' as const },
    { label: '$(trash) Remove', id: 'remove' as const },
  ];
  const action =
    a.action ?? ((await vscode.window.showQuickPick(actions, { title: keyTitle(chosen), placeHolder: 'What do you want to do with this key?' }))?.id ?? cancel());
  const target = { provider: chosen.provider, keyId: chosen.id };
  let result: Result;
  if (action === 'validate') result = await validateOne(ctx, chosen.provider, chosen.id, true);
  else if (action === 'rotate') result = await rotateKey(ctx, { ...a, ...target });
  else result = await removeKey(ctx, { ...a, ...target });
  return { keys, selected: chosen.id, action, result };
}

/** Why a provider could not be reached, and what to do about it. */
const UNREACHABLE: Record<UnreachableReason, string> = {
  no_network: 'no network; check that you are online',
  dns: 'DNS lookup failed; check your network and the base URL',
  refused: 'connection refused; check that the server runs and the base URL is right',
  reset: 'connection reset; try again, and check any proxy or firewall',
  timeout: 'timed out; check your network and try again',
  tls: 'TLS certificate problem; check the base URL and any proxy',
  bad_url: 'the base URL is not valid; fix the base URL setting',
  redirect: 'redirected elsewhere; set the base URL to the final address',
  server_error: 'the provider answered with a server error; try again later',
  unexpected_status: 'unexpected answer; check the base URL',
  network: 'network error; check your network and the base URL',
};

/** One result that needs attention, as a sentence: what happened and what it says about the key. */
function problemText(r: ValidateResult): string {
  const who = `${getProvider(r.provider).displayName}${r.masked ? ` ${r.masked}` : ''}`;
  switch (r.outcome) {
    case 'unreachable':
      return getProvider(r.provider).requiresKey
        ? `${who}: not checked, the provider could not be reached (${UNREACHABLE[r.reason ?? 'network']}). The key itself may be fine.`
        : `${who}: not reachable (${UNREACHABLE[r.reason ?? 'network']}).`;
    case 'invalid':
      return `${who}: rejected by the provider; replace it.`;
    case 'rate_limited':
      return `${who}: accepted but rate-limited or out of quota right now.`;
    default:
      return `${who}: ${r.outcome.replace('_', ' ')}. ${r.message}`;
  }
}
