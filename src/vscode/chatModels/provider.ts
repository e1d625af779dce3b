// "AI Key Manager" in VS Code's model picker: the user's own keys as chat models, plus one routed
// model ("Auto"). Every request goes through the gateway's dispatch in process (dist/gateway.js,
// loaded on first use): the same key pool, retries, fallback, budget and usage capture as HTTP traffic.
import * as vscode from 'vscode';
import type { AiKeyManagerCore } from '../../core/service';
import { PROVIDERS, type ProviderSpec } from '../../core/providers';
import { countTokens } from '../../core/tokenize';
import { formatUsd } from '../../core/money';
import type { DispatchContext } from '../../gateway/dispatch';
import { toChatRequest, type LmMessage } from './messages';
import { taskOf } from './taskOf';
import { catalogModels, chatModelIds } from './modelList';
import { retrySetting } from '../gateway';

export const VENDOR = 'aikm';
export const AUTO_MODEL = 'auto';
const INCLUDE_SETTING = 'aiKeyManager.chatModels.include';
/** At most this many models of one provider in the picker. */
const MAX_MODELS_PER_PROVIDER = 25;
/** How long a probe of the local Ollama server is believed. */
const LOCAL_PROBE_MS = 60_000;

type GatewayEntry = typeof import('../../gateway/index');

export interface ChatModelsDeps {
  core: AiKeyManagerCore;
  log: vscode.LogOutputChannel;
  loadGateway: () => Promise<GatewayEntry>;
}

/** Vision-capable families, by model name. */
const IMAGE_INPUT = /^(gpt-4o|gpt-4\.1|gpt-5|o\d|claude|gemini)/i;

export class KeysChatModelProvider implements vscode.LanguageModelChatProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeLanguageModelChatInformation = this.changed.event;
  private ctx: DispatchContext | undefined;
  private listCtx: DispatchContext | undefined;
  private toldNoModels = false;
  private local: { at: number; models: string[] } | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly deps: ChatModelsDeps) {
    const off = deps.core.onDidChange((kind) => {
      if (kind !== 'usage') this.changed.fire();
    });
    this.subscriptions.push(
      { dispose: off },
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('aiKeyManager.gateway')) this.ctx = undefined; // retry and timeout settings
        if (e.affectsConfiguration('aiKeyManager.chatModels') || e.affectsConfiguration('aiKeyManager.providers')) {
          this.local = undefined;
          this.changed.fire();
        }
      }),
    );
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
    this.changed.dispose();
  }

  async provideLanguageModelChatInformation(options: vscode.PrepareLanguageModelChatModelOptions, _token: vscode.CancellationToken): Promise<vscode.LanguageModelChatInformation[]> {
    const { core } = this.deps;
    const disabled = new Set(core.providersOverview().filter((p) => !p.enabled).map((p) => p.id));
    const raw = vscode.workspace.getConfiguration().get<unknown>(INCLUDE_SETTING, []);
    const include = Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string' && x !== '') : [];
    const wanted = (id: string) => include.length === 0 || include.some((w) => id === w || id.startsWith(`${w.replace(/\/$/, '')}/`));
    const out: vscode.LanguageModelChatInformation[] = [];
    // A key that rests (429) still counts: its models stay in the picker. Lists are read all at once.
    const lists = await Promise.all(
      PROVIDERS.filter((spec) => !disabled.has(spec.id)).map(async (spec) => {
        const usable = !spec.requiresKey || core.listKeys(spec.id).some((k) => k.status !== 'disabled');
        return { spec, models: !usable ? [] : spec.requiresKey ? await this.keyedModels(spec) : await this.localModels(spec) };
      }),
    );
    for (const { spec, models } of lists) for (const model of models) if (wanted(`${spec.id}/${model}`)) out.push(this.info(spec, model));
    if (out.length > 0 && wanted(AUTO_MODEL)) {
      out.unshift({
        id: AUTO_MODEL,
        name: 'AI Key Manager: Auto',
        family: 'auto',
        version: '1',
        detail: 'routed per request',
        tooltip: 'Picks a provider and model for each request with your keys, their health and your budget, and falls back to the next provider when one fails.',
        maxInputTokens: 128_000,
        maxOutputTokens: 8192,
        capabilities: { toolCalling: true, imageInput: false },
      });
    }
    // The user is picking models (not a silent refresh): say how to get ours.
    if (out.length === 0 && !options.silent && !this.toldNoModels) {
      this.toldNoModels = true; // once per window: the picker may ask again
      void this.noModels();
    }
    return out;
  }

  /** The dispatch context for requests, with the gateway's retry and timeout settings. */
  private context(gateway: GatewayEntry): DispatchContext {
    this.ctx ??= gateway.dispatchContext({ core: this.deps.core, ...retrySetting(vscode.workspace.getConfiguration('aiKeyManager.gateway')), log: (line) => this.deps.log.warn(line) });
    return this.ctx;
  }

  private async noModels(): Promise<void> {
    const pick = await vscode.window.showInformationMessage('AI Key Manager has no chat models yet: add an API key (OpenAI, Anthropic, Gemini, …) or start Ollama, and its models appear here.', 'Add API Key');
    if (pick === 'Add API Key') await vscode.commands.executeCommand('aiKeyManager.addKey');
  }

  async provideLanguageModelChatResponse(
    model: vscode.LanguageModelChatInformation,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const gateway = await this.deps.loadGateway();
    const ctx = this.context(gateway);
    const req = toChatRequest(model.id, messages as readonly LmMessage[], options);
    const ac = new AbortController();
    const cancel = token.onCancellationRequested(() => ac.abort());
    const task = model.id === AUTO_MODEL ? taskOf(req.messages) : undefined;
    try {
      await gateway.chatInProcess(
        ctx,
        req,
        ac.signal,
        {
          text: (d) => progress.report(new vscode.LanguageModelTextPart(d)),
          toolCall: (c) => progress.report(new vscode.LanguageModelToolCallPart(c.id, c.name, parseInput(c.arguments))),
        },
        task ? { 'x-aikm-task': task } : {},
      );
    } catch (err) {
      if (token.isCancellationRequested) throw new vscode.CancellationError();
      const msg = this.deps.core.traffic.mask(err instanceof Error ? err.message : String(err));
      this.deps.log.warn(`chat model ${model.id}: ${msg}`);
      throw new Error(msg.startsWith('AI Key Manager') ? msg : `AI Key Manager (${model.id}): ${msg}`, { cause: err });
    } finally {
      cancel.dispose();
    }
  }

  provideTokenCount(model: vscode.LanguageModelChatInformation, text: string | vscode.LanguageModelChatRequestMessage, _token: vscode.CancellationToken): Promise<number> {
    const value = typeof text === 'string' ? text : text.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');
    const slash = model.id.indexOf('/');
    const [provider, name] = slash > 0 ? [model.id.slice(0, slash), model.id.slice(slash + 1)] : [undefined, 'gpt-4o'];
    // Exact for OpenAI models; an approximation (stated by the tokenizer) for the rest.
    return Promise.resolve(countTokens(value, name, provider).tokens);
  }

  private info(spec: ProviderSpec, model: string): vscode.LanguageModelChatInformation {
    const { core } = this.deps;
    const window = core.pricing.contextWindow(model, spec.id) ?? (spec.requiresKey ? 128_000 : 32_768);
    const maxOut = spec.id === 'anthropic' ? 8192 : Math.min(16_384, Math.floor(window / 4));
    return {
      id: `${spec.id}/${model}`,
      name: model,
      family: spec.id,
      version: model,
      detail: spec.displayName,
      tooltip: `${spec.displayName} ${model} with your key: ${priceText(core, spec, model)}. Requests are metered and budgeted by AI Key Manager.`,
      maxInputTokens: Math.max(1024, window - maxOut),
      maxOutputTokens: maxOut,
      capabilities: { toolCalling: true, imageInput: IMAGE_INPUT.test(model) },
    };
  }

  /**
   * The provider's chat models: its live list when it can be fetched with the stored keys (the same
   * request a key check makes, kept 5 minutes), known ones first; else the catalog's defaults.
   */
  private async keyedModels(spec: ProviderSpec): Promise<string[]> {
    const catalog = catalogModels(spec);
    const { path, modelsField } = spec.validation;
    if (!modelsField) return catalog;
    try {
      const gateway = await this.deps.loadGateway();
      // One quick try: the model picker waits for this.
      this.listCtx ??= gateway.dispatchContext({ core: this.deps.core, retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxTotalMs: 5000 }, headersTimeoutMs: 5000, log: (line) => this.deps.log.info(line) });
      const live = chatModelIds(await gateway.modelListInProcess(this.listCtx, spec, path), modelsField);
      if (live.length === 0) return catalog;
      const known = catalog.filter((m) => live.includes(m));
      const rest = live.filter((m) => !known.includes(m) && this.deps.core.pricing.has(m, spec.id)).sort();
      return [...known, ...rest].slice(0, MAX_MODELS_PER_PROVIDER);
    } catch (err) {
      this.deps.log.info(`chat models: ${spec.displayName}'s model list could not be read (${err instanceof Error ? err.message : String(err)}); offering the defaults`);
      return catalog;
    }
  }

  /** Ollama's installed chat models when it answers (asked at most once a minute), else none. */
  private async localModels(spec: ProviderSpec): Promise<string[]> {
    if (this.local && Date.now() - this.local.at < LOCAL_PROBE_MS) return this.local.models;
    let models: string[] = [];
    try {
      const res = await fetch(`${this.deps.core.baseUrl(spec.id).replace(/\/+$/, '')}/api/tags`, { signal: AbortSignal.timeout(1500) });
      if (res.ok) {
        const body = (await res.json()) as { models?: { name?: unknown }[] };
        models = (body.models ?? []).map((m) => (typeof m.name === 'string' ? m.name : '')).filter((n) => n !== '' && !/embed/i.test(n));
      }
    } catch {
      models = []; // not running: no local models offered
    }
    this.local = { at: Date.now(), models };
    return models;
  }
}

function priceText(core: AiKeyManagerCore, spec: ProviderSpec, model: string): string {
  if (!spec.requiresKey) return 'free (runs locally)';
  try {
    const inp = core.pricing.estimate(model, { inputTokens: 1_000_000, outputTokens: 0 }, spec.id).totalCost;
    const out = core.pricing.estimate(model, { inputTokens: 0, outputTokens: 1_000_000 }, spec.id).totalCost;
    return `${formatUsd(inp)} in / ${formatUsd(out)} out per million tokens`;
  } catch {
    return 'price not known (recorded as unpriced)';
  }
}

function parseInput(args: string): object {
  try {
    const v: unknown = JSON.parse(args || '{}');
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    return {};
  }
}
