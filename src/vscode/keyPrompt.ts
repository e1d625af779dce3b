import * as vscode from 'vscode';
import { checkKeyFormat, getProvider } from '../core/providers';

/** Asks for a key in a password box, checking its shape as the user types. Undefined if cancelled. */
export async function askForKey(provider: string, purpose: 'add' | 'rotate'): Promise<string | undefined> {
  const spec = getProvider(provider);
  const value = await vscode.window.showInputBox({
    title: `${purpose === 'add' ? 'Add' : 'Rotate'} ${spec.displayName} API key`,
    prompt: `Paste your ${spec.displayName} API key (${spec.keyFormatHint}). It is stored in VS Code's secret storage only.`,
    password: true,
    ignoreFocusOut: true,
    placeHolder: spec.keyFormatHint,
    validateInput: (v) => {
      // An error (not a warning) so Enter on an empty box does nothing instead of cancelling silently.
      if (!v.trim()) return `Enter a key: paste your ${spec.displayName} API key, or press Escape to cancel.`;
      const f = checkKeyFormat(spec.id, v.trim());
      return f.ok ? undefined : { message: f.message, severity: vscode.InputBoxValidationSeverity.Warning };
    },
  });
  return value?.trim() || undefined;
}
