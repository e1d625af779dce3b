// Serves MCP over Streamable HTTP on 127.0.0.1 for the extension: random port, stateful sessions,
// a bearer token compared in constant time, and Host/Origin checks against DNS rebinding.
import * as http from 'node:http';
import { randomUUID } from 'node:crypto';
import { foreignRequest, newToken, tokenChecker } from '../gateway/localGuard';
import type { AddressInfo } from 'node:net';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { BuiltServer } from './server';

export const MCP_PATH = '/mcp';
const MAX_BODY = 4 * 1024 * 1024;

export interface HttpHostOptions {
  /** Builds a fresh MCP server per session. */
  createServer: () => BuiltServer;
  port?: number;
  token?: string;
  log?: (message: string) => void;
  /** Sessions kept at once (default MAX_SESSIONS); a new one beyond it closes the longest idle. */
  maxSessions?: number;
  /** A session unused this long is closed (default SESSION_IDLE_MS); its client starts a new one. */
  idleMs?: number;
  /** Milliseconds clock (default Date.now), for tests. */
  now?: () => number;
}

/** Each session holds a server and a transport (about 100 KB): enough for many windows and agents. */
export const MAX_SESSIONS = 100;
export const SESSION_IDLE_MS = 30 * 60_000;

export interface HttpHost {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  sessionCount(): number;
  /** Closes sessions idle for longer than the limit now (the host also does it every minute). */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

function reject(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  // Plain stream events: an async iterator costs a promise and a buffer copy per chunk.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY) {
        failed = true;
        reject(Object.assign(new Error(`Request body too large (limit ${MAX_BODY} bytes).`), { status: 413 }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
      failed = true;
    });
    req.on('end', () => {
      if (failed) return;
      const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8');
      if (!text) return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(Object.assign(new Error('Body is not valid JSON.'), { status: 400 }));
      }
    });
  });
}

/**
 * Works around modelcontextprotocol/typescript-sdk#2559 (1.x, still in 1.32): in JSON response
 * mode the transport never drops a finished POST's stream mapping, which keeps that request's
 * Response alive, so a session's memory grows with every call (~6 KB each here) and the garbage
 * collector's pauses grow with it. Drops the mappings whose requests are all answered. Reads
 * private fields, checked first: if the SDK changes them this does nothing.
 */
export function releaseAnsweredJsonStreams(transport: WebStandardStreamableHTTPServerTransport): void {
  const t = transport as unknown as { _streamMapping?: unknown; _requestToStreamMapping?: unknown };
  const streams = t._streamMapping;
  const requests = t._requestToStreamMapping;
  if (!(streams instanceof Map) || !(requests instanceof Map) || streams.size === 0) return;
  const waiting = new Set<unknown>(requests.values());
  for (const [id, stream] of streams as Map<unknown, { resolveJson?: unknown }>) {
    if (typeof stream?.resolveJson === 'function' && !waiting.has(id)) streams.delete(id);
  }
}

/** The Web Request the SDK transport reads: method, URL and headers (the body is passed parsed). */
function toWebRequest(req: http.IncomingMessage, url: string): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  return new Request(url, { method: req.method, headers });
}

/** Writes the SDK's Web Response: JSON bodies in one write, event streams as they come. */
async function sendWebResponse(response: Response, res: http.ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const body = response.body;
  if (!body) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  if (!(headers['content-type'] ?? '').startsWith('text/event-stream')) {
    const text = await response.text(); // about half the cost of arrayBuffer() for undici's Response
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(response.status, headers);
    res.end(text);
    return;
  }
  res.writeHead(response.status, headers);
  res.flushHeaders();
  const reader = body.getReader();
  res.on('close', () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } finally {
    res.end();
  }
}

export async function startHttpHost(opts: HttpHostOptions): Promise<HttpHost> {
  const token = opts.token ?? newToken();
  const tokenOk = tokenChecker(token);
  type Session = { transport: WebStandardStreamableHTTPServerTransport; built: BuiltServer; lastUsed: number; busy: number };
  const sessions = new Map<string, Session>();
  const now = opts.now ?? Date.now;
  const maxSessions = Math.max(1, opts.maxSessions ?? MAX_SESSIONS);
  const idleMs = opts.idleMs ?? SESSION_IDLE_MS;
  let port = 0;
  /** Runs a request on a session, which counts as busy (never closed for idleness) meanwhile. */
  const using = async <T>(session: Session, f: () => Promise<T>): Promise<T> => {
    session.busy++;
    session.lastUsed = now();
    try {
      return await f();
    } finally {
      session.busy--;
      session.lastUsed = now();
    }
  };
  const closeSession = async (id: string, why: string): Promise<void> => {
    const s = sessions.get(id);
    if (!s) return;
    sessions.delete(id);
    opts.log?.(`MCP session closed: ${why}`);
    await s.transport.close().catch(() => undefined);
  };
  const sweep = async (): Promise<number> => {
    const stale = [...sessions].filter(([, s]) => s.busy === 0 && now() - s.lastUsed > idleMs);
    for (const [id] of stale) await closeSession(id, `idle for more than ${Math.round(idleMs / 60_000)} min`);
    return stale.length;
  };
  /** Room for one more session: the longest idle goes when the limit is reached; false if all are busy. */
  const makeRoom = async (): Promise<boolean> => {
    if (sessions.size < maxSessions) return true;
    const idle = [...sessions].filter(([, s]) => s.busy === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0];
    if (!idle) return false;
    await closeSession(idle[0], `the limit of ${maxSessions} sessions was reached`);
    return true;
  };

  const server = http.createServer(async (req, res) => {
    try {
      const foreign = foreignRequest(req.headers, port);
      if (foreign) return reject(res, 403, foreign);
      const host = req.headers.host ?? '';
      const path = req.url ?? '/';
      const query = path.indexOf('?');
      if ((query < 0 ? path : path.slice(0, query)) !== MCP_PATH) return reject(res, 404, `Not found. The MCP endpoint is ${MCP_PATH}.`);
      const auth = req.headers.authorization ?? '';
      const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!tokenOk(given)) {
        return reject(res, 401, 'Unauthorized: missing or wrong bearer token.', { 'www-authenticate': 'Bearer realm="ai-key-manager"' });
      }

      const sessionId = req.headers['mcp-session-id'];
      const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      const url = `http://${host}${path}`;
      if (req.method === 'POST') {
        const body = await readJson(req);
        if (existing) {
          return await using(existing, async () => {
            const response = await existing.transport.handleRequest(toWebRequest(req, url), { parsedBody: body });
            releaseAnsweredJsonStreams(existing.transport);
            await sendWebResponse(response, res);
          });
        }
        if (sessionId) return reject(res, 404, 'Session not found; start a new session with initialize.');
        if (!isInitializeRequest(body)) return reject(res, 400, 'Bad request: no session; the first request must be initialize.');
        if (!(await makeRoom())) return reject(res, 503, `Too many MCP sessions: all ${maxSessions} are busy. Try again in a moment.`, { 'retry-after': '5' });
        const built = opts.createServer();
        const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: true,
          onsessioninitialized: (id) => {
            sessions.set(id, { transport, built, lastUsed: now(), busy: 0 });
          },
        });
        transport.onclose = () => {
          if (transport.sessionId) sessions.delete(transport.sessionId);
          built.dispose();
        };
        await built.connect(transport);
        const response = await transport.handleRequest(toWebRequest(req, url), { parsedBody: body });
        releaseAnsweredJsonStreams(transport);
        return await sendWebResponse(response, res);
      }
      if (req.method === 'GET' || req.method === 'DELETE') {
        if (!existing) return reject(res, sessionId ? 404 : 400, sessionId ? 'Session not found.' : 'Bad request: mcp-session-id header required.');
        // An open GET stream keeps its session busy, so it is never closed under a listening client.
        return await using(existing, async () => sendWebResponse(await existing.transport.handleRequest(toWebRequest(req, url)), res));
      }
      return reject(res, 405, 'Method not allowed.', { allow: 'GET, POST, DELETE' });
    } catch (err) {
      const status = (err as { status?: number }).status ?? 500;
      opts.log?.(`MCP HTTP error: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) reject(res, status, err instanceof Error ? err.message : 'Internal error');
      else res.end();
    }
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject_) => {
    server.once('error', reject_);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  opts.log?.(`MCP server listening on http://127.0.0.1:${port}${MCP_PATH}`);
  const sweeper = setInterval(() => void sweep(), Math.min(60_000, Math.max(1_000, idleMs / 2)));
  sweeper.unref();

  return {
    url: `http://127.0.0.1:${port}${MCP_PATH}`,
    port,
    token,
    sessionCount: () => sessions.size,
    sweep,
    close: async () => {
      clearInterval(sweeper);
      for (const { transport } of [...sessions.values()]) await transport.close().catch(() => undefined);
      sessions.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
