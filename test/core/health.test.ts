import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { HealthTracker, FAILURE_LIMIT, COOLDOWN_MS } from '../../src/core/health';
import { TestClock } from '../support/ports';

const START = Date.parse('2025-03-01T12:00:00.000Z');

function tracker(): { clock: TestClock; health: HealthTracker } {
  const clock = new TestClock(START);
  return { clock, health: new HealthTracker(clock) };
}

describe('HealthTracker', () => {
  it('treats a provider it has never seen as healthy', () => {
    const { health } = tracker();
    assert.deepEqual(health.get('anthropic'), { healthy: true, consecutiveFailures: 0 });
  });

  it('knows whether a provider was ever heard from (a request or a check)', () => {
    const { health } = tracker();
    assert.equal(health.checked('local'), false);
    health.success('local');
    assert.equal(health.checked('local'), true);
    health.failure('openai', 'HTTP 500');
    assert.equal(health.checked('openai'), true);
    assert.equal(health.checked('anthropic'), false);
  });

  it('stays healthy below FAILURE_LIMIT consecutive failures, counting them', () => {
    const { health } = tracker();
    for (let i = 1; i < FAILURE_LIMIT; i++) {
      health.failure('openai', `error ${i}`);
      const h = health.get('openai');
      assert.equal(h.healthy, true);
      assert.equal(h.consecutiveFailures, i);
      assert.equal(h.cooldownUntil, undefined);
      assert.equal(h.lastError, `error ${i}`);
    }
  });

  it('is unhealthy after FAILURE_LIMIT failures until COOLDOWN_MS has passed', () => {
    const { clock, health } = tracker();
    for (let i = 0; i < FAILURE_LIMIT - 1; i++) health.failure('openai', 'HTTP 500');
    clock.advance(10_000);
    health.failure('openai', 'HTTP 503');
    const tripped = clock.t;

    const h = health.get('openai');
    assert.equal(h.healthy, false);
    assert.equal(h.consecutiveFailures, FAILURE_LIMIT);
    assert.equal(h.cooldownUntil, new Date(tripped + COOLDOWN_MS).toISOString());
    assert.equal(h.lastError, 'HTTP 503');

    clock.advance(COOLDOWN_MS - 1);
    assert.equal(health.get('openai').healthy, false);
    clock.advance(1);
    const after = health.get('openai');
    assert.equal(after.healthy, true);
    assert.equal(after.cooldownUntil, undefined);
  });

  it('a success resets the count and ends a cooldown early', () => {
    const { health } = tracker();
    for (let i = 0; i < FAILURE_LIMIT; i++) health.failure('google', 'timeout');
    assert.equal(health.get('google').healthy, false);
    health.success('google');
    assert.deepEqual(health.get('google'), { healthy: true, consecutiveFailures: 0, cooldownUntil: undefined, lastError: undefined });

    // Failures must be consecutive: a success in between starts the count again.
    for (let i = 0; i < FAILURE_LIMIT - 1; i++) health.failure('google', 'timeout');
    health.success('google');
    for (let i = 0; i < FAILURE_LIMIT - 1; i++) health.failure('google', 'timeout');
    assert.equal(health.get('google').healthy, true);
  });

  it('an immediate failure makes the provider unhealthy at once', () => {
    const { clock, health } = tracker();
    health.failure('local', 'connect ECONNREFUSED 127.0.0.1:11434', true);
    const h = health.get('local');
    assert.equal(h.healthy, false);
    assert.equal(h.consecutiveFailures, 1);
    assert.equal(h.cooldownUntil, new Date(START + COOLDOWN_MS).toISOString());
    assert.match(h.lastError ?? '', /ECONNREFUSED/);
    clock.advance(COOLDOWN_MS);
    assert.equal(health.get('local').healthy, true);
  });

  it('a failure right after a cooldown trips it again, and a failure without a message keeps the last error', () => {
    const { clock, health } = tracker();
    for (let i = 0; i < FAILURE_LIMIT; i++) health.failure('mistral', 'HTTP 502');
    clock.advance(COOLDOWN_MS);
    assert.equal(health.get('mistral').healthy, true);
    health.failure('mistral');
    const h = health.get('mistral');
    assert.equal(h.healthy, false);
    assert.equal(h.consecutiveFailures, FAILURE_LIMIT + 1);
    assert.equal(h.lastError, 'HTTP 502');
    assert.equal(h.cooldownUntil, new Date(clock.t + COOLDOWN_MS).toISOString());
  });

  it('tracks providers independently', () => {
    const { health } = tracker();
    for (let i = 0; i < FAILURE_LIMIT; i++) health.failure('anthropic', 'overloaded');
    assert.equal(health.get('anthropic').healthy, false);
    assert.deepEqual(health.get('openai'), { healthy: true, consecutiveFailures: 0 });
  });
});
