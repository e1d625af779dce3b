// Fresh prices without a release, against a local HTTP server standing in for genai-prices' data file:
// a good file is checked, kept atomically and used; ETag gives 304; at most daily; a corrupt, hostile,
// oversized or unreachable file keeps the prices in use and says why; the kept file serves next start.
import { after, afterEach, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as GenaiPrices from '@pydantic/genai-prices';
import { PricingService } from '../../src/core/pricing';
import { PriceRefresher, type PriceDataStore } from '../../src/core/priceRefresh';
import { TestClock } from '../support/ports';

const GPT4O = { inputTokens: 1_000_000, outputTokens: 0 };

/** The bundled data with gpt-4o's input price doubled: a "newer" file whose effect is visible. */
function withGpt4oInput(data: GenaiPrices.Provider[], factor: number): GenaiPrices.Provider[] {
  const copy = JSON.parse(JSON.stringify(data)) as GenaiPrices.Provider[];
  const m = copy.find((p) => p.id === 'openai')!.models.find((x) => x.id === 'gpt-4o')!;
  const scale = (prices: GenaiPrices.ModelPrice) => {
    if (typeof prices['input_mtok'] === 'number') prices['input_mtok'] *= factor;
  };
  if (Array.isArray(m.prices)) for (const c of m.prices) scale(c.prices);
  else scale(m.prices);
  return copy;
}

class MemoryStore implements PriceDataStore {
  text: string | undefined;
  writes = 0;
  read = async () => this.text;
  write = async (t: string) => {
    this.text = t;
    this.writes++;
  };
}

describe('price refresh', () => {
  let bundled: GenaiPrices.Provider[];
  let server: http.Server;
  let url: string;
  let reply: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  const hits: http.IncomingHttpHeaders[] = [];
  let pricing: PricingService;
  const gpt4o = () => pricing.estimate('gpt-4o', GPT4O, 'openai').totalCost;

  before(async () => {
    bundled = (await GenaiPrices.waitForUpdate()) as GenaiPrices.Provider[];
    server = http.createServer((req, res) => {
      hits.push(req.headers);
      reply(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data.json`;
  });

  afterEach(() => {
    pricing.useData(bundled, { kind: 'bundled', version: 'test' });
    hits.length = 0;
  });

  after(() => new Promise<void>((r) => server.close(() => r())));

  const serve = (body: string, headers: Record<string, string> = {}) => {
    reply = (req, res) => {
      if (headers['etag'] && req.headers['if-none-match'] === headers['etag']) return void res.writeHead(304).end();
      res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(body);
    };
  };

  it('uses a good file at once, keeps it, and the next start uses the kept file without asking again that day', async () => {
    pricing = new PricingService();
    const before = gpt4o();
    serve(JSON.stringify(withGpt4oInput(bundled, 2)), { etag: '"v2"' });
    const store = new MemoryStore();
    const clock = new TestClock('2026-12-01T10:00:00Z');
    const msg = await new PriceRefresher({ pricing, store, clock, url }).start();
    assert.match(msg, /Prices refreshed from/);
    assert.ok(Math.abs(gpt4o() - 2 * before) < 1e-9, `gpt-4o input ${gpt4o()} vs ${before}`);
    assert.deepEqual(pricing.dataSource, { kind: 'refreshed', fetchedAt: '2026-12-01T10:00:00.000Z', url });
    assert.equal(store.writes, 1);

    // A new start (another window, a reload) within the day: the kept data, no request.
    pricing.useData(bundled, { kind: 'bundled', version: 'test' });
    hits.length = 0;
    clock.set('2026-12-01T20:00:00Z');
    assert.match(await new PriceRefresher({ pricing, store, clock, url }).start(), /next check is a day later/);
    assert.equal(hits.length, 0);
    assert.ok(Math.abs(gpt4o() - 2 * before) < 1e-9, 'the kept data serves');

    // A day later: asked again with the ETag; 304 keeps the data.
    clock.set('2026-12-02T11:00:00Z');
    assert.match(await new PriceRefresher({ pricing, store, clock, url }).start(), /up to date/);
    assert.equal(hits.length, 1);
    assert.equal(hits[0]['if-none-match'], '"v2"');
  });

  for (const [what, body, why] of [
    ['a corrupt file', '{"providers": [', /not JSON/],
    ['a file that is not a provider list', JSON.stringify({ hello: 'world' }), /not a list of providers/],
    ['a hostile file pricing gpt-4o at $0', () => JSON.stringify(withGpt4oInput(bundled, 0)), /prices gpt-4o at \$0|more than 10× off/],
    ['a hostile file pricing gpt-4o at 100×', () => JSON.stringify(withGpt4oInput(bundled, 100)), /more than 10× off/],
    ['a file missing a sentinel model', () => JSON.stringify(bundled.filter((p) => p.id !== 'anthropic')), /no price for claude-3-5-sonnet/],
  ] as const) {
    it(`keeps the prices in use for ${what}, and says why`, async () => {
      pricing = new PricingService();
      const before = gpt4o();
      serve(typeof body === 'function' ? body() : body);
      const store = new MemoryStore();
      const lines: string[] = [];
      const msg = await new PriceRefresher({ pricing, store, clock: new TestClock('2026-12-01T10:00:00Z'), url, log: (l) => lines.push(l) }).start();
      assert.match(msg, why);
      assert.match(lines.join('\n'), /not refreshed .*The prices in use stay/);
      assert.equal(gpt4o(), before);
      assert.equal(pricing.dataSource.kind, 'bundled');
      assert.equal(store.writes, 0, 'nothing kept');
    });
  }

  it('refuses a file over the size limit, an error status and an unreachable URL', async () => {
    pricing = new PricingService();
    reply = (_req, res) => res.writeHead(200, { 'content-length': String(64 * 1024 * 1024) }).end();
    assert.match(await new PriceRefresher({ pricing, store: new MemoryStore(), clock: new TestClock('2026-12-01T10:00:00Z'), url }).refresh(), /over the .*-byte limit/);
    reply = (_req, res) => res.writeHead(503).end('down');
    assert.match(await new PriceRefresher({ pricing, store: new MemoryStore(), clock: new TestClock('2026-12-01T10:00:00Z'), url }).refresh(), /HTTP 503/);
    assert.match(await new PriceRefresher({ pricing, store: new MemoryStore(), clock: new TestClock('2026-12-01T10:00:00Z'), url: 'http://127.0.0.1:9/none.json' }).refresh(), /could not be reached/);
    assert.equal(pricing.dataSource.kind, 'bundled');
  });

  it('with refresh off, asks nothing; a kept file that became bad is not used', async () => {
    pricing = new PricingService();
    serve(JSON.stringify(withGpt4oInput(bundled, 2)));
    assert.match(await new PriceRefresher({ pricing, store: new MemoryStore(), clock: new TestClock('2026-12-01T10:00:00Z'), url, enabled: false }).start(), /refresh is off/);
    assert.equal(hits.length, 0);
    const store = new MemoryStore();
    store.text = '{"v":1,"garbage":true}';
    const lines: string[] = [];
    await new PriceRefresher({ pricing, store, clock: new TestClock('2026-12-01T10:00:00Z'), url, enabled: false, log: (l) => lines.push(l) }).start();
    assert.match(lines.join('\n'), /kept price data is not used \(it is unreadable\)/);
    assert.equal(pricing.dataSource.kind, 'bundled');
  });
});
