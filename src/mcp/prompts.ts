// Prompts (shown in VS Code chat as /mcp.ai-key-manager.<name>): each hands the model current data
// and a task, so the answer is grounded.
import { z } from 'zod';
import type { AiKeyManagerCore } from '../core/service';
import { budgetWire, groupWire, providersResource, recommendationWire, usageReportWire } from './wire';

export interface PromptDef {
  name: string;
  title: string;
  description: string;
  args: Record<string, z.ZodOptional<z.ZodString>>;
  render(core: AiKeyManagerCore, args: Record<string, string | undefined>): string;
}

const json = (v: unknown) => '```json\n' + JSON.stringify(v, null, 2) + '\n```';

export const PROMPTS: PromptDef[] = [
  {
    name: 'api-config',
    title: 'Review my AI provider setup',
    description: 'Review which providers have keys, their status, and what to fix.',
    args: { provider: z.string().optional().describe('Only this provider') },
    render: (core, a) => {
      const { providers } = providersResource(core.providersOverview().filter((p) => !a.provider || p.id === a.provider));
      return `Review my AI provider configuration below. For each provider say whether it is ready, what is wrong (missing, disabled, rate-limited or expiring keys, unhealthy), and the exact next step (the tool to call: add_api_key, rotate_key, validate_key). Keys are shown masked; never ask me to paste a key into chat.\n\n${json(providers)}`;
    },
  },
  {
    name: 'api-usage',
    title: 'Summarize my AI usage',
    description: 'Summarize usage and spend for a period, by provider and model.',
    args: { days: z.string().optional().describe('How many days back (default 30)') },
    render: (core, a) => {
      const days = Math.min(3660, Math.max(1, Number.parseInt(a.days ?? '30', 10) || 30));
      return `Summarize my AI API usage for the last ${days} days: totals, the biggest providers and models by cost, failure rates, and anything unusual. Use tables.\n\n${json({ by_provider: usageReportWire(core.usage({ days, groupBy: 'provider' })), by_model: usageReportWire(core.usage({ days, groupBy: 'model' })), budget: budgetWire(core.budget()) })}`;
    },
  },
  {
    name: 'api-costs',
    title: 'Find ways to cut my AI costs',
    description: 'Budget status, projection, and cheaper routing options.',
    args: { model: z.string().optional().describe('A model to compare against cheaper alternatives') },
    render: (core, a) =>
      `Look at my budget and spend below and suggest concrete ways to lower cost: cheaper models per task that are available to me, caching, and budget settings.${a.model ? ` Compare ${a.model} with cheaper alternatives.` : ''}\n\n${json({ budget: budgetWire(core.budget()), usage_30d_by_model: core.usage({ days: 30, groupBy: 'model' }).groups.map(groupWire), recommendations: core.recommendations().map(recommendationWire) })}`,
  },
];
