// Builds an MCP server (tools, resources, prompts) over the core. Host-agnostic: the extension serves
// it over Streamable HTTP, the CLI over stdio.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';
import type { ChangeKind } from '../core/service';
import { VERSION } from '../core/version';
import { maskKeyShapes } from '../core/redact';
import { TOOLS, type ToolContext } from './tools';
import { RESOURCES } from './resources';
import { PROMPTS } from './prompts';

export const SERVER_NAME = 'ai-key-manager';
export const SERVER_VERSION = VERSION;

/** Which resources change with which kind of core change. */
const AFFECTS: Record<ChangeKind, string[]> = {
  keys: ['api://providers', 'api://routing'],
  usage: ['api://usage', 'api://routing'],
  settings: ['api://providers', 'api://usage', 'api://routing'],
};

export interface BuiltServer {
  server: McpServer;
  /** Connects the server to a transport, refusing arguments named __proto__ on the way in. */
  connect(transport: Transport): Promise<void>;
  /** Stops listening to core changes. */
  dispose(): void;
}

export function createMcpServer(ctx: ToolContext): BuiltServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION, title: 'AI Key Manager' },
    {
      capabilities: { resources: { subscribe: true, listChanged: true }, tools: {}, prompts: {} },
      instructions:
        'Manages AI provider API keys (stored only in secure storage, shown masked), routes tasks to a provider and model, tracks usage and cost, and checks budgets. Never ask the user to paste a key into chat: call add_api_key or rotate_key without the key and the user is asked privately.',
    },
  );

  /**
   * Masks stored secrets (cached in the key pool until a key changes, so no vault read per reply) and
   * any key-shaped token (a key the server never stored, e.g. pasted into a track_request error or a
   * prompt argument) in every string of a reply, object keys included.
   */
  const scrub = async <T>(value: T): Promise<T> => {
    return redactStrings(value, await ctx.core.textMasker()) as T;
  };

  for (const t of TOOLS) {
    server.registerTool(
      t.name,
      {
        title: t.title,
        description: t.description,
        inputSchema: strictInput(t.name, t.input),
        outputSchema: t.output,
        annotations: { title: t.title, readOnlyHint: t.readOnly, destructiveHint: t.destructive ?? false, openWorldHint: t.openWorld ?? false, idempotentHint: t.readOnly },
      },
      // Each entry's handler is typed against its own schema; the table loses that link.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      async (args: any) => {
        let reply: { structured: Record<string, unknown>; text: string };
        try {
          reply = await (t.handler as (a: unknown, c: ToolContext) => Promise<{ structured: Record<string, unknown>; text: string }>)(args, ctx);
        } catch (err) {
          // Error messages may echo an argument (e.g. a key pasted as env_var): mask known and key-shaped secrets.
          // No `cause`: the original error holds the unmasked message.
          // eslint-disable-next-line preserve-caught-error
          throw new Error(await scrub(err instanceof Error ? err.message : String(err)));
        }
        const safe = await scrub(reply);
        return { content: [{ type: 'text' as const, text: safe.text }], structuredContent: safe.structured };
      },
    );
  }

  for (const r of RESOURCES) {
    server.registerResource(r.name, r.uri, { title: r.title, description: r.description, mimeType: 'application/json' }, async (uri) => ({
      // Scrubbed before serializing, so no key hides behind a JSON escape.
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await scrub(r.read(ctx.core)), null, 2) }],
    }));
  }

  for (const p of PROMPTS) {
    server.registerPrompt(p.name, { title: p.title, description: p.description, argsSchema: p.args }, async (args: Record<string, string | undefined>) => ({
      description: p.description,
      messages: [{ role: 'user' as const, content: { type: 'text' as const, text: await scrub(p.render(ctx.core, args)) } }],
    }));
  }

  const subscribed = new Set<string>();
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    if (!RESOURCES.some((r) => r.uri === req.params.uri)) throw new Error(`Unknown resource ${maskKeyShapes(req.params.uri)}. Resources: ${RESOURCES.map((r) => r.uri).join(', ')}.`);
    subscribed.add(req.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscribed.delete(req.params.uri);
    return {};
  });
  const off = ctx.core.onDidChange((kind) => {
    if (!server.isConnected()) return;
    for (const uri of AFFECTS[kind]) {
      if (subscribed.has(uri)) void server.server.sendResourceUpdated({ uri }).catch(() => undefined);
    }
  });
  const connect = async (transport: Transport): Promise<void> => {
    await server.connect(transport);
    guardArgumentNames(transport);
  };
  return { server, connect, dispose: off };
}

/**
 * The SDK copies tool arguments into a new object by assignment, so an argument named __proto__
 * (an own key after JSON.parse) becomes that object's prototype: silently dropped, or its fields
 * read as arguments. Such a call is answered here, before the SDK sees it, as any other unknown
 * argument is.
 */
function guardArgumentNames(transport: Transport): void {
  const inner = transport.onmessage;
  if (!inner) return;
  transport.onmessage = (message, extra) => {
    const m = message as { id?: string | number; method?: string; params?: { name?: unknown; arguments?: unknown } };
    if (m.id !== undefined && (m.method === 'tools/call' || m.method === 'prompts/get') && hasProtoKey(m.params?.arguments)) {
      const name = typeof m.params?.name === 'string' ? maskKeyShapes(m.params.name) : 'this tool';
      const takes = TOOLS.find((t) => t.name === name)?.input;
      const text = `Unknown argument '__proto__': ${name} takes${takes ? (Object.keys(takes).length ? `: ${Object.keys(takes).join(', ')}` : ' no arguments') : ' named arguments only'}. Nothing was done.`;
      const reply: JSONRPCMessage =
        m.method === 'tools/call'
          ? { jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text }], isError: true } }
          : { jsonrpc: '2.0', id: m.id, error: { code: -32602, message: text } };
      void transport.send(reply, { relatedRequestId: m.id }).catch(() => undefined);
      return;
    }
    inner(message, extra);
  };
}

/** Iterative: arguments nested a million levels deep must not overflow the stack here. */
function hasProtoKey(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push(child);
  }
  return false;
}

/**
 * A tool's input schema that refuses unknown arguments (zod's default would drop them silently, so
 * e.g. validate_all_keys {extra: 1} still made its network calls). The message names the unknown
 * keys, masked in case one is a pasted key, and the arguments the tool takes.
 */
export function strictInput(tool: string, shape: z.ZodRawShape) {
  const takes = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      const keys = issue.keys.map((k) => `'${maskKeyShapes(k)}'`).join(', ');
      return `Unknown argument${issue.keys.length > 1 ? 's' : ''} ${keys}: ${tool} takes${takes.length ? `: ${takes.join(', ')}` : ' no arguments'}. Nothing was done.`;
    },
  });
}

/** A copy of a JSON-like value with `f` applied to every string, object keys included. */
export function redactStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value);
  if (value instanceof Date) return f(value.toJSON());
  if (Array.isArray(value)) return value.map((v) => redactStrings(v, f));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[f(k)] = redactStrings(v, f);
    return out;
  }
  return value;
}
