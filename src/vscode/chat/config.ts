// /config: keys (masked) with status and last validation, budgets and routing; or the key action asked for.
import type { AiKeyManagerCore } from '../../core/service';
import type { KeyView } from '../../core/keys';
import { PROVIDERS, getProvider, withArticle, type ProviderSpec } from '../../core/providers';
import { providerIn } from './intent';
import { budgetLines, cap, cell, keyCell, statusText, validationText } from './markdown';
import { refuseKeyMaterial } from './refusal';
import { COMMAND_IDS, type ChatAnswer, type ChatButton, type ChatCommandDef, type ChatFollowup } from './types';

type KeyAction = 'add' | 'rotate' | 'validate' | 'remove';

const ACTION_WORDS: [KeyAction, RegExp][] = [
  ['rotate', /\b(rotate|rotating|rotation|replace|renew|regenerate|change)\b/],
  ['remove', /\b(remove|delete|forget|revoke|drop)\b/],
  ['validate', /\b(validate|validation|check|test|verify|works?|working|valid)\b/],
  ['add', /\b(add|new|store|save|setup|set up|configure|register|put)\b/],
];

export function answerConfig(core: AiKeyManagerCore, prompt: string): ChatAnswer {
  const refusal = refuseKeyMaterial(core, prompt);
  if (refusal) return refusal;
  const text = prompt.toLowerCase();
  const action = ACTION_WORDS.find(([, re]) => re.test(text))?.[0];
  if (action) return keyAction(core, action, providerIn(prompt));
  return overview(core);
}

export const configCommand: ChatCommandDef = {
  name: 'config',
  description: 'Keys (masked), their status, budgets and routing',
  sampleRequest: 'rotate my openai key',
  help: '`/config`: which providers have keys, their status, budgets and routing; "rotate my openai key"',
  priority: 1,
  words: {
    strong: /\b(keys?|rotate|rotation|validate|validation|config|configure|configuration|setup|set up)\b/g,
    weak: /\b(add|check|remove|delete|status|providers?)\b/g,
  },
  progress: 'Reading keys, budgets and routing…',
  answer: answerConfig,
};

function overview(core: AiKeyManagerCore): ChatAnswer {
  const keys = core.listKeys();
  const lines: string[] = ['### Keys', ''];
  if (keys.length === 0) {
    lines.push('No API keys stored yet. Add one with the button below; it is asked for in a password box, never in chat.');
  } else {
    lines.push('| Provider | Key | Status | Last validation |', '|---|---|---|---|');
    for (const k of keys) lines.push(`| ${cell(getProvider(k.provider).displayName)} | ${keyCell(k)} | ${cell(statusText(k))} | ${cell(validationText(core, k))} |`);
  }
  const missing = PROVIDERS.filter((p) => p.requiresKey && !keys.some((k) => k.provider === p.id)).map((p) => p.displayName);
  if (missing.length > 0) lines.push('', `No key: ${missing.join(', ')}. Local (Ollama) needs no key.`);

  lines.push('', '### Budgets', '', ...budgetLines(core.budget()));

  lines.push('', '### Routing now', '', '| Task | Would use | Then |', '|---|---|---|');
  for (const r of core.recommendations()) {
    const primary = r.primary ? `${r.primary.provider} / ${r.primary.model}` : 'no usable provider';
    const then = r.fallbackChain.slice(0, 2).map((f) => `${f.provider} / ${f.model}`).join(', ') || '—';
    lines.push(`| ${r.taskType} | ${cell(primary)} | ${cell(then)} |`);
  }

  const buttons: ChatButton[] = [{ title: 'Add a key', command: COMMAND_IDS.addKey }];
  if (keys.some((k) => k.source === 'vault')) buttons.push({ title: 'Rotate a key', command: COMMAND_IDS.rotateKey });
  if (keys.length > 0) buttons.push({ title: 'Validate all keys', command: COMMAND_IDS.validateAll });
  buttons.push({ title: 'Open usage panel', command: COMMAND_IDS.showPanel });
  return {
    markdown: lines.join('\n'),
    buttons,
    followups: [
      { prompt: 'today', command: 'usage', label: "Today's usage" },
      { prompt: 'code review', command: 'route', label: 'Route a code review' },
    ],
  };
}

function keyAction(core: AiKeyManagerCore, action: KeyAction, spec: ProviderSpec | undefined): ChatAnswer {
  const followups: ChatFollowup[] = [{ prompt: 'show my keys', command: 'config', label: 'Show my keys' }];
  if (spec && !spec.requiresKey) {
    return { markdown: `${spec.displayName} does not use an API key, so there is nothing to ${action}.`, buttons: [], followups };
  }
  const keys = spec ? core.listKeys(spec.id) : core.listKeys();
  const name = spec?.displayName;
  const providerArgs = spec ? [{ provider: spec.id }] : undefined;
  const addButton: ChatButton = { title: name ? `Add ${name} key` : 'Add a key', command: COMMAND_IDS.addKey, args: providerArgs };
  const privacy = 'You will be asked for the key in a password box; never paste a key into chat.';

  if (action === 'add') {
    const lines = [
      name
        ? `To add ${withArticle(name)} key, use the button below. ${privacy} ${cap(withArticle(name))} key ${spec!.keyFormatHint}.`
        : `To add a key, use the button below and pick the provider. ${privacy}`,
    ];
    if (spec && keys.length > 0) lines.push('', `You already have ${keys.length} ${name} key(s): ${keys.map(keyCell).join(', ')}.`);
    const buttons: ChatButton[] = [addButton];
    if (spec && keys.some((k) => k.source === 'vault')) buttons.push({ title: `Rotate ${name} key`, command: COMMAND_IDS.rotateKey, args: providerArgs });
    return { markdown: lines.join('\n'), buttons, followups: [...followups, { prompt: 'budget', command: 'costs', label: 'Budget status' }] };
  }

  if (action === 'validate') {
    const list = keys.length ? keys.map((k) => `- ${getProvider(k.provider).displayName} ${keyCell(k)}: ${statusText(k)}; ${validationText(core, k)}`) : ['No keys stored yet.'];
    return {
      markdown: [
        `Validation sends one free request per key (listing models) and updates each key's status. ${name ? `Current ${name} keys:` : 'Current keys:'}`,
        '',
        ...list,
      ].join('\n'),
      buttons: keys.length ? [{ title: 'Validate all keys', command: COMMAND_IDS.validateAll }] : [addButton],
      followups,
    };
  }

  // rotate / remove work on stored keys; env keys are changed where they are set.
  if (keys.length === 0) {
    const md = name ? `No key stored for ${name}. Add one first.` : 'No keys stored yet. Add one first.';
    return { markdown: md, buttons: [addButton], followups };
  }
  const verb = action === 'rotate' ? 'Rotate' : 'Remove';
  const commandId = action === 'rotate' ? COMMAND_IDS.rotateKey : COMMAND_IDS.removeKey;
  const stored = keys.filter((k) => k.source === 'vault');
  const fromEnv = keys.filter((k) => k.source === 'env');
  const lines: string[] = [];
  if (action === 'rotate') lines.push(`Rotating replaces the key's secret; the old one is kept for rollback for a few days. ${privacy}`);
  else lines.push('Removing deletes the key from secret storage; you will be asked to confirm.');
  if (fromEnv.length > 0) lines.push('', `From environment variables (change them where they are set): ${fromEnv.map((k) => `${keyCell(k)} in \`${k.envVar ?? '?'}\``).join(', ')}.`);
  if (stored.length === 0) return { markdown: lines.join('\n'), buttons: [addButton], followups };
  // Named provider: one button per stored key. No provider: one per provider, and the command asks which key.
  const buttons: ChatButton[] = spec
    ? stored.slice(0, 4).map((k) => ({
        title: `${verb} ${spec.displayName} key ${k.label ? `"${k.label}"` : k.masked}`,
        command: commandId,
        args: [{ provider: k.provider, keyId: k.id }],
      }))
    : uniqueByProvider(stored)
        .slice(0, 4)
        .map((k) => ({ title: `${verb} ${getProvider(k.provider).displayName} key`, command: commandId, args: [{ provider: k.provider }] }));
  if (!spec && stored.length > 1) lines.push('', 'Which provider? Pick one below, or name it, e.g. "rotate my openai key".');
  return { markdown: lines.join('\n'), buttons, followups };
}

function uniqueByProvider(keys: KeyView[]): KeyView[] {
  const seen = new Set<string>();
  return keys.filter((k) => (seen.has(k.provider) ? false : (seen.add(k.provider), true)));
}
