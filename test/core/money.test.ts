import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatUsd, formatUsdLimit } from '../../src/core/money';

describe('money formatting', () => {
  it('formats dollars and cents with en-US grouping', () => {
    assert.equal(formatUsd(0), '$0.00');
    assert.equal(formatUsd(-0), '$0.00');
    assert.equal(formatUsd(0.5), '$0.50');
    assert.equal(formatUsd(1.84), '$1.84');
    assert.equal(formatUsd(1234.5), '$1,234.50');
    assert.equal(formatUsd(1_000_000), '$1,000,000.00');
    assert.equal(formatUsd(-1.2), '-$1.20');
  });

  it('keeps three significant digits under a dollar, so $0.0125 never reads as $0.01 and a real cost never as $0.00', () => {
    assert.equal(formatUsd(0.0125), '$0.0125');
    assert.equal(formatUsd(0.0031), '$0.0031');
    assert.equal(formatUsd(0.000012345), '$0.0000123');
    assert.equal(formatUsd(0.123456), '$0.123');
    assert.equal(formatUsd(0.01), '$0.01');
    assert.equal(formatUsd(0.05), '$0.05');
    assert.equal(formatUsd(-0.0125), '-$0.0125');
    assert.equal(formatUsd(0.999999), '$1.00');
    assert.equal(formatUsd(1e-30), '<$0.00000000000000000001');
  });

  it('shows a dash for amounts that are not numbers', () => {
    assert.equal(formatUsd(Number.NaN), '—');
    assert.equal(formatUsd(Number.POSITIVE_INFINITY), '—');
  });

  it('shows whole-dollar limits without cents', () => {
    assert.equal(formatUsdLimit(10), '$10');
    assert.equal(formatUsdLimit(1000), '$1,000');
    assert.equal(formatUsdLimit(12.5), '$12.50');
  });
});
