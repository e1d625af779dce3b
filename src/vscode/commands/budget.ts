// Budget and usage commands: Set Budget (four steps), Record Usage and Reset Usage.
import * as vscode from 'vscode';
import { getProvider, type ProviderSpec } from '../../core/providers';
import { formatUsd as usd } from '../../core/money';
import { budgetSettingText } from '../../core/auditLabels';
import { parseAlertPercent, parseLimitInput } from '../../core/budget';
import type { Args } from './args';
import { cancel, confirm, pickProvider, type CommandContext, type Result } from './shared';

type BudgetPatch = { daily?: number; monthly?: number; alertThreshold?: number; enforce?: boolean };

/** The Set Budget steps in order, as the step titles and messages name them. */
const BUDGET_STEPS = ['the daily limit', 'the monthly limit', 'the alert threshold', 'enforcement'];

export async function setBudget(ctx: CommandContext, a: Args<'setBudgetArgs'>): Promise<Result> {
  let patch: BudgetPatch = {};
  if (a.daily !== undefined) patch.daily = a.daily;
  if (a.monthly !== undefined) patch.monthly = a.monthly;
  if (a.alertThreshold !== undefined) patch.alertThreshold = a.alertThreshold;
  if (a.enforce !== undefined) patch.enforce = a.enforce;
  const before = ctx.core.budgetSettings();
  let stoppedAt: number | undefined;
  if (Object.keys(patch).length === 0) ({ patch, stoppedAt } = await promptBudget(ctx));
  const changed = (Object.keys(patch) as (keyof BudgetPatch)[]).filter((k) => patch[k] !== before[k]);
  const skipped =
    stoppedAt === undefined
      ? ''
      : ` You closed Set Budget at step ${stoppedAt} of ${BUDGET_STEPS.length}, so ${listWords(BUDGET_STEPS.slice(stoppedAt - 1))} stayed as ${stoppedAt === BUDGET_STEPS.length ? 'it was' : 'they were'}.`;
  const stop = stoppedAt ? { stoppedAt } : {};
  if (changed.length === 0) {
    const shown = `Budget unchanged: the values entered are the ones already set.${skipped}`;
    void vscode.window.showInformationMessage(shown);
    return { settings: patch, budget: ctx.core.budget(), saved: false, shown, ...stop };
  }
  const budget = await ctx.core.setBudget(Object.fromEntries(changed.map((k) => [k, patch[k]])), 'command');
  const shown = `Budget saved: ${changed.map((k) => budgetSettingText(k, patch[k])).join(', ')}.${skipped}`;
  void vscode.window.showInformationMessage(shown);
  return { settings: patch, budget, saved: true, shown, ...stop };
}

/**
 * The four Set Budget steps, each starting from the current setting (Enter through them changes
 * nothing). Escape on a later step keeps what the earlier steps set: `stoppedAt` is that step.
 */
async function promptBudget(ctx: CommandContext): Promise<{ patch: BudgetPatch; stoppedAt?: number }> {
  const settings = ctx.core.budgetSettings();
  const patch: BudgetPatch = {};
  const total = BUDGET_STEPS.length;
  const title = (i: number) => `Set Budget (${i + 1}/${total}): ${BUDGET_STEPS[i]}`;
  const askUsd = (i: number, value: number) =>
    vscode.window.showInputBox({
      title: title(i),
      prompt: 'USD. 0 or empty = no limit. Escape keeps what the earlier steps set.',
      value: value > 0 ? String(value) : '',
      ignoreFocusOut: true,
      validateInput: (s) => parseLimitInput(s).problem,
    });
  const steps: (() => Promise<boolean>)[] = [
    async () => {
      const v = await askUsd(0, settings.daily);
      if (v !== undefined) patch.daily = parseLimitInput(v).limit!;
      return v !== undefined;
    },
    async () => {
      const v = await askUsd(1, settings.monthly);
      if (v !== undefined) patch.monthly = parseLimitInput(v).limit!;
      return v !== undefined;
    },
    async () => {
      const v = await vscode.window.showInputBox({
        title: title(2),
        prompt: 'Warn when spending reaches this share of a budget, e.g. 80%.',
        value: `${Math.round(settings.alertThreshold * 1000) / 10}%`,
        ignoreFocusOut: true,
        validateInput: (s) => (parseAlertPercent(s) === undefined ? 'Enter a percentage from 1% to 100%, e.g. 80%.' : undefined),
      });
      if (v !== undefined) patch.alertThreshold = parseAlertPercent(v)!;
      return v !== undefined;
    },
    async () => {
      const warnOnly = { label: 'Warn only', description: 'routing ignores the budget', value: false };
      const enforcing = { label: 'Enforce', description: 'route_request refuses or downgrades once a budget is exceeded', value: true };
      // The current choice comes first, where the selection starts.
      const [current, other] = settings.enforce ? [enforcing, warnOnly] : [warnOnly, enforcing];
      const picked = await vscode.window.showQuickPick([{ ...current, description: `${current.description} (current setting)` }, other], { title: title(3), ignoreFocusOut: true });
      if (picked) patch.enforce = picked.value;
      return picked !== undefined;
    },
  ];
  for (let i = 0; i < steps.length; i++) {
    if (await steps[i]()) continue;
    if (i === 0) cancel(); // nothing entered yet: a plain cancel
    return { patch, stoppedAt: i + 1 };
  }
  return { patch };
}

export async function recordUsage(ctx: CommandContext, a: Args<'recordUsageArgs'>): Promise<Result> {
  const spec = a.provider ? getProvider(a.provider) : await pickProvider(ctx, 'Record usage for which provider?', false);
  const model = a.model ?? (await pickModel(spec));
  const inputTokens = a.inputTokens ?? (await askWhole('Input tokens', `Input (prompt) tokens of the ${model} request`));
  const outputTokens = a.outputTokens ?? (await askWhole('Output tokens', `Output (completion) tokens of the ${model} request`));
  const r = ctx.core.track(
    {
      provider: spec.id,
      model,
      inputTokens,
      outputTokens,
      cacheReadTokens: a.cacheReadTokens,
      cacheWriteTokens: a.cacheWriteTokens,
      success: a.success,
      latencyMs: a.latencyMs,
      taskType: a.taskType,
    },
    'command',
  );
  const day = r.budget.day;
  const message = `Recorded ${spec.displayName} ${r.event.model}: ${usd(r.cost.totalCost)}. Today: ${usd(day.spent)}${day.limit === null ? '' : ` of ${usd(day.limit)}`}.`;
  if (r.warning) void vscode.window.showWarningMessage(`${message} ${r.warning}`);
  else void vscode.window.showInformationMessage(message);
  return r;
}

async function pickModel(spec: ProviderSpec): Promise<string> {
  const models = [...new Set(Object.values(spec.models).flat())];
  const other = '$(edit) Other model…';
  const picked = await vscode.window.showQuickPick([...models.map((m) => ({ label: m, description: spec.tier[m] })), { label: other, description: '' }], {
    title: `${spec.displayName} model`,
  });
  if (!picked) return cancel();
  if (picked.label !== other) return picked.label;
  const typed = await vscode.window.showInputBox({
    title: `${spec.displayName} model`,
    prompt: 'Model id as the provider names it, e.g. gpt-4o-mini',
    validateInput: (v) => (v.trim() ? undefined : 'Enter a model id.'),
  });
  return typed?.trim() || cancel();
}

async function askWhole(title: string, prompt: string): Promise<number> {
  const v = await vscode.window.showInputBox({
    title,
    prompt,
    value: '0',
    validateInput: (s) => (/^\s*\d+\s*$/.test(s) && Number.isSafeInteger(Number(s)) ? undefined : 'Enter a whole number ≥ 0, e.g. 1200.'),
  });
  return v === undefined ? cancel() : Number(v);
}

export async function resetUsage(ctx: CommandContext, a: Args<'resetUsageArgs'>): Promise<Result> {
  const detail =
    'All recorded requests, costs and provider statistics of this workspace are deleted, and the spend your budgets count starts again from $0 in every window of this profile (other workspaces keep their own history). Export first if you need it.';
  if (a.confirm !== true && !(await confirm(ctx, 'Reset the usage ledger?', detail, 'Reset'))) cancel();
  await ctx.core.resetUsage('command');
  ctx.log.info('usage ledger reset');
  void vscode.window.showInformationMessage('Usage ledger reset.');
  return { reset: true };
}

/** "a", "a and b", "a, b and c". */
function listWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
