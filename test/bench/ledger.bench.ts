// Benchmark, not a test: a synthetic year of usage through the Ledger.
// Run: node esbuild.mjs --tests && node out/test/bench/ledger.bench.js
import { performance } from 'node:perf_hooks';
import { checkBudget } from '../../src/core/budget';
import { Ledger } from '../../src/core/ledger';
import type { Clock } from '../../src/core/ports';
import type { UsageEvent } from '../../src/core/types';
import { MemoryState } from '../support/ports';
import { rng } from '../support/rng';

const EVENTS = 100_000;
const DAYS = 365;
const PROVIDERS = ['anthropic', 'openai', 'google', 'local'];
const MODELS_PER_PROVIDER = 10;
const TIME_ZONE = 'America/New_York';


function syntheticYear(end: Date): UsageEvent[] {
  const rand = rng(42);
  const models = PROVIDERS.flatMap((provider) =>
    Array.from({ length: MODELS_PER_PROVIDER }, (_, i) => ({
      provider,
      model: `${provider}-model-${i + 1}`,
      inPerM: provider === 'local' ? 0 : 0.1 + rand() * 15,
    })),
  );
  const start = end.getTime() - DAYS * 86_400_000;
  const events: UsageEvent[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const m = models[Math.floor(rand() * models.length)];
    const inputTokens = 200 + Math.floor(rand() * 8000);
    const outputTokens = 50 + Math.floor(rand() * 2000);
    const cacheReadTokens = rand() < 0.3 ? Math.floor(rand() * 20_000) : 0;
    const cacheWriteTokens = rand() < 0.1 ? Math.floor(rand() * 5000) : 0;
    const success = rand() > 0.03;
    events.push({
      at: new Date(start + (i / EVENTS) * DAYS * 86_400_000).toISOString(),
      provider: m.provider,
      model: m.model,
      inputTokens,
      outputTokens,
      cacheReadTokens,
      cacheWriteTokens,
      costUsd: ((inputTokens + cacheWriteTokens * 1.25 + cacheReadTokens * 0.1) * m.inPerM + outputTokens * m.inPerM * 4) / 1e6,
      success,
      latencyMs: 200 + Math.floor(rand() * 4800),
      taskType: 'chat',
      ...(success ? {} : { error: 'HTTP 529: overloaded' }),
    });
  }
  return events;
}

/** Rounds measured after one warm-up round (env BENCH_ROUNDS). Figures are medians over rounds. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS) || 7);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** "median (min–max)" over the measured rounds. */
function figure(xs: number[], digits: number, unit: string): string {
  return `${median(xs).toFixed(digits)} ${unit} (min ${Math.min(...xs).toFixed(digits)}, max ${Math.max(...xs).toFixed(digits)})`;
}

interface Round {
  recordUs: number;
  usageMs: number;
  budgetMs: number;
  serializeMs: number;
  loadMs: number;
  size: number;
}

async function round(events: UsageEvent[], instants: Date[], end: Date): Promise<Round> {
  let now = instants[0];
  const clock: Clock = { now: () => now };
  const store = new MemoryState(); // JSON round trips, like the state file
  const ledger = new Ledger(store, { clock, timeZone: TIME_ZONE, flushDelayMs: 60_000 });

  // The clock follows the events, so day changes and compaction happen as in real use. The
  // instants are parsed beforehand: the loop times record() only, not the harness.
  const t0 = performance.now();
  for (let i = 0; i < events.length; i++) {
    now = instants[i];
    ledger.record(events[i]);
  }
  const recordMs = performance.now() - t0;
  now = end;

  const usageRuns = 200;
  const t1 = performance.now();
  for (let i = 0; i < usageRuns; i++) ledger.usage({ days: 30, groupBy: 'model' });
  const usageMs = (performance.now() - t1) / usageRuns;

  const budgetRuns = 2000;
  const config = { daily: 50, monthly: 1000, alertThreshold: 0.8, enforce: true };
  const t2 = performance.now();
  for (let i = 0; i < budgetRuns; i++) checkBudget(ledger, config, end);
  const budgetMs = (performance.now() - t2) / budgetRuns;

  const t3 = performance.now();
  const size = ledger.serializedSize();
  const serializeMs = performance.now() - t3;
  await ledger.flush();
  const t4 = performance.now();
  new Ledger(store, { clock, timeZone: TIME_ZONE });
  const loadMs = performance.now() - t4;
  return { recordUs: (recordMs * 1000) / events.length, usageMs, budgetMs, serializeMs, loadMs, size };
}

async function main(): Promise<void> {
  const end = new Date('2026-11-21T17:00:00Z');
  const events = syntheticYear(end);
  const instants = events.map((e) => new Date(e.at));

  await round(events, instants, end); // warm-up: lets the JIT optimize before anything is measured
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(events, instants, end));
  const col = <K extends keyof Round>(k: K): number[] => rounds.map((r) => r[k]);

  console.log(`events:            ${EVENTS} over ${DAYS} days, ${PROVIDERS.length * MODELS_PER_PROVIDER} models; median of ${ROUNDS} rounds after a warm-up round`);
  console.log(`record():          ${figure(col('recordUs'), 2, 'µs/event')}  (target ≤ 5 µs)`);
  console.log(`usage(30d, model): ${figure(col('usageMs'), 3, 'ms')}  (target ≤ 2 ms)`);
  console.log(`checkBudget():     ${figure(col('budgetMs'), 4, 'ms')}  (target ≤ 0.2 ms)`);
  console.log(`serialize:         ${figure(col('serializeMs'), 1, 'ms')}; load: ${figure(col('loadMs'), 1, 'ms')}`);
  console.log(`serialized size:   ${(median(col('size')) / 1024).toFixed(1)} KB  (target ≤ 256 KB)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
