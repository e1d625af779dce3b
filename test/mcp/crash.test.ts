// `dist/cli.js mcp` killed with SIGKILL while track_request calls keep coming: every acknowledged
// request is there after a restart, and none is counted twice.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitFor } from '../support/waitFor';
import { callOk, spawnCli, textOf, type ToolResult } from './helpers';
import { tempRoot } from '../support/tmp';

interface Usage {
  totals: { requests: number; cost_usd: number };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('kill -9 of the headless MCP server', () => {
  const tmp = tempRoot('aikm-crash-');

  it('loses no acknowledged track_request, and counts none twice', async () => {
    const home = tmp.unique('home');
    const env = { AIKM_HOME: home, AIKM_PASSPHRASE: 'a long passphrase for the crash test', TZ: 'UTC', PATH: process.env.PATH ?? '' };
    let acknowledged = 0;
    let ackedNanos = 0;
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      const p = await spawnCli(env, `crash-${round}`);
      const pid = p.transport.pid!;
      let stop = false;
      // Eight clients' worth of calls in flight at once; the kill lands among them.
      const worker = async (): Promise<void> => {
        while (!stop) {
          sent++;
          let r: ToolResult;
          try {
            r = (await p.client.callTool({ name: 'track_request', arguments: { provider: 'openai', model: 'text-embedding-3-small', input_tokens: 20 + (sent % 7), output_tokens: 0 } })) as ToolResult;
          } catch {
            return; // the connection died with the process: not acknowledged
          }
          assert.ok(!r.isError, textOf(r));
          acknowledged++;
          ackedNanos += Math.round((r.structuredContent as { recorded: { cost: number } }).recorded.cost * 1e9);
        }
      };
      const workers = Array.from({ length: 8 }, worker);
      await waitFor(() => acknowledged >= (round + 1) * 150, '150 acknowledged calls', { timeoutMs: 20_000 });
      process.kill(pid, 'SIGKILL');
      stop = true;
      await Promise.all(workers);
      await waitFor(() => !alive(pid), 'the killed process to be gone');
      await p.client.close().catch(() => undefined);
    }
    const after = await spawnCli(env, 'after');
    try {
      const usage = await callOk<Usage>(after.client, 'get_usage', { days: 1 });
      assert.ok(usage.totals.requests >= acknowledged, `${acknowledged} acknowledged, ${usage.totals.requests} recorded: ${acknowledged - usage.totals.requests} lost`);
      assert.ok(usage.totals.requests <= sent, `${usage.totals.requests} recorded of ${sent} sent: some counted twice`);
      assert.ok(usage.totals.cost_usd * 1e9 >= ackedNanos - 0.5, 'the cost of every acknowledged call is in the total');
      assert.match(after.stderr(), /Recovered \d+ usage record\(s\)|MCP server on stdio/);
    } finally {
      await after.stop();
    }
    // A later start replays nothing again.
    const again = await spawnCli(env, 'again');
    try {
      const first = await callOk<Usage>(again.client, 'get_usage', { days: 1 });
      const recorded = first.totals.requests;
      assert.ok(recorded >= acknowledged);
      assert.doesNotMatch(again.stderr(), /Recovered/);
    } finally {
      await again.stop();
    }
    assert.deepEqual(fs.readdirSync(path.join(home, 'journal')), [], 'every journal replayed and removed');
  });

  it('says on stderr when a background save fails, and keeps the usage for the next start', async () => {
    const home = tmp.unique('home');
    const env = { AIKM_HOME: home, TZ: 'UTC', PATH: process.env.PATH ?? '' };
    const p = await spawnCli(env, 'save-error');
    try {
      await callOk(p.client, 'track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 1000, output_tokens: 0 });
      await waitFor(() => fs.existsSync(path.join(home, 'ledger.json')), 'the first save');
      // Something else takes the file's place: the next save cannot read what it merges into.
      fs.renameSync(path.join(home, 'ledger.json'), path.join(home, 'ledger.saved'));
      fs.mkdirSync(path.join(home, 'ledger.json'));
      await callOk(p.client, 'track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 1000, output_tokens: 0 });
      await waitFor(() => /ai-key-manager: error: Could not save state 'aiKeyManager\.ledger': .*ledger\.json.* It will be retried on the next save\./.test(p.stderr()), 'the save error on stderr');
    } finally {
      process.kill(p.transport.pid!, 'SIGKILL');
      await p.client.close().catch(() => undefined);
    }
    // Put right: the journal brings back what was not saved.
    fs.rmdirSync(path.join(home, 'ledger.json'));
    fs.renameSync(path.join(home, 'ledger.saved'), path.join(home, 'ledger.json'));
    const after = await spawnCli(env, 'save-error-after');
    try {
      const usage = await callOk<Usage>(after.client, 'get_usage', { days: 1 });
      assert.equal(usage.totals.requests, 2);
    } finally {
      await after.stop();
    }
  });
});
