// Live key validation: one free request (a models list or key-info GET) per check. Never a paid call.
import type { ProviderSpec } from './providers';
import { authHeaders, endpointUrl } from './endpoints';

export type LiveOutcome = 'valid' | 'invalid' | 'rate_limited' | 'unreachable';

/** Why a check could not reach a verdict on the key ('unreachable' outcomes only). */
export type UnreachableReason = 'no_network' | 'dns' | 'refused' | 'reset' | 'timeout' | 'tls' | 'bad_url' | 'redirect' | 'server_error' | 'unexpected_status' | 'network';

export interface LiveValidationResult {
  outcome: LiveOutcome;
  /** Set with outcome 'unreachable'. */
  reason?: UnreachableReason;
  httpStatus?: number;
  latencyMs: number;
  retryAfterSeconds?: number;
  message: string;
  modelsAvailable?: number;
}

export interface LiveValidationOptions {
  baseUrl: string;
  /** Default 8000. */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** Milliseconds clock, for latency and HTTP-date Retry-After. Default Date.now. */
  now?: () => number;
}

export const DEFAULT_VALIDATION_TIMEOUT_MS = 8000;

/** Seconds to wait from a Retry-After header (delta-seconds or HTTP date); undefined if absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v));
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function networkFailure(err: unknown, host: string): { reason: UnreachableReason; message: string } {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return { reason: 'refused', message: `Connection refused by ${host}. Is the server running and the base URL right?` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { reason: 'dns', message: `DNS lookup failed for ${host}. Check the base URL and your network connection.` };
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'ENETDOWN':
      return { reason: 'no_network', message: `No network route to ${host} (${code}). Check that you are online.` };
    case 'ECONNRESET':
      return { reason: 'reset', message: `Connection to ${host} was reset. Try again; check any proxy or firewall.` };
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { reason: 'timeout', message: `Connecting to ${host} timed out. Check your network connection.` };
    default:
      if (code?.startsWith('CERT_') || code?.includes('CERT') || code?.includes('TLS')) {
        return { reason: 'tls', message: `TLS certificate problem talking to ${host} (${code}). Check the base URL and any proxy.` };
      }
      return { reason: 'network', message: `Could not reach ${host}${code ? ` (${code})` : ''}. Check the base URL and your network connection.` };
  }
}

function countModels(body: unknown, field: 'data' | 'models' | undefined): number | undefined {
  if (!field || !body || typeof body !== 'object') return undefined;
  const list = (body as Record<string, unknown>)[field];
  return Array.isArray(list) ? list.length : undefined;
}

/**
 * Checks a key with the provider's free validation request and classifies the answer. An
 * 'unreachable' result says why, and that the key itself was not judged.
 */
export async function validateKeyLive(spec: ProviderSpec, key: string | undefined, opts: LiveValidationOptions): Promise<LiveValidationResult> {
  return notJudged(spec, await liveCheck(spec, key, opts));
}

/** An 'unreachable' result for a keyed provider, saying that the key itself was not judged. */
export function notJudged(spec: ProviderSpec, r: LiveValidationResult): LiveValidationResult {
  if (r.outcome !== 'unreachable' || !spec.requiresKey) return r;
  return { ...r, message: `${r.message} The key itself was not checked: it may be fine.` };
}

async function liveCheck(spec: ProviderSpec, key: string | undefined, opts: LiveValidationOptions): Promise<LiveValidationResult> {
  const now = opts.now ?? Date.now;
  const doFetch = opts.fetchImpl ?? fetch;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_VALIDATION_TIMEOUT_MS;
  const name = spec.displayName;

  if (spec.requiresKey && !key) {
    return {
      outcome: 'invalid',
      latencyMs: 0,
      message: `No ${name} key to check. Add one with 'AI Keys: Add API Key' or set ${spec.envVars.join(' or ')}.`,
    };
  }

  const url = endpointUrl(opts.baseUrl, spec.validation.path);
  let host: string;
  try {
    host = new URL(url).host;
  } catch {
    return { outcome: 'unreachable', reason: 'bad_url', latencyMs: 0, message: `The ${name} base URL is not a valid URL. Fix the base URL setting.` };
  }

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = now();
  const elapsed = (): number => Math.max(0, now() - started);
  try {
    const res = await doFetch(url, {
      method: spec.validation.method,
      headers: { accept: 'application/json', ...authHeaders(spec, spec.requiresKey ? key : undefined) },
      // A redirect could carry the key header to another host; report it instead of following.
      redirect: 'manual',
      signal: controller.signal,
    });
    const text = await res.text();
    const latencyMs = elapsed();
    const status = res.status;

    if (status >= 200 && status < 300) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const modelsAvailable = countModels(body, spec.validation.modelsField);
      const what = spec.requiresKey ? `${name} key is valid` : `${name} is running at ${host}`;
      return {
        outcome: 'valid',
        httpStatus: status,
        latencyMs,
        message: modelsAvailable === undefined ? `${what}.` : `${what}; ${modelsAvailable} models available.`,
        ...(modelsAvailable === undefined ? {} : { modelsAvailable }),
      };
    }
    if (status === 401 || status === 403 || (status === 400 && spec.validation.invalidKeyBody?.test(text))) {
      return {
        outcome: 'invalid',
        httpStatus: status,
        latencyMs,
        message: `${name} rejected the key (HTTP ${status}). It may be revoked, expired or mistyped; replace it with a current key.`,
      };
    }
    if (status === 429) {
      const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'), now());
      const quota = /insufficient_quota|exceeded your current quota|billing/i.test(text);
      const wait = retryAfterSeconds === undefined ? 'Try again later.' : `Retry after ${retryAfterSeconds} s.`;
      return {
        outcome: 'rate_limited',
        httpStatus: status,
        latencyMs,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        message: quota
          ? `${name} accepted the key but the account is out of quota (HTTP 429). Check billing at the provider.`
          : `${name} is rate-limiting this key (HTTP 429). ${wait}`,
      };
    }
    if (status >= 300 && status < 400) {
      const to = res.headers.get('location');
      let toHost = 'another address';
      try {
        if (to) toHost = new URL(to, url).host;
      } catch {
        // keep the generic wording
      }
      return {
        outcome: 'unreachable',
        reason: 'redirect',
        httpStatus: status,
        latencyMs,
        message: `${host} redirected the check to ${toHost} (HTTP ${status}). Set the ${name} base URL to the final address.`,
      };
    }
    if (status >= 500) {
      return {
        outcome: 'unreachable',
        reason: 'server_error',
        httpStatus: status,
        latencyMs,
        message: `${host} answered HTTP ${status}; ${name} may be having problems. Try again later.`,
      };
    }
    return {
      outcome: 'unreachable',
      reason: 'unexpected_status',
      httpStatus: status,
      latencyMs,
      message: `${host} answered HTTP ${status} to ${spec.validation.path}, so the key could not be checked. Check the ${name} base URL.`,
    };
  } catch (err) {
    const latencyMs = elapsed();
    if (controller.signal.aborted) {
      return {
        outcome: 'unreachable',
        reason: 'timeout',
        latencyMs,
        message: `Timed out after ${timeoutMs} ms waiting for ${host}. Check your network or try again.`,
      };
    }
    return { outcome: 'unreachable', latencyMs, ...networkFailure(err, host) };
  } finally {
    clearTimeout(timer);
  }
}
