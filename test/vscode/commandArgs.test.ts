// Palette command arguments are checked with the MCP tools' input schemas (src/mcp/schemas.ts).
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { z } from 'zod';
import * as schemas from '../../src/mcp/schemas';
import { argSchemas, parseArgs } from '../../src/vscode/commands/args';

const all = argSchemas({ z, schemas });
const { addKeyArgs, exportUsageArgs, listKeysArgs, recordUsageArgs, setBudgetArgs } = all;

const problem = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail('no error');
};

describe('palette command arguments', () => {
  it('accepts what the MCP tools accept, under the commands’ own names', () => {
    assert.deepEqual(parseArgs(recordUsageArgs, { provider: 'openai', model: 'gpt-4o', inputTokens: 10, outputTokens: 2, taskType: 'chat' }), {
      provider: 'openai',
      model: 'gpt-4o',
      inputTokens: 10,
      outputTokens: 2,
      taskType: 'chat',
    });
    assert.deepEqual(parseArgs(setBudgetArgs, { daily: 0, alertThreshold: 0.5, enforce: true }), { daily: 0, alertThreshold: 0.5, enforce: true });
    assert.deepEqual(parseArgs(exportUsageArgs, { format: ' JSON ' }), { format: 'json' });
  });

  it('has every argument optional, so a command run without any needs no schema loaded', () => {
    for (const [name, schema] of Object.entries(all)) assert.deepEqual(parseArgs(schema, {}), {}, name);
  });

  it('treats anything but a plain object, null and blank text as not given', () => {
    assert.deepEqual(parseArgs(addKeyArgs, 'file:///x'), {});
    assert.deepEqual(parseArgs(addKeyArgs, [1, 2]), {});
    assert.deepEqual(parseArgs(addKeyArgs, { provider: null, label: '   ', apiKey: '' }), {});
    const sneaky = JSON.parse('{"__proto__": {"apiKey": "x"}, "label": "work"}') as unknown;
    assert.deepEqual(parseArgs(addKeyArgs, sneaky), { label: 'work' });
  });

  it('names each bad argument, what it must be, and what it got', () => {
    assert.equal(problem(() => parseArgs(recordUsageArgs, { inputTokens: 1.5 })), 'inputTokens must be a whole number (got 1.5).');
    assert.equal(problem(() => parseArgs(setBudgetArgs, { daily: -5, monthly: 2e7 })), 'daily must be 0 or more (got -5). monthly must be 10,000,000 or less (got 20000000).');
    assert.equal(problem(() => parseArgs(exportUsageArgs, { format: 'xml' })), "format must be 'csv' or 'json' (got \"xml\").");
    assert.equal(problem(() => parseArgs(listKeysArgs, { pick: 'no' })), 'pick must be true or false (got "no").');
    assert.match(problem(() => parseArgs(addKeyArgs, { provider: 'nosuchai' })), /^provider must be one of: anthropic, openai, .* \(got "nosuchai"\)\.$/);
  });

  it('never repeats the value of a secret argument', () => {
    const long = `sk-proj-${'a'.repeat(600)}`;
    assert.equal(problem(() => parseArgs(addKeyArgs, { apiKey: long })), 'apiKey must be at most 500 characters long.');
    assert.equal(problem(() => parseArgs(listKeysArgs, { newKey: 42 })), 'newKey must be text.');
  });
});
