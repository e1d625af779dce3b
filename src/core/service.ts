// The core facade: one object that the MCP server, the chat participant, commands and panel all
// use. Hosts give it ports (vault, state, settings, clock); it owns no I/O beyond provider checks.
import type { Clock, SecretVault, StateStore } from './ports';
import { systemClock } from './ports';
import type { TaskType, UsageEvent, CostBreakdown } from './types';
import { TASK_TYPES } from './types';
import { KeyPool, KeyError, type KeyInput, type KeyView } from './keys';
import { Ledger, NANOS_PER_USD, SHARE_ID, type LedgerJournal } from './ledger';
import { dayKey } from './calendar';
import { AuditLog, type AuditEntry, type AuditVia } from './audit';
import { checkBudget, limitProblem, thresholdProblem, type BudgetConfig } from './budget';
import { PricingService, UnknownModelError, checkPriceOverrides, type PriceOverride, type TokenCounts } from './pricing';
import { countTokens, countTokensAsync, TextTooLongError, type TokenCount } from './tokenize';
import { HealthTracker } from './health';
import { Router, SAMPLE_TOKENS, providerOrder, type RouteDecision, type RouteRequest } from './router';
import { PROVIDERS, findProvider, getProvider, checkKeyFormat } from './providers';
import { resolveBaseUrl } from './endpoints';
import { notJudged, validateKeyLive, type LiveValidationResult, type UnreachableReason } from './validate';
import { maskAll, maskKeyShapes } from './redact';
import type { Candidate, ProviderOverview, ProviderStatsView, Recommendation, RoutingOverview, UsageOverview } from './views';
import { formatUsageExport, type ExportFormat } from './exportUsage';

export interface Settings {
  budget: BudgetConfig;
  /** Base-URL overrides by provider id (VS Code settings; empty = none). */
  baseUrls: Record<string, string | undefined>;
  priceOverrides: PriceOverride[];
  disabledProviders: string[];
  /** Headless config.json: an agent (MCP) may loosen the budget without the user. Default false. */
  allowAgentBudgetChanges?: boolean;
}

export interface SettingsSource {
  get(): Settings;
  setBudget(patch: Partial<BudgetConfig>): Promise<void>;
  onDidChange(listener: () => void): () => void;
}

export type ChangeKind = 'keys' | 'usage' | 'settings';

/** Whose usage: this workspace's, or every workspace's of this VS Code profile. */
export type UsageScope = 'workspace' | 'all';

/** globalState key of the all-workspaces usage (VS Code). */
const ALL_USAGE_KEY = 'aiKeyManager.ledger.all';
const LEGACY_SHARE_KEY = `${ALL_USAGE_KEY}/legacy`;
/** Set when the all-workspaces total started over: workspaces opened later do not bring their older history in. */
const ALL_USAGE_SINCE_KEY = 'aiKeyManager.ledger.allSince';

export interface CoreOptions {
  vault: SecretVault;
  /** Keys metadata and audit trail. */
  state: StateStore;
  /** The usage ledger (workspaceState in VS Code). */
  ledgerState: StateStore;
  /**
   * VS Code: where the usage of every workspace of this profile adds up (globalState), so budgets
   * are per person rather than per window. Absent headless, where the ledger already is that.
   */
  allUsageState?: StateStore;
  /**
   * This writer's share of allUsageState (e.g. a hash of the workspace): each window writes only its
   * own share, and totals sum them, so windows never overwrite each other's usage. Default 'default'.
   */
  allUsageShare?: string;
  settings: SettingsSource;
  clock?: Clock;
  timeZone?: string;
  env?: Record<string, string | undefined>;
  /** List keys found in the providers' env vars (headless host). */
  discoverEnvKeys?: boolean;
  fetchImpl?: typeof fetch;
  validationTimeoutMs?: number;
  /** Where accepted usage is written before track() returns (headless), so a crash loses none. */
  journal?: LedgerJournal;
}

export interface ValidateResult {
  provider: string;
  keyId?: string;
  masked?: string;
  format: { ok: boolean; message: string };
  outcome: 'valid' | 'invalid' | 'rate_limited' | 'unreachable' | 'format_invalid' | 'skipped';
  /** Why the provider could not be reached (outcome 'unreachable'); the key was then not judged. */
  reason?: UnreachableReason;
  httpStatus?: number;
  latencyMs?: number;
  retryAfterSeconds?: number;
  message: string;
  keyStatus?: string;
}

export interface TrackInput {
  provider: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number;
  cacheWriteTokens?: number;
  success?: boolean;
  latencyMs?: number;
  taskType?: TaskType;
  error?: string;
}

export interface TrackResult {
  event: UsageEvent;
  cost: CostBreakdown;
  /** False when no price is known for the model: the request was recorded at cost 0. */
  priced: boolean;
  /** Why the cost may be wrong (an unpriced model). */
  warning?: string;
  budget: ReturnType<typeof checkBudget>;
}

export class InputError extends Error {}

/** Text too long to count is the caller's input, not a failure. */
const asInputError = (err: unknown): unknown => (err instanceof TextTooLongError ? new InputError(err.message) : err);

const VALIDATE_CONCURRENCY = 4;
/** How long Validate All waits for an Ollama that was never set up before deciding it is not running. */
const PROBE_TIMEOUT_MS = 1500;

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
  private readonly listeners = new Set<(kind: ChangeKind) => void>();
  private readonly disposers: (() => void)[] = [];
  private settingsWarnings: string[] = [];

  constructor(private readonly opts: CoreOptions) {
    this.clock = opts.clock ?? systemClock;
    this.timeZone = opts.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    this.keys = new KeyPool(opts.vault, opts.state, { clock: this.clock, env: opts.env, discoverEnv: opts.discoverEnvKeys });
    this.ledger = new Ledger(opts.ledgerState, { clock: this.clock, timeZone: this.timeZone, journal: opts.journal });
    if (opts.allUsageState) {
      const store = opts.allUsageState;
      const id = opts.allUsageShare !== undefined && SHARE_ID.test(opts.allUsageShare) ? opts.allUsageShare : 'default';
      // The one total of an earlier build (all workspaces in one value) becomes a share of its own.
      const legacy = store.get<unknown>(ALL_USAGE_KEY);
      if (legacy !== undefined && store.get(LEGACY_SHARE_KEY) === undefined) {
        void store.update(LEGACY_SHARE_KEY, legacy).then(() => store.update(ALL_USAGE_KEY, undefined));
        void store.update(ALL_USAGE_SINCE_KEY, this.clock.now().toISOString());
      }
      this.allUsage = new Ledger(store, { clock: this.clock, timeZone: this.timeZone, stateKey: `${ALL_USAGE_KEY}/${id}`, sharesPrefix: `${ALL_USAGE_KEY}/` });
      // First start of the total in this workspace: the history it already has counts too, unless the
      // total started over since (a reset) or already held every workspace's (the earlier build's).
      if (store.get(ALL_USAGE_SINCE_KEY) === undefined) this.allUsage.adoptOnce(this.ledger);
    } else this.allUsage = undefined;
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
  async validateKey(provider: string, keyId: string | undefined, live: boolean, via: AuditVia): Promise<ValidateResult> {
    const spec = getProvider(provider);
    let secret: string | undefined;
    let meta: KeyView | undefined;
    if (spec.requiresKey) {
      const found = await this.keys.secret(spec.id, keyId);
      secret = found.secret;
      meta = this.keys.list(spec.id).find((k) => k.id === found.meta.id);
    }
    const format = secret === undefined ? { ok: true, message: `${spec.displayName} does not use an API key.` } : checkKeyFormat(spec.id, secret);
    const base: ValidateResult = { provider: spec.id, keyId: meta?.id, masked: meta?.masked, format, outcome: 'skipped', message: '' };
    if (!live) {
      const r = { ...base, outcome: format.ok ? 'skipped' : 'format_invalid', message: format.ok ? 'Format looks right; live check not requested.' : format.message } as ValidateResult;
      return r;
    }
    let live_: LiveValidationResult;
    try {
      live_ = await validateKeyLive(spec, secret, {
        baseUrl: this.baseUrl(spec.id),
        timeoutMs: this.opts.validationTimeoutMs,
        fetchImpl: this.opts.fetchImpl,
      });
    } catch (err) {
      live_ = notJudged(spec, { outcome: 'unreachable', reason: 'network', latencyMs: 0, message: err instanceof Error ? err.message : String(err) });
    }
    // One unreachable check is one failure like any other: cooldown comes after FAILURE_LIMIT in a row.
    if (live_.outcome === 'unreachable') this.health.failure(spec.id, live_.message);
    else if (live_.outcome === 'valid') this.health.success(spec.id);
    let keyStatus: string | undefined;
    if (meta) keyStatus = (await this.keys.recordValidation(meta.id, live_.outcome, live_.retryAfterSeconds))?.status;
    this.audit.record({ action: 'validate_key', via, provider: spec.id, keyId: meta?.id, ok: live_.outcome === 'valid', detail: live_.outcome });
    return {
      ...base,
      outcome: live_.outcome,
      reason: live_.reason,
      httpStatus: live_.httpStatus,
      latencyMs: live_.latencyMs,
      retryAfterSeconds: live_.retryAfterSeconds,
      message: live_.message,
      keyStatus,
    };
  }

  /**
   * Validates every stored key, a few at a time, and each keyless provider (Ollama) the user set up:
   * one with a base URL configured, or one that answers at its default address. An Ollama that was
   * never set up and is not running is not reported.
   */
  async validateAll(via: AuditVia, onProgress?: (done: number, total: number) => void): Promise<ValidateResult[]> {
    const jobs: { provider: string; keyId?: string }[] = this.keys.list().map((k) => ({ provider: k.provider, keyId: k.id }));
    const keyless = PROVIDERS.filter((spec) => !spec.requiresKey && !this.opts.settings.get().disabledProviders.includes(spec.id));
    const setUp = await Promise.all(keyless.map(async (spec) => this.isConfigured(spec.id) || (await this.answers(spec.id))));
    keyless.forEach((spec, i) => setUp[i] && jobs.push({ provider: spec.id }));
    const results: ValidateResult[] = new Array(jobs.length);
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const i = next++;
        const j = jobs[i];
        try {
          results[i] = await this.validateKey(j.provider, j.keyId, true, via);
        } catch (err) {
          results[i] = { provider: j.provider, keyId: j.keyId, format: { ok: false, message: '' }, outcome: 'unreachable', message: err instanceof Error ? err.message : String(err) };
        }
        onProgress?.(++done, jobs.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(VALIDATE_CONCURRENCY, jobs.length) }, worker));
    return results;
  }

  /** A base URL for this provider was set (setting or environment), rather than the default. */
  private isConfigured(provider: string): boolean {
    const spec = getProvider(provider);
    return safe(() => this.baseUrl(spec.id)) !== spec.defaultBaseUrl;
  }

  /** One quick, unrecorded look at whether a keyless provider answers at its address. */
  private async answers(provider: string): Promise<boolean> {
    const r = await validateKeyLive(getProvider(provider), undefined, {
      baseUrl: this.baseUrl(provider),
      timeoutMs: Math.min(this.opts.validationTimeoutMs ?? PROBE_TIMEOUT_MS, PROBE_TIMEOUT_MS),
      fetchImpl: this.opts.fetchImpl,
    }).catch(() => undefined);
    return r !== undefined && r.outcome !== 'unreachable';
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

  recommendations(task?: TaskType): Recommendation[] {
    const tasks = task ? [task] : [...TASK_TYPES];
    return tasks.map((t) => {
      const sample = SAMPLE_TOKENS[t];
      let primary: RouteDecision | undefined;
      let error: string | undefined;
      try {
        primary = this.router.route({ taskType: t });
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
      }
      const viable = this.router.viableModels(t);
      const cheapest = viable.reduce<(typeof viable)[number] | undefined>((a, b) => (!a || b.estimatedCost < a.estimatedCost ? b : a), undefined);
      const candidate = (c: Candidate): Candidate => ({ provider: c.provider, model: c.model, estimatedCost: c.estimatedCost });
      return {
        taskType: t,
        sampleRequest: { inputTokens: sample.input, outputTokens: sample.output },
        primary: primary ? candidate(primary) : null,
        fallbackChain: primary?.fallbacks.map(candidate) ?? [],
        cheapestViable: cheapest ? candidate(cheapest) : null,
        options: viable.map(candidate),
        skipped: primary?.skipped ?? [],
        ...(error ? { error } : {}),
      };
    });
  }

  providerStats(provider?: string): ProviderStatsView[] {
    const ids = provider ? [getProvider(provider).id] : PROVIDERS.map((p) => p.id);
    const stats = this.ledger.providerStats();
    return ids.map((id) => {
      const s = stats.find((x) => x.provider === id);
      const keys = this.keys.list(id);
      return {
        provider: id,
        requests: s?.requests ?? 0,
        successRate: s?.successRate ?? null,
        meanLatencyMs: s?.meanLatencyMs ?? null,
        p95LatencyMs: s?.p95LatencyMs ?? null,
        lastError: s?.lastError ?? null,
        health: this.health.get(id),
        keys: keys.map((k) => ({ id: k.id, masked: k.masked, status: k.status, lastValidation: k.lastValidation ?? null })),
      };
    });
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
    };
    // Both or neither: a ledger that cannot write (a newer version's history) refuses before either records.
    const refused = this.ledger.cannotRecord() ?? this.allUsage?.cannotRecord();
    if (refused) throw new Error(refused);
    this.ledger.record(event);
    this.allUsage?.record(event);
    if (success) this.health.success(spec.id);
    else this.health.failure(spec.id, event.error);
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
    await Promise.all([this.ledger.reset(), this.allUsage?.reset(), this.opts.allUsageState?.update(ALL_USAGE_SINCE_KEY, this.clock.now().toISOString())]);
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
    return { text: formatUsageExport(rows, format, this.clock.now()), rows: rows.length };
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
