import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatUsageExport, usageToCsv, csvField, exportFileName, priceSourceText, type UsageExportJson } from '../../src/core/exportUsage';
import { Ledger, type LedgerExportRow } from '../../src/core/ledger';
import { MemoryState } from '../support/ports';

const CANARY = 'sk-ant-api03-CANARY-export-0123456789abcdefghijKLMNOP';

function row(p: Partial<LedgerExportRow>): LedgerExportRow {
  return {
    period: '2026-03-02',
    granularity: 'day',
    provider: 'openai',
    model: 'gpt-4o',
    requests: 2,
    failures: 1,
    inputTokens: 1000,
    outputTokens: 200,
    cacheReadTokens: 50,
    cacheWriteTokens: 0,
    unpricedRequests: 0,
    unpricedTokens: 0,
    costUsd: 0.0045,
    pricedBy: { data: 2, provider: 0, override: 0, correction: 0, local: 0 },
    ...p,
  };
}

/** A small RFC 4180 parser, so the test checks what a spreadsheet would read. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  assert.equal(field + row.join(''), '', 'CSV must end with a line break');
  return rows;
}

describe('exportUsage CSV', () => {
  it('has a header and one line per row with every column', () => {
    const rows = parseCsv(usageToCsv([row({}), row({ period: '2026-01', granularity: 'month', provider: 'anthropic', model: 'claude-sonnet-4-5', meanLatencyMs: 812.5 })]));
    assert.deepEqual(rows[0], ['period', 'granularity', 'provider', 'model', 'requests', 'failures', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cost_usd', 'unpriced_requests', 'unpriced_tokens', 'mean_latency_ms', 'price_source']);
    assert.deepEqual(rows[1], ['2026-03-02', 'day', 'openai', 'gpt-4o', '2', '1', '1000', '200', '50', '0', '0.0045', '0', '0', '', 'price data (at export: genai-prices)']);
    assert.deepEqual(rows[2], ['2026-01', 'month', 'anthropic', 'claude-sonnet-4-5', '2', '1', '1000', '200', '50', '0', '0.0045', '0', '0', '812.5', 'price data (at export: genai-prices)']);
    assert.equal(rows.length, 3);
  });

  it('says what priced each row: the data in use, or each source with its count', () => {
    const by = (p: Partial<LedgerExportRow['pricedBy']>) => ({ data: 0, provider: 0, override: 0, correction: 0, local: 0, ...p });
    assert.equal(priceSourceText(row({ requests: 4, pricedBy: by({ data: 4 }) }), 'genai-prices 0.1.8 bundled'), 'price data (at export: genai-prices 0.1.8 bundled)');
    assert.equal(priceSourceText(row({ requests: 6, unpricedRequests: 1, pricedBy: by({ provider: 3, data: 2 }) }), 'D'), "price data (at export: D): 2; provider's own figure: 3; no price known: 1");
    assert.equal(priceSourceText(row({ requests: 2, pricedBy: by({ correction: 1, override: 1 }) }), 'D'), 'your override: 1; shipped correction: 1');
    assert.equal(priceSourceText(row({ requests: 5, pricedBy: by({ local: 2 }) }), 'D'), 'local model (free): 2; source not kept (recorded by an older version): 3');
  });

  it('quotes commas, quotes and line breaks, and defuses spreadsheet formulas', () => {
    const rows = parseCsv(usageToCsv([row({ model: 'my,"odd"\nmodel' }), row({ model: '=HYPERLINK("x")' })]));
    assert.equal(rows[1][3], 'my,"odd"\nmodel');
    assert.equal(rows[2][3], `'=HYPERLINK("x")`);
    assert.equal(csvField('-1+2'), `'-1+2`);
    assert.equal(csvField(-3), '-3', 'numbers are never prefixed');
    assert.equal(csvField('plain'), 'plain');
  });

  it('exports a real ledger and masks key-shaped names', async () => {
    const clock = { now: () => new Date('2026-03-02T10:00:00Z') };
    const ledger = new Ledger(new MemoryState({ copy: 'none' }), { clock, timeZone: 'UTC' });
    const base = { at: clock.now().toISOString(), inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0, success: true };
    ledger.record({ ...base, provider: 'openai', model: 'gpt-4o', costUsd: 0.25 });
    ledger.record({ ...base, provider: 'openai', model: CANARY, costUsd: 0.5 });
    ledger.record({ ...base, provider: 'openrouter', model: 'openai/gpt-4o', costUsd: 0.01, pricedBy: 'provider' });
    ledger.record({ ...base, provider: 'openrouter', model: 'openai/gpt-4o', costUsd: 0, priced: false, pricedBy: 'provider' });
    const csv = formatUsageExport(ledger.export(), 'csv', clock.now(), { inUse: 'long', dataLabel: 'genai-prices 9.9 bundled' });
    assert.ok(!csv.includes(CANARY), 'export leaks a key');
    const rows = parseCsv(csv);
    assert.equal(rows.length, 4);
    assert.ok(rows.some((r) => r[3] === 'gpt-4o' && r[10] === '0.25' && r[14] === 'price data (at export: genai-prices 9.9 bundled)'));
    // An unpriced request is unpriced, whatever else it says.
    assert.equal(rows.find((r) => r[2] === 'openrouter')?.[14], "provider's own figure: 1; no price known: 1");
    assert.ok(rows.some((r) => r[3].startsWith('sk-ant…')));
  });
});

describe('exportUsage JSON', () => {
  it('has totals, the covered periods and the rows', () => {
    const text = formatUsageExport([row({}), row({ period: '2026-02-27', costUsd: 0.1, requests: 3, failures: 0 })], 'json', new Date('2026-03-02T12:00:00Z'));
    const json = JSON.parse(text) as UsageExportJson;
    assert.equal(json.exportedAt, '2026-03-02T12:00:00.000Z');
    assert.equal(json.currency, 'USD');
    assert.equal(json.from, '2026-02-27');
    assert.equal(json.to, '2026-03-02');
    assert.deepEqual(json.totals, { requests: 5, failures: 1, inputTokens: 2000, outputTokens: 400, cacheReadTokens: 100, cacheWriteTokens: 0, costUsd: 0.1045, unpricedRequests: 0, unpricedTokens: 0, pricedBy: { data: 4, provider: 0, override: 0, correction: 0, local: 0 } });
    assert.equal(json.rows.length, 2);
    assert.equal(json.rows[0].model, 'gpt-4o');
  });

  it('exports nothing as empty totals', () => {
    const json = JSON.parse(formatUsageExport([], 'json', new Date(0))) as UsageExportJson;
    assert.deepEqual([json.from, json.to, json.totals.requests, json.rows], [null, null, 0, []]);
  });

  it('names files by day and format', () => {
    assert.equal(exportFileName('json', '2026-03-02'), 'ai-usage-2026-03-02.json');
  });
});
