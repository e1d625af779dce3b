import * as vscode from 'vscode';
import { checkKeyFormat, getProvider, withArticle } from '../core/providers';

/** What the user pasted, and the provider to store it under (another one when the key is clearly theirs). */
export interface KeyAnswer {
  secret: string;
  provider: string;
}

/**
 * Asks for a key in a password box, checking its shape as the user types. One rule: a key of this
 * provider's shape is accepted; a key clearly of another provider is accepted for that provider (the
 * box says so before Enter; unless `offerOther` is false); anything else is refused in the box, so
 * Enter never throws a paste away. Undefined if cancelled.
 */
export async function askForKey(provider: string, purpose: 'add' | 'rotate', { offerOther = true } = {}): Promise<KeyAnswer | undefined> {
  const spec = getProvider(provider);
  const value = await vscode.window.showInputBox({
    title: `${purpose === 'add' ? 'Add' : 'Rotate'} ${spec.displayName} API key`,
    prompt: `Paste your ${spec.displayName} API key (${spec.keyFormatHint}). It is stored in VS Code's secret storage only.`,
    password: true,
    ignoreFocusOut: true,
    placeHolder: spec.keyFormatHint,
    validateInput: (v) => {
      const key = v.trim();
      // An error (not a warning) so Enter on an empty box does nothing instead of cancelling silently.
      if (!key) return `Enter a key: paste your ${spec.displayName} API key, or press Escape to cancel.`;
      const f = checkKeyFormat(spec.id, key);
      if (f.ok) return { message: f.message, severity: vscode.InputBoxValidationSeverity.Info };
      if (f.otherProvider && !offerOther) {
        return { message: `${f.message} To store it, use 'AI Keys: Add API Key'.`, severity: vscode.InputBoxValidationSeverity.Error };
      }
      if (f.otherProvider) {
        const other = getProvider(f.otherProvider).displayName;
        const ours = withArticle(spec.displayName);
        const then =
          purpose === 'add'
            ? `Press Enter to store it as ${withArticle(other)} key, or paste ${ours} key instead.`
            : `Press Enter to add it as a new ${other} key instead (this ${spec.displayName} key stays as it is), or paste ${ours} key.`;
        return { message: `This looks like ${withArticle(other)} key, not ${ours} key. ${then}`, severity: vscode.InputBoxValidationSeverity.Warning };
      }
      return { message: f.message, severity: vscode.InputBoxValidationSeverity.Error };
    },
  });
  const secret = value?.trim();
  if (!secret) return undefined;
  return { secret, provider: checkKeyFormat(spec.id, secret).otherProvider ?? spec.id };
}

