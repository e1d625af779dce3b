import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { AiKeyManagerCore, Settings } from '../../../src/core/service';
import { MemoryState, TestClock } from '../../support/ports';
import { makeTestCore } from '../../support/core';
import { assertNoLeak } from '../../support/leaks';
import type { BudgetConfig } from '../../../src/core/budget';
import { TASK_TYPES } from '../../../src/core/types';
import { countTokens } from '../../../src/core/tokenize';
import { CHAT_COMMANDS, answerChat, pickChatCommand as pickCommand } from '../../../src/vscode/chat/commands';
import { answerConfig } from '../../../src/vscode/chat/config';
import { answerCosts } from '../../../src/vscode/chat/costs';
import { answerRoute } from '../../../src/vscode/chat/route';
import { answerUsage } from '../../../src/vscode/chat/usage';
import { parsePeriod, parseTask, parseTokens } from '../../../src/vscode/chat/intent';
import { findKeyLikeTokens } from '../../../src/core/redact';
import { formatUsd as usd } from '../../../src/core/money';
import { getProvider } from '../../../src/core/providers';

const CANARY = {
  anthropic: 'sk-ant-CANARYchatA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8-zz',
  openai: 'sk-proj-CANARYchatopQ1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8L9',
  pasted: 'sk-ant-CANARYpasteZ9x8C7v6B5n4M3q2W1e0R9t8Y7u6I5o4P3a2-qq',
  google: 'AIzaCANARYchatgoQ1w2E3r4T5y6U7i8O9p0A1s',
};

const ALL_CANARIES = Object.values(CANARY);

const NOW = Date.parse('2026-03-15T12:00:00.000Z');
const DAY = 86_400_000;

function makeCore(opts: { budget?: Partial<BudgetConfig>; disabled?: string[]; prices?: Settings['priceOverrides'] } = {}) {
  const clock = new TestClock(NOW);
  const { core } = makeTestCore({
    settings: {
      budget: { daily: 10, monthly: 100, alertThreshold: 0.8, enforce: false, ...opts.budget },
      priceOverrides: opts.prices ?? [],
      disabledProviders: opts.disabled ?? [],
    },
    state: new MemoryState(),
    ledgerState: new MemoryState(),
    clock,
  });
  return { core, clock };
}

async function withKeys() {
  const t = makeCore();
  await t.core.addKey('anthropic', { apiKey: CANARY.anthropic }, { label: 'work' }, 'command');
  await t.core.addKey('openai', { apiKey: CANARY.openai }, {}, 'command');
  return t;
}

/** Dollar amounts in the rows of the first table after `heading`, in order. */
function tableCosts(md: string, heading: string, column: number): number[] {
  const start = md.indexOf(heading);
  assert.ok(start >= 0, `no '${heading}' in:\n${md}`);
  const rows = md.slice(start).split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Model') && !l.startsWith('| Provider'));
  const out: number[] = [];
  for (const r of rows) {
    const cells = r.split('|').map((c) => c.trim());
    const v = cells[column];
    if (!v?.startsWith('$')) break;
    out.push(Number(v.slice(1).replace(/,/g, '')));
  }
  return out;
}

describe('chat answers: /config', () => {
  it('lists keys masked with status and validation, budgets and routing', async () => {
    const { core } = await withKeys();
    const a = answerConfig(core, '');
    const [ant] = core.listKeys('anthropic');
    const [oai] = core.listKeys('openai');
    assert.match(a.markdown, /\| Provider \| Key \| Status \| Last validation \|/);
    assert.ok(a.markdown.includes(`| Anthropic | \`${ant.masked}\` (work) | healthy | never validated |`), a.markdown);
    assert.ok(a.markdown.includes(`| OpenAI | \`${oai.masked}\` | healthy | never validated |`), a.markdown);
    assert.match(a.markdown, /No key: Google Gemini, OpenRouter, Groq, Mistral AI, DeepSeek/);
    assert.match(a.markdown, /Today \(2026-03-15\): \$0\.00 of \$10\.00 \(0%\)/);
    assert.match(a.markdown, /This month \(2026-03\): \$0\.00 of \$100\.00/);
    for (const t of TASK_TYPES) {
      const r = core.route({ taskType: t });
      assert.ok(a.markdown.includes(`| ${t} | ${r.provider} / ${r.model} |`), `routing row for ${t}`);
    }
    assert.deepEqual(
      a.buttons.map((b) => b.command),
      ['aiKeyManager.addKey', 'aiKeyManager.rotateKey', 'aiKeyManager.validateAllKeys', 'aiKeyManager.showPanel'],
    );
    assertNoLeak(a, ALL_CANARIES, 'chat answer');
  });

  it('shows the last validation outcome and spend after tracking', async () => {
    const { core, clock } = await withKeys();
    const [ant] = core.listKeys('anthropic');
    await core.keys.recordValidation(ant.id, 'invalid');
    clock.t += 3 * 3_600_000;
    core.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 100_000, outputTokens: 50_000 }, 'command');
    const spent = core.budget().day.spent;
    const a = answerConfig(core, 'show me');
    assert.match(a.markdown, /\| Anthropic \| `[^`]+` \(work\) \| disabled \| invalid, 3 h ago \|/);
    assert.ok(a.markdown.includes(`${usd(spent)} of $10.00`), a.markdown);
  });

  it('writes money like the status bar and the panel: grouped thousands, cents', async () => {
    const { core } = makeCore({ budget: { daily: 2000, monthly: 2500.5 } });
    // 1,234.50 USD: 493,800,000 gpt-4o input tokens at $2.50 / MTok.
    core.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 493_800_000, outputTokens: 0 }, 'command');
    const a = answerConfig(core, '');
    assert.ok(a.markdown.includes('Today (2026-03-15): $1,234.50 of $2,000.00 (62%), $765.50 left'), a.markdown);
    assert.ok(a.markdown.includes('of $2,500.50'), a.markdown);
    const small = await answerCosts(core, 'gpt-4o-mini 10 in 10 out');
    assert.match(small.markdown, /→ \*\*\$0\.0+[1-9]\d\*\*/, 'a sub-cent estimate keeps two significant digits');
    assert.doesNotMatch(a.markdown + small.markdown, /\$\d{4,}/, 'an amount over $999 without a thousands separator');
  });

  it('says so when no key is stored', () => {
    const { core } = makeCore();
    const a = answerConfig(core, '');
    assert.match(a.markdown, /No API keys stored yet/);
    assert.ok(!a.buttons.some((b) => b.command === 'aiKeyManager.rotateKey'));
  });

  it('maps "rotate my openai key" to a rotate button for that key', async () => {
    const { core } = await withKeys();
    const [oai] = core.listKeys('openai');
    const a = answerConfig(core, 'rotate my openai key');
    assert.equal(a.buttons.length, 1);
    assert.equal(a.buttons[0].command, 'aiKeyManager.rotateKey');
    assert.deepEqual(a.buttons[0].args, [{ provider: 'openai', keyId: oai.id }]);
    assert.match(a.markdown, /password box/);
  });

  it('maps "add an anthropic key" to an add button with the provider, mentioning the existing key', async () => {
    const { core } = await withKeys();
    const a = answerConfig(core, 'add an anthropic key');
    assert.equal(a.buttons[0].command, 'aiKeyManager.addKey');
    assert.deepEqual(a.buttons[0].args, [{ provider: 'anthropic' }]);
    assert.match(a.markdown, /starts with sk-ant-/);
    assert.match(a.markdown, /You already have 1 Anthropic key/);
  });

  it('knows aliases and offers to add when there is nothing to rotate', async () => {
    const { core } = await withKeys();
    const groq = answerConfig(core, 'please rotate the groq key');
    assert.match(groq.markdown, /No key stored for Groq/);
    assert.deepEqual(groq.buttons.map((b) => [b.command, b.args]), [['aiKeyManager.addKey', [{ provider: 'groq' }]]]);
    const gemini = answerConfig(core, 'add my gemini key');
    assert.deepEqual(gemini.buttons[0].args, [{ provider: 'google' }]);
    const claude = answerConfig(core, "remove claude's key");
    assert.equal(claude.buttons[0].command, 'aiKeyManager.removeKey');
    assert.equal((claude.buttons[0].args?.[0] as { provider: string }).provider, 'anthropic');
    const validate = answerConfig(core, 'is my openai key still valid?');
    assert.deepEqual(validate.buttons.map((b) => b.command), ['aiKeyManager.validateAllKeys']);
    const local = answerConfig(core, 'add an ollama key');
    assert.match(local.markdown, /does not use an API key/);
  });

  it('without a provider, offers one rotate button per provider', async () => {
    const { core } = await withKeys();
    const a = answerConfig(core, 'rotate a key');
    assert.deepEqual(a.buttons.map((b) => b.args), [[{ provider: 'anthropic' }], [{ provider: 'openai' }]]);
  });
});

describe('chat answers: pasted keys', () => {
  it('never echoes a pasted key, whatever the command, and points to the password box', async () => {
    const { core } = await withKeys();
    for (const cmd of [undefined, 'config', 'usage', 'costs', 'route']) {
      for (const prompt of [`add this key ${CANARY.pasted}`, `ANTHROPIC_API_KEY=${CANARY.pasted}`, `"${CANARY.pasted}"`]) {
        const a = await answerChat(core, cmd, prompt);
        assertNoLeak(a, ALL_CANARIES, 'chat answer');
        assert.match(a.markdown, /looks like an Anthropic API key/);
        assert.match(a.markdown, /will not repeat it/);
        assert.deepEqual(a.buttons[0], { title: 'Add Anthropic key', command: 'aiKeyManager.addKey', args: [{ provider: 'anthropic' }] });
      }
    }
    for (const f of [answerConfig, answerUsage, answerRoute, (c: AiKeyManagerCore, p: string) => answerCosts(c, p)]) {
      assertNoLeak(await f(core, `gpt-4o ${CANARY.google} 1000 in`), ALL_CANARIES, 'chat answer');
    }
    const google = await answerChat(core, 'costs', `gpt-4o ${CANARY.google}`);
    assert.match(google.markdown, /Google Gemini API key/);
  });

  it('treats key prefixes and long random tokens as keys, but not model names or numbers', () => {
    assert.deepEqual(findKeyLikeTokens('my key is sk-abc123def456ghi789').map((f) => f.token), ['sk-abc123def456ghi789']);
    assert.equal(findKeyLikeTokens('token Xq7Rk2Lm9Pz4Wn8Tb3Vc6Yd1Hf5Gj0Ks').length, 1);
    assert.deepEqual(findKeyLikeTokens('claude-3-5-sonnet-20241022 gpt-4o-mini-2024-07-18 anthropic/claude-sonnet-4 20000/2000 code_generation'), []);
  });
});

describe('chat answers: /usage', () => {
  async function seeded() {
    const t = await withKeys();
    const { core, clock } = t;
    clock.t = NOW - 10 * DAY;
    core.track({ provider: 'openai', model: 'gpt-4o-mini', inputTokens: 7000, outputTokens: 700 }, 'command');
    clock.t = NOW - DAY;
    core.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 2000, outputTokens: 1000 }, 'command');
    clock.t = NOW;
    core.track({ provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 1000, outputTokens: 500 }, 'command');
    core.track({ provider: 'anthropic', model: 'claude-sonnet-4-5', inputTokens: 3000, outputTokens: 100, success: false, error: 'overloaded' }, 'command');
    const cost = (model: string, i: number, o: number) => core.estimateCost({ model, inputTokens: i, outputTokens: o }).cost.totalCost;
    return { ...t, c: { mini: cost('gpt-4o-mini', 7000, 700), gpt: cost('gpt-4o', 2000, 1000), sonnet: cost('claude-sonnet-4-5', 1000, 500) + cost('claude-sonnet-4-5', 3000, 100) } };
  }

  it('parses periods', () => {
    const { core } = makeCore();
    assert.deepEqual(parsePeriod(core, 'today'), { days: 1, label: 'today' });
    assert.deepEqual(parsePeriod(core, 'this month'), { days: 15, label: 'this month' });
    assert.equal(parsePeriod(core, '7d').days, 7);
    assert.equal(parsePeriod(core, 'last 14 days').days, 14);
    assert.equal(parsePeriod(core, 'past 2 weeks').days, 14);
    assert.equal(parsePeriod(core, 'anthropic').days, 30);
  });

  it('yesterday is the one local day before today, not the last 30 days', async () => {
    const { core, c } = await seeded();
    assert.deepEqual(parsePeriod(core, 'yesterday'), { days: 1, endDaysAgo: 1, label: 'yesterday' });
    assert.deepEqual(parsePeriod(core, 'how much did I spend yesterday on openai'), { days: 1, endDaysAgo: 1, label: 'yesterday' });
    const a = answerUsage(core, 'yesterday');
    assert.match(a.markdown, /### Usage yesterday \(2026-03-14\)/);
    assert.ok(a.markdown.includes(`**${usd(c.gpt)}** for 1 request(s) (0 failed), 2,000 input and 1,000 output tokens`), a.markdown);
    assert.ok(!a.markdown.includes('claude-sonnet-4-5') && !a.markdown.includes('gpt-4o-mini'), 'only yesterday’s requests');
    const free = await answerChat(core, undefined, 'what did I spend yesterday');
    assert.match(free.markdown, /Answering with \*\*\/usage\*\*/);
    assert.match(free.markdown, /### Usage yesterday \(2026-03-14\)/);
    const none = answerUsage(core, 'yesterday anthropic');
    assert.match(none.markdown, /No usage recorded yesterday for Anthropic/);
  });

  it('today: totals and tables per provider and model', async () => {
    const { core, c } = await seeded();
    const a = answerUsage(core, 'today');
    assert.match(a.markdown, /### Usage today \(2026-03-15\)/);
    assert.ok(a.markdown.includes(`**${usd(c.sonnet)}** for 2 request(s) (1 failed), 4,000 input and 600 output tokens`), a.markdown);
    assert.ok(a.markdown.includes(`| Anthropic | 2 | 4,000 | 600 | ${usd(c.sonnet)} | 50% |`), a.markdown);
    assert.ok(a.markdown.includes(`| claude-sonnet-4-5 | anthropic | 2 | 4,000 | 600 | ${usd(c.sonnet)} |`), a.markdown);
    assert.ok(!a.markdown.includes('gpt-4o'));
  });

  it('last N days includes older events, cost-sorted; a provider filters', async () => {
    const { core, c } = await seeded();
    const week = answerUsage(core, '7d');
    assert.match(week.markdown, /the last 7 days \(2026-03-09 to 2026-03-15\)/);
    assert.ok(week.markdown.includes(`| gpt-4o | openai | 1 | 2,000 | 1,000 | ${usd(c.gpt)} |`));
    assert.ok(!week.markdown.includes('gpt-4o-mini'));
    const two = answerUsage(core, 'last 14 days');
    assert.ok(two.markdown.includes(`| gpt-4o-mini | openai | 1 | 7,000 | 700 | ${usd(c.mini)} |`));
    const costs = tableCosts(two.markdown, '**By model**', 6);
    assert.equal(costs.length, 3);
    assert.deepEqual([...costs].sort((x, y) => y - x), costs);
    const ant = answerUsage(core, 'month anthropic');
    assert.match(ant.markdown, /this month for Anthropic/);
    assert.ok(!ant.markdown.includes('| OpenAI'));
    const model = answerUsage(core, '30d gpt-4o');
    assert.ok(model.markdown.includes(`**${usd(c.gpt)}** for 1 request(s)`), model.markdown);
  });

  it('masks a model name shaped like an API key', () => {
    const { core } = makeCore({ prices: [{ provider: 'openai', model: CANARY.openai, inputPerMTok: 1, outputPerMTok: 1 }] });
    core.track({ provider: 'openai', model: CANARY.openai, inputTokens: 1000, outputTokens: 10 }, 'command');
    const a = answerUsage(core, 'today');
    assert.match(a.markdown, /\| sk-pro…[A-Za-z0-9]{4} \| openai \| 1 \|/, a.markdown);
    assertNoLeak(a, ALL_CANARIES, 'chat answer');
  });

  it('says when nothing was recorded', () => {
    const { core } = makeCore();
    const a = answerUsage(core, 'today');
    assert.match(a.markdown, /No usage recorded today/);
    assert.equal(a.buttons[0].command, 'aiKeyManager.showPanel');
  });
});

describe('chat answers: /costs', () => {
  it('parses token counts in several forms', () => {
    assert.deepEqual(parseTokens(' 5000 in 1000 out '), { inputTokens: 5000, outputTokens: 1000 });
    assert.deepEqual(parseTokens(' 20k/2k '), { inputTokens: 20000, outputTokens: 2000 });
    assert.deepEqual(parseTokens(' input: 1.5k, output 300 '), { inputTokens: 1500, outputTokens: 300 });
    assert.deepEqual(parseTokens(' 5,000 input tokens and 1,000 output tokens '), { inputTokens: 5000, outputTokens: 1000 });
    assert.deepEqual(parseTokens(' 1M 200k '), { inputTokens: 1_000_000, outputTokens: 200_000 });
    assert.deepEqual(parseTokens(' 800 out '), { outputTokens: 800 });
    assert.deepEqual(parseTokens(' no numbers '), {});
  });

  it('prices text for routing’s first choice when no provider is usable, and says so', async () => {
    const { core } = makeCore({ disabled: ['local'] }); // no keys and no local server: nothing routes
    assert.throws(() => core.route({ taskType: 'code_review' }));
    const a = await answerCosts(core, 'code review', { text: 'function add(a, b) { return a + b; }', source: 'the selection in add.ts' });
    const first = getProvider('anthropic'); // first in the code review preference
    const model = first.models.code_review![0];
    assert.ok(a.markdown.includes(`### Estimate: ${model} (anthropic) (no provider is usable now; priced for Anthropic's ${model}, which /route picks first for code_review once it has a key)`), a.markdown);
    const chat = await answerCosts(core, '', { text: 'hello there', source: 'the selection in a.md' });
    const openaiChat = getProvider('openai').models.chat![0];
    assert.ok(chat.markdown.includes(`### Estimate: ${openaiChat} (openai)`), chat.markdown);
  });

  it('estimates a model and token counts, with cheaper alternatives cheapest first', async () => {
    const { core } = await withKeys();
    const expected = core.estimateCost({ model: 'gpt-4o', inputTokens: 5000, outputTokens: 1000 }).cost.totalCost;
    const a = await answerCosts(core, 'gpt-4o 5000 in 1000 out');
    assert.ok(a.markdown.includes(`5,000 input + 1,000 output tokens → **${usd(expected)}**`), a.markdown);
    const alts = tableCosts(a.markdown, '**Cheaper for chat**', 3);
    assert.ok(alts.length >= 2, a.markdown);
    assert.deepEqual([...alts].sort((x, y) => x - y), alts);
    assert.ok(alts.every((x) => x < expected));
    const mini = core.estimateCost({ model: 'gpt-4o-mini', provider: 'openai', inputTokens: 5000, outputTokens: 1000 }).cost.totalCost;
    assert.ok(a.markdown.includes(`| gpt-4o-mini | openai | ${usd(mini)} | yes |`), a.markdown);
    assert.match(a.markdown, /\| [^|]+ \| google \| \$[\d.]+ \| no key \|/);
    assert.match(a.markdown, /### Budget/);
  });

  it('understands "claude-3-5-sonnet 20k/2k" and shows the budget after it', async () => {
    const { core } = await withKeys();
    core.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 400_000, outputTokens: 100_000 }, 'command');
    const spent = core.budget().day.spent;
    const expected = core.estimateCost({ model: 'claude-3-5-sonnet', inputTokens: 20_000, outputTokens: 2_000 }).cost.totalCost;
    const a = await answerCosts(core, 'claude-3-5-sonnet 20k/2k');
    assert.ok(a.markdown.includes(`20,000 input + 2,000 output tokens → **${usd(expected)}**`), a.markdown);
    assert.ok(a.markdown.includes(`from ${usd(spent)} to ${usd(spent + expected)} of the $10.00 daily limit`), a.markdown);
    assert.ok(a.markdown.includes(`Today (2026-03-15): ${usd(spent)} of $10.00`));
  });

  it('counts the tokens of attached text', async () => {
    const { core } = await withKeys();
    const text = 'function add(a, b) {\n  return a + b;\n}\n'.repeat(40);
    const tokens = countTokens(text, 'gpt-4o').tokens;
    const expected = core.estimateCost({ model: 'gpt-4o', text, outputTokens: 200 }).cost.totalCost;
    const a = await answerCosts(core, 'gpt-4o 200 out', { text, source: 'the selection in add.ts (lines 1–120)' });
    assert.ok(a.markdown.includes(`the selection in add.ts (lines 1–120): ${tokens.toLocaleString('en-US')} tokens`), a.markdown);
    assert.ok(a.markdown.includes(`→ **${usd(expected)}**`));
    assert.ok(!a.markdown.includes('return a + b'), 'the text itself is never echoed');
  });

  it('names close matches for an unknown model', async () => {
    const { core } = await withKeys();
    const a = await answerCosts(core, 'gpt-5o-turbo 1000 in');
    assert.match(a.markdown, /I don't know a price for \*\*gpt-5o-turbo\*\*/);
    assert.match(a.markdown, /Close matches: `gpt-4-turbo`/);
    assert.match(a.markdown, /### Budget/);
  });

  it('without a model gives budget status, projection and how to ask', async () => {
    const { core } = makeCore();
    const a = await answerCosts(core, 'budget');
    assert.match(a.markdown, /projected \$0\.00/);
    assert.match(a.markdown, /Enforcement: off/);
    assert.match(a.markdown, /`\/costs gpt-4o 5000 in 1000 out`/);
  });
});

describe('chat answers: /route', () => {
  it('maps task names', () => {
    assert.equal(parseTask('code review'), 'code_review');
    assert.equal(parseTask('code_generation'), 'code_generation');
    assert.equal(parseTask('summarize this doc'), 'summarization');
    assert.equal(parseTask('extract fields as json'), 'data_extraction');
    assert.equal(parseTask('embeddings'), 'embeddings');
    assert.equal(parseTask('make coffee'), undefined);
  });

  it('gives the choice, why, the fallback chain and the skipped providers', async () => {
    const { core } = await withKeys();
    const d = core.route({ taskType: 'code_review' });
    const a = answerRoute(core, 'code review');
    assert.ok(a.markdown.includes(`### code_review: ${d.provider} / ${d.model}`), a.markdown);
    assert.ok(a.markdown.includes(`about ${usd(d.estimatedCost)} per request`));
    assert.match(a.markdown, /Why: best available for code\\_review/);
    for (const [i, f] of d.fallbacks.entries()) assert.ok(a.markdown.includes(`${i + 1}. ${f.provider} / ${f.model}: ${usd(f.estimatedCost)}`), a.markdown);
    assert.match(a.markdown, /- Google Gemini: no key/);
    assert.deepEqual(a.buttons[0], { title: 'Add Google Gemini key', command: 'aiKeyManager.addKey', args: [{ provider: 'google' }] });
  });

  it('uses token counts and a preferred provider', async () => {
    const { core } = await withKeys();
    const d = core.route({ taskType: 'summarization', preferredProvider: 'anthropic', estimatedInputTokens: 20_000, estimatedOutputTokens: 1000 });
    const a = answerRoute(core, 'summarization 20k in 1k out prefer anthropic');
    assert.equal(d.provider, 'anthropic');
    assert.ok(a.markdown.includes(`about ${usd(d.estimatedCost)} per request`), a.markdown);
    assert.match(a.markdown, /preferred provider/);
  });

  it('lists the task types for an unknown task', async () => {
    const { core } = await withKeys();
    const a = answerRoute(core, 'make coffee');
    assert.match(a.markdown, /I don't know the task "make coffee"/);
    for (const t of TASK_TYPES) assert.ok(a.markdown.includes(`\`${t}\``));
  });

  it('explains in plain words when no provider can take the task', () => {
    const { core } = makeCore({ disabled: ['local'] });
    const a = answerRoute(core, 'chat');
    assert.match(a.markdown, /No provider can take a chat request now/);
    assert.match(a.markdown, /- OpenAI: no key/);
    assert.match(a.markdown, /- Local \(Ollama\): disabled in settings/);
    assert.equal(a.buttons.length, 2);
  });
});

describe('chat answers: free text', () => {
  it('picks the closest command', () => {
    const cases: [string, string | undefined][] = [
      ['rotate my openai key', 'config'],
      ['add an anthropic key', 'config'],
      ['validate my keys', 'config'],
      ['how much did I spend today', 'usage'],
      ['how many tokens did I use this week', 'usage'],
      ['what would gpt-4o cost for 5000 tokens', 'costs'],
      ['is there something cheaper', 'costs'],
      ['budget status', 'costs'],
      ['which model should I use for summarization', 'route'],
      ['best provider for code review', 'route'],
      // A task ("review") and "use <model> to" are routing words; "use" alone is not usage.
      ['use claude to review this', 'route'],
      ['should I use gpt-4o or claude for this refactor', 'route'],
      ['which provider would summarize this best', 'route'],
      ['what would it cost to summarize 20k tokens with gpt-4o', 'costs'],
      ['yesterday', 'usage'],
      ['how much did I spend yesterday', 'usage'],
      ['how many requests failed yesterday', 'usage'],
      ['check my keys', 'config'],
      ['hello there', undefined],
    ];
    for (const [prompt, want] of cases) assert.equal(pickCommand(prompt)?.command, want, prompt);
  });

  it('says which command it answered with', async () => {
    const { core } = await withKeys();
    const a = await answerChat(core, undefined, 'rotate my openai key');
    assert.match(a.markdown, /^_Answering with \*\*\/config\*\* \(you mentioned "rotate", "key"\)\._/);
    assert.equal(a.buttons[0].command, 'aiKeyManager.rotateKey');
    const r = await answerChat(core, undefined, 'which model is best for code review');
    assert.match(r.markdown, /\/route/);
    assert.match(r.markdown, /### code_review: anthropic/);
  });

  it('follow-ups only name registered commands, and help lists every command', async () => {
    const { core } = await withKeys();
    const names = new Set(CHAT_COMMANDS.map((d) => d.name));
    const prompts = ['hello', 'show my keys', 'rotate my openai key', 'add a groq key', 'today', 'gpt-4o 5000 in 1000 out', 'code review', 'nonsense task', 'budget'];
    for (const command of [undefined, ...names])
      for (const prompt of prompts) {
        const a = await answerChat(core, command, prompt);
        for (const f of a.followups) assert.ok(f.command === undefined || names.has(f.command), `/${command ?? ''} "${prompt}" offers /${f.command}, which is not registered`);
      }
    const help = await answerChat(core, undefined, 'hello');
    for (const name of names) assert.match(help.markdown, new RegExp(`\`/${name}\``));
  });

  it('offers help for anything else', async () => {
    const { core } = makeCore();
    const a = await answerChat(core, undefined, 'hello');
    assert.match(a.markdown, /`\/config`/);
    assert.ok(a.followups.length >= 2);
    const unknown = await answerChat(core, 'bogus', 'hello');
    assert.match(unknown.markdown, /I don't know the command \/bogus/);
  });
});
