import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { activateExtension } from './helpers';

const CANARY = 'sk-ant-api03-CANARY-vscode-int-0123456789abcdefXYZ';

describe('built-in MCP server in VS Code', () => {
  it('is registered as an MCP server definition provider and its server answers with the resolved token', async () => {
    const { api } = await activateExtension();
    const defs = await api.mcp.provideMcpServerDefinitions();
    assert.equal(defs.length, 1);
    assert.ok(defs[0] instanceof vscode.McpHttpServerDefinition);
    assert.equal(defs[0].headers.Authorization, undefined, 'the token is only added on resolve');
    const resolved = await api.mcp.resolveMcpServerDefinition(defs[0]);
    const auth = resolved.headers.Authorization;
    assert.match(auth ?? '', /^Bearer [A-Za-z0-9_-]{43}$/, '256-bit token');
    const client = new Client({ name: 'vscode-int', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(resolved.uri.toString()), { requestInit: { headers: { Authorization: auth! } } }));
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'route_request'));
    await client.close();
  });

  it('refuses a request without the token', async () => {
    const { api } = await activateExtension();
    const [def] = await api.mcp.provideMcpServerDefinitions();
    const res = await fetch(def.uri.toString(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 401);
  });

  it('copies a working config for other clients to the clipboard', async () => {
    await activateExtension();
    await vscode.commands.executeCommand('aiKeyManager.copyMcpConfig');
    const cfg = JSON.parse(await vscode.env.clipboard.readText());
    const server = cfg.mcpServers['ai-key-manager'];
    const client = new Client({ name: 'clipboard', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: server.headers } }));
    const r = await client.callTool({ name: 'check_budget', arguments: {} });
    assert.equal(r.isError, undefined);
    await client.close();
  });

  it('keeps an added key in SecretStorage and leaves no trace of it in state', async () => {
    const { api } = await activateExtension();
    const [def] = await api.mcp.provideMcpServerDefinitions();
    const resolved = await api.mcp.resolveMcpServerDefinition(def);
    const client = new Client({ name: 'vscode-int', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(resolved.uri.toString()), { requestInit: { headers: resolved.headers } }));
    const added = await client.callTool({ name: 'add_api_key', arguments: { provider: 'anthropic', api_key: CANARY, label: 'integration' } });
    assert.ok(!added.isError, JSON.stringify(added.content));
    const id = (added.structuredContent as { key: { id: string; masked: string } }).key.id;
    assert.ok(!JSON.stringify(added).includes(CANARY), 'tool reply leaks the key');
    assert.equal(await api.vault.get(`key/${id}`), CANARY, 'SecretStorage holds the key');
    await api.core.flush();
    const state = JSON.stringify(api.stateDump());
    assert.ok(state.includes(id), 'state holds the key metadata');
    assert.ok(!state.includes(CANARY) && !state.includes(CANARY.slice(10, 30)), 'state holds key material');
    const listed = await client.callTool({ name: 'list_api_keys', arguments: {} });
    assert.ok(!JSON.stringify(listed).includes(CANARY));
    const removed = await client.callTool({ name: 'remove_api_key', arguments: { provider: 'anthropic', key_id: id } });
    assert.ok(!removed.isError, JSON.stringify(removed.content));
    assert.equal(await api.vault.get(`key/${id}`), undefined);
    await client.close();
  });

  it('asks the user before an agent loosens the budget: a dismissed question changes nothing; tightening asks nothing', async () => {
    const { api } = await activateExtension();
    const [def] = await api.mcp.provideMcpServerDefinitions();
    const resolved = await api.mcp.resolveMcpServerDefinition(def);
    const client = new Client({ name: 'vscode-int', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(resolved.uri.toString()), { requestInit: { headers: resolved.headers } }));
    const config = vscode.workspace.getConfiguration('aiKeyManager');
    try {
      await config.update('budget.daily', 5, vscode.ConfigurationTarget.Global);
      await config.update('budget.enforce', true, vscode.ConfigurationTarget.Global);
      // The test host dismisses modal dialogs, as a user pressing Escape would.
      const lift = await client.callTool({ name: 'set_budget', arguments: { daily: 0, enforce: false } });
      assert.equal(lift.isError, true);
      const text = (lift.content as { type: string; text: string }[]).map((c) => c.text).join('');
      assert.match(text, /^The user did not allow this change \(remove the daily limit of \$5, turn budget enforcement off\)\. Nothing was changed\./);
      const now = vscode.workspace.getConfiguration('aiKeyManager'); // a configuration object is a snapshot
      assert.deepEqual([now.get('budget.daily'), now.get('budget.enforce')], [5, true]);
      const tighten = await client.callTool({ name: 'set_budget', arguments: { daily: 3 } });
      assert.ok(!tighten.isError, JSON.stringify(tighten.content));
      assert.equal(vscode.workspace.getConfiguration('aiKeyManager').get('budget.daily'), 3);
    } finally {
      await client.close();
      for (const k of ['budget.daily', 'budget.enforce']) await config.update(k, undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
