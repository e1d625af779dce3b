// The gateway in VS Code: it starts with the extension on 127.0.0.1 (aiKeyManager.gateway.port, or a
// free port when that one is taken, said once), can be turned off (aiKeyManager.gateway.enabled),
// keeps its token in SecretStorage, and hands tools ready settings ("Connect a Tool to the Gateway").
import * as vscode from 'vscode';
import type { AiKeyManagerCore } from '../core/service';
import type { Gateway } from '../gateway/server';
import { DEFAULT_CACHE, DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_RETRY, type ResponseCacheOptions, type RetryPolicy } from '../gateway/options';
import { DEFAULT_GATEWAY_PORT, MIN_GATEWAY_TOKEN_LENGTH, newGatewayToken } from '../gateway/localGuard';

const TOKEN_SECRET = 'aiKeyManager.gateway.token';

export interface GatewayState {
  url?: string;
  enabled: boolean;
  /** Why it is not running although enabled. */
  error?: string;
}

export class GatewayController implements vscode.Disposable {
  private running: Gateway | undefined;
  /** The port setting the running gateway was started for (it may serve on another when that was taken). */
  private startedFor: number | undefined;
  private lastError: string | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when it starts, stops or fails to start. */
  readonly onDidChange = this.changed.event;
  private queue: Promise<unknown> = Promise.resolve();
  private portNoticeShown = false;
  private disposed = false;

  constructor(
    readonly core: AiKeyManagerCore,
    private readonly secrets: vscode.SecretStorage,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Where it listens now, or undefined when it is off or not started yet. */
  get url(): string | undefined {
    return this.running?.url;
  }

  state(): GatewayState {
    const enabled = vscode.workspace.getConfiguration('aiKeyManager.gateway').get<boolean>('enabled', true) !== false;
    return { enabled, ...(this.running && { url: this.running.url }), ...(enabled && !this.running && this.lastError && { error: this.lastError }) };
  }

  async token(): Promise<string> {
    const kept = await this.secrets.get(TOKEN_SECRET);
    if (kept && kept.length >= MIN_GATEWAY_TOKEN_LENGTH) return kept;
    const token = newGatewayToken();
    await this.secrets.store(TOKEN_SECRET, token);
    return token;
  }

  /** Starts (or restarts) it as the settings say; one start or stop at a time. */
  apply(): Promise<void> {
    const next = this.queue
      .then(() => this.applyNow())
      .then(
        () => {
          this.lastError = undefined;
        },
        (err: unknown) => {
          this.lastError = err instanceof Error ? err.message : String(err);
          throw err;
        },
      )
      .finally(() => this.changed.fire());
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Fires when the token changes in SecretStorage (this window or another). */
  onTokenChanged(listener: () => void): vscode.Disposable {
    return this.secrets.onDidChange((e) => {
      if (e.key === TOKEN_SECRET) listener();
    });
  }

  async rotateToken(): Promise<void> {
    await this.secrets.store(TOKEN_SECRET, newGatewayToken());
    await this.apply();
  }

  dispose(): void {
    this.disposed = true;
    void this.close();
    this.changed.dispose();
  }

  /** Stops serving (waits for in-flight work to be cut and recorded). */
  async close(): Promise<void> {
    const r = this.running;
    this.running = undefined;
    this.startedFor = undefined;
    await r?.close();
  }

  private async applyNow(): Promise<void> {
    const cfg = vscode.workspace.getConfiguration('aiKeyManager.gateway');
    if (cfg.get<boolean>('enabled', true) === false) {
      await this.close();
      this.log.info('gateway: off (aiKeyManager.gateway.enabled)');
      return;
    }
    const wanted = portSetting(cfg.get<unknown>('port'));
    const cache = cacheSetting(cfg);
    const { retry, headersTimeoutMs } = retrySetting(cfg);
    const token = await this.token();
    if (this.disposed) return;
    if (this.running && this.startedFor === wanted) {
      // Same port: the new token and cache settings apply in place; requests in flight go on.
      this.running.update({ token, cache: cache ?? null, retry, headersTimeoutMs });
      this.log.info(`gateway: settings applied on ${this.running.url}${cache ? ` (response cache on: ${cache.ttlMs / 1000} s, ${cache.maxBytes / 1048576} MB)` : ''}`);
      return;
    }
    await this.close();
    const { startGateway } = await import('../gateway/index');
    if (this.disposed) return;
    const start = async (port: number) => {
      const g = await startGateway({ core: this.core, token, port, retry, headersTimeoutMs, ...(cache && { cache }), log: (line) => this.log.warn(line) });
      if (this.disposed) {
        await g.close(); // disposed while it started
        throw new Error('disposed');
      }
      return g;
    };
    try {
      this.running = await start(wanted);
    } catch (err) {
      if (this.disposed) return;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || wanted === 0) throw err;
      // Another window (or program) has the port: this window serves on a free one.
      this.running = await start(0);
      const msg = `Port ${wanted} is taken (another VS Code window or program), so this window's gateway is on ${this.running.url}. "Connect a Tool to the Gateway" gives the right address; set aiKeyManager.gateway.port to choose another fixed port.`;
      this.log.warn(msg);
      if (!this.portNoticeShown) {
        this.portNoticeShown = true;
        void vscode.window.showInformationMessage(`AI Key Manager: ${msg}`);
      }
    }
    this.startedFor = wanted;
    this.log.info(`gateway: listening on ${this.running.url}${cache ? ' (response cache on)' : ''}`);
  }
}

/** Tries per key, the time after which no new try starts, and how long to wait for an answer. */
export function retrySetting(cfg: vscode.WorkspaceConfiguration): { retry: RetryPolicy; headersTimeoutMs: number } {
  const num = (v: unknown, fallback: number, min: number, max: number) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : fallback);
  return {
    retry: { ...DEFAULT_RETRY, attempts: Math.round(num(cfg.get('retry.attempts'), DEFAULT_RETRY.attempts, 1, 10)), maxTotalMs: num(cfg.get('retry.maxSeconds'), (DEFAULT_RETRY.maxTotalMs ?? 60_000) / 1000, 1, 3600) * 1000 },
    headersTimeoutMs: num(cfg.get('timeoutSeconds'), DEFAULT_HEADERS_TIMEOUT_MS / 1000, 1, 3600) * 1000,
  };
}

/** The response cache settings, or undefined when it is off. */
function cacheSetting(cfg: vscode.WorkspaceConfiguration): ResponseCacheOptions | undefined {
  if (cfg.get<boolean>('cache.enabled', false) !== true) return undefined;
  const positive = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : fallback);
  return { ttlMs: positive(cfg.get('cache.ttlSeconds'), DEFAULT_CACHE.ttlMs / 1000) * 1000, maxBytes: positive(cfg.get('cache.maxMegabytes'), DEFAULT_CACHE.maxBytes / 1048576) * 1048576 };
}

function portSetting(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : DEFAULT_GATEWAY_PORT;
}

/** Ready settings per tool: what to paste, and where. */
export function toolSettings(url: string, token: string): { label: string; detail: string; text: string }[] {
  return [
    { label: 'Claude Code', detail: 'environment variables for the shell that starts claude', text: `export ANTHROPIC_BASE_URL=${url}/anthropic\nexport ANTHROPIC_AUTH_TOKEN=${token}\n` },
    { label: 'Codex / the OpenAI SDK', detail: 'environment variables (OPENAI_BASE_URL, OPENAI_API_KEY)', text: `export OPENAI_BASE_URL=${url}/openai/v1\nexport OPENAI_API_KEY=${token}\n` },
    { label: 'Gemini CLI / the Google Gen AI SDK', detail: 'environment variables; in code: httpOptions.baseUrl', text: `export GOOGLE_GEMINI_BASE_URL=${url}/gemini\nexport GEMINI_API_KEY=${token}\n` },
    { label: 'aider', detail: 'command-line options', text: `aider --openai-api-base ${url}/openai/v1 --openai-api-key ${token}\n` },
    { label: 'Continue', detail: 'a model entry for config.yaml', text: `- name: GPT-4o via AI Key Manager\n  provider: openai\n  model: gpt-4o\n  apiBase: ${url}/openai/v1\n  apiKey: ${token}\n` },
    { label: 'curl', detail: 'a test request', text: `curl ${url}/openai/v1/chat/completions -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]}'\n` },
  ];
}

/** What aiKeyManager.gateway.terminalEnv puts in new integrated terminals, so CLI agents started there are metered. */
export function terminalVariables(url: string, token: string): Record<string, string> {
  return {
    // Not OLLAMA_HOST: the ollama CLI sends no token, and `ollama serve` would take the gateway's port.
    OPENAI_BASE_URL: `${url}/openai/v1`,
    OPENAI_API_KEY: token,
    ANTHROPIC_BASE_URL: `${url}/anthropic`,
    ANTHROPIC_AUTH_TOKEN: token,
    GOOGLE_GEMINI_BASE_URL: `${url}/gemini`,
    GEMINI_API_KEY: token,
  };
}

async function applyTerminalEnv(gateway: GatewayController, env: vscode.GlobalEnvironmentVariableCollection): Promise<void> {
  const on = vscode.workspace.getConfiguration('aiKeyManager.gateway').get<boolean>('terminalEnv', false) === true;
  const url = gateway.url;
  env.persistent = false; // the token is not written to VS Code's storage; a new window sets it again
  env.clear();
  if (!on || !url) return;
  env.description = new vscode.MarkdownString('AI Key Manager: AI tools started here go through the gateway (their usage is recorded). `aiKeyManager.gateway.terminalEnv`');
  for (const [name, value] of Object.entries(terminalVariables(url, await gateway.token()))) env.replace(name, value);
}

export function registerGateway(gateway: GatewayController, log: vscode.LogOutputChannel, terminalEnv: vscode.GlobalEnvironmentVariableCollection): vscode.Disposable[] {
  const updateTerminals = () =>
    applyTerminalEnv(gateway, terminalEnv).catch((err: unknown) => log.warn(`gateway: could not set the terminal environment: ${err instanceof Error ? err.message : String(err)}`));
  const startQuietly = () =>
    gateway.apply().catch((err: unknown) => {
      const msg = `The gateway could not start: ${err instanceof Error ? err.message : String(err)}`;
      log.error(msg);
      void vscode.window.showErrorMessage(`AI Key Manager: ${msg}`, 'Show Log').then((c) => c && log.show());
    });
  // After activation: activate() stays fast.
  const timer = setTimeout(() => void startQuietly(), 0);
  // Another window rotated the token (SecretStorage is shared): this window's gateway takes it too.
  const offSecret = gateway.onTokenChanged(() => void startQuietly());
  const offDisabled = gateway.core.traffic.onKeyDisabled((e) => {
    const msg = `${e.provider} rejected the key ${e.masked} (HTTP ${e.status}), so it is disabled; requests use the provider's other keys. Rotate or re-validate it.`;
    log.warn(`gateway: ${msg}`);
    void vscode.window.showWarningMessage(`AI Key Manager: ${msg}`, 'Rotate Key', 'Open Panel').then((c) => {
      if (c === 'Rotate Key') void vscode.commands.executeCommand('aiKeyManager.rotateKey');
      if (c === 'Open Panel') void vscode.commands.executeCommand('aiKeyManager.showPanel');
    });
  });
  return [
    { dispose: () => clearTimeout(timer) },
    { dispose: offDisabled },
    offSecret,
    gateway,
    gateway.onDidChange(() => void updateTerminals()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      // Applying fires onDidChange, which updates the terminals too (terminalEnv included).
      if (e.affectsConfiguration('aiKeyManager.gateway')) void startQuietly();
    }),
    vscode.commands.registerCommand('aiKeyManager.rotateGatewayToken', async () => {
      await gateway.rotateToken();
      void vscode.window.showInformationMessage('AI Key Manager: the gateway has a new token. Tools set up with the old one get 401 until you give them the new one ("Connect a Tool to the Gateway").');
      return { url: gateway.url };
    }),
    vscode.commands.registerCommand('aiKeyManager.connectToGateway', async (args?: { tool?: string }) => {
      const url = gateway.url;
      if (!url) {
        void vscode.window.showWarningMessage('AI Key Manager: the gateway is off. Turn on aiKeyManager.gateway.enabled, or see the log.', 'Show Log').then((c) => c && log.show());
        return { error: 'The gateway is off.' };
      }
      const items = toolSettings(url, await gateway.token());
      const picked = args?.tool !== undefined ? items.find((i) => i.label === args.tool) : await vscode.window.showQuickPick(items, { title: 'Connect a Tool to the Gateway', placeHolder: 'Which tool? Its settings are copied to the clipboard.' });
      if (!picked) return undefined;
      await vscode.env.clipboard.writeText(picked.text);
      void vscode.window.showInformationMessage(`AI Key Manager: settings for ${picked.label} copied (${picked.detail}). They hold the gateway token, not a provider key; its requests are recorded.`);
      return { url, tool: picked.label };
    }),
  ];
}
