// The headless CLI refreshes prices in the background from AIKM_PRICE_DATA_URL (here a local server):
// estimate_cost then prices with the new data and says so; the data is kept in AIKM_HOME/prices.json
// (mode 600); AIKM_PRICE_REFRESH=0 asks nothing and the bundled snapshot serves.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as GenaiPrices from '@pydantic/genai-prices';
import { callOk, spawnCli } from '../mcp/helpers';
import { tempRoot } from '../support/tmp';
import { waitFor } from '../support/waitFor';

interface Estimate {
  total_cost: number;
  price_data: string;
}

describe('headless price refresh', () => {
  let server: http.Server;
  let url: string;
  let requests = 0;
  const root = tempRoot('aikm-prices-');

  before(async () => {
    const data = JSON.parse(JSON.stringify(await GenaiPrices.waitForUpdate())) as GenaiPrices.Provider[];
    const gpt4o = data.find((p) => p.id === 'openai')!.models.find((m) => m.id === 'gpt-4o')!;
    const double = (p: GenaiPrices.ModelPrice) => {
      if (typeof p['input_mtok'] === 'number') p['input_mtok'] *= 2;
    };
    if (Array.isArray(gpt4o.prices)) for (const c of gpt4o.prices) double(c.prices);
    else double(gpt4o.prices);
    const body = JSON.stringify(data);
    server = http.createServer((_req, res) => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json', etag: '"t1"' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data.json`;
  });

  after(() => new Promise<void>((r) => server.close(() => r())));

  type Client = Awaited<ReturnType<typeof spawnCli>>['client'];
  const estimate = (client: Client) => callOk<Estimate>(client, 'estimate_cost', { model: 'gpt-4o', provider: 'openai', input_tokens: 1_000_000, output_tokens: 0 });
  /** The first estimate priced with refreshed data. */
  const refreshedEstimate = (client: Client, what: string) =>
    waitFor(async () => {
      const e = await estimate(client);
      return e.price_data.includes('refreshed') ? e : undefined;
    }, what);

  it('prices with the refreshed data, says so, and keeps it in AIKM_HOME', async () => {
    const home = root.unique('home');
    const env = { PATH: process.env.PATH ?? '', HOME: home, AIKM_HOME: home, AIKM_PRICE_DATA_URL: url };
    const cli = await spawnCli(env, 'price-refresh');
    try {
      const first = await refreshedEstimate(cli.client, 'the refreshed prices');
      assert.match(first.price_data, new RegExp(`refreshed .* from ${url.replace(/[.]/g, '\\.')}`));
      assert.equal(requests, 1);
      const kept = join(home, 'prices.json');
      await waitFor(() => fs.existsSync(kept), 'the data to be kept');
      assert.equal(fs.statSync(kept).mode & 0o777, 0o600);
      await waitFor(() => /Prices refreshed from/.test(cli.stderr()), 'the refresh to be logged');
    } finally {
      await cli.stop();
    }

    // Off: nothing is asked, and the bundled snapshot prices at half the refreshed input price.
    const offHome = root.unique('off');
    const off = await spawnCli({ PATH: process.env.PATH ?? '', HOME: offHome, AIKM_HOME: offHome, AIKM_PRICE_DATA_URL: url, AIKM_PRICE_REFRESH: '0' }, 'price-refresh-off');
    try {
      const bundled = await estimate(off.client);
      assert.match(bundled.price_data, /bundled/);
      const again = await spawnCli(env, 'price-refresh-kept');
      try {
        const refreshed = await refreshedEstimate(again.client, 'the kept prices');
        assert.ok(Math.abs(refreshed.total_cost - 2 * bundled.total_cost) < 1e-9, `${refreshed.total_cost} vs ${bundled.total_cost}`);
        assert.equal(requests, 1, 'the kept data serves within the day; nothing is asked again');
      } finally {
        await again.stop();
      }
    } finally {
      await off.stop();
    }
  });
});
