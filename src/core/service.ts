// The core facade: one object that the MCP server, the chat participant, commands and panel all
// use. Hosts give it ports (vault, state, settings, clock); it owns no I/O beyond provider checks.
import type { Clock } from './ports';
import { systemClock } from './ports';
import type { TaskType, UsageEvent, CostBreakdown } from './types';
import { TASK_TYPES } from './types';
import { KeyPool, KeyError, type KeyInput, type KeyView } from './keys';
import { Ledger, NANOS_PER_USD } from './ledger';
import { dayKey } from './calendar';
import { AuditLog, type AuditEntry, type AuditVia } from './audit';
import { checkBudget, limitProblem, thresholdProblem, type BudgetConfig } from './budget';
import { PricingService, UnknownModelError, checkPriceOverrides, type TokenCounts } from './pricing';
import { countTokens, countTokensAsync, TextTooLongError, type TokenCount } from './tokenize';
import { HealthTracker } from './health';
import { Router, providerOrder, type RouteDecision, type RouteRequest } from './router';
import { PROVIDERS, findProvider, getProvider } from './providers';
import { resolveBaseUrl } from './endpoints';
import { maskAll, maskKeyShapes } from './redact';
import { providerStatsOf, recommendationsOf, type ProviderOverview, type ProviderStatsView, type Recommendation, type RoutingOverview, type UsageOverview } from './views';
import { formatUsageExport, type ExportFormat } from './exportUsage';
import { KeyChecker, type ValidateResult } from './keyChecks';
import { Traffic } from './traffic';
import { markAllUsageReset, openAllUsage } from './allUsage';
import type { ChangeKind, CoreOptions, TrackInput, TrackResult, UsageScope } from './coreOptions';

export type { ChangeKind, CoreOptions, Settings, SettingsSource, TrackInput, TrackResult, UsageScope } from './coreOptions';
export type { ValidateResult } from './keyChecks';

export class InputError extends Error {}

/** Text too long to count is the caller's input, not a failure. */
const asInputError = (err: unknown): unknown => (err instanceof TextTooLongError ? new InputError(err.message) : err);

export class AiKeyManagerCore {
  readonly keys: KeyPool;
  /** This workspace's usage (per project); see allUsage for what budgets count. */
  readonly ledger: Ledger;
  /** VS Code: the usage of every workspace of this profile; budgets and alerts count this. */
  readonly allUsage: Ledger | undefined;
  readonly audit: AuditLog;
  readonly pricing: PricingService;
  readonly health: HealthTracker;
  readonly router: Router;
  readonly clock: Clock;
  readonly timeZone: string;
  /** For the gateway: keys to try, their outcomes, budget refusals. */
  readonly traffic: Traffic;
  private readonly checker: KeyChecker;
  private readonly listeners = new Set<(kind: ChangeKind) => void>();
  private readonly disposers: (() => void)[] = [];
  private settingsWarnings: string[] = [];

  constructor(private readonly opts: CoreOptions) {
    this.clock = opts.clock ?? systemClock;
    this.timeZone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    this.keys = new KeyPool(opts.vault, opts.state, { clock: this.clock, env: opts.env, discoverEnv: opts.discoverEnvKeys });
    this.ledger = new Ledger(opts.ledgerState, { clock: this.clock, timeZone: this.timeZone, journal: opts.journal });
    this.allUsage = opts.allUsageState ? openAllUsage(opts.allUsageState, opts.allUsageShare, this.ledger, { clock: this.clock, timeZone: this.timeZone }) : undefined;
    this.audit = new AuditLog(opts.state, { clock: this.clock });
    this.pricing = new PricingService({ now: () => this.clock.now() });
    this.applyPriceOverrides();
    this.health = new HealthTracker(this.clock);
    this.router = new Router({
      keys: this.keys,
      health: this.health,
      pricing: this.pricing,
      budget: () => this.budget(),
      isEnabled: (p) => !this.opts.settings.get().disabledProviders.includes(p),
    });
    this.traffic = new Traffic({ keys: this.keys, audit: this.audit, clock: this.clock, budget: () => this.budget() });
    this.checker = new KeyChecker({
      keys: this.keys,
      health: this.health,
      audit: this.audit,
      baseUrl: (p) => this.baseUrl(p),
      disabled: () => this.opts.settings.get().disabledProviders,
      timeoutMs: opts.validationTimeoutMs,
      fetchImpl: opts.fetchImpl,
    });
    this.disposers.push(
      this.keys.onDidChange(() => this.fire('keys')),
      this.ledger.onDidChange(() => this.fire('usage')),
      ...(this.allUsage ? [this.allUsage.onDidChange(() => this.fire('usage'))] : []),
      opts.settings.onDidChange(() => {
        this.applyPriceOverrides();
        this.fire('settings');
      }),
    );
  }

  /** Problems with the current settings (e.g. price overrides that were ignored), for the host to show. */
  get warnings(): string[] {
    return [...this.settingsWarnings, ...this.keys.warnings, ...this.audit.warnings];
  }

  onDidChange(listener: (kind: ChangeKind) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- keys ----------------------------------------------------------------------------------

  async addKey(provider: string, input: KeyInput, extra: { label?: string; expiresAt?: string }, via: AuditVia) {
    return this.audited('add_api_key', via, provider, async () => {
      const r = await this.keys.add(provider, input, extra);
      return { result: r, keyId: r.key.id };
    });
  }

  async removeKey(provider: string, keyId: string | undefined, via: AuditVia) {
    return this.audited('remove_api_key', via, provider, async () => {
      const r = await this.keys.remove(provider, keyId);
      return { result: r, keyId: r.id };
    });
  }

  async rotateKey(provider: string, input: KeyInput, keyId: string | undefined, via: AuditVia) {
    return this.audited('rotate_key', via, provider, async () => {
      const r = await this.keys.rotate(provider, input, keyId);
      return { result: r, keyId: r.key.id };
    });
  }

  async rollbackKey(provider: string, keyId: string | undefined, via: AuditVia) {
    return this.audited('rollback_key', via, provider, async () => {
      const r = await this.keys.rollback(provider, keyId);
      return { result: r, keyId: r.id };
    });
  }

  listKeys(provider?: string): KeyView[] {
    return this.keys.list(provider);
  }

  baseUrl(provider: string): string {
    const spec = getProvider(provider);
    return resolveBaseUrl(spec, { setting: this.opts.settings.get().baseUrls[spec.id], env: this.opts.env });
  }

  /** Format check, then (if live) one free request to the provider. Updates the key's status. */
  validateKey(provider: string, keyId: string | undefined, live: boolean, via: AuditVia): Promise<ValidateResult> {
    return this.checker.validateKey(provider, keyId, live, via);
  }

  /** Every stored key and each keyless provider the user set up, a few at a time (see KeyChecker). */
  validateAll(via: AuditVia, onProgress?: (done: number, total: number) => void): Promise<ValidateResult[]> {
    return this.checker.validateAll(via, onProgress);
  }

  // --- routing -------------------------------------------------------------------------------

  route(req: RouteRequest): RouteDecision {
    return this.router.route(req);
  }

  /** The catalog models for a task that routing could use now, with a sample request's cost. */
  viableModels(task: TaskType, sample?: { input: number; output: number }) {
    return this.router.viableModels(task, sample);
  }

  /** Whether a price is known for the model (an unknown provider counts as not known). */
  knowsPrice(model: string, provider?: string): boolean {
    return safe(() => this.pricing.has(model, provider)) ?? false;
  }

  /** Per task: what routing picks now, the fallbacks, the cheapest viable model and sample costs. */
  recommendations(task?: TaskType): Recommendation[] {
    return recommendationsOf(this.router, task);
  }

  providerStats(provider?: string): ProviderStatsView[] {
    return providerStatsOf({ ledger: this.ledger, keys: this.keys, health: this.health }, provider);
  }

  // --- usage, cost, budget ---------------------------------------------------------------------

  /** Cost of a request; `text` is tokenized here (see estimateCostAsync for long text). */
  estimateCost(input: { model: string; provider?: string; text?: string } & Partial<TokenCounts>) {
    let tokenizer: TokenCount | undefined;
    try {
      if (input.text !== undefined) tokenizer = countTokens(input.text, input.model, input.provider);
    } catch (err) {
      throw asInputError(err);
    }
    return this.priceTokens(input, tokenizer);
  }

  /** estimateCost that tokenizes `text` without holding the event loop (it yields every ~20 ms). */
  async estimateCostAsync(input: { model: string; provider?: string; text?: string } & Partial<TokenCounts>) {
    let tokenizer: TokenCount | undefined;
    try {
      if (input.text !== undefined) tokenizer = await countTokensAsync(input.text, input.model, input.provider);
    } catch (err) {
      throw asInputError(err);
    }
    return this.priceTokens(input, tokenizer);
  }

  private priceTokens(input: { model: string; provider?: string } & Partial<TokenCounts>, tokenizer: TokenCount | undefined) {
    const tokens: TokenCounts = {
      inputTokens: (input.inputTokens ?? 0) + (tokenizer?.tokens ?? 0),
      outputTokens: input.outputTokens ?? 0,
      cacheReadTokens: input.cacheReadTokens ?? 0,
      cacheWriteTokens: input.cacheWriteTokens ?? 0,
    };
    const cost: CostBreakdown = this.pricing.estimate(input.model, tokens, input.provider);
    return { cost, tokens, tokenizer };
  }

  /** Budget status over everything this person spent: all workspaces in VS Code, the whole AIKM_HOME headless. */
  budget() {
    return checkBudget(this.allUsage ?? this.ledger, this.opts.settings.get().budget, this.clock.now(), this.timeZone);
  }

  /** The budget settings as configured (limits of 0 = none), e.g. to prefill prompts. */
  budgetSettings(): BudgetConfig {
    return { ...this.opts.settings.get().budget };
  }

  /** Whether config.json lets an agent loosen the budget without asking the user (headless only). */
  agentMayLoosenBudget(): boolean {
    return this.opts.settings.get().allowAgentBudgetChanges === true;
  }

  async setBudget(patch: Partial<BudgetConfig>, via: AuditVia) {
    for (const [k, v] of Object.entries(patch)) {
      if (k === 'enforce') {
        if (typeof v !== 'boolean') throw new InputError(`Budget enforce must be true or false (got ${String(v)}).`);
        continue;
      }
      if (k === 'alertThreshold') {
        const problem = thresholdProblem(v);
        if (problem) throw new InputError(`alertThreshold ${problem} (got ${String(v)}).`);
        continue;
      }
      const problem = limitProblem(v);
      if (problem) throw new InputError(`Budget ${k} ${problem} (got ${String(v)}).`);
    }
    await this.opts.settings.setBudget(patch);
    this.audit.record({ action: 'set_budget', via, ok: true, detail: JSON.stringify(patch) });
    return this.budget();
  }

  /**
   * Records one request: prices it, feeds health and key status, and returns the budget after it.
   * A model without a known price is still recorded (tokens, success, latency count) at cost 0,
   * with `priced: false` and a warning that says how to price it.
   */
  track(input: TrackInput, via: AuditVia): TrackResult {
    // Audited like every state change, but counted: one entry per provider/model/result per minute,
    // so 10,000 calls cannot push the key operations out of the bounded audit log.
    const provider = findProvider(input.provider)?.id ?? String(input.provider);
    const model = maskKeyShapes(String(input.model));
    try {
      const r = this.record(input);
      this.audit.recordRepeated({ action: 'track_request', via, provider, ok: true, detail: `model ${model}` }, `${provider}|${model}`);
      return r;
    } catch (err) {
      const detail = `model ${model}: ${err instanceof Error ? err.message : String(err)}`;
      this.audit.recordRepeated({ action: 'track_request', via, provider, ok: false, detail }, `${provider}|${model}`);
      throw err;
    }
  }

  private record(input: TrackInput): TrackResult {
    const spec = getProvider(input.provider);
    for (const [name, v] of [['input_tokens', input.inputTokens], ['output_tokens', input.outputTokens], ['cache_read_tokens', input.cacheReadTokens ?? 0], ['cache_write_tokens', input.cacheWriteTokens ?? 0]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new InputError(`${name} must be a whole number ≥ 0 (got ${v}).`);
    }
    const success = input.success ?? true;
    let cost: CostBreakdown;
    let warning: string | undefined;
    try {
      ({ cost } = this.estimateCost({
        model: input.model,
        provider: spec.id,
        inputTokens: input.inputTokens,
        outputTokens: input.outputTokens,
        cacheReadTokens: input.cacheReadTokens,
        cacheWriteTokens: input.cacheWriteTokens,
      }));
    } catch (err) {
      if (!(err instanceof UnknownModelError)) throw err;
      // Losing the usage would be worse than an unpriced entry: keep it at $0 and say so.
      cost = { model: input.model, provider: spec.id, inputCost: 0, outputCost: 0, cacheReadCost: 0, cacheWriteCost: 0, totalCost: 0, currency: 'USD', source: 'unpriced' };
      const enforced = this.opts.settings.get().budget.enforce ? ' Its cost is unknown, so your enforced budget cannot count it: it is listed apart as unpriced.' : '';
      warning = maskKeyShapes(`${err.message} The request was recorded at $0 (unpriced): its tokens and outcome count, its cost does not.${enforced}`);
    }
    // A cache hit sent nothing to the provider: nothing to pay.
    if (input.cached === true) {
      cost = { ...cost, inputCost: 0, outputCost: 0, cacheReadCost: 0, cacheWriteCost: 0, totalCost: 0 };
      warning = undefined;
    }
    // The provider's own figure in its reply beats our estimate (and prices a model we do not know).
    const own = input.cached === true ? undefined : input.providerCostUsd;
    if (own !== undefined && Number.isFinite(own) && own >= 0) {
      // Our estimate stays beside it, to compare (none when we know no price).
      const estimate = cost.source === 'unpriced' ? undefined : cost.totalCost;
      cost = { ...cost, totalCost: own, source: 'provider', ...(estimate !== undefined && { estimatedTotalCost: estimate }) };
      warning = undefined;
    }
    const event: UsageEvent = {
      at: this.clock.now().toISOString(),
      provider: spec.id,
      // Priced by the name as given, but stored masked: a key pasted as the model must not reach the
      // ledger, whether it has a provider's shape or is a stored key of another shape.
      model: maskAll(input.model, this.keys.cachedSecrets()),
      inputTokens: input.inputTokens,
      outputTokens: input.outputTokens,
      cacheReadTokens: input.cacheReadTokens ?? 0,
      cacheWriteTokens: input.cacheWriteTokens ?? 0,
      // What the ledger keeps (whole nano-dollars), so the reply and the totals agree exactly.
      costUsd: Math.round(cost.totalCost * NANOS_PER_USD) / NANOS_PER_USD,
      success,
      latencyMs: input.latencyMs,
      taskType: input.taskType,
      // Masked before anything keeps it: an agent may paste a whole provider reply, key included.
      // Masking first also means the cut at 200 characters cannot leave an unrecognisable key piece.
      error: input.error === undefined ? undefined : maskAll(input.error, this.keys.cachedSecrets()).slice(0, 200),
      ...(warning === undefined ? {} : { priced: false as const }),
      ...(input.keyId !== undefined && { keyId: input.keyId }),
      ...(input.retries !== undefined && input.retries > 0 && { retries: Math.floor(input.retries) }),
      ...(input.cached === true && { cached: true as const }),
      ...(input.incomplete === true && { incomplete: true as const }),
      ...(cost.estimatedTotalCost !== undefined && { estimatedCostUsd: Math.round(cost.estimatedTotalCost * NANOS_PER_USD) / NANOS_PER_USD }),
      ...(cost.source !== 'genai-prices' && cost.source !== 'unpriced' && { pricedBy: cost.source }),
    };
    // Both or neither: a ledger that cannot write (a newer version's history) refuses before either records.
    const refused = this.ledger.cannotRecord() ?? this.allUsage?.cannotRecord();
    if (refused) throw new Error(refused);
    this.ledger.record(event);
    this.allUsage?.record(event);
    if (success) this.health.success(spec.id);
    else if (!input.healthNeutral) this.health.failure(spec.id, event.error);
    return { event, cost: { ...cost, model: maskKeyShapes(cost.model) }, priced: warning === undefined, ...(warning ? { warning } : {}), budget: this.budget() };
  }

  /** Usage of this workspace, or (scope 'all', VS Code) of every workspace of this profile. */
  usage(opts: { provider?: string; model?: string; days?: number; endDaysAgo?: number; groupBy?: 'day' | 'provider' | 'model'; scope?: UsageScope }) {
    const provider = opts.provider === undefined ? undefined : getProvider(opts.provider).id;
    const days = opts.days ?? 30;
    if (!Number.isInteger(days) || days < 1 || days > 3660) throw new InputError(`days must be a whole number from 1 to 3660 (got ${days}).`);
    const endDaysAgo = opts.endDaysAgo ?? 0;
    if (!Number.isInteger(endDaysAgo) || endDaysAgo < 0 || endDaysAgo > 3660) throw new InputError(`endDaysAgo must be a whole number from 0 to 3660 (got ${endDaysAgo}).`);
    return this.usageLedger(opts.scope).usage({ days, endDaysAgo, provider, model: opts.model, groupBy: opts.groupBy ?? 'day' });
  }

  /** The ledger of a scope: 'all' is every workspace where VS Code keeps that, else this one. */
  usageLedger(scope: UsageScope = 'workspace'): Ledger {
    return scope === 'all' ? (this.allUsage ?? this.ledger) : this.ledger;
  }

  /** Forgets this workspace's usage and, in VS Code, the all-workspaces totals budgets count. */
  async resetUsage(via: AuditVia) {
    await Promise.all([this.ledger.reset(), this.allUsage?.reset(), this.opts.allUsageState && markAllUsageReset(this.opts.allUsageState, this.clock.now())]);
    this.audit.record({ action: 'reset_usage', via, ok: true });
  }

  // --- overviews (resources, chat, panel) ------------------------------------------------------

  providersOverview(): ProviderOverview[] {
    const disabled = this.opts.settings.get().disabledProviders;
    return PROVIDERS.map((p) => {
      const keys = this.keys.list(p.id);
      return {
        id: p.id,
        name: p.displayName,
        enabled: !disabled.includes(p.id),
        requiresKey: p.requiresKey,
        keyFormat: p.keyFormatHint,
        envVars: p.envVars,
        baseUrl: safe(() => this.baseUrl(p.id)) ?? p.defaultBaseUrl,
        hasKey: !p.requiresKey || keys.length > 0,
        usable: !p.requiresKey || this.keys.usable(p.id).length > 0,
        keys: keys.map((k) => ({ id: k.id, masked: k.masked, label: k.label ?? null, source: k.source, status: k.status, lastValidation: k.lastValidation ?? null, lastValidatedAt: k.lastValidatedAt ?? null, warnings: k.warnings })),
        health: this.health.get(p.id),
        models: p.models,
      };
    });
  }

  routingOverview(): RoutingOverview {
    return {
      tasks: Object.fromEntries(TASK_TYPES.map((t) => [t, providerOrder(t).map((p) => ({ provider: p.id, models: p.models[t] ?? [] }))])),
      recommendations: this.recommendations(),
      budgetEnforced: this.opts.settings.get().budget.enforce,
    };
  }

  usageOverview(): UsageOverview {
    const today = this.ledger.usage({ days: 1, groupBy: 'model' });
    const month = this.ledger.usage({ days: daysIntoMonth(this.clock.now(), this.timeZone), groupBy: 'model' });
    return {
      today: today.totals,
      month: month.totals,
      byProvider: this.ledger.usage({ days: 30, groupBy: 'provider' }).groups,
      byModel: this.ledger.usage({ days: 30, groupBy: 'model' }).groups,
      budget: this.budget(),
    };
  }

  /**
   * Background saves that failed (usage history, the all-workspaces total, the audit log). Each is
   * retried with the next save; hosts log every one and tell the user. Returns an unsubscribe.
   */
  onSaveError(listener: (err: Error) => void): () => void {
    const offs = [this.ledger.onError(listener), this.audit.onError(listener), ...(this.allUsage ? [this.allUsage.onError(listener)] : [])];
    return () => offs.forEach((off) => off());
  }

  async flush(): Promise<void> {
    await Promise.all([this.ledger.flush(), this.allUsage?.flush(), this.audit.flush()]);
  }

  dispose(): void {
    for (const d of this.disposers) d();
    this.listeners.clear();
  }

  // --- internals -----------------------------------------------------------------------------

  /** Applies the valid price overrides; invalid ones are dropped with a warning, never thrown. */
  private applyPriceOverrides(): void {
    const { overrides, warnings } = checkPriceOverrides(this.opts.settings.get().priceOverrides, 'price overrides');
    this.pricing.setOverrides(overrides);
    this.settingsWarnings = warnings;
  }

  private fire(kind: ChangeKind): void {
    for (const l of this.listeners) {
      try {
        l(kind);
      } catch {
        /* a listener's failure must not break the operation that changed state */
      }
    }
  }

  private async audited<T>(action: string, via: AuditVia, provider: string, f: () => Promise<{ result: T; keyId?: string }>): Promise<T> {
    try {
      const { result, keyId } = await f();
      this.audit.record({ action, via, provider, keyId, ok: true });
      return result;
    } catch (err) {
      this.audit.record({ action, via, provider, ok: false, detail: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }

  // --- for the surfaces: what they show, without reaching into the parts --------------------------

  /** The audit trail, newest first (no key material is ever in it). */
  auditEntries(opts: { limit?: number; provider?: string } = {}): AuditEntry[] {
    return this.audit.list(opts);
  }

  /**
   * A function that masks the stored secrets and any key-shaped token in text, for replies to agents.
   * The secrets stay inside it. When the vault cannot be read, the secrets last read are used.
   */
  async textMasker(): Promise<(text: string) => string> {
    const secrets = await this.keys.readableSecrets().catch(() => this.keys.cachedSecrets());
    return (text) => maskAll(text, secrets);
  }
  // What commands and activation need from keys, ledger and audit, so they never reach into them.

  /** Problems found reading stored data (usage history, keys, audit log), for the host to show once. */
  storedDataWarnings(): string[] {
    return [...this.ledger.warnings, ...(this.allUsage?.warnings ?? []), ...this.keys.warnings, ...this.audit.warnings];
  }

  /** This workspace's usage history as an export file's text, and how many rows it has. */
  exportUsage(format: ExportFormat): { text: string; rows: number } {
    const rows = this.ledger.export();
    return { text: formatUsageExport(rows, format, this.clock.now(), { inUse: this.pricing.sourceText('genai-prices'), dataLabel: this.pricing.dataLabel() }), rows: rows.length };
  }

  /**
   * Stores a key found in plain text (e.g. by the leak scan) unless the same key is already stored;
   * either way returns the stored key, masked. The secret goes in; only key metadata comes out.
   */
  async addKeyUnlessStored(provider: string, secret: string, extra: { label?: string }, via: AuditVia): Promise<{ key: KeyView; added: boolean }> {
    for (const k of this.keys.list(provider)) {
      const stored = await this.keys.secret(provider, k.id).catch(() => undefined);
      if (stored?.secret === secret) return { key: k, added: false };
    }
    const { key } = await this.addKey(provider, { apiKey: secret }, extra, via);
    return { key, added: true };
  }

  /**
   * The one way a secret leaves core to a surface: Restore Moved Key writes it back into the file it
   * was taken from, after the user confirmed. Audited as 'restore_moved_key'.
   */
  async secretToRestore(provider: string, keyId: string, via: AuditVia): Promise<string> {
    return this.audited('restore_moved_key', via, provider, async () => {
      const { meta, secret } = await this.keys.secret(provider, keyId);
      return { result: secret, keyId: meta.id };
    });
  }
}

export { KeyError };

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function daysIntoMonth(now: Date, timeZone: string): number {
  return Math.max(1, Number(dayKey(now, timeZone).slice(8, 10)));
}
