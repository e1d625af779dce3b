// The facade methods the VS Code surfaces use instead of reaching into keys, ledger and audit.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AiKeyManagerCore } from '../../src/core/service';
import { MemoryState } from '../support/ports';
import { makeTestCore } from '../support/core';

const openaiKey = (): string => `sk-proj-CANARY${randomBytes(30).toString('hex').slice(0, 40)}`;

const core = (): AiKeyManagerCore => makeTestCore().core;

describe('AiKeyManagerCore facade for the VS Code surfaces', () => {
  it('addKeyUnlessStored adds a new key once, then answers with the stored key (masked) instead of a duplicate error', async () => {
    const c = core();
    const secret = openaiKey();
    const first = await c.addKeyUnlessStored('openai', secret, { label: 'from .env' }, 'command');
    assert.equal(first.added, true);
    const again = await c.addKeyUnlessStored('openai', secret, { label: 'from other.env' }, 'command');
    assert.deepEqual([again.added, again.key.id, again.key.label], [false, first.key.id, 'from .env']);
    assert.ok(!JSON.stringify([first, again]).includes(secret));
    assert.equal(c.listKeys('openai').length, 1);
    // The pool still refuses the duplicate on its own.
    await assert.rejects(c.addKey('openai', { apiKey: secret }, {}, 'command'), /already stored \(id /);
  });

  it('secretToRestore is audited, and fails (audited too) for a key that is not stored', async () => {
    const c = core();
    const secret = openaiKey();
    const { key } = await c.addKeyUnlessStored('openai', secret, {}, 'command');
    assert.equal(await c.secretToRestore('openai', key.id, 'command'), secret);
    await assert.rejects(c.secretToRestore('openai', 'openai-nosuch', 'command'), /No OpenAI key with id 'openai-nosuch'/);
    const entries = c.audit.list({ limit: 2 }).filter((e) => e.action === 'restore_moved_key');
    assert.deepEqual(
      entries.map((e) => [e.ok, e.keyId ?? null]).sort(),
      [
        [false, null],
        [true, key.id],
      ],
    );
    assert.ok(!JSON.stringify(c.audit.list({})).includes(secret));
  });

  it('exportUsage returns the export text and its row count', () => {
    const c = core();
    c.track({ provider: 'openai', model: 'gpt-4o', inputTokens: 1000, outputTokens: 10 }, 'command');
    const csv = c.exportUsage('csv');
    assert.ok(csv.rows >= 1);
    assert.match(csv.text, /,openai,gpt-4o,/);
    const json = JSON.parse(c.exportUsage('json').text) as { rows: unknown[] };
    assert.equal(json.rows.length, csv.rows);
  });

  it('storedDataWarnings lists the problems found reading stored data', () => {
    const state = new MemoryState({ copy: 'clone' });
    state.seed('aikm.keys.v1', 'not a list');
    const { core: c } = makeTestCore({ state });
    assert.deepEqual(c.storedDataWarnings(), [...c.ledger.warnings, ...c.keys.warnings, ...c.audit.warnings]);
    assert.ok(c.storedDataWarnings().length > 0);
  });
});
