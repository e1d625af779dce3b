// /usage: requests, tokens and cost for a period, per provider and per model.
import type { AiKeyManagerCore } from '../../core/service';
import type { UsageGroup } from '../../core/ledger';
import { maskKeyShapes } from '../../core/redact';
import { parsePeriod, providerIn } from './intent';
import { cell, escapeMd, n, pct, providerName, usd } from './markdown';
import { refuseKeyMaterial } from './refusal';
import { COMMAND_IDS, type ChatAnswer, type ChatCommandDef, type ChatFollowup } from './types';

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
  const buttons = [{ title: 'Open usage panel', command: COMMAND_IDS.showPanel }];
  const t = byProvider.totals;
  if (t.requests === 0) {
    lines.push(
      `No usage recorded ${label}${scope ? ` for ${escapeMd(scope)}` : ''}. Usage is recorded when a tool reports requests (MCP \`track_request\`) or with "AI Keys: Record Usage".`,
    );
    return { markdown: lines.join('\n'), buttons, followups };
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
    ...byModel.groups.map((g: UsageGroup) => `| ${cell(maskKeyShapes(g.model ?? g.key))} | ${cell(g.provider ?? '')} | ${n(g.requests)} | ${n(g.inputTokens)} | ${n(g.outputTokens)} | ${usd(g.costUsd)} |`),
  );
  return { markdown: lines.join('\n'), buttons, followups };
}

export const usageCommand: ChatCommandDef = {
  name: 'usage',
  description: 'Usage today, this month or the last N days, per provider and model',
  sampleRequest: 'last 7 days anthropic',
  help: '`/usage`: usage today, this month or the last N days, e.g. `/usage 7d anthropic`',
  // "use" alone is not a usage word: "use claude to review this" asks for routing.
  words: {
    strong: /\b(usage|used|spent|spend|spending|today|yesterday|history)\b/g,
    weak: /\b(tokens?|requests?|calls?|week|month)\b/g,
  },
  answer: answerUsage,
};
