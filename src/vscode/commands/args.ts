// Arguments of the palette commands (for scripts, tests and chat buttons), validated with the MCP
// tools' own input schemas where a tool takes the same thing, so both surfaces accept the same values.
import type { z } from 'zod';
import type * as McpSchemas from '../../mcp/schemas';

/** What the schemas are built from: zod and the MCP input schemas, both loaded with dist/mcp.js on first use. */
export interface SchemaKit {
  z: typeof z;
  schemas: typeof McpSchemas;
}

const KEY_ACTIONS = ['validate', 'rotate', 'remove'] as const;

/** The schema of each command's arguments. */
export function argSchemas({ z, schemas }: SchemaKit) {
  const { addApiKeyInput: add, removeApiKeyInput: remove, rotateKeyInput: rotate, setBudgetInput: budget, trackRequestInput: track, keyId } = schemas;
  const flag = z.boolean().optional();
  const rotateKeyArgs = z.object({
    provider: rotate.provider.optional(),
    keyId: rotate.key_id,
    newKey: rotate.new_key,
    envVar: rotate.env_var,
    /** When the pasted key turns out to be another provider's, it is added instead: validate it then. */
    validate: flag,
  });
  return {
    addKeyArgs: z.object({
      provider: add.provider.optional(),
      apiKey: add.api_key,
      envVar: add.env_var,
      label: add.label,
      expiresAt: add.expires_at,
      validate: flag,
    }),
    removeKeyArgs: z.object({ provider: remove.provider.optional(), keyId: remove.key_id, confirm: flag }),
    rotateKeyArgs,
    validateAllKeysArgs: z.object({}),
    /** List Keys passes its arguments on to Rotate or Remove for the key picked. */
    listKeysArgs: rotateKeyArgs.extend({ confirm: flag, pick: flag, action: z.enum(KEY_ACTIONS).optional() }),
    setBudgetArgs: z.object({
      daily: budget.daily,
      monthly: budget.monthly,
      alertThreshold: budget.alert_threshold,
      enforce: budget.enforce,
    }),
    recordUsageArgs: z.object({
      provider: track.provider.optional(),
      model: track.model.optional(),
      inputTokens: track.input_tokens.optional(),
      outputTokens: track.output_tokens.optional(),
      cacheReadTokens: track.cache_read_tokens,
      cacheWriteTokens: track.cache_write_tokens,
      success: track.success,
      latencyMs: track.latency_ms,
      taskType: track.task_type,
    }),
    exportUsageArgs: z.object({
      format: z
        .string()
        .transform((s) => s.toLowerCase())
        .pipe(z.enum(['csv', 'json']))
        .optional(),
      /** A file path (absolute, or relative to the first workspace folder) or a URI. */
      uri: z.string().optional(),
    }),
    resetUsageArgs: z.object({ confirm: flag }),
    scanForLeakedKeysArgs: z.object({ autoFix: flag, dryRun: flag }),
    restoreMovedKeyArgs: z.object({ file: z.string().optional(), keyId: keyId.optional(), confirm: flag }),
  };
}

export type ArgSchemas = ReturnType<typeof argSchemas>;
/** The checked arguments of the command whose schema is `N`. */
export type Args<N extends keyof ArgSchemas> = z.output<ArgSchemas[N]>;

/** Arguments whose values are secrets: an error about them never repeats the value. */
const SECRET_ARGS = new Set(['apiKey', 'newKey']);

type Issue = z.ZodError['issues'][number];

/**
 * The arguments a command was called with. A palette or menu invocation may pass nothing, a URI or
 * a tree item: only a plain object counts as arguments. As before, null and empty or blank text
 * count as not given, and text is trimmed.
 */
export function givenArgs(raw: unknown): Record<string, unknown> {
  const given = raw !== null && typeof raw === 'object' && Object.getPrototypeOf(raw) === Object.prototype ? (raw as Record<string, unknown>) : {};
  // fromEntries defines own properties: an argument named __proto__ is only an unknown argument.
  return Object.fromEntries(
    Object.entries(given)
      .map(([k, v]) => [k, typeof v === 'string' ? v.trim() : v] as const)
      .filter(([, v]) => v !== null && v !== ''),
  );
}

/** The arguments, checked against the command's schema; an Error naming each bad one otherwise. */
export function parseArgs<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const args = givenArgs(raw);
  const r = schema.safeParse(args);
  if (r.success) return r.data;
  throw new Error(r.error.issues.map((i) => issueText(i, args)).join(' '));
}

/** One problem as a sentence naming the argument and what it must be, e.g. "inputTokens must be a whole number (got 1.5)." */
function issueText(issue: Issue, args: Record<string, unknown>): string {
  const name = issue.path.map(String).join('.') || 'the argument';
  const value = issue.path.length ? args[String(issue.path[0])] : args;
  const shown = JSON.stringify(value);
  const got = value === undefined || SECRET_ARGS.has(name) ? '' : ` (got ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown})`;
  return `${name} ${expected(issue, name)}${got}.`;
}

function expected(issue: Issue, name: string): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return 'must be a whole number';
      if (issue.expected === 'boolean') return 'must be true or false';
      if (issue.expected === 'string') return 'must be text';
      return `must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters long`;
      return issue.inclusive ? `must be ${num(issue.minimum)} or more` : `must be more than ${num(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters long`;
      return issue.inclusive ? `must be ${num(issue.maximum)} or less` : `must be less than ${num(issue.maximum)}`;
    case 'invalid_value':
      return `must be ${orList(issue.values.map((v) => `'${String(v)}'`))}`;
    default:
      // A schema's own message (e.g. provider's refine) already names the argument.
      return issue.message.startsWith(`${name} `) ? issue.message.slice(name.length + 1) : `is not valid: ${issue.message}`;
  }
}

/** "a", "a or b", "a, b or c". */
function orList(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

const num = (n: number | bigint): string => n.toLocaleString('en-US');
