// The gateway in the real extension host: it runs with the extension, a request through it with a
// stored key is recorded and moves the status bar, and rotating its token shuts out the old one.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { activateExtension } from './helpers';
import type { AiKeyManagerTestApi } from '../../src/extension';
import type { StatusBarSnapshot } from '../../src/vscode/statusBar';
import { startFakeProviders, type FakeProviders } from '../fakes/providers';
import { waitFor, waitUntil } from '../support/waitFor';
import { assertNoLeak } from '../support/leaks';

const KEY = `sk-proj-CANARYgw${randomBytes(24).toString('hex')}`;

const chat = (url: string, token: string) =>
  fetch(`${url}/openai/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello?' }] }),
  });

describe('gateway in VS Code', () => {
  let api: AiKeyManagerTestApi;
  let fake: FakeProviders;
  const config = () => vscode.workspace.getConfiguration('aiKeyManager');

  before(async () => {
    ({ api } = await activateExtension());
    fake = await startFakeProviders({ keys: { [KEY]: 'valid' }, usage: { inputTokens: 40_000, outputTokens: 4_000 } });
    await config().update('providers.openai.baseUrl', fake.url, vscode.ConfigurationTarget.Global);
    await waitFor(() => api.core.baseUrl('openai') === fake.url, 'the base-URL setting');
    await api.core.resetUsage('system');
    await api.core.addKey('openai', { apiKey: KEY }, { label: 'gateway test' }, 'system');
  });

  after(async () => {
    for (const k of api.core.listKeys('openai')) if (k.label === 'gateway test') await api.core.removeKey('openai', k.id, 'system');
    await config().update('providers.openai.baseUrl', undefined, vscode.ConfigurationTarget.Global);
    await api.core.resetUsage('system');
    await fake.close();
  });

  it('runs with the extension; a request through it is recorded and moves the status bar', async () => {
    const url = await waitFor(() => api.gateway.url, 'the gateway to start', { timeoutMs: 10_000 });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const token = await api.gateway.token();
    const r = await chat(url, token);
    assert.equal(r.status, 200, await r.clone().text());
    const body = (await r.json()) as { choices: { message: { content: string } }[] };
    assert.ok(body.choices[0].message.content);
    assert.equal(fake.requests.at(-1)?.headers.authorization, `Bearer ${KEY}`, 'the stored key went upstream');
    await waitFor(() => api.core.usage({ days: 1, provider: 'openai' }).totals.requests === 1, 'the request to be recorded');
    // gpt-4o: 40,000 in at $2.50/M + 4,000 out at $10/M = $0.14.
    await waitUntil(
      async () => (await vscode.commands.executeCommand('aiKeyManager.debug.statusBar')) as StatusBarSnapshot,
      (s) => s.text.includes('$0.14'),
      'the status bar to show the request',
      { timeoutMs: 3000 },
    );
    const bar = (await vscode.commands.executeCommand('aiKeyManager.debug.statusBar')) as StatusBarSnapshot;
    assert.ok(bar.tooltip.includes(`Gateway: listening on ${url}`), bar.tooltip);
    const connect = (await vscode.commands.executeCommand('aiKeyManager.connectToGateway', { tool: 'curl' })) as { url: string; tool: string };
    assert.deepEqual(connect, { url, tool: 'curl' });
    assertNoLeak(api.stateDump(), [KEY], 'extension state');
  });

  it('terminalEnv puts the gateway address and token in new terminals, and takes them out again', async () => {
    const url = await waitFor(() => api.gateway.url, 'the gateway to start', { timeoutMs: 10_000 });
    assert.equal(api.terminalEnv.get('OPENAI_BASE_URL'), undefined, 'off by default');
    await config().update('gateway.terminalEnv', true, vscode.ConfigurationTarget.Global);
    try {
      await waitFor(() => api.terminalEnv.get('ANTHROPIC_BASE_URL')?.value === `${url}/anthropic`, 'the terminal variables');
      assert.equal(api.terminalEnv.get('OPENAI_BASE_URL')?.value, `${url}/openai/v1`);
      assert.equal(api.terminalEnv.get('OPENAI_API_KEY')?.value, await api.gateway.token());
      assert.equal(api.terminalEnv.persistent, false);
    } finally {
      await config().update('gateway.terminalEnv', undefined, vscode.ConfigurationTarget.Global);
    }
    await waitFor(() => api.terminalEnv.get('OPENAI_BASE_URL') === undefined, 'the variables to go');
  });

  it('a new token shuts out the old one', async () => {
    const old = await api.gateway.token();
    const before = api.gateway.url;
    const { url } = (await vscode.commands.executeCommand('aiKeyManager.rotateGatewayToken')) as { url: string };
    assert.ok(url);
    assert.equal(url, before, 'the new token applies in place: same address');
    const fresh = await api.gateway.token();
    assert.notEqual(fresh, old);
    assert.equal((await chat(url, old)).status, 401);
    assert.equal((await chat(url, fresh)).status, 200);
  });
});
