// Command-palette actions. Every command takes an optional argument object (for scripts and
// tests), prompts only for what is missing, and returns a result object; errors are shown and
// returned as { error }, never thrown.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SurfaceDeps } from './deps';
import { askForKey } from './keyPrompt';
import { PROVIDERS, detectProvider, getProvider, withArticle, type ProviderSpec } from '../core/providers';
import type { KeyView } from '../core/keys';
import type { ValidateResult } from '../core/service';
import type { UnreachableReason } from '../core/validate';
import { TASK_TYPES, type TaskType } from '../core/types';
import { dayKey } from '../core/calendar';
import { formatUsageExport, exportFileName, type ExportFormat } from '../core/exportUsage';
import { scanText, keyAt, redactKeys, commentPrefix, movedNote, findMovedNotes, LEAK_SCAN_EXCLUDE, LEAK_SCAN_INCLUDE, LEAK_SCAN_MAX_BYTES, type LeakFinding, type MovedNote } from '../core/leakScan';
import { formatUsd as usd } from '../core/money';
import { budgetSettingText } from '../core/auditLabels';
import { parseAlertPercent, parseLimitInput } from '../core/budget';

type Args = Record<string, unknown>;
type Result = object;

/** Thrown when the user dismisses a prompt; the command then returns { cancelled: true }. */
class Cancelled extends Error {}
const cancel = (): never => {
  throw new Cancelled('cancelled');
};

const MAX_SCANNED_FILES = 5000;
/** Context key: at least one API key is stored or configured. */
export const HAS_KEYS_CONTEXT = 'aiKeyManager.hasKeys';

/** Registers the command-palette actions (except the MCP ones registered in extension.ts). */
export function registerCommands(deps: SurfaceDeps): vscode.Disposable[] {
  const c = new Commands(deps);
  const table: Record<string, (a: Args) => Promise<Result>> = {
    'aiKeyManager.addKey': (a) => c.addKey(a),
    'aiKeyManager.removeKey': (a) => c.removeKey(a),
    'aiKeyManager.rotateKey': (a) => c.rotateKey(a),
    'aiKeyManager.validateAllKeys': () => c.validateAllKeys(),
    'aiKeyManager.listKeys': (a) => c.listKeys(a),
    'aiKeyManager.setBudget': (a) => c.setBudget(a),
    'aiKeyManager.recordUsage': (a) => c.recordUsage(a),
    'aiKeyManager.exportUsage': (a) => c.exportUsage(a),
    'aiKeyManager.resetUsage': (a) => c.resetUsage(a),
    'aiKeyManager.scanForLeakedKeys': (a) => c.scanForLeakedKeys(a),
    'aiKeyManager.restoreMovedKey': (a) => c.restoreMovedKey(a),
  };
  // Hides Remove/Rotate API Key in the palette while there is no key to act on (package.json menus).
  let hadKeys: boolean | undefined;
  const syncKeysContext = (): void => {
    const has = deps.core.listKeys().length > 0;
    if (has === hadKeys) return;
    hadKeys = has;
    void vscode.commands.executeCommand('setContext', HAS_KEYS_CONTEXT, has);
  };
  syncKeysContext();
  const unsubscribe = deps.core.onDidChange((kind) => {
    if (kind === 'keys') syncKeysContext();
  });
  const commands = Object.entries(table).map(([id, run]) =>
    vscode.commands.registerCommand(id, async (raw?: unknown): Promise<Result> => {
      try {
        return await run(argsOf(raw));
      } catch (err) {
        if (err instanceof Cancelled) return { cancelled: true };
        const message = redactKeys(err instanceof Error ? err.message : String(err));
        deps.log.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(message);
        return { error: message };
      }
    }),
  );
  return [...commands, { dispose: unsubscribe }];
}

/** A palette or menu invocation may pass nothing, a URI or a tree item: only a plain object counts. */
function argsOf(raw: unknown): Args {
  return raw !== null && typeof raw === 'object' && Object.getPrototypeOf(raw) === Object.prototype ? (raw as Args) : {};
}

function str(a: Args, k: string): string | undefined {
  const v = a[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`${k} must be a string (got ${typeof v}).`);
  return v.trim() || undefined;
}

function num(a: Args, k: string): number | undefined {
  const v = a[k];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`${k} must be a number (got ${JSON.stringify(v)}).`);
  return n;
}

function bool(a: Args, k: string): boolean | undefined {
  const v = a[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new Error(`${k} must be true or false (got ${JSON.stringify(v)}).`);
  return v;
}

const keyTitle = (k: Pick<KeyView, 'provider' | 'masked' | 'label'>): string =>
  `${getProvider(k.provider).displayName} key ${k.masked}${k.label ? ` (${k.label})` : ''}`;

interface ScanHit {
  uri: vscode.Uri;
  file: string;
  finding: LeakFinding;
  /** Kept in memory only, to move it into secret storage. */
  secret: string;
}

class Commands {
  private readonly core: SurfaceDeps['core'];
  private readonly log: SurfaceDeps['log'];

  constructor(deps: SurfaceDeps) {
    this.core = deps.core;
    this.log = deps.log;
  }

  // --- keys ----------------------------------------------------------------------------------

  async addKey(a: Args): Promise<Result> {
    const given = str(a, 'apiKey');
    const envVar = str(a, 'envVar');
    const providerArg = str(a, 'provider') ?? (given ? detectProvider(given) : undefined);
    const spec = providerArg ? getProvider(providerArg) : await this.pickProvider('Add an API key for which provider?', true);
    if (!spec.requiresKey) throw new Error(`${spec.displayName} does not use an API key; nothing to add.`);
    const answer = given || envVar ? undefined : ((await askForKey(spec.id, 'add')) ?? cancel());
    return this.storeKey(spec, answer?.provider ?? spec.id, { apiKey: given ?? answer?.secret, envVar }, a);
  }

  /** Adds a key under `provider` (asked for under `askedFor`, which differs when the key was clearly another provider's). */
  private async storeKey(askedFor: ProviderSpec, provider: string, input: { apiKey?: string; envVar?: string }, a: Args, extra = ''): Promise<Result> {
    const { key, format } = await this.core.addKey(provider, input, { label: str(a, 'label'), expiresAt: str(a, 'expiresAt') }, 'command');
    this.log.info(`added ${key.provider} key ${key.id} (${key.masked})`);
    const moved = key.provider !== askedFor.id;
    const name = getProvider(key.provider).displayName;
    const note = moved ? ` It has the shape of ${withArticle(name)} key, so it is stored under ${name} rather than ${askedFor.displayName}.${extra}` : '';
    let validation: ValidateResult | undefined;
    if (bool(a, 'validate')) validation = await this.validateOne(key.provider, key.id);
    else this.offerValidation(`Added the ${keyTitle(key)} to secret storage.${note}`, key);
    return { key, format, validation, ...(moved ? { storedUnder: key.provider, askedFor: askedFor.id } : {}) };
  }

  async removeKey(a: Args): Promise<Result> {
    const key = await this.pickKey(a, 'Remove which key?');
    if (bool(a, 'confirm') !== true && !(await this.confirm(`Remove the ${keyTitle(key)}?`, 'Its secret is deleted from secret storage. This cannot be undone.', 'Remove'))) {
      cancel();
    }
    await this.core.removeKey(key.provider, key.id, 'command');
    this.log.info(`removed ${key.provider} key ${key.id} (${key.masked})`);
    void vscode.window.showInformationMessage(`Removed the ${keyTitle(key)}.`);
    return { removed: { id: key.id, provider: key.provider, masked: key.masked } };
  }

  async rotateKey(a: Args): Promise<Result> {
    const key = await this.pickKey(a, 'Rotate which key?');
    const envVar = str(a, 'envVar');
    const answer = str(a, 'newKey') || envVar ? undefined : ((await askForKey(key.provider, 'rotate')) ?? cancel());
    const spec = getProvider(key.provider);
    if (answer && answer.provider !== key.provider) {
      return this.storeKey(spec, answer.provider, { apiKey: answer.secret }, { ...a, label: undefined, expiresAt: undefined }, ` The ${keyTitle(key)} was not rotated.`);
    }
    const newKey = str(a, 'newKey') ?? answer?.secret;
    const r = await this.core.rotateKey(key.provider, { apiKey: newKey, envVar }, key.id, 'command');
    this.log.info(`rotated ${key.provider} key ${key.id} (${r.previousMasked} → ${r.key.masked})`);
    this.offerValidation(
      `Rotated the ${getProvider(key.provider).displayName} key ${r.previousMasked} → ${r.key.masked}. The old key can be restored until ${r.rollbackUntil.slice(0, 10)}.`,
      r.key,
    );
    return { key: r.key, previousMasked: r.previousMasked, rollbackUntil: r.rollbackUntil, format: r.format };
  }

  async validateAllKeys(): Promise<Result> {
    const raw = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Validating AI keys', cancellable: false },
      async (progress) => {
        let reported = 0;
        return this.core.validateAll('command', (done, total) => {
          progress.report({ message: `${done} of ${total}`, increment: ((done - reported) / total) * 100 });
          reported = done;
        });
      },
    );
    const results = raw.map((r) => ({ ...r, message: redactKeys(r.message) }));
    const counts: Record<string, number> = {};
    for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
    const problems = results.filter((r) => r.outcome !== 'valid' && r.outcome !== 'skipped');
    const summary = results.length === 0 ? 'No keys to validate.' : Object.entries(counts).map(([k, n]) => `${n} ${k.replace('_', ' ')}`).join(', ') + '.';
    this.log.info(`validate all: ${summary}`);
    for (const r of problems) this.log.info(`validate ${r.provider}${r.masked ? ` ${r.masked}` : ''}: ${r.outcome}: ${r.message}`);
    let shown: string;
    if (results.length === 0) {
      shown = "No keys to validate. Add one with 'AI Keys: Add API Key'.";
      void vscode.window.showInformationMessage(shown, 'Add API Key').then((c) => c && vscode.commands.executeCommand('aiKeyManager.addKey'));
    } else if (problems.length === 0) {
      shown = `Key check: ${summary}`;
      void vscode.window.showInformationMessage(shown);
    } else {
      shown = `Key check: ${summary} ${problems.map(problemText).join(' ')}`;
      void vscode.window.showWarningMessage(shown, 'List Keys').then((c) => c && vscode.commands.executeCommand('aiKeyManager.listKeys'));
    }
    return { results, counts, summary, shown };
  }

  async listKeys(a: Args): Promise<Result> {
    const keys = this.core.listKeys();
    if (bool(a, 'pick') === false) return { keys };
    if (keys.length === 0) {
      void vscode.window.showInformationMessage('No API keys stored yet.', 'Add API Key').then((c) => c && vscode.commands.executeCommand('aiKeyManager.addKey'));
      return { keys };
    }
    const keyId = str(a, 'keyId');
    const chosen = keyId ? await this.pickKey({ keyId }, '') : await this.quickPickKey(keys, 'AI keys — pick one to validate, rotate or remove');
    const actions = [
      { label: '$(pass) Validate', id: 'validate' },
      { label: '$(sync) Rotate', id: 'rotate' },
      { label: '$(trash) Remove', id: 'remove' },
    ];
    const action =
      str(a, 'action') ??
      ((await vscode.window.showQuickPick(actions, { title: keyTitle(chosen), placeHolder: 'What do you want to do with this key?' }))?.id ?? cancel());
    const target = { provider: chosen.provider, keyId: chosen.id };
    let result: Result;
    if (action === 'validate') result = await this.validateOne(chosen.provider, chosen.id, true);
    else if (action === 'rotate') result = await this.rotateKey({ ...a, ...target });
    else if (action === 'remove') result = await this.removeKey({ ...a, ...target });
    else throw new Error(`Unknown action '${action}'. Use validate, rotate or remove.`);
    return { keys, selected: chosen.id, action, result };
  }

  // --- budget and usage ------------------------------------------------------------------------

  async setBudget(a: Args): Promise<Result> {
    let patch: BudgetPatch = {};
    const daily = num(a, 'daily');
    const monthly = num(a, 'monthly');
    const alertThreshold = num(a, 'alertThreshold');
    const enforce = bool(a, 'enforce');
    if (daily !== undefined) patch.daily = daily;
    if (monthly !== undefined) patch.monthly = monthly;
    if (alertThreshold !== undefined) patch.alertThreshold = alertThreshold;
    if (enforce !== undefined) patch.enforce = enforce;
    const before = this.core.budgetSettings();
    let stoppedAt: number | undefined;
    if (Object.keys(patch).length === 0) ({ patch, stoppedAt } = await this.promptBudget());
    const changed = (Object.keys(patch) as (keyof BudgetPatch)[]).filter((k) => patch[k] !== before[k]);
    const skipped = stoppedAt === undefined ? '' : ` You closed Set Budget at step ${stoppedAt} of ${BUDGET_STEPS.length}, so ${listWords(BUDGET_STEPS.slice(stoppedAt - 1))} stayed as ${stoppedAt === BUDGET_STEPS.length ? 'it was' : 'they were'}.`;
    const stop = stoppedAt ? { stoppedAt } : {};
    if (changed.length === 0) {
      const shown = `Budget unchanged: the values entered are the ones already set.${skipped}`;
      void vscode.window.showInformationMessage(shown);
      return { settings: patch, budget: this.core.budget(), saved: false, shown, ...stop };
    }
    const budget = await this.core.setBudget(Object.fromEntries(changed.map((k) => [k, patch[k]])), 'command');
    const shown = `Budget saved: ${changed.map((k) => budgetSettingText(k, patch[k])).join(', ')}.${skipped}`;
    void vscode.window.showInformationMessage(shown);
    return { settings: patch, budget, saved: true, shown, ...stop };
  }

  async recordUsage(a: Args): Promise<Result> {
    const providerArg = str(a, 'provider');
    const spec = providerArg ? getProvider(providerArg) : await this.pickProvider('Record usage for which provider?', false);
    const model = str(a, 'model') ?? (await this.pickModel(spec));
    const inputTokens = num(a, 'inputTokens') ?? (await this.askWhole('Input tokens', `Input (prompt) tokens of the ${model} request`));
    const outputTokens = num(a, 'outputTokens') ?? (await this.askWhole('Output tokens', `Output (completion) tokens of the ${model} request`));
    const taskType = str(a, 'taskType');
    if (taskType !== undefined && !(TASK_TYPES as readonly string[]).includes(taskType)) {
      throw new Error(`taskType must be one of ${TASK_TYPES.join(', ')} (got '${taskType}').`);
    }
    const r = this.core.track(
      {
        provider: spec.id,
        model,
        inputTokens,
        outputTokens,
        cacheReadTokens: num(a, 'cacheReadTokens'),
        cacheWriteTokens: num(a, 'cacheWriteTokens'),
        success: bool(a, 'success'),
        latencyMs: num(a, 'latencyMs'),
        taskType: taskType as TaskType | undefined,
      },
      'command',
    );
    const day = r.budget.day;
    const message = `Recorded ${spec.displayName} ${r.event.model}: ${usd(r.cost.totalCost)}. Today: ${usd(day.spent)}${day.limit === null ? '' : ` of ${usd(day.limit)}`}.`;
    if (r.warning) void vscode.window.showWarningMessage(`${message} ${r.warning}`);
    else void vscode.window.showInformationMessage(message);
    return r;
  }

  async exportUsage(a: Args): Promise<Result> {
    let format = str(a, 'format')?.toLowerCase();
    if (format !== undefined && format !== 'csv' && format !== 'json') throw new Error(`format must be 'csv' or 'json' (got '${format}').`);
    const uriArg = str(a, 'uri');
    let uri: vscode.Uri;
    if (uriArg) {
      uri = toUri(uriArg);
      format ??= uri.path.toLowerCase().endsWith('.json') ? 'json' : 'csv';
    } else {
      format ??=
        (
          await vscode.window.showQuickPick(
            [
              { label: 'CSV', description: 'one row per day, provider and model', id: 'csv' },
              { label: 'JSON', description: 'totals and the same rows', id: 'json' },
            ],
            { title: 'Export usage as' },
          )
        )?.id ?? cancel();
      const name = exportFileName(format as ExportFormat, dayKey(this.core.clock.now(), this.core.timeZone));
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      uri =
        (await vscode.window.showSaveDialog({
          title: 'Export usage',
          saveLabel: 'Export',
          defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
          filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
        })) ?? cancel();
    }
    const rows = this.core.ledger.export();
    const text = formatUsageExport(rows, format as ExportFormat, this.core.clock.now());
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
    this.log.info(`exported ${rows.length} usage rows (${format}) to ${uri.toString()}`);
    void vscode.window.showInformationMessage(`Exported ${rows.length} usage rows to ${path.basename(uri.path)}.`, 'Open').then((c) => {
      if (c) void vscode.window.showTextDocument(uri);
    });
    return { uri: uri.toString(), path: uri.scheme === 'file' ? uri.fsPath : undefined, format, rows: rows.length };
  }

  async resetUsage(a: Args): Promise<Result> {
    const detail =
      'All recorded requests, costs and provider statistics of this workspace are deleted, and the spend your budgets count starts again from $0 in every window of this profile (other workspaces keep their own history). Export first if you need it.';
    if (bool(a, 'confirm') !== true && !(await this.confirm('Reset the usage ledger?', detail, 'Reset'))) cancel();
    await this.core.resetUsage('command');
    this.log.info('usage ledger reset');
    void vscode.window.showInformationMessage('Usage ledger reset.');
    return { reset: true };
  }

  // --- leaked keys ---------------------------------------------------------------------------

  async scanForLeakedKeys(a: Args): Promise<Result> {
    const autoFix = bool(a, 'autoFix') === true;
    const dryRun = bool(a, 'dryRun') === true;
    if (!vscode.workspace.workspaceFolders?.length) {
      void vscode.window.showInformationMessage('Open a folder to scan it for leaked API keys.');
      return { findings: [], moved: 0, scanned: 0 };
    }
    const { hits, scanned } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Scanning for API keys' },
      () => this.scanWorkspace(),
    );
    const findings = hits.map(publicFinding);
    this.log.info(`leak scan: ${hits.length} key(s) found in ${scanned} file(s)`);
    if (hits.length === 0) {
      if (!dryRun) void vscode.window.showInformationMessage(`No API keys found in ${scanned} workspace config files.`);
      return { findings, moved: 0, scanned };
    }
    if (dryRun) return { findings, moved: 0, scanned };
    if (autoFix) {
      const r = await this.fix(hits, true);
      const msg = `Moved ${r.moved} of ${hits.length} leaked key(s) into secret storage and removed them from the files.${notedText(r.noted, r.emptied)}${unsavedNote(r.unsaved)}`;
      if (r.errors.length) void vscode.window.showWarningMessage(`${msg} Problems: ${r.errors.join(' ')}`);
      else if (r.unsaved.length) void vscode.window.showWarningMessage(msg);
      else void vscode.window.showInformationMessage(msg);
      return { findings, scanned, ...r };
    }
    return { findings, scanned, ...(await this.reviewFindings(hits)) };
  }

  /**
   * Undoes a move out of a file: picks one of the notes the scan left, and puts the stored key back
   * on the line below it (the key also stays in secret storage). Asks first: the key is then in
   * plain text again.
   */
  async restoreMovedKey(a: Args): Promise<Result> {
    const fileArg = str(a, 'file');
    const keyIdArg = str(a, 'keyId');
    const notes: (MovedNote & { uri: vscode.Uri; file: string })[] = [];
    const uris = fileArg ? [toUri(fileArg)] : await vscode.workspace.findFiles(LEAK_SCAN_INCLUDE, LEAK_SCAN_EXCLUDE, MAX_SCANNED_FILES);
    for (const uri of uris) {
      const text = await readText(uri);
      if (text === undefined) continue;
      for (const n of findMovedNotes(text)) if (!keyIdArg || n.keyId === keyIdArg) notes.push({ uri, file: vscode.workspace.asRelativePath(uri), ...n });
    }
    if (notes.length === 0) {
      const msg = `No moved key to restore: no file ${fileArg ? `'${fileArg}' ` : 'in this workspace '}has an 'AI Key Manager moved' note${keyIdArg ? ` for key id ${keyIdArg}` : ''}.`;
      void vscode.window.showInformationMessage(msg);
      return { restored: false, message: msg };
    }
    const keys = this.core.listKeys();
    const describe = (n: (typeof notes)[number]) => {
      const k = keys.find((x) => x.id === n.keyId);
      return { label: `$(key) ${k ? `${getProvider(k.provider).displayName} key ${k.masked}` : `key id ${n.keyId} (no longer stored)`}`, description: `${n.file}:${n.line}${n.name ? ` · ${n.name}` : ''}`, note: n, key: k };
    };
    const items = notes.map(describe);
    const picked = items.length === 1 ? items[0] : ((await vscode.window.showQuickPick(items, { title: 'Put which key back into its file?', matchOnDescription: true })) ?? cancel());
    const { note, key } = picked;
    if (!key) throw new Error(`Key id ${note.keyId} is no longer stored in secret storage, so it cannot be put back into ${note.file}. Paste the key there by hand.`);
    const where = `${note.file}${note.name ? ` (${note.name})` : ''}`;
    if (bool(a, 'confirm') !== true && !(await this.confirm(`Put the ${keyTitle(key)} back into ${where}?`, 'It is then in plain text in that file again, for every app and person that can read it. It also stays in secret storage.', 'Put Back'))) {
      cancel();
    }
    const { secret } = await this.core.keys.secret(key.provider, key.id);
    const saved = await restoreIntoFile(note.uri, note.keyId, secret);
    this.log.info(`restored ${key.provider} key ${key.id} (${key.masked}) into ${note.file}:${note.line}`);
    const msg = `The ${keyTitle(key)} is back in ${where}${saved ? '' : ' in the editor; save the file to write it to disk'}. It is also still in secret storage.`;
    void vscode.window.showInformationMessage(msg);
    return { restored: true, file: note.file, keyId: key.id, saved, message: msg };
  }

  private async scanWorkspace(): Promise<{ hits: ScanHit[]; scanned: number }> {
    const uris = await vscode.workspace.findFiles(LEAK_SCAN_INCLUDE, LEAK_SCAN_EXCLUDE, MAX_SCANNED_FILES);
    const hits: ScanHit[] = [];
    let scanned = 0;
    for (const uri of uris) {
      const text = await readText(uri);
      if (text === undefined) continue;
      scanned++;
      const file = vscode.workspace.asRelativePath(uri, vscode.workspace.workspaceFolders!.length > 1);
      for (const finding of scanText(text)) hits.push({ uri, file, finding, secret: keyAt(text, finding) });
    }
    // findFiles lists in no fixed order: report by file, then position.
    hits.sort((a, b) => a.file.localeCompare(b.file) || a.finding.offset - b.finding.offset);
    return { hits, scanned };
  }

  /**
   * The quick-pick review: per finding, move and remove, move only, open, or ignore. Opening the
   * file keeps the review going; dismissing the list with findings left says how many.
   */
  private async reviewFindings(hits: ScanHit[]): Promise<{ moved: number; stored: number; errors: string[]; unsaved: string[]; noted: string[]; emptied: string[]; left: number }> {
    let remaining = [...hits];
    const total = { moved: 0, stored: 0, errors: [] as string[], unsaved: [] as string[], noted: [] as string[], emptied: [] as string[], left: 0 };
    while (remaining.length > 0) {
      const picked = await vscode.window.showQuickPick(
        remaining.map((h) => ({
          label: `$(warning) ${getProvider(h.finding.provider).displayName} key ${h.finding.masked}`,
          description: `${h.file}:${h.finding.line}`,
          detail: h.finding.name ? `assigned to ${h.finding.name}` : undefined,
          hit: h,
        })),
        { title: `${remaining.length} API key(s) in plain text in workspace files`, placeHolder: 'Pick a key to move it into secret storage', matchOnDescription: true, ignoreFocusOut: true },
      );
      if (!picked) {
        total.left = remaining.length;
        const n = remaining.length === 1 ? '1 key is' : `${remaining.length} keys are`;
        void vscode.window
          .showWarningMessage(`${n} still in plain text in workspace files. Run 'AI Keys: Scan Workspace for Leaked Keys' again to move ${remaining.length === 1 ? 'it' : 'them'} into secret storage.`, 'Scan Again')
          .then((c) => c && vscode.commands.executeCommand('aiKeyManager.scanForLeakedKeys'));
        break;
      }
      const h = picked.hit;
      const action = await vscode.window.showQuickPick(
        [
          { label: '$(lock) Move to SecretStorage and remove from file', id: 'moveRemove' },
          { label: '$(lock) Move to SecretStorage only', id: 'move' },
          { label: '$(go-to-file) Open the file at the key', id: 'open' },
          { label: '$(circle-slash) Ignore', id: 'ignore' },
        ],
        { title: `${getProvider(h.finding.provider).displayName} key ${h.finding.masked} in ${h.file}:${h.finding.line}` },
      );
      if (!action) continue;
      if (action.id === 'open') {
        const doc = await vscode.workspace.openTextDocument(h.uri);
        const start = doc.positionAt(h.finding.offset);
        await vscode.window.showTextDocument(doc, { selection: new vscode.Range(start, start), preview: false });
        continue; // the list comes back with every finding still to handle
      }
      if (action.id === 'moveRemove' || action.id === 'move') {
        // Every occurrence of this key in the file is handled together.
        const same = remaining.filter((x) => x.secret === h.secret && x.uri.toString() === h.uri.toString());
        const r = await this.fix(same, action.id === 'moveRemove');
        total.moved += r.moved;
        total.stored += r.stored;
        total.errors.push(...r.errors);
        total.unsaved.push(...r.unsaved.filter((f) => !total.unsaved.includes(f)));
        total.noted.push(...r.noted.filter((f) => !total.noted.includes(f)));
        total.emptied.push(...r.emptied.filter((f) => !total.emptied.includes(f)));
        const what = `The ${getProvider(h.finding.provider).displayName} key ${h.finding.masked} is in secret storage`;
        if (r.errors.length) void vscode.window.showErrorMessage(r.errors.join(' '));
        else if (r.unsaved.length) void vscode.window.showWarningMessage(`${what} and removed from ${h.file} in the editor.${notedText(r.noted, r.emptied)}${unsavedNote(r.unsaved)}`);
        else void vscode.window.showInformationMessage(`${what}${action.id === 'moveRemove' ? ` and no longer in ${h.file}.${notedText(r.noted, r.emptied)}` : '.'}`);
        remaining = remaining.filter((x) => !same.includes(x));
      } else remaining = remaining.filter((x) => x !== h);
    }
    return total;
  }

  /**
   * Stores each distinct key (unless already stored), then optionally takes it out of its files,
   * leaving a note where the file has comments.
   */
  private async fix(hits: ScanHit[], removeFromFile: boolean): Promise<{ moved: number; stored: number; errors: string[]; unsaved: string[]; noted: string[]; emptied: string[] }> {
    const errors: string[] = [];
    const unsaved: string[] = [];
    const noted: string[] = [];
    const emptied: string[] = [];
    const safe = new Map<string, string>(); // secret → id of the stored key
    let stored = 0;
    for (const h of hits) {
      if (safe.has(h.secret)) continue;
      try {
        const { keyId, added } = await this.storeIfNew(h);
        if (added) stored++;
        safe.set(h.secret, keyId);
      } catch (err) {
        errors.push(`${h.file}:${h.finding.line}: ${redactKeys(err instanceof Error ? err.message : String(err))}`);
      }
    }
    let moved = hits.filter((h) => safe.has(h.secret)).length;
    if (removeFromFile) {
      const byFile = new Map<string, ScanHit[]>();
      for (const h of hits) if (safe.has(h.secret)) byFile.set(h.uri.toString(), [...(byFile.get(h.uri.toString()) ?? []), h]);
      const date = dayKey(this.core.clock.now(), this.core.timeZone);
      for (const group of byFile.values()) {
        try {
          const { saved, note } = await removeKeysFromFile(group[0].uri, safe, date);
          if (!saved) unsaved.push(group[0].file);
          (note ? noted : emptied).push(group[0].file);
        } catch (err) {
          moved -= group.length;
          errors.push(`${group[0].file}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    for (const e of errors) this.log.warn(`leak scan: ${e}`);
    for (const f of unsaved) this.log.info(`leak scan: removed the key from ${f} in the editor only; it has unsaved changes, so it was not saved`);
    return { moved, stored, errors, unsaved, noted, emptied };
  }

  /** Adds the key found in a file unless an identical key is stored; either way, the stored key's id. */
  private async storeIfNew(h: ScanHit): Promise<{ keyId: string; added: boolean }> {
    const provider = h.finding.provider;
    for (const k of this.core.listKeys(provider)) {
      const existing = await this.core.keys.secret(provider, k.id).catch(() => undefined);
      if (existing?.secret === h.secret) return { keyId: k.id, added: false };
    }
    const label = `from ${h.file}${h.finding.name ? ` (${h.finding.name})` : ''}`.slice(0, 80);
    const { key } = await this.core.addKey(provider, { apiKey: h.secret }, { label }, 'command');
    this.log.info(`leak scan: stored ${provider} key ${key.id} (${key.masked}) found in ${h.file}:${h.finding.line}`);
    return { keyId: key.id, added: true };
  }

  // --- prompts -------------------------------------------------------------------------------

  /** Providers in catalog order (so Enter picks the same one every time), each saying whether a key is stored. */
  private async pickProvider(title: string, keyed: boolean): Promise<ProviderSpec> {
    const items = PROVIDERS.filter((p) => !keyed || p.requiresKey).map((p) => {
      const keys = p.requiresKey ? this.core.listKeys(p.id) : [];
      const stored = keys.length === 0 ? undefined : keys.length === 1 ? '$(key) has a key' : `$(key) has ${keys.length} keys`;
      return {
        label: p.displayName,
        description: p.requiresKey ? (stored ?? 'no key yet') : 'no API key needed',
        detail: keys.length ? `Stored: ${keys.map((k) => k.masked).join(', ')}` : p.requiresKey ? `Key ${p.keyFormatHint}` : undefined,
        spec: p,
      };
    });
    const picked = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
    return picked?.spec ?? cancel();
  }

  private async pickModel(spec: ProviderSpec): Promise<string> {
    const models = [...new Set(Object.values(spec.models).flat())];
    const other = '$(edit) Other model…';
    const picked = await vscode.window.showQuickPick([...models.map((m) => ({ label: m, description: spec.tier[m] })), { label: other, description: '' }], {
      title: `${spec.displayName} model`,
    });
    if (!picked) cancel();
    if (picked!.label !== other) return picked!.label;
    const typed = await vscode.window.showInputBox({
      title: `${spec.displayName} model`,
      prompt: 'Model id as the provider names it, e.g. gpt-4o-mini',
      validateInput: (v) => (v.trim() ? undefined : 'Enter a model id.'),
    });
    return typed?.trim() || cancel();
  }

  private async askWhole(title: string, prompt: string): Promise<number> {
    const v = await vscode.window.showInputBox({
      title,
      prompt,
      value: '0',
      validateInput: (s) => (/^\s*\d+\s*$/.test(s) && Number.isSafeInteger(Number(s)) ? undefined : 'Enter a whole number ≥ 0, e.g. 1200.'),
    });
    return v === undefined ? cancel() : Number(v);
  }

  /**
   * The four Set Budget steps, each starting from the current setting (Enter through them changes
   * nothing). Escape on a later step keeps what the earlier steps set: `stoppedAt` is that step.
   */
  private async promptBudget(): Promise<{ patch: BudgetPatch; stoppedAt?: number }> {
    const settings = this.core.budgetSettings();
    const patch: BudgetPatch = {};
    const total = BUDGET_STEPS.length;
    const title = (i: number) => `Set Budget (${i + 1}/${total}): ${BUDGET_STEPS[i]}`;
    const askUsd = (i: number, value: number) =>
      vscode.window.showInputBox({
        title: title(i),
        prompt: 'USD. 0 or empty = no limit. Escape keeps what the earlier steps set.',
        value: value > 0 ? String(value) : '',
        ignoreFocusOut: true,
        validateInput: (s) => parseLimitInput(s).problem,
      });
    const steps: (() => Promise<boolean>)[] = [
      async () => {
        const v = await askUsd(0, settings.daily);
        if (v !== undefined) patch.daily = parseLimitInput(v).limit!;
        return v !== undefined;
      },
      async () => {
        const v = await askUsd(1, settings.monthly);
        if (v !== undefined) patch.monthly = parseLimitInput(v).limit!;
        return v !== undefined;
      },
      async () => {
        const v = await vscode.window.showInputBox({
          title: title(2),
          prompt: 'Warn when spending reaches this share of a budget, e.g. 80%.',
          value: `${Math.round(settings.alertThreshold * 1000) / 10}%`,
          ignoreFocusOut: true,
          validateInput: (s) => (parseAlertPercent(s) === undefined ? 'Enter a percentage from 1% to 100%, e.g. 80%.' : undefined),
        });
        if (v !== undefined) patch.alertThreshold = parseAlertPercent(v)!;
        return v !== undefined;
      },
      async () => {
        const warnOnly = { label: 'Warn only', description: 'routing ignores the budget', value: false };
        const enforcing = { label: 'Enforce', description: 'route_request refuses or downgrades once a budget is exceeded', value: true };
        // The current choice comes first, where the selection starts.
        const [current, other] = settings.enforce ? [enforcing, warnOnly] : [warnOnly, enforcing];
        const picked = await vscode.window.showQuickPick([{ ...current, description: `${current.description} (current setting)` }, other], { title: title(3), ignoreFocusOut: true });
        if (picked) patch.enforce = picked.value;
        return picked !== undefined;
      },
    ];
    for (let i = 0; i < steps.length; i++) {
      if (await steps[i]()) continue;
      if (i === 0) cancel(); // nothing entered yet: a plain cancel
      return { patch, stoppedAt: i + 1 };
    }
    return { patch };
  }

  private async pickKey(a: Args, title: string): Promise<KeyView> {
    const keyId = str(a, 'keyId');
    const provider = str(a, 'provider');
    const keys = this.core.listKeys(provider);
    if (keyId) {
      const k = keys.find((x) => x.id === keyId);
      if (!k) throw new Error(`No key with id '${keyId}'${provider ? ` for ${provider}` : ''}. Run 'AI Keys: List Keys' to see the stored keys.`);
      return k;
    }
    if (keys.length === 0) {
      throw new Error(provider ? `No key stored for ${getProvider(provider).id}. Run 'AI Keys: Add API Key'.` : "No API keys stored. Run 'AI Keys: Add API Key'.");
    }
    if (provider && keys.length === 1) return keys[0];
    return this.quickPickKey(keys, title);
  }

  private async quickPickKey(keys: KeyView[], title: string): Promise<KeyView> {
    const picked = await vscode.window.showQuickPick(
      keys.map((k) => ({
        label: `$(key) ${getProvider(k.provider).displayName}  ${k.masked}`,
        description: [k.label, k.status, k.source === 'env' ? `from ${k.envVar}` : undefined].filter(Boolean).join(' · '),
        detail: k.warnings.length ? `$(warning) ${k.warnings.join(' · ')}` : k.lastValidation ? `last check: ${k.lastValidation} (${k.lastValidatedAt?.slice(0, 10)})` : 'not validated yet',
        key: k,
      })),
      { title, matchOnDescription: true, matchOnDetail: true },
    );
    return picked?.key ?? cancel();
  }

  /** A modal confirmation; a dialog that cannot be shown (e.g. in test hosts) counts as "no". */
  private async confirm(message: string, detail: string, action: string): Promise<boolean> {
    try {
      return (await vscode.window.showWarningMessage(message, { modal: true, detail }, action)) === action;
    } catch (err) {
      this.log.warn(`confirmation dialog could not be shown (${err instanceof Error ? err.message : String(err)}); nothing done.`);
      return false;
    }
  }

  // --- validation helpers --------------------------------------------------------------------

  private async validateOne(provider: string, keyId: string, show = false): Promise<ValidateResult> {
    const r = await this.core.validateKey(provider, keyId, true, 'command');
    const result = { ...r, message: redactKeys(r.message) };
    if (show) {
      const text = `${getProvider(provider).displayName} ${r.masked ?? ''}: ${r.outcome}. ${result.message}`;
      if (r.outcome === 'valid') void vscode.window.showInformationMessage(text);
      else void vscode.window.showWarningMessage(text);
    }
    return result;
  }

  /** Shows `message` with a "Validate now" button, without waiting for it. */
  private offerValidation(message: string, key: KeyView): void {
    void vscode.window.showInformationMessage(message, 'Validate now').then(async (choice) => {
      if (choice !== 'Validate now') return;
      try {
        await this.validateOne(key.provider, key.id, true);
      } catch (err) {
        void vscode.window.showErrorMessage(redactKeys(err instanceof Error ? err.message : String(err)));
      }
    });
  }
}

/** Why a provider could not be reached, and what to do about it. */
const UNREACHABLE: Record<UnreachableReason, string> = {
  no_network: 'no network; check that you are online',
  dns: 'DNS lookup failed; check your network and the base URL',
  refused: 'connection refused; check that the server runs and the base URL is right',
  reset: 'connection reset; try again, and check any proxy or firewall',
  timeout: 'timed out; check your network and try again',
  tls: 'TLS certificate problem; check the base URL and any proxy',
  bad_url: 'the base URL is not valid; fix the base URL setting',
  redirect: 'redirected elsewhere; set the base URL to the final address',
  server_error: 'the provider answered with a server error; try again later',
  unexpected_status: 'unexpected answer; check the base URL',
  network: 'network error; check your network and the base URL',
};

/** One result that needs attention, as a sentence: what happened and what it says about the key. */
function problemText(r: ValidateResult): string {
  const who = `${getProvider(r.provider).displayName}${r.masked ? ` ${r.masked}` : ''}`;
  switch (r.outcome) {
    case 'unreachable':
      return getProvider(r.provider).requiresKey
        ? `${who}: not checked, the provider could not be reached (${UNREACHABLE[r.reason ?? 'network']}). The key itself may be fine.`
        : `${who}: not reachable (${UNREACHABLE[r.reason ?? 'network']}).`;
    case 'invalid':
      return `${who}: rejected by the provider; replace it.`;
    case 'rate_limited':
      return `${who}: accepted but rate-limited or out of quota right now.`;
    default:
      return `${who}: ${r.outcome.replace('_', ' ')}. ${r.message}`;
  }
}

function publicFinding(h: ScanHit): { file: string; line: number; column: number; provider: string; masked: string; name?: string } {
  const { line, column, provider, masked, name } = h.finding;
  return { file: h.file, line, column, provider, masked, ...(name ? { name } : {}) };
}

/** Text of a workspace file (the editor's text when it is open), or undefined when too big or binary. */
async function readText(uri: vscode.Uri): Promise<string | undefined> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  try {
    const stat = await vscode.workspace.fs.stat(uri);
    if (stat.size > LEAK_SCAN_MAX_BYTES || stat.type & vscode.FileType.Directory) return undefined;
    const bytes = await vscode.workspace.fs.readFile(uri);
    if (bytes.includes(0)) return undefined;
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined; // deleted or unreadable since findFiles listed it
  }
}

/** After taking keys out of files: where a note says where each went (Restore undoes it), and where none could. */
function notedText(noted: string[], emptied: string[]): string {
  const note = noted.length ? ` A comment in ${noted.join(', ')} says where the key went; 'AI Keys: Restore Moved Key' puts it back.` : '';
  const bare = emptied.length ? ` In ${emptied.join(', ')} the value is now empty, with no note (the file takes no comments there).` : '';
  return note + bare;
}

/** After removing keys from files with unsaved changes: what the user still has to do. */
function unsavedNote(files: string[]): string {
  if (files.length === 0) return '';
  const list = files.join(', ');
  return files.length === 1
    ? ` ${list} had other unsaved changes, so it was not saved: save it to take the key off the disk.`
    : ` ${list} had other unsaved changes, so they were not saved: save them to take the keys off the disk.`;
}

/**
 * Takes every occurrence of the given keys (secret → stored key id) out of a file through a
 * WorkspaceEdit, and where the file has comments leaves a note above each such line saying where
 * the key went and how to put it back. Saves the file only if it had no unsaved changes before, so
 * the user's own edits are never saved behind their back; `saved: false` means the key is gone
 * from the editor but still on disk until they save.
 */
async function removeKeysFromFile(uri: vscode.Uri, keys: Map<string, string>, date: string): Promise<{ saved: boolean; note: boolean }> {
  const wasDirty = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.isDirty === true;
  const doc = await vscode.workspace.openTextDocument(uri);
  const text = doc.getText();
  const prefix = commentPrefix(uri.path);
  const edit = new vscode.WorkspaceEdit();
  const notedLines = new Set<number>();
  let n = 0;
  for (const f of scanText(text)) {
    const secret = keyAt(text, f);
    const keyId = keys.get(secret);
    if (keyId === undefined) continue;
    edit.replace(uri, new vscode.Range(doc.positionAt(f.offset), doc.positionAt(f.offset + f.length)), '');
    const line = doc.lineAt(f.line - 1);
    // Only above an assignment (NAME=…, name: …): a line inside a multi-line value (a YAML block) is data.
    if (prefix && f.name && !notedLines.has(line.lineNumber)) {
      notedLines.add(line.lineNumber);
      const indent = line.text.slice(0, line.firstNonWhitespaceCharacterIndex);
      const note = movedNote(prefix, { name: f.name, provider: f.provider, masked: f.masked, keyId, column: f.column, date });
      edit.insert(uri, line.range.start, `${indent}${note}${doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n'}`);
    }
    n++;
  }
  const note = notedLines.size > 0;
  if (n === 0) return { saved: true, note };
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error('the file could not be edited; remove the key from it by hand.');
  if (wasDirty) return { saved: false, note };
  if (!(await doc.save())) throw new Error('the edited file could not be saved; save it by hand.');
  return { saved: true, note };
}

/**
 * Puts `secret` back where the note for `keyId` says it was (the column on the line below the note)
 * and removes the note. Reads the file afresh, so edits made meanwhile cannot misplace it; refuses
 * when that line no longer has room at that column. Saves unless the file had unsaved changes;
 * returns whether it saved.
 */
async function restoreIntoFile(uri: vscode.Uri, keyId: string, secret: string): Promise<boolean> {
  const wasDirty = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.isDirty === true;
  const doc = await vscode.workspace.openTextDocument(uri);
  const file = vscode.workspace.asRelativePath(uri);
  const note = findMovedNotes(doc.getText()).find((n) => n.keyId === keyId);
  if (!note) throw new Error(`The note for this key is no longer in ${file}. Nothing was changed.`);
  const next = note.line < doc.lineCount ? doc.lineAt(note.line) : undefined;
  const at = note.column - 1;
  if (!next || next.text.length < at || (note.name !== undefined && !next.text.slice(0, at).includes(note.name))) {
    throw new Error(`The line under the note in ${file} changed after the key was taken out, so it is not clear where the key goes. Nothing was changed; undo that edit and run Restore Moved Key again.`);
  }
  const edit = new vscode.WorkspaceEdit();
  edit.insert(uri, new vscode.Position(next.lineNumber, at), secret);
  edit.delete(uri, doc.lineAt(note.line - 1).rangeIncludingLineBreak);
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error('the file could not be edited; nothing was changed.');
  return wasDirty ? false : doc.save();
}

/** A file path (absolute, or relative to the first workspace folder) or a URI string. */
function toUri(s: string): vscode.Uri {
  if (/^[a-zA-Z][\w+.-]+:/.test(s)) return vscode.Uri.parse(s, true);
  if (path.isAbsolute(s)) return vscode.Uri.file(s);
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!folder) throw new Error(`'${s}' is a relative path and no folder is open. Give an absolute path.`);
  return vscode.Uri.joinPath(folder, s);
}

type BudgetPatch = { daily?: number; monthly?: number; alertThreshold?: number; enforce?: boolean };

/** The Set Budget steps in order, as the step titles and messages name them. */
const BUDGET_STEPS = ['the daily limit', 'the monthly limit', 'the alert threshold', 'enforcement'];

/** "a", "a and b", "a, b and c". */
function listWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}


