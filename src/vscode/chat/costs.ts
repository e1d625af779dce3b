// /costs: budget status and projection, plus an estimate for a model and tokens (or attached text)
// with cheaper alternatives.
import type { AiKeyManagerCore } from '../../core/service';
import { UnknownModelError } from '../../core/pricing';
import { PROVIDERS } from '../../core/providers';
import { SAMPLE_TOKENS, providerOrder } from '../../core/router';
import type { TaskType } from '../../core/types';
import { parseCostQuery, taskOfModel, type CostQuery } from './intent';
import { budgetLines, cell, escapeMd, n, usd } from './markdown';
import { refuseKeyMaterial } from './refusal';
import { COMMAND_IDS, type ChatAnswer, type ChatButton, type ChatCommandDef, type ChatFollowup, type ExtraText } from './types';

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

export const costsCommand: ChatCommandDef = {
  name: 'costs',
  description: 'Budget status, projection, and a cost estimate with cheaper alternatives',
  sampleRequest: 'gpt-4o 5000 in 1000 out',
  help: '`/costs`: budget status and an estimate, e.g. `/costs gpt-4o 5000 in 1000 out`',
  priority: 2,
  words: {
    strong: /\b(costs?|price[ds]?|pricing|budgets?|cheaper|cheapest|estimate|expensive|afford|projection|projected)\b/g,
    weak: /\b(cheap)\b/g,
  },
  readsExtraText: true,
  answer: answerCosts,
};

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
  let est: Awaited<ReturnType<AiKeyManagerCore['estimateCostAsync']>>;
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
    `For ${what}: ${n(tokens.inputTokens)} input + ${n(tokens.outputTokens)} output tokens → **${usd(cost.totalCost)}** (input ${usd(cost.inputCost)}, output ${usd(cost.outputCost)}).`,
    '',
    `Prices: ${escapeMd(core.pricing.costSourceText(cost))}.`,
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
  const viable = new Set(core.viableModels(task, { input, output }).map((v) => `${v.provider}/${v.model}`));
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
