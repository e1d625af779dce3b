// Two headless processes on one AIKM_HOME (e.g. Claude Code and Claude Desktop each running
// `ai-key-manager mcp`): neither may lose the other's keys, secrets, usage, audit entries or budget.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHeadlessCore } from '../../src/headless/host';
import { EncryptedFileVault } from '../../src/headless/fileVault';
import { secretName } from '../../src/core/keys';
import { assertNoLeak } from '../support/leaks';
import { waitUntil } from '../support/waitFor';
import { CANARY, CLI, callOk, spawnCli, type CliProcess } from './helpers';
import { tempRoot } from '../support/tmp';

const PASSPHRASE = 'correct horse battery staple for the shared-home tests';
const USED = [CANARY.anthropic, CANARY.openai, CANARY.google];

interface KeyList {
  keys: { id: string; provider: string; masked: string }[];
}
interface Usage {
  totals: { requests: number; cost_usd: number };
}

describe('two headless processes sharing one AIKM_HOME', () => {
  const tmp = tempRoot('aikm-shared-home-');
  const newHome = () => fs.mkdtempSync(`${tmp.unique('home')}-`);

  it('two cores on one folder keep both keys, both secrets, all usage, both audit entries and both budget changes', async () => {
    const home = newHome();
    const env = { AIKM_HOME: home, AIKM_PASSPHRASE: PASSPHRASE, TZ: 'UTC' };
    const a = createHeadlessCore(env);
    const b = createHeadlessCore(env); // both loaded the empty folder, like two processes started together
    const [addedA, addedB] = await Promise.all([
      a.core.addKey('anthropic', { apiKey: CANARY.anthropic }, { label: 'from A' }, 'tool'),
      b.core.addKey('openai', { apiKey: CANARY.openai }, { label: 'from B' }, 'tool'),
    ]);
    for (let i = 0; i < 3; i++) a.core.track({ provider: 'anthropic', model: 'claude-3-5-sonnet', inputTokens: 5000, outputTokens: 2000 }, 'tool');
    for (let i = 0; i < 2; i++) b.core.track({ provider: 'openai', model: 'gpt-4-turbo', inputTokens: 5000, outputTokens: 2000 }, 'tool');
    await a.core.setBudget({ daily: 5 }, 'tool');
    await b.core.setBudget({ monthly: 50 }, 'tool');
    await Promise.all([a.core.flush(), b.core.flush()]);

    // Each sees the other's key without restarting.
    assert.deepEqual(a.core.listKeys().map((k) => k.id).sort(), [addedA.key.id, addedB.key.id].sort());
    assert.deepEqual(b.core.listKeys().map((k) => k.id).sort(), [addedA.key.id, addedB.key.id].sort());
    assert.equal((await b.core.keys.secret('anthropic')).secret, CANARY.anthropic);
    await Promise.all([a.close(), b.close()]);

    const c = createHeadlessCore(env);
    try {
      assert.deepEqual(c.warnings, []);
      assert.deepEqual(c.core.listKeys().map((k) => [k.provider, k.label]).sort(), [
        ['anthropic', 'from A'],
        ['openai', 'from B'],
      ]);
      assert.equal((await c.core.keys.secret('anthropic')).secret, CANARY.anthropic);
      assert.equal((await c.core.keys.secret('openai')).secret, CANARY.openai);
      const usage = c.core.usage({ days: 1, groupBy: 'provider' });
      assert.equal(usage.totals.requests, 5);
      assert.ok(Math.abs(usage.totals.costUsd - (3 * 0.045 + 2 * 0.11)) < 1e-9, `cost ${usage.totals.costUsd}`);
      const adds = c.core.audit.list().filter((e) => e.action === 'add_api_key');
      assert.deepEqual(adds.map((e) => e.provider).sort(), ['anthropic', 'openai']);
      const budget = c.core.budget();
      assert.equal(budget.day.limit, 5);
      assert.equal(budget.month.limit, 50);
    } finally {
      await c.close();
    }
    const vault = new EncryptedFileVault(path.join(home, 'vault.json'), PASSPHRASE);
    assert.equal(await vault.get(secretName(addedA.key.id)), CANARY.anthropic);
    assert.equal(await vault.get(secretName(addedB.key.id)), CANARY.openai);
    assert.deepEqual(fs.readdirSync(home).sort(), ['config.json', 'journal', 'ledger.json', 'state.json', 'vault.json'], 'no lock or temp files left');
    assert.deepEqual(fs.readdirSync(path.join(home, 'journal')), [], 'every journal emptied and removed once saved');
  });

  it('two real `node dist/cli.js mcp` processes (SDK stdio clients): keys, usage and audit of both survive', async () => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run node esbuild.mjs --tests first`);
    const home = newHome();
    const env = { AIKM_HOME: home, AIKM_PASSPHRASE: PASSPHRASE, TZ: 'UTC', PATH: process.env.PATH ?? '' };
    const [a, b] = await Promise.all([spawnCli(env, 'claude-code'), spawnCli(env, 'claude-desktop')]);
    const stderrs: string[] = [];
    try {
      const [addedA, addedB] = await Promise.all([
        callOk<{ key: { id: string } }>(a.client, 'add_api_key', { provider: 'anthropic', api_key: CANARY.anthropic, label: 'code' }),
        callOk<{ key: { id: string } }>(b.client, 'add_api_key', { provider: 'openai', api_key: CANARY.openai, label: 'desktop' }),
      ]);
      const ids = [addedA.key.id, addedB.key.id].sort();
      for (const p of [a, b]) assert.deepEqual((await callOk<KeyList>(p.client, 'list_api_keys')).keys.map((k) => k.id).sort(), ids, 'each process lists both keys');

      const track = (p: CliProcess, provider: string, model: string) => callOk(p.client, 'track_request', { provider, model, input_tokens: 5000, output_tokens: 2000 });
      await Promise.all([
        ...Array.from({ length: 4 }, () => track(a, 'anthropic', 'claude-3-5-sonnet')),
        ...Array.from({ length: 3 }, () => track(b, 'openai', 'gpt-4-turbo')),
      ]);
      // Saves are coalesced (a quarter second): each process soon shows the other's usage too.
      for (const p of [a, b]) {
        await waitUntil(async () => (await callOk<Usage>(p.client, 'get_usage', { days: 1 })).totals.requests, (n) => n === 7, 'a process to show the usage both recorded (7 requests)', { intervalMs: 50 });
      }
      // The secret the other process stored is readable here (the key check reads it from the vault).
      const check = await callOk<{ format: { ok: boolean }; result: string }>(a.client, 'validate_key', { provider: 'openai', live: false });
      assert.deepEqual([check.format.ok, check.result], [true, 'skipped']);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      stderrs.push(a.stderr(), b.stderr());
    }

    const c = await spawnCli(env, 'later');
    try {
      assert.deepEqual((await callOk<KeyList>(c.client, 'list_api_keys')).keys.map((k) => k.provider).sort(), ['anthropic', 'openai']);
      const usage = await callOk<Usage>(c.client, 'get_usage', { days: 1 });
      assert.equal(usage.totals.requests, 7);
      assert.ok(Math.abs(usage.totals.cost_usd - (4 * 0.045 + 3 * 0.11)) < 1e-9);
      const audit = await callOk<{ entries: { action: string; provider?: string }[] }>(c.client, 'get_audit_log');
      assert.deepEqual(audit.entries.filter((e) => e.action === 'add_api_key').map((e) => e.provider).sort(), ['anthropic', 'openai']);
    } finally {
      await c.stop();
      stderrs.push(c.stderr());
    }
    const vault = new EncryptedFileVault(path.join(home, 'vault.json'), PASSPHRASE);
    const state = JSON.parse(fs.readFileSync(path.join(home, 'state.json'), 'utf8')) as Record<string, { id: string }[]>;
    const stored = state['aikm.keys.v1'] ?? [];
    assert.equal(stored.length, 2);
    for (const k of stored) assert.ok(await vault.get(secretName(k.id)), `the secret of ${k.id} is in vault.json`);
    for (const f of ['state.json', 'ledger.json', 'config.json']) if (fs.existsSync(path.join(home, f))) assertNoLeak(fs.readFileSync(path.join(home, f), 'utf8'), USED, f);
    for (const s of stderrs) assertNoLeak(s, USED, 'stderr');
  });
});
