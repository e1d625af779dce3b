// Serves MCP over Streamable HTTP on 127.0.0.1 for the extension: random port, stateful sessions,
// a bearer token compared in constant time, and Host/Origin checks against DNS rebinding.
import * as http from 'node:http';
import { randomBytes, randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
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
}

export interface HttpHost {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  sessionCount(): number;
  close(): Promise<void>;
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison that does not leak the token's length either. */
function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function reject(res: http.ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw Object.assign(new Error('Request body too large'), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw Object.assign(new Error('Body is not valid JSON'), { status: 400 });
  }
}

export async function startHttpHost(opts: HttpHostOptions): Promise<HttpHost> {
  const token = opts.token ?? newToken();
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; built: BuiltServer }>();
  let port = 0;

  const server = http.createServer(async (req, res) => {
    try {
      const host = req.headers.host ?? '';
      if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return reject(res, 403, 'Forbidden: unexpected Host header.');
      const origin = req.headers.origin;
      if (origin && !/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(origin) && !origin.startsWith('vscode-')) {
        return reject(res, 403, 'Forbidden: cross-origin request.');
      }
      const url = new URL(req.url ?? '/', `http://${host}`);
      if (url.pathname !== MCP_PATH) return reject(res, 404, `Not found. The MCP endpoint is ${MCP_PATH}.`);
      const auth = req.headers.authorization ?? '';
      const given = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!given || !tokenMatches(given, token)) {
        return reject(res, 401, 'Unauthorized: missing or wrong bearer token.', { 'www-authenticate': 'Bearer realm="ai-key-manager"' });
      }

      const sessionId = req.headers['mcp-session-id'];
      const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (req.method === 'POST') {
        const body = await readJson(req);
        if (existing) return await existing.transport.handleRequest(req, res, body);
        if (sessionId) return reject(res, 404, 'Session not found; start a new session with initialize.');
        if (!isInitializeRequest(body)) return reject(res, 400, 'Bad request: no session; the first request must be initialize.');
        const built = opts.createServer();
        const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: true,
          onsessioninitialized: (id) => {
            sessions.set(id, { transport, built });
          },
        });
        transport.onclose = () => {
          if (transport.sessionId) sessions.delete(transport.sessionId);
          built.dispose();
        };
        await built.server.connect(transport);
        return await transport.handleRequest(req, res, body);
      }
      if (req.method === 'GET' || req.method === 'DELETE') {
        if (!existing) return reject(res, sessionId ? 404 : 400, sessionId ? 'Session not found.' : 'Bad request: mcp-session-id header required.');
        return await existing.transport.handleRequest(req, res);
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

  return {
    url: `http://127.0.0.1:${port}${MCP_PATH}`,
    port,
    token,
    sessionCount: () => sessions.size,
    close: async () => {
      for (const { transport } of [...sessions.values()]) await transport.close().catch(() => undefined);
      sessions.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
