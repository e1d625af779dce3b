// Which provider a gateway path goes to: /<prefix>/<the provider's own path>. The rest of the path
// and the query go upstream unchanged, to the provider's base URL (settings and AIKM_<ID>_BASE_URL apply).
import { getProvider, type ProviderSpec } from '../core/providers';

/** Path prefix → provider id. The prefix is what a client's base URL ends with (e.g. /openai/v1). */
export const ROUTE_PREFIXES: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'google',
  ollama: 'local',
  openrouter: 'openrouter',
  groq: 'groq',
  mistral: 'mistral',
  deepseek: 'deepseek',
};

export interface Route {
  provider: ProviderSpec;
  /** The provider's own path, e.g. /v1/chat/completions. */
  path: string;
}

export function routeOf(pathname: string): Route | undefined {
  const m = /^\/([a-z]+)(\/.*)?$/.exec(pathname);
  const id = m ? ROUTE_PREFIXES[m[1]] : undefined;
  if (!m || !id) return undefined;
  return { provider: getProvider(id), path: m[2] ?? '/' };
}

/** The base URLs a client is given, e.g. for the 404 of an unknown path. */
export function baseUrlsText(origin: string): string {
  const v1 = new Set(['openai', 'openrouter', 'groq', 'mistral', 'deepseek']);
  return Object.keys(ROUTE_PREFIXES)
    .map((p) => `${origin}/${p}${v1.has(p) ? '/v1' : ''}`)
    .concat(`${origin}/v1 (the router: any provider in OpenAI's format)`)
    .join(', ');
}
