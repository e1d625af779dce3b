// Registers the built-in MCP server with VS Code. The HTTP host starts on first need (VS Code asking
// for definitions, or the copy-config command), so activation stays cheap.
import * as vscode from 'vscode';
import type { AiKeyManagerCore } from '../core/service';
import type { HttpHost } from '../mcp/httpHost';
import { askForKey } from './keyPrompt';

export const MCP_PROVIDER_ID = 'aiKeyManager.mcp';
const LABEL = 'AI Key Manager';

export class McpServerController implements vscode.McpServerDefinitionProvider<vscode.McpHttpServerDefinition>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;
  private host: Promise<HttpHost> | undefined;

  constructor(
    private readonly core: AiKeyManagerCore,
    private readonly log: vscode.LogOutputChannel,
    private readonly version: string,
  ) {}

  /** Starts the HTTP host if it is not running; concurrent callers share one start. */
  ensureStarted(): Promise<HttpHost> {
    if (!this.host) {
      this.host = (async () => {
        const { startHttpHost, createMcpServer } = await import('../mcp/index');
        const host = await startHttpHost({
          createServer: () =>
            createMcpServer({
              core: this.core,
              via: 'tool',
              askSecret: ({ provider, purpose }) => askForKey(provider, purpose, { offerOther: purpose === 'add' }),
              confirmBudgetLoosening: (what) => confirmLoosening(what),
            }),
          log: (m) => this.log.info(m),
        });
        this.changed.fire();
        return host;
      })();
      this.host.catch((err: unknown) => {
        this.log.error(`MCP server failed to start: ${err instanceof Error ? err.message : String(err)}`);
        this.host = undefined;
      });
    }
    return this.host;
  }

  async provideMcpServerDefinitions(): Promise<vscode.McpHttpServerDefinition[]> {
    const host = await this.ensureStarted();
    // The token is added in resolveMcpServerDefinition, so it is not kept with the definition list.
    return [new vscode.McpHttpServerDefinition(LABEL, vscode.Uri.parse(host.url), {}, this.version)];
  }

  async resolveMcpServerDefinition(definition: vscode.McpHttpServerDefinition): Promise<vscode.McpHttpServerDefinition> {
    const host = await this.ensureStarted();
    definition.uri = vscode.Uri.parse(host.url);
    definition.headers = { ...definition.headers, Authorization: `Bearer ${host.token}` };
    return definition;
  }

  /** A config other clients (Claude Code, Cursor) can use to reach this window's server. */
  async clientConfig(): Promise<{ url: string; headers: Record<string, string>; json: string; claudeCommand: string }> {
    const host = await this.ensureStarted();
    const headers = { Authorization: `Bearer ${host.token}` };
    const json = JSON.stringify({ mcpServers: { 'ai-key-manager': { type: 'http', url: host.url, headers } } }, null, 2);
    const claudeCommand = `claude mcp add --transport http ai-key-manager ${host.url} --header "Authorization: Bearer ${host.token}"`;
    return { url: host.url, headers, json, claudeCommand };
  }

  async restart(): Promise<void> {
    const old = this.host;
    this.host = undefined;
    if (old) await (await old.catch(() => undefined))?.close();
    await this.ensureStarted();
  }

  async stop(): Promise<void> {
    const h = this.host;
    this.host = undefined;
    if (h) await (await h.catch(() => undefined))?.close();
  }

  dispose(): void {
    void this.stop();
    this.changed.dispose();
  }
}

/** A modal: an agent may loosen the budget that limits it only if the user says so here. */
async function confirmLoosening(what: string): Promise<boolean> {
  const allow = 'Allow';
  try {
    const choice = await vscode.window.showWarningMessage(
      `An agent wants to ${what}.`,
      { modal: true, detail: 'AI Key Manager budgets limit what agents spend. Allow this only if you asked for it. Lowering limits never needs this question.' },
      allow,
    );
    return choice === allow;
  } catch {
    return false; // a dialog that cannot be shown is no permission
  }
}
