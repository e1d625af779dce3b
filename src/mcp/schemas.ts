// Input schemas of the MCP tools that other surfaces also take (the palette commands validate their
// arguments with these), apart from tools.ts so importing them brings no tool handlers along.
import { z } from 'zod';
import { TASK_TYPES } from '../core/types';
import { findProvider, providerIds } from '../core/providers';

const ids = providerIds();
export const provider = z
  .string()
  .min(1)
  .refine((p) => findProvider(p) !== undefined, {
    message: `provider must be one of: ${ids.join(', ')}`,
  })
  .describe(`Provider id: ${ids.join(', ')}`);
export const taskType = z.enum(TASK_TYPES).describe(`Task type: ${TASK_TYPES.join(', ')}`);
export const tokens = (what: string) => z.number().int().min(0).max(100_000_000).describe(what);
export const keyId = z.string().min(1).max(100).describe('Key id from list_api_keys (needed when a provider has several keys)');
export const isoDate = z.string().max(40).describe('ISO 8601 date, e.g. 2027-01-31');

export const addApiKeyInput = {
  provider,
  api_key: z.string().min(1).max(500).optional().describe('The key itself (avoid: prefer the password box or env_var)'),
  env_var: z.string().min(1).max(100).optional().describe('Name of an environment variable holding the key'),
  label: z.string().max(60).optional().describe('A name for this key, e.g. "work"'),
  expires_at: isoDate.optional(),
};

export const removeApiKeyInput = { provider, key_id: keyId.optional() };

export const rotateKeyInput = {
  provider,
  new_key: z.string().min(1).max(500).optional().describe('The new key (avoid: prefer the password box or env_var)'),
  env_var: z.string().min(1).max(100).optional().describe('Environment variable holding the new key'),
  key_id: keyId.optional(),
};

export const trackRequestInput = {
  provider,
  model: z.string().min(1).max(200),
  input_tokens: tokens('Input tokens not read from cache'),
  output_tokens: tokens('Output tokens'),
  success: z.boolean().optional(),
  latency_ms: z.number().min(0).max(3_600_000).optional(),
  cache_read_tokens: tokens('Input tokens read from cache').optional(),
  cache_write_tokens: tokens('Input tokens written to cache').optional(),
  task_type: taskType.optional(),
  error: z.string().max(500).optional().describe('Error message when success is false'),
};

export const setBudgetInput = {
  daily: z.number().min(0).max(1_000_000).optional().describe('USD in whole cents; 0 = no limit. Raising or removing a limit needs the user'),
  monthly: z.number().min(0).max(10_000_000).optional().describe('USD in whole cents; 0 = no limit. Raising or removing a limit needs the user'),
  alert_threshold: z.number().gt(0).max(1).optional(),
  enforce: z.boolean().optional(),
};
