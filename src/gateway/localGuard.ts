// What every local HTTP server of the extension checks first (the MCP host and the gateway): the
// request is for 127.0.0.1 / localhost on our port (against DNS rebinding), comes from no foreign web
// origin, and carries the token, compared in constant time without leaking its length.
import type { IncomingHttpHeaders } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Why a request to our local server on `port` is refused (403), or undefined when it may go on. */
export function foreignRequest(headers: IncomingHttpHeaders, port: number): string | undefined {
  const host = headers.host ?? '';
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return 'Forbidden: unexpected Host header.';
  const origin = headers.origin;
  if (origin && !/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(origin) && !origin.startsWith('vscode-')) return 'Forbidden: cross-origin request.';
  return undefined;
}

/** A fresh 256-bit token. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** A check of a presented token against `token`, in constant time over a digest. */
export function tokenChecker(token: string): (given: string | undefined) => boolean {
  const expected = sha256(token);
  return (given) => given !== undefined && given !== '' && timingSafeEqual(sha256(given), expected);
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Gateway tokens are at least this long (256 bits as base64url are 43 characters). */
export const MIN_GATEWAY_TOKEN_LENGTH = 32;
/** Where the gateway listens unless told otherwise (VS Code setting, CLI --port). */
export const DEFAULT_GATEWAY_PORT = 8787;

/** A fresh gateway token, recognisable as one (never a provider key). */
export function newGatewayToken(): string {
  return `aikm-gw-${newToken()}`;
}
