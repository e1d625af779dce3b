// Reading what a @keys question asks for: which command, provider, period, task, model and token counts.
import type { AiKeyManagerCore } from '../../core/service';
import { findProvider, getProvider, type ProviderSpec } from '../../core/providers';
import { TASK_TYPES, type TaskType } from '../../core/types';
import type { ChatCommandDef } from './types';

/** The command a question without one is closest to, and the words that decided it (in prompt order). */
export function pickCommand(prompt: string, commands: readonly ChatCommandDef[]): { command: string; matched: string[] } | undefined {
  const text = prompt.toLowerCase();
  let best: { command: string; matched: string[]; score: number } | undefined;
  const byPriority = [...commands].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
  for (const def of byPriority) {
    const hits = new Map<string, { at: number; weight: number }>();
    const add = (word: string, at: number, weight: number) => {
      const seen = hits.get(word);
      if (!seen || seen.weight < weight) hits.set(word, { at: seen?.at ?? at, weight });
    };
    for (const [re, weight] of [[def.words.strong, 2], [def.words.weak, 1]] as const) {
      for (const m of text.matchAll(re)) add(m[0].replace(/\s+/g, ' '), m.index ?? 0, weight);
    }
    const extra = def.extraWord?.(text);
    if (extra) add(extra.word, extra.at, 1);
    const score = [...hits.values()].reduce((s, h) => s + h.weight, 0);
    if (score > 0 && (!best || score > best.score)) {
      best = { command: def.name, score, matched: [...hits.entries()].sort((a, b) => a[1].at - b[1].at).map(([w]) => w) };
    }
  }
  return best && { command: best.command, matched: best.matched };
}

// --- providers ----------------------------------------------------------------------------------

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

// --- periods ------------------------------------------------------------------------------------

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

function dayOfMonth(core: AiKeyManagerCore): number {
  return Math.max(1, Number(new Intl.DateTimeFormat('en-US', { timeZone: core.timeZone, day: 'numeric' }).format(core.clock.now())));
}

// --- tokens, models -----------------------------------------------------------------------------

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
  const priced = candidates.find((w) => core.knowsPrice(w, q.provider));
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

/** The task a model name implies (an embedding or coding model), if any. */
export function taskOfModel(model: string): TaskType | undefined {
  const m = model.toLowerCase();
  if (/embed/.test(m)) return 'embeddings';
  if (/coder|codestral|devstral/.test(m)) return 'code_generation';
  return undefined;
}

// --- tasks --------------------------------------------------------------------------------------

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
export function taskWordIn(text: string): { word: string; at: number } | undefined {
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
