// Answers of the @keys chat participant, as markdown plus buttons and follow-ups. Pure: the
// VS Code handler (src/vscode/chat.ts) only streams what these functions return.
import type { AiKeyManagerCore } from './service';
import type { BudgetStatus, PeriodStatus } from './budget';
import type { KeyView } from './keys';
import type { UsageGroup } from './ledger';
import { UnknownModelError } from './pricing';
import { PROVIDERS, detectProvider, findProvider, getProvider, type ProviderSpec } from './providers';
import { RoutingError, SAMPLE_TOKENS, providerOrder, type RouteDecision, type SkippedProvider } from './router';
import { TASK_TYPES, type TaskType } from './types';
import { redactSecrets } from './mask';
import { formatUsd as usd } from './money';
import { redactKeys } from './leakScan';

export const CHAT_COMMANDS = ['config', 'usage', 'costs', 'route'] as const;
export type ChatCommand = (typeof CHAT_COMMANDS)[number];

export interface ChatButton {
  title: string;
  command: string;
  args?: unknown[];
}

export interface ChatFollowup {
  prompt: string;
  /** Slash command to run the prompt with. */
  command?: ChatCommand;
  label: string;
}

export interface ChatAnswer {
  markdown: string;
  buttons: ChatButton[];
  followups: ChatFollowup[];
}

/** Text to estimate besides the prompt (editor selection, attached file), described for the reply. */
export interface ExtraText {
  text: string;
  /** e.g. "the selection in app.ts"; never the text itself. */
  source: string;
}

export const COMMAND_IDS = {
  addKey: 'aiKeyManager.addKey',
  rotateKey: 'aiKeyManager.rotateKey',
  removeKey: 'aiKeyManager.removeKey',
  validateAll: 'aiKeyManager.validateAllKeys',
  showPanel: 'aiKeyManager.showPanel',
} as const;

const TASK_DESCRIPTIONS: Record<TaskType, string> = {
  code_generation: 'writing new code',
  code_review: 'reviewing a diff or file',
  chat: 'general questions and conversation',
  analysis: 'reasoning over long documents or data',
  summarization: 'condensing text',
  data_extraction: 'pulling structured fields out of text',
  embeddings: 'vectors for search',
};

// --- secrets in prompts -------------------------------------------------------------------------

const KEY_PREFIX = /^(sk-|sk_|AIza|gsk_|xai-|ghp_|github_pat_|hf_|pk-|rk_)[A-Za-z0-9_-]{12,}$/;

/** Every word of `text` that looks like API key material (a provider's key shape, a key prefix, or a long random token). */
export function findKeyLikeTokens(text: string): { token: string; provider?: string }[] {
  const out: { token: string; provider?: string }[] = [];
  for (const raw of text.split(/[\s"'`=:,;()[\]{}<>]+/)) {
    const token = raw.replace(/[.!?]+$/, '');
    if (token.length < 16) continue;
    const provider = detectProvider(token);
    const randomLooking = token.length >= 28 && /^[A-Za-z0-9_-]+$/.test(token) && /[a-z]/.test(token) && /[A-Z]/.test(token) && /\d/.test(token);
    if (provider || KEY_PREFIX.test(token) || randomLooking) out.push({ token, provider });
  }
  return out;
}

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

/** Masks any key-like word of `prompt` that made it into `text` (a last line of defence). */
export function redactPromptKeys(text: string, ...sources: string[]): string {
  const secrets = sources.flatMap((s) => findKeyLikeTokens(s).map((f) => f.token));
  return redactSecrets(text, secrets);
}

// --- picking a command for free text -----------------------------------------------------------

// Words that point at a command: strong ones (the command's own subject) count 2, weak ones 1.
// "use" alone is not a usage word: "use claude to review this" asks for routing.
const COMMAND_WORDS: Record<ChatCommand, { strong: RegExp; weak: RegExp }> = {
  config: {
    strong: /\b(keys?|rotate|rotation|validate|validation|config|configure|configuration|setup|set up)\b/g,
    weak: /\b(add|check|remove|delete|status|providers?)\b/g,
  },
  usage: {
    strong: /\b(usage|used|spent|spend|spending|today|yesterday|history)\b/g,
    weak: /\b(tokens?|requests?|calls?|week|month)\b/g,
  },
  costs: {
    strong: /\b(costs?|price[ds]?|pricing|budgets?|cheaper|cheapest|estimate|expensive|afford|projection|projected)\b/g,
    weak: /\b(cheap)\b/g,
  },
  route: {
    // "use claude to…", "with gpt-4o for…": a model or provider for a job is a routing question.
    strong: /\b(route|routing|router|fallbacks?|which (?:model|provider)|what model|should i use|recommend\w*|(?:use|using|with|via)\s+[\w.-]+\s+(?:to|for))\b/g,
    weak: /\b(best|choose|pick)\b/g,
  },
};
/** On a tie, the more specific command wins. */
const TIE_ORDER: ChatCommand[] = ['route', 'costs', 'config', 'usage'];

/** The slash command a question without one is closest to, and the words that decided it (in prompt order). */
export function pickCommand(prompt: string): { command: ChatCommand; matched: string[] } | undefined {
  const text = prompt.toLowerCase();
  let best: { command: ChatCommand; matched: string[]; score: number } | undefined;
  for (const command of TIE_ORDER) {
    const hits = new Map<string, { at: number; weight: number }>();
    const add = (word: string, at: number, weight: number) => {
      const seen = hits.get(word);
      if (!seen || seen.weight < weight) hits.set(word, { at: seen?.at ?? at, weight });
    };
    for (const [re, weight] of [[COMMAND_WORDS[command].strong, 2], [COMMAND_WORDS[command].weak, 1]] as const) {
      for (const m of text.matchAll(re)) add(m[0].replace(/\s+/g, ' '), m.index ?? 0, weight);
    }
    // Naming a task ("review", "summarize") leans towards /route, weakly: "cost to summarize" stays /costs.
    if (command === 'route') {
      const task = taskWordIn(text);
      if (task) add(task.word, task.at, 1);
    }
    const score = [...hits.values()].reduce((s, h) => s + h.weight, 0);
    if (score > 0 && (!best || score > best.score)) {
      best = { command, score, matched: [...hits.entries()].sort((a, b) => a[1].at - b[1].at).map(([w]) => w) };
    }
  }
  return best && { command: best.command, matched: best.matched };
}

/** Answer for a request: with its slash command, or routed by keywords (saying which), or help. */
export async function answerChat(core: AiKeyManagerCore, command: string | undefined, prompt: string, extra?: ExtraText): Promise<ChatAnswer> {
  const refusal = refuseKeyMaterial(core, prompt);
  if (refusal) return refusal;
  let note = '';
  let cmd = CHAT_COMMANDS.find((c) => c === command);
  if (command && !cmd) note = `I don't know the command /${escapeMd(command)}. `;
  if (!cmd) {
    const picked = pickCommand(prompt);
    if (!picked) return help(note);
    cmd = picked.command;
    note += `_Answering with **/${cmd}** (you mentioned ${picked.matched.map((m) => `"${m}"`).join(', ')})._\n\n`;
  }
  const a = await answerFor(core, cmd, prompt, extra);
  return { ...a, markdown: note + a.markdown };
}

async function answerFor(core: AiKeyManagerCore, cmd: ChatCommand, prompt: string, extra?: ExtraText): Promise<ChatAnswer> {
  switch (cmd) {
    case 'config':
      return answerConfig(core, prompt);
    case 'usage':
      return answerUsage(core, prompt);
    case 'costs':
      return answerCosts(core, prompt, extra);
    case 'route':
      return answerRoute(core, prompt);
  }
}

function help(note: string): ChatAnswer {
  const md = [
    `${note}I answer questions about your AI keys, usage, costs and routing. Try:`,
    '',
    '- `/config`: which providers have keys, their status, budgets and routing; "rotate my openai key"',
    '- `/usage`: usage today, this month or the last N days, e.g. `/usage 7d anthropic`',
    '- `/costs`: budget status and an estimate, e.g. `/costs gpt-4o 5000 in 1000 out`',
    '- `/route`: which provider and model would take a task, e.g. `/route code review`',
  ].join('\n');
  return {
    markdown: md,
    buttons: [{ title: 'Open usage panel', command: COMMAND_IDS.showPanel }],
    followups: [
      { prompt: 'show my keys', command: 'config', label: 'Show my keys' },
      { prompt: 'today', command: 'usage', label: "Today's usage" },
      { prompt: 'budget', command: 'costs', label: 'Budget status' },
    ],
  };
}

// --- /config ------------------------------------------------------------------------------------

type KeyAction = 'add' | 'rotate' | 'validate' | 'remove';

const ACTION_WORDS: [KeyAction, RegExp][] = [
  ['rotate', /\b(rotate|rotating|rotation|replace|renew|regenerate|change)\b/],
  ['remove', /\b(remove|delete|forget|revoke|drop)\b/],
  ['validate', /\b(validate|validation|check|test|verify|works?|working|valid)\b/],
  ['add', /\b(add|new|store|save|setup|set up|configure|register|put)\b/],
];

const EXTRA_PROVIDER_WORDS: Record<string, string> = { gpt: 'openai', chatgpt: 'openai', 'open ai': 'openai' };

/** The provider named in free text ("my OpenAI key", "claude"), if any. */
export function providerIn(prompt: string): ProviderSpec | undefined {
  for (const word of prompt.toLowerCase().split(/[^a-z0-9_.-]+/)) {
    const w = word.replace(/'s$/, '').replace(/[.]+$/, '');
    if (!w) continue;
    const spec = findProvider(w) ?? (EXTRA_PROVIDER_WORDS[w] ? getProvider(EXTRA_PROVIDER_WORDS[w]) : undefined);
    if (spec) return spec;
  }
  return undefined;
}

/** Keys (masked), their status and last validation, budgets and routing; or the key action the prompt asks for. */
export function answerConfig(core: AiKeyManagerCore, prompt: string): ChatAnswer {
  const refusal = refuseKeyMaterial(core, prompt);
  if (refusal) return refusal;
  const text = prompt.toLowerCase();
  const action = ACTION_WORDS.find(([, re]) => re.test(text))?.[0];
  if (action) return keyAction(core, action, providerIn(prompt));
  return overview(core);
}

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
  const privacy = 'You will be asked for the key in a password box; never paste a key into chat.';

  if (action === 'add') {
    const lines = [
      name
        ? `To add ${withArticle(name)} key, use the button below. ${privacy} ${cap(withArticle(name))} key ${spec!.keyFormatHint}.`
        : `To add a key, use the button below and pick the provider. ${privacy}`,
    ];
    if (spec && keys.length > 0) lines.push('', `You already have ${keys.length} ${name} key(s): ${keys.map(keyCell).join(', ')}.`);
    const buttons: ChatButton[] = [{ title: name ? `Add ${name} key` : 'Add a key', command: COMMAND_IDS.addKey, args: providerArgs }];
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
      buttons: keys.length
        ? [{ title: 'Validate all keys', command: COMMAND_IDS.validateAll }]
        : [{ title: name ? `Add ${name} key` : 'Add a key', command: COMMAND_IDS.addKey, args: providerArgs }],
      followups,
    };
  }

  // rotate / remove work on stored keys; env keys are changed where they are set.
  if (keys.length === 0) {
    const md = name ? `No key stored for ${name}. Add one first.` : 'No keys stored yet. Add one first.';
    return { markdown: md, buttons: [{ title: name ? `Add ${name} key` : 'Add a key', command: COMMAND_IDS.addKey, args: providerArgs }], followups };
  }
  const verb = action === 'rotate' ? 'Rotate' : 'Remove';
  const commandId = action === 'rotate' ? COMMAND_IDS.rotateKey : COMMAND_IDS.removeKey;
  const stored = keys.filter((k) => k.source === 'vault');
  const fromEnv = keys.filter((k) => k.source === 'env');
  const lines: string[] = [];
  if (action === 'rotate') lines.push(`Rotating replaces the key's secret; the old one is kept for rollback for a few days. ${privacy}`);
  else lines.push('Removing deletes the key from secret storage; you will be asked to confirm.');
  if (fromEnv.length > 0) lines.push('', `From environment variables (change them where they are set): ${fromEnv.map((k) => `${keyCell(k)} in \`${k.envVar ?? '?'}\``).join(', ')}.`);
  if (stored.length === 0) return { markdown: lines.join('\n'), buttons: [{ title: name ? `Add ${name} key` : 'Add a key', command: COMMAND_IDS.addKey, args: providerArgs }], followups };
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

function keyCell(k: KeyView): string {
  const label = k.label ? ` (${escapeMd(k.label)})` : '';
  const env = k.source === 'env' ? ` from ${k.envVar ?? 'env'}` : '';
  return `\`${k.masked}\`${label}${env}`;
}

function statusText(k: KeyView): string {
  return [k.status, ...k.warnings.filter((w) => !w.startsWith('disabled') && !w.startsWith('rate limited'))].join('; ') + (k.status === 'resting' && k.restingUntil ? ` until ${k.restingUntil}` : '');
}

function validationText(core: AiKeyManagerCore, k: KeyView): string {
  if (!k.lastValidation || !k.lastValidatedAt) return 'never validated';
  return `${k.lastValidation.replace(/_/g, ' ')}, ${ago(core, k.lastValidatedAt)}`;
}

// --- budgets ------------------------------------------------------------------------------------

function budgetLines(b: BudgetStatus): string[] {
  const period = (p: PeriodStatus, name: string): string => {
    const flag = p.exceeded ? ' **exceeded**' : p.alert ? ' **near the limit**' : '';
    const unpriced = p.unpriced.requests > 0 ? `; plus ${n(p.unpriced.requests)} request(s) (${n(p.unpriced.tokens)} tokens) to models with no known price, not counted` : '';
    if (p.limit === null) return `- ${name}: ${usd(p.spent)} spent, no limit (projected ${usd(p.projected)})${unpriced}`;
    return `- ${name}: ${usd(p.spent)} of ${usd(p.limit)} (${pct(p.percent)}), ${usd(p.remaining ?? 0)} left, projected ${usd(p.projected)}${flag}${unpriced}`;
  };
  return [
    period(b.day, `Today (${b.day.key})`),
    period(b.month, `This month (${b.month.key})`),
    `- Projections assume the last ${b.burnRate.days} days' average: ${usd(b.burnRate.usdPerDay)}/day`,
    `- Enforcement: ${b.enforce ? 'on (routing skips paid providers once a limit is reached)' : 'off (limits only warn)'}`,
  ];
}

// --- /usage -------------------------------------------------------------------------------------

/** The period a usage prompt asks for: today, yesterday, this month, or the last N days (default 30). */
export function parsePeriod(core: AiKeyManagerCore, prompt: string): { days: number; endDaysAgo?: number; label: string } {
  const t = prompt.toLowerCase();
  if (/\byesterday\b/.test(t)) return { days: 1, endDaysAgo: 1, label: 'yesterday' };
  let m = /\b(\d{1,4})\s*(d|days?)\b/.exec(t);
  if (m) return lastDays(Number(m[1]));
  m = /\b(\d{1,3})\s*(w|wks?|weeks?)\b/.exec(t);
  if (m) return lastDays(Number(m[1]) * 7);
  if (/\btoday\b/.test(t)) return { days: 1, label: 'today' };
  if (/\b(this )?month\b/.test(t) && !/\blast month\b/.test(t)) return { days: dayOfMonth(core), label: 'this month' };
  if (/\b(this |last |past )?week\b/.test(t)) return lastDays(7);
  if (/\blast month\b|\bpast month\b/.test(t)) return lastDays(30);
  if (/\b(this |last |past )?year\b/.test(t)) return lastDays(365);
  return lastDays(30);
}

function lastDays(n: number): { days: number; label: string } {
  const days = Math.min(Math.max(1, n), 3660);
  return { days, label: days === 1 ? 'today' : `the last ${days} days` };
}

/** Usage for a period, per provider and per model, as markdown tables. */
export function answerUsage(core: AiKeyManagerCore, prompt: string): ChatAnswer {
  const refusal = refuseKeyMaterial(core, prompt);
  if (refusal) return refusal;
  const { days, endDaysAgo, label } = parsePeriod(core, prompt);
  const spec = providerIn(prompt);
  const provider = spec?.id;
  const known = core.usage({ days, endDaysAgo, groupBy: 'model' }).groups.map((g) => g.model).filter((m): m is string => !!m);
  const words = prompt.toLowerCase().split(/[\s,;]+/);
  const model = known.find((m) => words.includes(m.toLowerCase()));
  const byProvider = core.usage({ days, endDaysAgo, provider, model, groupBy: 'provider' });
  const byModel = core.usage({ days, endDaysAgo, provider, model, groupBy: 'model' });
  const scope = [spec ? spec.displayName : undefined, model].filter(Boolean).join(', ');
  const range = byProvider.from === byProvider.to ? byProvider.from : `${byProvider.from} to ${byProvider.to}`;
  const lines = [`### Usage ${label}${scope ? ` for ${escapeMd(scope)}` : ''} (${range})`, ''];
  const followups: ChatFollowup[] = [
    { prompt: 'budget', command: 'costs', label: 'Budget and projection' },
    label === 'today' ? { prompt: 'yesterday', command: 'usage', label: 'Yesterday' } : { prompt: 'today', command: 'usage', label: 'Today only' },
    { prompt: '7d', command: 'usage', label: 'Last 7 days' },
  ];
  const t = byProvider.totals;
  if (t.requests === 0) {
    lines.push(
      `No usage recorded ${label}${scope ? ` for ${escapeMd(scope)}` : ''}. Usage is recorded when a tool reports requests (MCP \`track_request\`) or with "AI Keys: Record Usage".`,
    );
    return { markdown: lines.join('\n'), buttons: [{ title: 'Open usage panel', command: COMMAND_IDS.showPanel }], followups };
  }
  lines.push(
    `**${usd(t.costUsd)}** for ${n(t.requests)} request(s) (${n(t.failures)} failed), ${n(t.inputTokens)} input and ${n(t.outputTokens)} output tokens` +
      (t.cacheReadTokens + t.cacheWriteTokens > 0 ? `, ${n(t.cacheReadTokens)} cache read and ${n(t.cacheWriteTokens)} cache write tokens` : '') +
      '.',
    '',
    '**By provider**',
    '',
    '| Provider | Requests | Input tokens | Output tokens | Cost | Success |',
    '|---|---:|---:|---:|---:|---:|',
    ...byProvider.groups.map((g) => `| ${cell(providerName(g.provider ?? g.key))} | ${n(g.requests)} | ${n(g.inputTokens)} | ${n(g.outputTokens)} | ${usd(g.costUsd)} | ${pct(g.successRate * 100)} |`),
    '',
    '**By model**',
    '',
    '| Model | Provider | Requests | Input tokens | Output tokens | Cost |',
    '|---|---|---:|---:|---:|---:|',
    // A model named with an API key (a paste into the wrong field) shows masked.
    ...byModel.groups.map((g: UsageGroup) => `| ${cell(redactKeys(g.model ?? g.key))} | ${cell(g.provider ?? '')} | ${n(g.requests)} | ${n(g.inputTokens)} | ${n(g.outputTokens)} | ${usd(g.costUsd)} |`),
  );
  return { markdown: lines.join('\n'), buttons: [{ title: 'Open usage panel', command: COMMAND_IDS.showPanel }], followups };
}

// --- /costs -------------------------------------------------------------------------------------

export interface CostQuery {
  model?: string;
  provider?: string;
  inputTokens?: number;
  outputTokens?: number;
  task?: TaskType;
}

const NUMBER = String.raw`(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*([kKmM])?`;

function toCount(num: string, unit: string | undefined): number {
  const v = Number(num.replace(/,/g, ''));
  const mult = unit?.toLowerCase() === 'k' ? 1e3 : unit?.toLowerCase() === 'm' ? 1e6 : 1;
  return Math.round(v * mult);
}

/** Model, provider, token counts and task from a costs prompt ("gpt-4o 5000 in 1000 out", "claude-3-5-sonnet 20k/2k"). */
export function parseCostQuery(core: AiKeyManagerCore, prompt: string): CostQuery {
  const q: CostQuery = {};
  let rest = ` ${prompt} `;
  const via = /\b(?:on|via|through|with)\s+([a-z]+)\b/i.exec(rest);
  if (via && findProvider(via[1])) {
    q.provider = findProvider(via[1])!.id;
    rest = rest.replace(via[0], ' ');
  }
  const words = rest.split(/[\s,;]+/).map((w) => w.replace(/^[("'`]+|[)"'`?!.:]+$/g, '')).filter(Boolean);
  const candidates = words.filter((w) => /[a-z]/i.test(w) && /[\d/-]/.test(w) && !new RegExp(`^${NUMBER}(/${NUMBER})?$`).test(w) && !/^\$/.test(w));
  const priced = candidates.find((w) => safeHas(core, w, q.provider));
  const model = priced ?? candidates.find((w) => /[a-z]{2,}/i.test(w) && !/^\d+[a-z]{1,6}$/i.test(w));
  if (model) {
    q.model = model;
    rest = rest.replace(model, ' ');
  }
  q.task = parseTask(rest);
  return { ...q, ...parseTokens(rest) };
}

/** Input/output token counts in text: "5000 in 1000 out", "in: 5k", "20k/2k", or bare numbers (input first). */
export function parseTokens(text: string): { inputTokens?: number; outputTokens?: number } {
  const pair = new RegExp(`(?:^|\\s)${NUMBER}\\s*/\\s*${NUMBER}(?=\\s|$)`).exec(text);
  if (pair) return { inputTokens: toCount(pair[1], pair[2]), outputTokens: toCount(pair[3], pair[4]) };
  const labelled = (re: string) =>
    new RegExp(`(?:^|\\s)${NUMBER}\\s*(?:tokens?\\s*)?(?:${re})\\b`, 'i').exec(text) ?? new RegExp(`\\b(?:${re})(?:\\s*tokens?)?\\s*[:=]?\\s*${NUMBER}(?=\\s|$|[,;])`, 'i').exec(text);
  const inM = labelled('in|input|prompt');
  const outM = labelled('out|output|completion|response');
  const out: { inputTokens?: number; outputTokens?: number } = {};
  if (inM) out.inputTokens = toCount(inM[1], inM[2]);
  if (outM) out.outputTokens = toCount(outM[1], outM[2]);
  if (inM || outM) return out;
  const nums = [...text.matchAll(new RegExp(`(?:^|\\s)${NUMBER}(?=\\s|$|[,;])`, 'g'))].map((m) => toCount(m[1], m[2]));
  if (nums.length > 0) out.inputTokens = nums[0];
  if (nums.length > 1) out.outputTokens = nums[1];
  return out;
}

function safeHas(core: AiKeyManagerCore, model: string, provider?: string): boolean {
  try {
    return core.pricing.has(model, provider);
  } catch {
    return false;
  }
}

/** Budget status and projection, plus an estimate for a model and tokens (or attached text) with cheaper alternatives. */
/** Async: attached text is tokenized without holding the extension host (see estimateCostAsync). */
export async function answerCosts(core: AiKeyManagerCore, prompt: string, extra?: ExtraText): Promise<ChatAnswer> {
  const refusal = refuseKeyMaterial(core, prompt);
  if (refusal) return refusal;
  const q = parseCostQuery(core, prompt);
  const budget = core.budget();
  const lines: string[] = [];
  const buttons: ChatButton[] = [{ title: 'Open usage panel', command: COMMAND_IDS.showPanel }];
  const followups: ChatFollowup[] = [
    { prompt: 'month', command: 'usage', label: "This month's usage" },
    { prompt: q.task ?? 'chat', command: 'route', label: `Route a ${(q.task ?? 'chat').replace(/_/g, ' ')} request` },
  ];

  if (q.model || extra) {
    const est = await estimateSection(core, q, extra);
    lines.push(...est.lines, '');
    if (est.cost !== undefined) {
      const after = budget.day.spent + est.cost;
      if (budget.day.limit !== null) lines.push(`Today's spend would go from ${usd(budget.day.spent)} to ${usd(after)} of the ${usd(budget.day.limit)} daily limit.`, '');
    }
  }
  lines.push('### Budget', '', ...budgetLines(budget));
  if (!q.model && !extra) {
    lines.push('', 'For an estimate, name a model and token counts, e.g. `/costs gpt-4o 5000 in 1000 out` or `/costs claude-3-5-sonnet 20k/2k`, or select text in the editor.');
  }
  return { markdown: lines.join('\n'), buttons, followups };
}

async function estimateSection(core: AiKeyManagerCore, q: CostQuery, extra?: ExtraText): Promise<{ lines: string[]; cost?: number }> {
  const task = q.task ?? (q.model ? taskOfModel(q.model) : undefined) ?? 'chat';
  const explicitTokens = q.inputTokens !== undefined || q.outputTokens !== undefined;
  let model = q.model;
  let provider = q.provider;
  let chosenNote = '';
  if (!model) {
    // Text without a model: price it for the model routing would pick now.
    try {
      const d = core.route({ taskType: task });
      model = d.model;
      provider = d.provider;
      chosenNote = ` (the model /route picks for ${task} now)`;
    } catch {
      // Nothing is usable: price it for what routing would pick first once that provider has a key.
      const order = providerOrder(task);
      const first = order.find((p) => p.requiresKey) ?? order[0];
      model = first.models[task]![0]; // providerOrder lists only providers with models for the task
      provider = first.id;
      chosenNote = ` (no provider is usable now; priced for ${first.displayName}'s ${model}, which /route picks first for ${task} once it has a key)`;
    }
  }
  let est: ReturnType<AiKeyManagerCore['estimateCost']>;
  try {
    est = await core.estimateCostAsync({
      model,
      provider,
      text: extra?.text,
      inputTokens: extra ? q.inputTokens : (q.inputTokens ?? (explicitTokens ? 0 : SAMPLE_TOKENS[task].input)),
      outputTokens: q.outputTokens ?? (extra || explicitTokens ? 0 : SAMPLE_TOKENS[task].output),
    });
  } catch (err) {
    if (err instanceof UnknownModelError) {
      const lines = [`I don't know a price for **${escapeMd(model)}**${provider ? ` on ${provider}` : ''}.`];
      if (err.suggestions.length > 0) lines.push('', `Close matches: ${err.suggestions.map((s) => `\`${s}\``).join(', ')}.`);
      lines.push('', 'Check the model name, or add a price override in the `aiKeyManager` settings.');
      return { lines };
    }
    throw err;
  }
  const { cost, tokens, tokenizer } = est;
  const what = extra
    ? `${escapeMd(extra.source)}: ${n(tokenizer?.tokens ?? 0)} tokens${tokenizer && !tokenizer.exact ? (tokenizer.runCuts ? ' (long runs without spaces counted in pieces: within about 1%)' : ' (estimated, ~4 characters per token)') : ''}`
    : explicitTokens
      ? 'your token counts'
      : `a typical ${task.replace(/_/g, ' ')} request`;
  const lines = [
    `### Estimate: ${escapeMd(cost.model)} (${cost.provider})${chosenNote}`,
    '',
    `For ${what}: ${n(tokens.inputTokens)} input + ${n(tokens.outputTokens)} output tokens → **${usd(cost.totalCost)}** (input ${usd(cost.inputCost)}, output ${usd(cost.outputCost)}${cost.source === 'override' ? '; your price override' : ''}).`,
  ];
  if (extra && !q.outputTokens) lines.push('', 'Output tokens are not counted; add e.g. "1000 out" to include them.');
  const alts = alternatives(core, task, cost.model, cost.provider, cost.totalCost, tokens.inputTokens, tokens.outputTokens);
  if (alts.length > 0) {
    lines.push('', `**Cheaper for ${task.replace(/_/g, ' ')}** (same tokens, cheapest first):`, '', '| Model | Provider | Cost | Available now |', '|---|---|---:|---|');
    for (const a of alts) lines.push(`| ${cell(a.model)} | ${a.provider} | ${usd(a.cost)} | ${a.available ? 'yes' : cell(a.why)} |`);
  } else {
    lines.push('', `No cheaper model in the catalog for ${task.replace(/_/g, ' ')}.`);
  }
  return { lines, cost: cost.totalCost };
}

/** Catalog models for a task that cost less than `cost` for the same tokens, cheapest first. */
function alternatives(core: AiKeyManagerCore, task: TaskType, model: string, provider: string, cost: number, input: number, output: number) {
  const viable = new Set(core.router.viableModels(task, { input, output }).map((v) => `${v.provider}/${v.model}`));
  const out: { model: string; provider: string; cost: number; available: boolean; why: string }[] = [];
  for (const spec of PROVIDERS) {
    for (const m of spec.models[task] ?? []) {
      if (m === model && spec.id === provider) continue;
      let c: number;
      try {
        c = spec.id === 'local' ? 0 : core.estimateCost({ model: m, provider: spec.id, inputTokens: input, outputTokens: output }).cost.totalCost;
      } catch {
        continue;
      }
      if (c >= cost) continue;
      const available = viable.has(`${spec.id}/${m}`);
      const why = spec.requiresKey && core.listKeys(spec.id).length === 0 ? 'no key' : spec.id === 'local' ? 'needs Ollama running' : 'not usable now';
      out.push({ model: m, provider: spec.id, cost: c, available, why });
    }
  }
  return out.sort((a, b) => a.cost - b.cost || Number(b.available) - Number(a.available)).slice(0, 6);
}

function taskOfModel(model: string): TaskType | undefined {
  const m = model.toLowerCase();
  if (/embed/.test(m)) return 'embeddings';
  if (/coder|codestral|devstral/.test(m)) return 'code_generation';
  return undefined;
}

// --- /route -------------------------------------------------------------------------------------

const TASK_SYNONYMS: [TaskType, RegExp][] = [
  ['code_review', /\b(code[\s_-]*review|review(ing)?|pr|pull request|diff)\b/],
  ['code_generation', /\b(code[\s_-]*gen(eration)?|codegen|generate code|write code|writing code|coding|implement\w*|refactor\w*|code)\b/],
  ['summarization', /\b(summar\w*|tl;?dr|digest|condense)\b/],
  ['data_extraction', /\b(data[\s_-]*extraction|extract\w*|parse|parsing|structured|json)\b/],
  ['embeddings', /\b(embeddings?|embed|vectors?|semantic search)\b/],
  ['analysis', /\b(analysis|analy[sz]\w*|reason\w*|research)\b/],
  ['chat', /\b(chat|conversation|question|ask|talk)\b/],
];

/** The first word of `text` that names a task ("review", "summarize"), and where it is. */
function taskWordIn(text: string): { word: string; at: number } | undefined {
  let first: { word: string; at: number } | undefined;
  for (const [, re] of TASK_SYNONYMS) {
    const m = new RegExp(re.source, 'g').exec(text);
    if (m && (!first || m.index < first.at)) first = { word: m[0], at: m.index };
  }
  return first;
}

/** The task type a prompt names ("code review" → code_review), if any. */
export function parseTask(prompt: string): TaskType | undefined {
  const t = prompt.toLowerCase();
  const exact = TASK_TYPES.find((task) => new RegExp(`\\b${task}\\b`).test(t.replace(/[\s-]+/g, '_')));
  if (exact) return exact;
  return TASK_SYNONYMS.find(([, re]) => re.test(t))?.[0];
}

/** The provider and model routing would choose now, why, the fallback chain and skipped providers. */
export function answerRoute(core: AiKeyManagerCore, prompt: string): ChatAnswer {
  const refusal = refuseKeyMaterial(core, prompt);
  if (refusal) return refusal;
  const task = parseTask(prompt);
  if (!task) {
    const given = prompt.trim();
    return {
      markdown: [
        given ? `I don't know the task "${escapeMd(given.slice(0, 80))}". The task types are:` : 'Name a task. The task types are:',
        '',
        ...TASK_TYPES.map((t) => `- \`${t}\`: ${TASK_DESCRIPTIONS[t]}`),
        '',
        'For example `/route code review` or `/route summarization 20k in 1k out`.',
      ].join('\n'),
      buttons: [],
      followups: (['code_review', 'code_generation', 'chat'] as const).map((t) => ({ prompt: t, command: 'route', label: `Route ${t.replace(/_/g, ' ')}` })),
    };
  }
  const cq = parseTokens(` ${prompt} `);
  const preferred = /\b(prefer(?:ring)?|with|on|via|using)\s+([a-z]+)\b/i.exec(prompt);
  const preferredProvider = preferred && findProvider(preferred[2]) ? findProvider(preferred[2])!.id : undefined;
  const req = { taskType: task, preferredProvider, estimatedInputTokens: cq.inputTokens, estimatedOutputTokens: cq.outputTokens };
  const followups: ChatFollowup[] = [
    { prompt: 'show my keys', command: 'config', label: 'Show my keys' },
    { prompt: 'budget', command: 'costs', label: 'Budget status' },
  ];
  let d: RouteDecision;
  try {
    d = core.route(req);
  } catch (err) {
    if (!(err instanceof RoutingError)) throw err;
    const lines = [`**No provider can take a ${task} request now.**`, '', ...skippedLines(err.skipped)];
    return { markdown: lines.join('\n'), buttons: addButtonsFor(core, err.skipped), followups };
  }
  const lines = [
    `### ${task}: ${d.provider} / ${escapeMd(d.model)}`,
    '',
    `**${providerName(d.provider)}** with **${escapeMd(d.model)}**, about ${usd(d.estimatedCost)} per request.`,
    '',
    `Why: ${escapeMd(d.reason)}.`,
  ];
  if (d.fallbacks.length > 0) {
    lines.push('', '**Fallback chain**', '', ...d.fallbacks.map((f, i) => `${i + 1}. ${f.provider} / ${escapeMd(f.model)}: ${usd(f.estimatedCost)}`));
  } else {
    lines.push('', 'No fallback: no other provider can take this task now.');
  }
  if (d.skipped.length > 0) lines.push('', '**Skipped**', '', ...skippedLines(d.skipped));
  return { markdown: lines.join('\n'), buttons: addButtonsFor(core, d.skipped), followups };
}

function skippedLines(skipped: SkippedProvider[]): string[] {
  return skipped.map((s) => `- ${providerName(s.provider)}: ${escapeMd(s.why)}`);
}

function addButtonsFor(core: AiKeyManagerCore, skipped: SkippedProvider[]): ChatButton[] {
  const noKey = skipped.filter((s) => s.code === 'no_key').slice(0, 2);
  const buttons: ChatButton[] = noKey.map((s) => ({ title: `Add ${providerName(s.provider)} key`, command: COMMAND_IDS.addKey, args: [{ provider: s.provider }] }));
  if (skipped.some((s) => s.code === 'keys_rejected') && core.listKeys().length > 0) {
    buttons.push({ title: 'Validate all keys', command: COMMAND_IDS.validateAll });
  }
  return buttons;
}

// --- formatting ---------------------------------------------------------------------------------

function n(x: number): string {
  return x.toLocaleString('en-US');
}

function pct(p: number | null): string {
  if (p === null) return '—';
  if (p > 0 && p < 0.1) return '<0.1%';
  return `${p >= 10 || p === 0 ? Math.round(p) : p.toFixed(1)}%`;
}

function providerName(id: string): string {
  return findProvider(id)?.displayName ?? id;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

/** A table cell: markdown escaped, no line breaks. */
function cell(s: string): string {
  return escapeMd(s.replace(/\s+/g, ' '));
}

function withArticle(name: string): string {
  return `${/^[AEIOU]/i.test(name) ? 'an' : 'a'} ${name}`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function ago(core: AiKeyManagerCore, iso: string): string {
  const ms = core.clock.now().getTime() - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const min = Math.round(ms / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

function dayOfMonth(core: AiKeyManagerCore): number {
  return Math.max(1, Number(new Intl.DateTimeFormat('en-US', { timeZone: core.timeZone, day: 'numeric' }).format(core.clock.now())));
}
