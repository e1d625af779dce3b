#!/usr/bin/env node
// The headless host: `ai-key-manager mcp` serves the same MCP server as the extension, over stdio
// (stdout carries only the protocol; everything else goes to stderr); `ai-key-manager gateway` serves
// the providers' APIs on 127.0.0.1 with the stored keys, recording every request.
import { VERSION } from './core/version';
import { PROVIDERS } from './core/providers';

/** The providers' key variables from the catalog, wrapped to the help's width. */
function keyEnvVars(): string {
  const names = PROVIDERS.filter((p) => p.requiresKey).map((p) => p.envVars.join(' / '));
  const lines: string[] = [];
  let line = '';
  for (const n of names) {
    const next = line ? `${line}, ${n}` : n;
    if (next.length > 96 && line) {
      lines.push(`  ${line},`);
      line = n;
    } else line = next;
  }
  lines.push(`  ${line}`);
  return lines.join('\n');
}

const HELP = `ai-key-manager ${VERSION} — AI Key Manager without VS Code

Usage:
  ai-key-manager mcp         Serve the MCP server over stdio (for Claude Code, Claude Desktop, Cursor…).
  ai-key-manager gateway [--port N] [--cache [--cache-ttl SECONDS] [--cache-size MB]]
                             Serve the providers' own APIs on http://127.0.0.1:N (default 8787; 0 picks
                             a free port) with your stored keys; every request's usage is recorded.
                             Base URLs: /openai/v1, /anthropic, /gemini, /ollama, /openrouter/v1,
                             /groq/v1, /mistral/v1, /deepseek/v1, and /v1 (the router: any provider in
                             OpenAI's format; model "provider/model", "auto" or "auto:<task>").
                             Clients use the gateway token as their API key (never a provider key).
                             --cache answers repeated identical non-streamed requests from memory
                             (default TTL 3600 s, 64 MB), recorded at $0.
  ai-key-manager gateway --print-token
                             Print the gateway token.
  ai-key-manager --help      Show this help.
  ai-key-manager --version   Print the version.

Environment:
  AIKM_HOME                  Data folder (default ~/.ai-key-manager): state.json (key metadata, audit),
                             ledger.json (usage), config.json (budgets), vault.json (encrypted keys).
                             Several processes may share it: writes merge under *.lock files.
  AIKM_PASSPHRASE            Passphrase for vault.json (AES-256-GCM, scrypt). Needed to store keys;
                             without it only keys from environment variables are available.
${keyEnvVars()}
                             Keys picked up automatically (never copied into the vault).
  OLLAMA_HOST                Ollama server (default http://localhost:11434).
  AIKM_<PROVIDER>_BASE_URL   Base URL override, e.g. AIKM_ANTHROPIC_BASE_URL, AIKM_OPENAI_BASE_URL.
  AIKM_VALIDATION_TIMEOUT_MS Time limit of a live key check in milliseconds (default 8000).
  AIKM_PRICE_REFRESH=0       Do not refresh prices from genai-prices' published data file (daily by default;
                             the last good data is kept in AIKM_HOME/prices.json).
  AIKM_PRICE_DATA_URL        Another price data file to refresh from.
  AIKM_GATEWAY_TOKEN         The gateway token (at least 32 characters); default: one made once and kept
                             in AIKM_HOME/gateway-token (mode 600).

config.json (optional):
  { "budget": { "daily": 10, "monthly": 200, "alertThreshold": 0.8, "enforce": false },
    "priceOverrides": [ { "model": "my-model", "inputPerMTok": 1, "outputPerMTok": 2 } ],
    "disabledProviders": [] }

Claude Code:
  claude mcp add ai-key-manager -e AIKM_PASSPHRASE=… -- node /path/to/ai-key-manager/dist/cli.js mcp
`;

async function serveStdio(): Promise<number> {
  const { createHeadlessCore } = await import('./headless/host');
  const { createMcpServer } = await import('./mcp/server');
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const host = createHeadlessCore();
  for (const w of [...host.warnings, ...(await host.prepare())]) process.stderr.write(`ai-key-manager: warning: ${w}\n`);
  host.core.onSaveError((err) => process.stderr.write(`ai-key-manager: error: ${err.message}\n`));
  host.refreshPrices((line) => process.stderr.write(`ai-key-manager: ${line}\n`));
  const built = createMcpServer({ core: host.core, via: 'tool' });
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    built.dispose();
    await host.close().catch((err: unknown) => process.stderr.write(`ai-key-manager: could not save state: ${err instanceof Error ? err.message : err}\n`));
    process.exit(code);
  };
  transport.onclose = () => void shutdown(0);
  process.stdin.on('end', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  await built.connect(transport);
  process.stderr.write(`ai-key-manager: MCP server on stdio (data in ${host.home})\n`);
  return new Promise<number>(() => undefined);
}

async function serveGateway(argv: string[]): Promise<number> {
  const { aikmHome, createHeadlessCore } = await import('./headless/host');
  const { gatewayToken } = await import('./headless/gatewayToken');
  const { DEFAULT_GATEWAY_PORT } = await import('./gateway/localGuard');
  const { token } = gatewayToken(aikmHome());
  if (argv.includes('--print-token')) {
    process.stdout.write(`${token}\n`);
    return 0;
  }
  const portArg = flagValue(argv, '--port');
  const port = portArg === undefined ? DEFAULT_GATEWAY_PORT : portArg.trim() === '' ? NaN : Number(portArg);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`ai-key-manager: --port must be a whole number from 0 to 65535 (got ${portArg}).\n`);
    return 2;
  }
  const cache = cacheOptions(argv);
  if (typeof cache === 'string') {
    process.stderr.write(`ai-key-manager: ${cache}\n`);
    return 2;
  }
  const { startGateway } = await import('./gateway/server');
  const host = createHeadlessCore();
  for (const w of [...host.warnings, ...(await host.prepare())]) process.stderr.write(`ai-key-manager: warning: ${w}\n`);
  host.core.onSaveError((err) => process.stderr.write(`ai-key-manager: error: ${err.message}\n`));
  host.refreshPrices((line) => process.stderr.write(`ai-key-manager: ${line}\n`));
  let gateway;
  try {
    gateway = await startGateway({ core: host.core, token, port, ...(cache && { cache }), log: (line) => process.stderr.write(`ai-key-manager: ${line}\n`) });
  } catch (err) {
    await host.close();
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'EADDRINUSE' ? `Port ${port} is taken. Stop what uses it, or pick another with --port N (0 picks a free one).` : (err as Error).message, { cause: err });
  }
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await gateway.close();
    await host.close().catch((err: unknown) => process.stderr.write(`ai-key-manager: could not save state: ${err instanceof Error ? err.message : err}\n`));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
  process.stdout.write(`AI Key Manager gateway listening on ${gateway.url} (data in ${host.home}${cache ? `; response cache on, ${cache.ttlMs / 1000} s` : ''})\n`);
  return new Promise<number>(() => undefined);
}

/** The value after `--name` or in `--name=value`; undefined when the flag is absent. */
function flagValue(argv: string[], name: string): string | undefined {
  const at = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at < 0) return undefined;
  return argv[at].startsWith(`${name}=`) ? argv[at].slice(name.length + 1) : (argv[at + 1] ?? '');
}

/** --cache, --cache-ttl, --cache-size as cache options; undefined when off; a message when wrong. */
function cacheOptions(argv: string[]): { ttlMs: number; maxBytes: number } | undefined | string {
  const ttl = flagValue(argv, '--cache-ttl');
  const size = flagValue(argv, '--cache-size');
  if (!argv.includes('--cache')) return ttl !== undefined || size !== undefined ? '--cache-ttl and --cache-size need --cache.' : undefined;
  const num = (v: string | undefined, fallback: number, what: string): number | string => {
    if (v === undefined) return fallback;
    const n = v.trim() === '' ? NaN : Number(v);
    return Number.isFinite(n) && n > 0 ? n : `${what} must be a number above 0 (got ${v}).`;
  };
  const seconds = num(ttl, 3600, '--cache-ttl (seconds)');
  const mb = num(size, 64, '--cache-size (MB)');
  if (typeof seconds === 'string') return seconds;
  if (typeof mb === 'string') return mb;
  return { ttlMs: seconds * 1000, maxBytes: Math.round(mb * 1048576) };
}

async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  if (cmd === '--version' || cmd === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (cmd === 'mcp') {
    if (argv.includes('--help')) {
      process.stdout.write(HELP);
      return 0;
    }
    return serveStdio();
  }
  if (cmd === 'gateway') {
    if (argv.includes('--help')) {
      process.stdout.write(HELP);
      return 0;
    }
    return serveGateway(argv.slice(1));
  }
  process.stderr.write(`Unknown command: ${cmd}. Run 'ai-key-manager --help'.\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`ai-key-manager: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
