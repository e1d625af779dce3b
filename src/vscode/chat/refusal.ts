// Keys never go through chat: a prompt holding key material gets a refusal, and nothing of it is echoed.
import type { AiKeyManagerCore } from '../../core/service';
import { findKeyLikeTokens, maskSecrets } from '../../core/redact';
import { getProvider, withArticle } from '../../core/providers';
import { COMMAND_IDS, type ChatAnswer, type ChatButton } from './types';

/** The refusal given when a prompt holds key material; undefined when it holds none. */
export function refuseKeyMaterial(core: AiKeyManagerCore, prompt: string): ChatAnswer | undefined {
  const found = findKeyLikeTokens(prompt);
  if (found.length === 0) return undefined;
  const provider = found.find((f) => f.provider)?.provider;
  const spec = provider ? getProvider(provider) : undefined;
  const what = spec ? `${withArticle(spec.displayName)} API key` : 'an API key or token';
  const lines = [
    `**Your message contains what looks like ${what}.** I did not store it and I will not repeat it.`,
    '',
    "Keys never go through chat: they are entered in a password box and kept in VS Code's secret storage. " +
      `Use the button below${spec ? ` and paste the key there` : ''}.`,
    '',
    'Chat history is kept by VS Code, so if this conversation is shared or synced, treat the key as exposed and rotate it at the provider.',
  ];
  const buttons: ChatButton[] = [];
  if (spec) {
    buttons.push({ title: `Add ${spec.displayName} key`, command: COMMAND_IDS.addKey, args: [{ provider: spec.id }] });
    if (core.listKeys(spec.id).some((k) => k.source === 'vault')) {
      buttons.push({ title: `Rotate ${spec.displayName} key`, command: COMMAND_IDS.rotateKey, args: [{ provider: spec.id }] });
    }
  } else {
    buttons.push({ title: 'Add a key', command: COMMAND_IDS.addKey });
  }
  return { markdown: lines.join('\n'), buttons, followups: [{ prompt: 'show my keys', command: 'config', label: 'Show my keys' }] };
}

/** Masks any key-like word of `sources` that made it into `text` (a last line of defence). */
export function redactPromptKeys(text: string, ...sources: string[]): string {
  const secrets = sources.flatMap((s) => findKeyLikeTokens(s).map((f) => f.token));
  return maskSecrets(text, secrets);
}
