// `node dist/cli.js gateway` as a user runs it: one ready line with the URL, the token kept in
// AIKM_HOME (mode 600), and a `dist/cli.js mcp` on the same home sees the gateway's usage.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startFakeProviders, type FakeProviders } from '../fakes/providers';
import { tempRoot } from '../support/tmp';
import { waitFor } from '../support/waitFor';
import { assertNoLeak } from '../support/leaks';
import { baseUrlEnv, callOk, spawnCli } from '../mcp/helpers';

const KEY = 'sk-proj-CANARYcliGwA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9';

/** SIGTERM, then SIGKILL if it has not exited within 5 s; resolves once it has exited. */
async function stop(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => {
    process.stderr.write(`gateway process ${p.pid} did not stop within 5 s of SIGTERM; killed\n`);
    p.kill('SIGKILL');
  }, 5000);
  await exited;
  clearTimeout(timer);
}

describe('ai-key-manager gateway (the headless CLI)', () => {
  let fake: FakeProviders;
  let home: string;
  let env: Record<string, string>;
  let gw: ChildProcess | undefined;
  let out = '';
  let err = '';
  // Registered before the temp folder's own cleanup, so the processes are gone before it is removed.
  after(async () => {
    await stop(gw);
    await fake.close();
  });
  const root = tempRoot('aikm-gw-cli-');

  before(async () => {
    fake = await startFakeProviders({ keys: { [KEY]: 'valid' }, usage: { inputTokens: 5000, outputTokens: 2000 } });
    home = root.unique('home');
    env = { PATH: process.env.PATH ?? '', HOME: home, AIKM_HOME: home, OPENAI_API_KEY: KEY, ...baseUrlEnv(fake.url) };
  });

  it('--print-token makes one token, keeps it mode 600 and prints the same one again', () => {
    const a = spawnSync(process.execPath, ['dist/cli.js', 'gateway', '--print-token'], { env, encoding: 'utf8' });
    assert.equal(a.status, 0, a.stderr);
    const token = a.stdout.trim();
    assert.ok(token.length >= 43, token);
    assert.equal(statSync(join(home, 'gateway-token')).mode & 0o777, 0o600);
    assert.equal(spawnSync(process.execPath, ['dist/cli.js', 'gateway', '--print-token'], { env, encoding: 'utf8' }).stdout.trim(), token);
    const short = spawnSync(process.execPath, ['dist/cli.js', 'gateway', '--print-token'], { env: { ...env, AIKM_GATEWAY_TOKEN: 'too-short' }, encoding: 'utf8' });
    assert.equal(short.status, 1);
    assert.match(short.stderr, /AIKM_GATEWAY_TOKEN is 9 characters; it must be at least 32/);
  });

  it('--port 0 prints one line with its URL; a request through it shows in get_usage of an mcp on the same home', async () => {
    const token = spawnSync(process.execPath, ['dist/cli.js', 'gateway', '--print-token'], { env, encoding: 'utf8' }).stdout.trim();
    gw = spawn(process.execPath, ['dist/cli.js', 'gateway', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    gw.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    gw.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const url = await waitFor(() => /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0], 'the ready line', { timeoutMs: 15_000 });
    const mcp = await spawnCli(env, 'gateway-cli-test');
    try {
      const client = new OpenAI({ apiKey: token, baseURL: `${url}/openai/v1`, maxRetries: 0 });
      const r = await client.chat.completions.create({ model: 'gpt-4-turbo', messages: [{ role: 'user', content: 'x' }] });
      assert.ok(r.choices[0].message.content);
      const started = Date.now();
      const usage = await waitFor(
        async () => {
          const u = await callOk<{ totals: { requests: number; cost_usd: number } }>(mcp.client, 'get_usage', { days: 1 });
          return u.totals.requests === 1 ? u : undefined;
        },
        'the mcp process to see the gateway request',
        { timeoutMs: 5000, intervalMs: 100 },
      );
      assert.ok(Date.now() - started < 1500, `seen after ${Date.now() - started} ms`);
      assert.ok(Math.abs(usage.totals.cost_usd - 0.11) < 1e-9, 'gpt-4-turbo, 5,000 in + 2,000 out');
    } finally {
      await mcp.stop();
    }
    assertNoLeak(out + err, [KEY, token], 'gateway output');
  });

  it('--cache answers a repeated request from memory; wrong cache flags are refused with what to do', async () => {
    for (const [args, msg] of [
      [['--cache-ttl', '5'], /need --cache/],
      [['--cache', '--cache-ttl', 'soon'], /--cache-ttl \(seconds\) must be a number above 0 \(got soon\)/],
      [['--cache', '--cache-size=0'], /--cache-size \(MB\) must be a number above 0/],
    ] as const) {
      const r = spawnSync(process.execPath, ['dist/cli.js', 'gateway', '--port', '0', ...args], { env, encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, msg);
    }
    const token = spawnSync(process.execPath, ['dist/cli.js', 'gateway', '--print-token'], { env, encoding: 'utf8' }).stdout.trim();
    const cached = spawn(process.execPath, ['dist/cli.js', 'gateway', '--port=0', '--cache', '--cache-ttl=60'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let line = '';
    cached.stdout.on('data', (c: Buffer) => (line += c.toString('utf8')));
    try {
      const url = await waitFor(() => /http:\/\/127\.0\.0\.1:\d+/.exec(line)?.[0], 'the ready line', { timeoutMs: 15_000 });
      assert.match(line, /response cache on, 60 s/);
      const client = new OpenAI({ apiKey: token, baseURL: `${url}/openai/v1`, maxRetries: 0 });
      const ask = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'cached?' }] };
      const first = await client.chat.completions.create(ask).withResponse();
      const second = await client.chat.completions.create(ask).withResponse();
      assert.deepEqual([first.response.headers.get('x-aikm-cache'), second.response.headers.get('x-aikm-cache')], ['miss', 'hit']);
    } finally {
      await stop(cached);
    }
  });
});
