// Headless settings (AIKM_HOME/config.json): bad entries are dropped with a warning, never fatal.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileSettings } from '../../src/headless/settings';
import { createHeadlessCore } from '../../src/headless/host';
import { tempRoot } from '../support/tmp';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');

describe('FileSettings (config.json)', () => {
  const tmp = tempRoot('aikm-settings-');
  /** A fresh AIKM_HOME holding `config` as config.json. */
  const home = (config: unknown): string => {
    const dir = tmp.unique('home');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
    return dir;
  };
  /** Runs `dist/cli.js mcp` with stdin closed at once: it starts, prints its warnings and exits. */
  const startCli = (dir: string) =>
    spawnSync(process.execPath, [CLI, 'mcp'], { env: { PATH: process.env.PATH ?? '', AIKM_HOME: dir }, input: '', encoding: 'utf8', timeout: 20_000 });

  it('drops invalid price overrides with a warning naming the entry, and keeps the valid ones', () => {
    const dir = home({ priceOverrides: [{ model: 'ok-model', inputPerMTok: 1, outputPerMTok: 2 }, { model: 'bad', inputPerMTok: -5, outputPerMTok: 1 }] });
    const s = new FileSettings(path.join(dir, 'config.json'));
    assert.deepEqual(s.get().priceOverrides, [{ model: 'ok-model', inputPerMTok: 1, outputPerMTok: 2 }]);
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0], /config\.json.*priceOverrides\[1\].*"bad".*inputPerMTok.*ignored/);
  });

  it('the CLI starts despite an invalid price override and says so on stderr', () => {
    const dir = home({ priceOverrides: [{ model: 'bad', inputPerMTok: 'free', outputPerMTok: 1 }] });
    const r = startCli(dir);
    assert.equal(r.status, 0, `exit ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, /warning: .*priceOverrides\[0\].*"bad".*inputPerMTok/);
    assert.match(r.stderr, /MCP server on stdio/);
    assert.equal(r.stdout, '', 'stdout carries only the protocol');
  });

  it('validates budget values: a wrong type or range is ignored with a warning that says how to fix it', () => {
    const dir = home({ budget: { daily: '10', monthly: -5, alertThreshold: 80, enforce: 'yes', dayly: 3 } });
    const s = new FileSettings(path.join(dir, 'config.json'));
    assert.deepEqual(s.get().budget, { daily: 10, monthly: 0, alertThreshold: 0.8, enforce: false }, 'a quoted number still limits: fail closed');
    const w = s.warnings.join('\n');
    assert.match(w, /budget\.daily must be a number of US dollars ≥ 0.*"daily": 10.*got the string "10": remove the quotes.*A daily limit of \$10 applies/);
    assert.match(w, /budget\.monthly must be a number of US dollars ≥ 0.*got -5/);
    assert.match(w, /budget\.alertThreshold must be a fraction above 0 and at most 1.*0\.8 for 80%.*got 80/);
    assert.match(w, /budget\.enforce must be true or false.*got the string "yes"/);
    assert.match(w, /unknown budget setting "dayly".*daily, monthly, alertThreshold, enforce/);
    assert.equal(s.warnings.length, 5, w);

    const good = new FileSettings(path.join(home({ budget: { daily: 10, monthly: 200.5, alertThreshold: 0.9, enforce: true } }), 'config.json'));
    assert.deepEqual(good.get().budget, { daily: 10, monthly: 200.5, alertThreshold: 0.9, enforce: true });
    assert.deepEqual(good.warnings, []);

    // A positive amount that is not whole cents fails closed: the nearest stricter limit applies.
    const odd = new FileSettings(path.join(home({ budget: { daily: 1e-320, monthly: 200.555 } }), 'config.json'));
    assert.deepEqual([odd.get().budget.daily, odd.get().budget.monthly], [0.01, 200.55]);
    assert.match(odd.warnings.join('\n'), /budget\.daily must be .*got 1e-320: it must be 0 \(no limit\) or at least 0\.01 \(one cent\)\)\. A daily limit of \$0\.01 applies until it is fixed\./);
    assert.match(odd.warnings.join('\n'), /budget\.monthly .*A monthly limit of \$200\.55 applies until it is fixed\./);

    const notObject = new FileSettings(path.join(home({ budget: 10 }), 'config.json'));
    assert.match(notObject.warnings[0], /budget must be an object like \{ "daily": 10, "monthly": 200 \}/);
  });

  it('ignores disabledProviders and baseUrls of the wrong type with a warning, and routing still works', async () => {
    const dir = home({ disabledProviders: 5, baseUrls: ['x'] });
    const s = new FileSettings(path.join(dir, 'config.json'));
    assert.deepEqual(s.get().disabledProviders, []);
    assert.deepEqual(s.get().baseUrls, {});
    const w = s.warnings.join('\n');
    assert.match(w, /disabledProviders must be a list of provider ids like \["groq", "deepseek"\] \(got 5\); no provider is disabled until it is fixed\./);
    assert.match(w, /baseUrls must be an object like \{ "openai": "https:\/\/proxy\.example\/v1" \}/);
    const mixed = new FileSettings(path.join(home({ disabledProviders: ['groq', 'nope', 7, 'Gemini'], baseUrls: { openai: 'http://127.0.0.1:1/v1', nope: 'x', anthropic: 3 } }), 'config.json'));
    assert.deepEqual(mixed.get().disabledProviders, ['groq', 'google']);
    assert.deepEqual(mixed.get().baseUrls, { openai: 'http://127.0.0.1:1/v1' });
    assert.equal(mixed.warnings.length, 4, mixed.warnings.join('\n'));
    // The whole headless core over that config: routing answers instead of "includes is not a function".
    const host = createHeadlessCore({ AIKM_HOME: dir });
    try {
      assert.equal(host.core.route({ taskType: 'chat' }).provider, 'local');
    } finally {
      await host.close();
    }
  });

  it('the CLI warns on stderr at startup about a budget it cannot use', () => {
    const r = startCli(home({ budget: { daily: '10' } }));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /warning: .*config\.json: budget\.daily must be a number.*got the string "10"/);
  });

  it('keeps the entries it ignored when set_budget writes the file', async () => {
    const bad = { model: 'bad', inputPerMTok: -5, outputPerMTok: 1 };
    const dir = home({ priceOverrides: [bad], disabledProviders: ['groq'] });
    const file = path.join(dir, 'config.json');
    const s = new FileSettings(file);
    await s.setBudget({ daily: 5 });
    const written = JSON.parse(fs.readFileSync(file, 'utf8')) as { priceOverrides: unknown[]; budget: { daily: number }; disabledProviders: string[] };
    assert.deepEqual(written.priceOverrides, [bad], 'the user’s entry is left for them to fix, not deleted');
    assert.equal(written.budget.daily, 5);
    assert.deepEqual(written.disabledProviders, ['groq']);
    assert.equal(s.get().budget.daily, 5);
    assert.deepEqual(s.get().priceOverrides, []);
  });
});
