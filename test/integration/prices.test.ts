// Fresh prices in VS Code: "AI Keys: Refresh Prices" fetches the data file named by
// aiKeyManager.pricing.dataUrl (a local server here), checks it, keeps it and prices with it, and
// says so; a bad file keeps the prices in use.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as vscode from 'vscode';
import * as GenaiPrices from '@pydantic/genai-prices';
import { activateExtension } from './helpers';
import type { AiKeyManagerTestApi } from '../../src/extension';

describe('price refresh in VS Code', () => {
  let api: AiKeyManagerTestApi;
  let server: http.Server;
  let body = '';
  let bundled: GenaiPrices.Provider[];
  const config = () => vscode.workspace.getConfiguration('aiKeyManager');
  const gpt4o = () => api.core.pricing.estimate('gpt-4o', { inputTokens: 1_000_000, outputTokens: 0 }, 'openai').totalCost;

  before(async () => {
    ({ api } = await activateExtension());
    bundled = (await GenaiPrices.waitForUpdate()) as GenaiPrices.Provider[];
    server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    await config().update('pricing.dataUrl', `http://127.0.0.1:${(server.address() as AddressInfo).port}/data.json`, vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    await config().update('pricing.dataUrl', undefined, vscode.ConfigurationTarget.Global);
    api.core.pricing.useData(bundled, { kind: 'bundled', version: 'test' });
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('a bad file keeps the prices in use; a good one is used at once and said', async () => {
    const before = gpt4o();
    body = '{"not": "a provider list"}';
    const bad = (await vscode.commands.executeCommand('aiKeyManager.refreshPrices')) as { message: string; prices: string };
    assert.match(bad.message, /not refreshed .*not a list of providers/);
    assert.equal(gpt4o(), before);

    const data = JSON.parse(JSON.stringify(bundled)) as GenaiPrices.Provider[];
    const m = data.find((p) => p.id === 'openai')!.models.find((x) => x.id === 'gpt-4o')!;
    const double = (p: GenaiPrices.ModelPrice) => {
      if (typeof p['input_mtok'] === 'number') p['input_mtok'] *= 2;
    };
    if (Array.isArray(m.prices)) for (const c of m.prices) double(c.prices);
    else double(m.prices);
    body = JSON.stringify(data);
    const good = (await vscode.commands.executeCommand('aiKeyManager.refreshPrices')) as { message: string; prices: string };
    assert.match(good.message, /Prices refreshed from http:\/\/127\.0\.0\.1/);
    assert.match(good.prices, /refreshed .* UTC from http:\/\/127\.0\.0\.1/);
    assert.ok(Math.abs(gpt4o() - 2 * before) < 1e-9, `${gpt4o()} vs ${before}`);
  });
});
