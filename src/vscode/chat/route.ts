// /route: the provider and model routing would choose now, why, the fallback chain and what was skipped.
import type { AiKeyManagerCore } from '../../core/service';
import { findProvider } from '../../core/providers';
import { RoutingError, type RouteDecision, type SkippedProvider } from '../../core/router';
import { TASK_TYPES, type TaskType } from '../../core/types';
import { parseTask, parseTokens, taskWordIn } from './intent';
import { escapeMd, providerName, usd } from './markdown';
import { refuseKeyMaterial } from './refusal';
import { COMMAND_IDS, type ChatAnswer, type ChatButton, type ChatCommandDef, type ChatFollowup } from './types';

const TASK_DESCRIPTIONS: Record<TaskType, string> = {
  code_generation: 'writing new code',
  code_review: 'reviewing a diff or file',
  chat: 'general questions and conversation',
  analysis: 'reasoning over long documents or data',
  summarization: 'condensing text',
  data_extraction: 'pulling structured fields out of text',
  embeddings: 'vectors for search',
};

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

export const routeCommand: ChatCommandDef = {
  name: 'route',
  description: 'Which provider and model would take a task now, and the fallback chain',
  sampleRequest: 'code_review',
  help: '`/route`: which provider and model would take a task, e.g. `/route code review`',
  priority: 3,
  words: {
    // "use claude to…", "with gpt-4o for…": a model or provider for a job is a routing question.
    strong: /\b(route|routing|router|fallbacks?|which (?:model|provider)|what model|should i use|recommend\w*|(?:use|using|with|via)\s+[\w.-]+\s+(?:to|for))\b/g,
    weak: /\b(best|choose|pick)\b/g,
  },
  // Naming a task ("review", "summarize") leans towards /route, weakly: "cost to summarize" stays /costs.
  extraWord: taskWordIn,
  progress: 'Checking providers…',
  answer: answerRoute,
};

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
