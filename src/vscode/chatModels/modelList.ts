// Which of a provider's models chat: from its live model list, or the catalog's defaults.
import type { ProviderSpec } from '../../core/providers';

/** Listed models that do not chat. */
const NOT_CHAT = /embed|tts|whisper|dall-e|davinci|babbage|moderation|audio|realtime|transcribe|image|imagen|veo|aqa|search|guard/i;

/** Model ids in a provider's list that chat (embedding, speech, image and moderation models left out). */
export function chatModelIds(body: unknown, field: 'data' | 'models'): string[] {
  const list = body && typeof body === 'object' ? (body as Record<string, unknown>)[field] : undefined;
  if (!Array.isArray(list)) return [];
  const out: string[] = [];
  for (const m of list) {
    if (!m || typeof m !== 'object') continue;
    const r = m as { id?: unknown; name?: unknown; supportedGenerationMethods?: unknown };
    const id = typeof r.id === 'string' ? r.id : typeof r.name === 'string' ? r.name.replace(/^models\//, '') : undefined;
    if (!id || NOT_CHAT.test(id)) continue;
    if (Array.isArray(r.supportedGenerationMethods) && !r.supportedGenerationMethods.includes('generateContent')) continue;
    out.push(id);
  }
  return out;
}

/** The catalog's chat models of a provider (every task but embeddings), best first. */
export function catalogModels(spec: ProviderSpec): string[] {
  const seen = new Set<string>();
  for (const [task, models] of Object.entries(spec.models)) if (task !== 'embeddings') for (const m of models ?? []) seen.add(m);
  return [...seen];
}

