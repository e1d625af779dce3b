// Where a provider's API is and how a request authenticates: base URLs from settings and the
// environment, endpoint paths, auth headers.
import type { ProviderSpec } from './providers';

/** Turns OLLAMA_HOST ("127.0.0.1:11434", "localhost", "https://h") into a URL, the way Ollama reads it. */
export function normaliseOllamaHost(value: string): string {
  let s = value.trim();
  let scheme = 'http';
  let defaultPort = '11434';
  const sep = s.indexOf('://');
  if (sep >= 0) {
    scheme = s.slice(0, sep).toLowerCase();
    s = s.slice(sep + 3);
    defaultPort = scheme === 'https' ? '443' : '80';
  }
  const slash = s.indexOf('/');
  const path = slash >= 0 ? s.slice(slash).replace(/\/+$/, '') : '';
  const hostport = slash >= 0 ? s.slice(0, slash) : s;
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostport);
  let host = m?.[1] || '127.0.0.1';
  const port = m?.[2] || defaultPort;
  // 0.0.0.0 / [::] are bind-all addresses for the server; a client reaches them on loopback.
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '[::]') host = '[::1]';
  const isDefault = (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443');
  return `${scheme}://${host}${isDefault ? '' : `:${port}`}${path}`;
}

function checkedUrl(value: string, source: string, spec: ProviderSpec): string {
  const trimmed = value.trim().replace(/\/+$/, '');
  let url: URL | undefined;
  try {
    url = new URL(trimmed);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(
      `The ${spec.displayName} base URL from ${source} ("${value}") is not an http(s) URL. ` +
        `Use a full URL such as ${spec.defaultBaseUrl}, or clear it to use the default.`,
    );
  }
  return trimmed;
}

/**
 * The base URL to use: the VS Code setting, then AIKM_<ID>_BASE_URL, then the provider's own host
 * variable (OLLAMA_HOST), then the default. `env` is not read from process.env unless passed.
 */
export function resolveBaseUrl(
  spec: ProviderSpec,
  overrides: { setting?: string; env?: Record<string, string | undefined> } = {},
): string {
  const env = overrides.env ?? {};
  if (overrides.setting?.trim()) return checkedUrl(overrides.setting, `setting ${spec.settingKey}`, spec);
  const fromEnv = env[spec.baseUrlEnv];
  if (fromEnv?.trim()) return checkedUrl(fromEnv, `env ${spec.baseUrlEnv}`, spec);
  const host = spec.hostEnv ? env[spec.hostEnv] : undefined;
  if (spec.hostEnv && host?.trim()) return checkedUrl(normaliseOllamaHost(host), `env ${spec.hostEnv}`, spec);
  return spec.defaultBaseUrl;
}

/** Joins a base URL and an endpoint path, tolerating a base that already ends in the path's /v1. */
export function endpointUrl(baseUrl: string, path: string): string {
  let base = baseUrl.replace(/\/+$/, '');
  const p = path.startsWith('/') ? path : `/${path}`;
  const version = /^\/(v1beta|v1)\//.exec(p)?.[1];
  if (version && base.endsWith(`/${version}`)) base = base.slice(0, -version.length - 1);
  return base + p;
}

/** Headers that authenticate a request (plus the provider's required extras). */
export function authHeaders(spec: ProviderSpec, key: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { ...spec.extraHeaders };
  if (key !== undefined && spec.auth.kind === 'bearer') headers['authorization'] = `Bearer ${key}`;
  if (key !== undefined && spec.auth.kind === 'header') headers[spec.auth.name] = key;
  return headers;
}

