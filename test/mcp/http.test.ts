// The Streamable HTTP host: bearer token, Host/Origin checks, sessions, shutdown.
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { startFakeProviders, type FakeProviders } from '../fakes/providers';
import { MCP_PATH, releaseAnsweredJsonStreams, startHttpHost, type HttpHost } from '../../src/mcp/httpHost';
import { createMcpServer } from '../../src/mcp/server';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { REQUIRED_TOOL_NAMES } from '../../src/mcp/tools';
import { waitFor } from '../support/waitFor';
import { callOk, connectHttp, createTestCore, startTestHost, type TestCore } from './helpers';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with full control over headers (fetch would not let us set Host). */
function raw(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: unknown }): Promise<RawResponse> {
  const payload = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'POST',
        path: opts.path ?? MCP_PATH,
        agent: false,
        headers: {
          host: `127.0.0.1:${port}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(payload === undefined ? {} : { 'content-length': String(Buffer.byteLength(payload)) }),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function errorMessage(r: RawResponse): string {
  return (JSON.parse(r.body) as { error: { message: string } }).error.message;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('MCP HTTP host', () => {
  let fake: FakeProviders;
  let t: TestCore;
  let host: HttpHost;
  let auth: Record<string, string>;

  before(async () => {
    fake = await startFakeProviders();
    t = createTestCore({ fakeUrl: fake.url });
    host = await startTestHost(t.core);
    auth = { authorization: `Bearer ${host.token}` };
  });

  after(async () => {
    await host.close();
    t.core.dispose();
    await fake.close();
  });

  it('listens on 127.0.0.1 at a random port with a 256-bit token', () => {
    assert.equal(new URL(host.url).hostname, '127.0.0.1');
    assert.equal(new URL(host.url).pathname, MCP_PATH);
    assert.ok(host.port > 0);
    assert.match(host.token, /^[A-Za-z0-9_-]{43}$/);
  });

  it('answers 401 with WWW-Authenticate when there is no token', async () => {
    const n0 = host.sessionCount();
    const r = await raw(host.port, { body: INITIALIZE });
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /^Bearer /);
    assert.match(errorMessage(r), /bearer token/i);
    assert.equal(host.sessionCount(), n0);
  });

  it('answers 401 to a wrong token, a token of another length and a non-Bearer scheme', async () => {
    const n0 = host.sessionCount();
    const flipped = host.token.slice(0, -1) + (host.token.endsWith('A') ? 'B' : 'A');
    for (const authorization of [`Bearer ${flipped}`, `Bearer ${host.token}x`, `Bearer ${host.token.slice(0, 20)}`, `Basic ${host.token}`, `bearer${host.token}`]) {
      const r = await raw(host.port, { body: INITIALIZE, headers: { authorization } });
      assert.equal(r.status, 401, `accepted '${authorization.slice(0, 10)}…'`);
      assert.match(String(r.headers['www-authenticate']), /^Bearer /);
    }
    assert.equal(host.sessionCount(), n0);
  });

  it('answers 403 to a foreign Host header even with the right token (DNS rebinding)', async () => {
    const n0 = host.sessionCount();
    for (const h of [`evil.example:${host.port}`, 'evil.example', `127.0.0.1:${host.port + 1}`, `127.0.0.1.evil.example:${host.port}`]) {
      const r = await raw(host.port, { body: INITIALIZE, headers: { ...auth, host: h } });
      assert.equal(r.status, 403, `Host ${h} was accepted`);
      assert.match(errorMessage(r), /Host/);
    }
    assert.equal(host.sessionCount(), n0);
  });

  it('answers 403 to a foreign Origin even with the right token', async () => {
    const n0 = host.sessionCount();
    for (const origin of ['https://evil.example', 'http://localhost.evil.example', `http://evil.example:${host.port}`, 'null']) {
      const r = await raw(host.port, { body: INITIALIZE, headers: { ...auth, origin } });
      assert.equal(r.status, 403, `Origin ${origin} was accepted`);
      assert.match(errorMessage(r), /cross-origin/);
    }
    assert.equal(host.sessionCount(), n0);
  });

  it('accepts a local Origin and localhost as Host', async () => {
    const n0 = host.sessionCount();
    const r = await raw(host.port, { body: INITIALIZE, headers: { ...auth, origin: 'http://localhost:3000', host: `localhost:${host.port}` } });
    assert.equal(r.status, 200, r.body);
    const sid = r.headers['mcp-session-id'];
    assert.equal(typeof sid, 'string');
    const del = await raw(host.port, { method: 'DELETE', headers: { ...auth, 'mcp-session-id': String(sid), 'mcp-protocol-version': LATEST_PROTOCOL_VERSION } });
    assert.equal(del.status, 200, del.body);
    assert.equal(host.sessionCount(), n0);
  });

  it('refuses other paths, a first request that is not initialize, unknown sessions and bad JSON', async () => {
    const n0 = host.sessionCount();
    assert.equal((await raw(host.port, { path: '/other', body: INITIALIZE, headers: auth })).status, 404);
    const notInit = await raw(host.port, { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' }, headers: auth });
    assert.equal(notInit.status, 400);
    assert.match(errorMessage(notInit), /initialize/);
    const unknown = await raw(host.port, { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' }, headers: { ...auth, 'mcp-session-id': 'no-such-session' } });
    assert.equal(unknown.status, 404);
    assert.equal((await raw(host.port, { method: 'GET', headers: auth })).status, 400);
    assert.equal((await raw(host.port, { method: 'PUT', headers: auth, body: {} })).status, 405);
    const bad = await raw(host.port, { body: '{not json', headers: auth });
    assert.equal(bad.status, 400);
    assert.match(errorMessage(bad), /JSON/);
    assert.equal(host.sessionCount(), n0);
  });

  it('runs a full session with the SDK client: initialize, listTools, callTool', async () => {
    const n0 = host.sessionCount();
    const { client, transport } = await connectHttp(host);
    try {
      assert.equal(client.getServerVersion()?.name, 'ai-key-manager');
      assert.ok(client.getServerCapabilities()?.resources?.subscribe, 'server advertises resource subscriptions');
      assert.equal(typeof transport.sessionId, 'string');
      const { tools } = await client.listTools();
      const names = tools.map((x) => x.name);
      for (const n of REQUIRED_TOOL_NAMES) assert.ok(names.includes(n), `missing tool ${n}`);
      const est = await callOk<{ total_cost: number }>(client, 'estimate_cost', { model: 'gpt-4o', input_tokens: 1_000_000, output_tokens: 0 });
      assert.ok(est.total_cost > 0);
      assert.equal(host.sessionCount(), n0 + 1);
    } finally {
      await transport.terminateSession();
      await client.close();
    }
    assert.equal(host.sessionCount(), n0);
  });

  it('gives two concurrent clients separate sessions over one shared core', async () => {
    const n0 = host.sessionCount();
    const [a, b] = await Promise.all([connectHttp(host, 'a'), connectHttp(host, 'b')]);
    try {
      assert.notEqual(a.transport.sessionId, b.transport.sessionId);
      assert.equal(host.sessionCount(), n0 + 2);
      const [ra, rb] = await Promise.all([
        callOk<{ recorded: { cost: number } }>(a.client, 'track_request', { provider: 'openai', model: 'gpt-4o', input_tokens: 1000, output_tokens: 100 }),
        callOk<{ recorded: { cost: number } }>(b.client, 'track_request', { provider: 'anthropic', model: 'claude-sonnet-4-5', input_tokens: 1000, output_tokens: 100 }),
      ]);
      const usage = await callOk<{ totals: { requests: number; cost_usd: number } }>(a.client, 'get_usage', { days: 1 });
      assert.equal(usage.totals.requests, 2, 'both sessions write to the same core');
      assert.ok(Math.abs(usage.totals.cost_usd - (ra.recorded.cost + rb.recorded.cost)) < 1e-9);
      // A's session id does not let a raw request act without the token.
      const stolen = await raw(host.port, { body: { jsonrpc: '2.0', id: 9, method: 'tools/list' }, headers: { 'mcp-session-id': a.transport.sessionId! } });
      assert.equal(stolen.status, 401);
    } finally {
      await a.transport.terminateSession();
      await b.transport.terminateSession();
      await Promise.all([a.client.close(), b.client.close()]);
    }
  });

  it('speaks the Streamable HTTP rules on a raw session: JSON replies with a length, 202 for notifications, 406/400/413 refusals', async () => {
    const init = await raw(host.port, { path: `${MCP_PATH}?client=raw`, body: INITIALIZE, headers: auth });
    assert.equal(init.status, 200);
    const sid = init.headers['mcp-session-id'];
    assert.equal(typeof sid, 'string');
    const session = { ...auth, 'mcp-session-id': sid as string, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
    assert.equal((await raw(host.port, { body: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers: session })).status, 202);

    const call = await raw(host.port, { body: { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'check_budget', arguments: {} } }, headers: session });
    assert.equal(call.status, 200);
    assert.match(String(call.headers['content-type']), /^application\/json/);
    assert.equal(call.headers['mcp-session-id'], sid);
    assert.equal(Number(call.headers['content-length']), Buffer.byteLength(call.body));
    const reply = JSON.parse(call.body) as { id: number; result: { structuredContent: { day: unknown } } };
    assert.equal(reply.id, 7);
    assert.ok(reply.result.structuredContent.day);

    const batch = await raw(host.port, { body: [{ jsonrpc: '2.0', id: 8, method: 'tools/list' }, { jsonrpc: '2.0', id: 9, method: 'prompts/list' }], headers: session });
    assert.deepEqual((JSON.parse(batch.body) as Array<{ id: number }>).map((r) => r.id).sort(), [8, 9]);

    const notAcceptable = await raw(host.port, { body: { jsonrpc: '2.0', id: 10, method: 'tools/list' }, headers: { ...session, accept: 'application/json' } });
    assert.equal(notAcceptable.status, 406);
    const badVersion = await raw(host.port, { body: { jsonrpc: '2.0', id: 11, method: 'tools/list' }, headers: { ...session, 'mcp-protocol-version': '1999-01-01' } });
    assert.equal(badVersion.status, 400);
    assert.match(errorMessage(badVersion), /protocol version/);
    const notRpc = await raw(host.port, { body: { hello: 'world' }, headers: session });
    assert.equal(notRpc.status, 400);
    const huge = await raw(host.port, { body: JSON.stringify({ jsonrpc: '2.0', id: 12, method: 'tools/list', params: { pad: 'x'.repeat(4 * 1024 * 1024) } }), headers: session });
    assert.equal(huge.status, 413);
    assert.match(errorMessage(huge), /too large/);
    // Arguments nested 200,000 levels deep (1 MB): a clear refusal, and the server goes on.
    const depth = 200_000;
    const deep = `{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"check_budget","arguments":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;
    const nested = await raw(host.port, { body: deep, headers: session });
    assert.equal(nested.status, 200, nested.body.slice(0, 300));
    assert.match(nested.body, /Unknown argument 'a'/);
    const protoDeep = await raw(host.port, { body: deep.replace('"arguments":{"a":', '"arguments":{"__proto__":1,"a":'), headers: session });
    assert.match(protoDeep.body, /Unknown argument '__proto__'/);
    assert.equal((await raw(host.port, { body: { jsonrpc: '2.0', id: 14, method: 'tools/list' }, headers: session })).status, 200);

    assert.equal((await raw(host.port, { method: 'DELETE', headers: session })).status, 200);
  });

  it('ends a session on DELETE: later requests on it get 404', async () => {
    const n0 = host.sessionCount();
    const { client, transport } = await connectHttp(host);
    const sid = transport.sessionId!;
    assert.equal(host.sessionCount(), n0 + 1);
    await transport.terminateSession();
    assert.equal(host.sessionCount(), n0);
    const after = await raw(host.port, { body: { jsonrpc: '2.0', id: 2, method: 'tools/list' }, headers: { ...auth, 'mcp-session-id': sid, 'mcp-protocol-version': LATEST_PROTOCOL_VERSION } });
    assert.equal(after.status, 404);
    assert.match(errorMessage(after), /Session not found/);
    await client.close();
  });

  /** A session opened with a bare initialize: no GET stream, so it is idle between requests. */
  const rawSession = async (h: HttpHost): Promise<Record<string, string>> => {
    const r = await raw(h.port, { body: INITIALIZE, headers: { authorization: `Bearer ${h.token}` } });
    assert.equal(r.status, 200, r.body);
    return { authorization: `Bearer ${h.token}`, 'mcp-session-id': String(r.headers['mcp-session-id']), 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
  };
  const LIST = { jsonrpc: '2.0', id: 9, method: 'tools/list' };

  it('caps the number of sessions: a new one closes the longest idle one', async () => {
    let clock = 1_000_000;
    const capped = await startHttpHost({ createServer: () => createMcpServer({ core: t.core, via: 'tool' }), maxSessions: 2, now: () => clock });
    try {
      const a = await rawSession(capped);
      clock += 1000;
      const b = await rawSession(capped);
      clock += 1000;
      assert.equal((await raw(capped.port, { body: LIST, headers: a })).status, 200); // a is now the more recently used
      clock += 1000;
      const c = await rawSession(capped);
      assert.equal(capped.sessionCount(), 2);
      assert.equal((await raw(capped.port, { body: LIST, headers: b })).status, 404, 'the longest idle session (b) was closed');
      assert.equal((await raw(capped.port, { body: LIST, headers: a })).status, 200);
      assert.equal((await raw(capped.port, { body: LIST, headers: c })).status, 200);
    } finally {
      await capped.close();
    }
  });

  it('never closes a session whose client is listening: when all are, a new one gets 503 with Retry-After', async () => {
    const capped = await startHttpHost({ createServer: () => createMcpServer({ core: t.core, via: 'tool' }), maxSessions: 2 });
    try {
      // The SDK client keeps a GET stream open for server notifications: its session is in use.
      const a = await connectHttp(capped);
      const b = await connectHttp(capped);
      await waitFor(() => capped.sessionCount() === 2, 'two sessions', { timeoutMs: 2000 });
      const r = await raw(capped.port, { body: INITIALIZE, headers: { authorization: `Bearer ${capped.token}` } });
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '5');
      assert.match(errorMessage(r), /^Too many MCP sessions: all 2 are busy\. Try again in a moment\.$/);
      await callOk(a.client, 'check_budget', {});
      await callOk(b.client, 'check_budget', {});
      await a.client.close();
      await b.client.close();
    } finally {
      await capped.close();
    }
  });

  it('closes sessions idle for longer than the limit; the client then gets 404 and starts anew', async () => {
    let clock = 5_000_000;
    const idle = await startHttpHost({ createServer: () => createMcpServer({ core: t.core, via: 'tool' }), idleMs: 60_000, now: () => clock });
    try {
      const a = await rawSession(idle);
      clock += 30_000;
      const b = await rawSession(idle);
      clock += 40_000; // a: 70 s idle, b: 40 s
      assert.equal(await idle.sweep(), 1);
      assert.equal(idle.sessionCount(), 1);
      const r = await raw(idle.port, { body: LIST, headers: a });
      assert.equal(r.status, 404);
      assert.match(errorMessage(r), /Session not found/);
      assert.equal((await raw(idle.port, { body: LIST, headers: b })).status, 200);
      clock += 59_000;
      assert.equal(await idle.sweep(), 0, 'b was used 59 s ago');
      assert.equal((await raw(idle.port, { body: INITIALIZE, headers: { authorization: `Bearer ${idle.token}` } })).status, 200, 'a new session starts');
    } finally {
      await idle.close();
    }
  });

  it('close() ends open sessions and leaves nothing listening', async () => {
    const h2 = await startTestHost(t.core);
    const { client } = await connectHttp(h2);
    await client.listTools();
    assert.equal(h2.sessionCount(), 1);
    assert.ok(await canConnect(h2.port));
    const started = Date.now();
    await h2.close();
    assert.ok(Date.now() - started < 2000, 'close() waits for open connections');
    assert.equal(h2.sessionCount(), 0);
    assert.equal(await canConnect(h2.port), false, 'port still accepts connections after close()');
    await client.close();
  });

  it('does not keep a finished request per call (SDK issue #2559: JSON-mode stream mappings leak)', async () => {
    const server = new McpServer({ name: 'gated', version: '1' });
    let started = false;
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    server.registerTool('wait', { description: 'waits for the test' }, async () => {
      started = true;
      await gate;
      return { content: [{ type: 'text' as const, text: 'done' }] };
    });
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => 'session-1', enableJsonResponse: true });
    await server.connect(transport);
    const headers = (extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...extra });
    const post = (body: unknown, extra?: Record<string, string>) => transport.handleRequest(new Request('http://127.0.0.1/mcp', { method: 'POST', headers: headers(extra), body: JSON.stringify(body) }));
    assert.equal((await post(INITIALIZE)).status, 200);
    const session = { 'mcp-session-id': 'session-1', 'mcp-protocol-version': LATEST_PROTOCOL_VERSION };
    const mappings = (): number => (transport as unknown as { _streamMapping: Map<string, unknown> })._streamMapping.size;
    for (let i = 0; i < 5; i++) assert.equal((await post({ jsonrpc: '2.0', id: 10 + i, method: 'tools/list' }, session)).status, 200);
    const leaked = mappings();
    assert.ok(leaked >= 5, `the SDK no longer leaks a mapping per request (${leaked} left): the workaround can go`);
    releaseAnsweredJsonStreams(transport);
    assert.equal(mappings(), 0);

    // A request still being answered keeps its mapping, and is answered normally.
    const slow = post({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'wait', arguments: {} } }, session);
    while (!started) await new Promise((r) => setTimeout(r, 1));
    releaseAnsweredJsonStreams(transport);
    assert.equal(mappings(), 1, 'the in-flight request is kept');
    open();
    const reply = await slow;
    assert.equal(reply.status, 200);
    assert.match(await reply.text(), /done/);
    releaseAnsweredJsonStreams(transport);
    assert.equal(mappings(), 0);
    await transport.close();
  });
});
