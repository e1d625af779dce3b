// Leak scan: finds API keys in plain text in workspace config files, moves them into secret
// storage (optionally taking them out of the files), and Restore Moved Key undoes such a move.
import * as vscode from 'vscode';
import { getProvider } from '../../core/providers';
import { dayKey } from '../../core/calendar';
import { scanText, keyAt, findMovedNotes, LEAK_SCAN_EXCLUDE, LEAK_SCAN_INCLUDE, type LeakFinding, type MovedNote } from '../../core/leakScan';
import { maskKeyShapes } from '../../core/redact';
import type { Args } from './args';
import { cancel, confirm, keyTitle, toUri, type CommandContext, type Result } from './shared';
import { notedText, readText, removeKeysFromFile, restoreIntoFile, unsavedNote } from './leakScanFiles';

const MAX_SCANNED_FILES = 5000;

interface ScanHit {
  uri: vscode.Uri;
  file: string;
  finding: LeakFinding;
  /** Kept in memory only, to move it into secret storage. */
  secret: string;
}

function publicFinding(h: ScanHit): { file: string; line: number; column: number; provider: string; masked: string; name?: string } {
  const { line, column, provider, masked, name } = h.finding;
  return { file: h.file, line, column, provider, masked, ...(name ? { name } : {}) };
}

export async function scanForLeakedKeys(ctx: CommandContext, a: Args<'scanForLeakedKeysArgs'>): Promise<Result> {
  const autoFix = a.autoFix === true;
  const dryRun = a.dryRun === true;
  if (!vscode.workspace.workspaceFolders?.length) {
    void vscode.window.showInformationMessage('Open a folder to scan it for leaked API keys.');
    return { findings: [], moved: 0, scanned: 0 };
  }
  const { hits, scanned } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Scanning for API keys' },
    () => scanWorkspace(),
  );
  const findings = hits.map(publicFinding);
  ctx.log.info(`leak scan: ${hits.length} key(s) found in ${scanned} file(s)`);
  if (hits.length === 0) {
    if (!dryRun) void vscode.window.showInformationMessage(`No API keys found in ${scanned} workspace config files.`);
    return { findings, moved: 0, scanned };
  }
  if (dryRun) return { findings, moved: 0, scanned };
  if (autoFix) {
    const r = await fix(ctx, hits, true);
    const msg = `Moved ${r.moved} of ${hits.length} leaked key(s) into secret storage and removed them from the files.${notedText(r.noted, r.emptied)}${unsavedNote(r.unsaved)}`;
    if (r.errors.length) void vscode.window.showWarningMessage(`${msg} Problems: ${r.errors.join(' ')}`);
    else if (r.unsaved.length) void vscode.window.showWarningMessage(msg);
    else void vscode.window.showInformationMessage(msg);
    return { findings, scanned, ...r };
  }
  return { findings, scanned, ...(await reviewFindings(ctx, hits)) };
}

/**
 * Undoes a move out of a file: picks one of the notes the scan left, and puts the stored key back
 * on the line below it (the key also stays in secret storage). Asks first: the key is then in
 * plain text again.
 */
export async function restoreMovedKey(ctx: CommandContext, a: Args<'restoreMovedKeyArgs'>): Promise<Result> {
  const fileArg = a.file;
  const keyIdArg = a.keyId;
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
  const keys = ctx.core.listKeys();
  const describe = (n: (typeof notes)[number]) => {
    const k = keys.find((x) => x.id === n.keyId);
    return { label: `$(key) ${k ? `${getProvider(k.provider).displayName} key ${k.masked}` : `key id ${n.keyId} (no longer stored)`}`, description: `${n.file}:${n.line}${n.name ? ` · ${n.name}` : ''}`, note: n, key: k };
  };
  const items = notes.map(describe);
  const picked = items.length === 1 ? items[0] : ((await vscode.window.showQuickPick(items, { title: 'Put which key back into its file?', matchOnDescription: true })) ?? cancel());
  const { note, key } = picked;
  if (!key) throw new Error(`Key id ${note.keyId} is no longer stored in secret storage, so it cannot be put back into ${note.file}. Paste the key there by hand.`);
  const where = `${note.file}${note.name ? ` (${note.name})` : ''}`;
  if (a.confirm !== true && !(await confirm(ctx, `Put the ${keyTitle(key)} back into ${where}?`, 'It is then in plain text in that file again, for every app and person that can read it. It also stays in secret storage.', 'Put Back'))) {
    cancel();
  }
  const secret = await ctx.core.secretToRestore(key.provider, key.id, 'command');
  const saved = await restoreIntoFile(note.uri, note.keyId, secret);
  ctx.log.info(`restored ${key.provider} key ${key.id} (${key.masked}) into ${note.file}:${note.line}`);
  const msg = `The ${keyTitle(key)} is back in ${where}${saved ? '' : ' in the editor; save the file to write it to disk'}. It is also still in secret storage.`;
  void vscode.window.showInformationMessage(msg);
  return { restored: true, file: note.file, keyId: key.id, saved, message: msg };
}

async function scanWorkspace(): Promise<{ hits: ScanHit[]; scanned: number }> {
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
async function reviewFindings(ctx: CommandContext, hits: ScanHit[]): Promise<{ moved: number; stored: number; errors: string[]; unsaved: string[]; noted: string[]; emptied: string[]; left: number }> {
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
      const r = await fix(ctx, same, action.id === 'moveRemove');
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
async function fix(ctx: CommandContext, hits: ScanHit[], removeFromFile: boolean): Promise<{ moved: number; stored: number; errors: string[]; unsaved: string[]; noted: string[]; emptied: string[] }> {
  const errors: string[] = [];
  const unsaved: string[] = [];
  const noted: string[] = [];
  const emptied: string[] = [];
  const safe = new Map<string, string>(); // secret → id of the stored key
  let stored = 0;
  for (const h of hits) {
    if (safe.has(h.secret)) continue;
    try {
      const { keyId, added } = await storeIfNew(ctx, h);
      if (added) stored++;
      safe.set(h.secret, keyId);
    } catch (err) {
      errors.push(`${h.file}:${h.finding.line}: ${maskKeyShapes(err instanceof Error ? err.message : String(err))}`);
    }
  }
  let moved = hits.filter((h) => safe.has(h.secret)).length;
  if (removeFromFile) {
    const byFile = new Map<string, ScanHit[]>();
    for (const h of hits) if (safe.has(h.secret)) byFile.set(h.uri.toString(), [...(byFile.get(h.uri.toString()) ?? []), h]);
    const date = dayKey(ctx.core.clock.now(), ctx.core.timeZone);
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
  for (const e of errors) ctx.log.warn(`leak scan: ${e}`);
  for (const f of unsaved) ctx.log.info(`leak scan: removed the key from ${f} in the editor only; it has unsaved changes, so it was not saved`);
  return { moved, stored, errors, unsaved, noted, emptied };
}

/** Adds the key found in a file unless an identical key is stored; either way, the stored key's id. */
async function storeIfNew(ctx: CommandContext, h: ScanHit): Promise<{ keyId: string; added: boolean }> {
  const label = `from ${h.file}${h.finding.name ? ` (${h.finding.name})` : ''}`.slice(0, 80);
  const { key, added } = await ctx.core.addKeyUnlessStored(h.finding.provider, h.secret, { label }, 'command');
  if (added) ctx.log.info(`leak scan: stored ${key.provider} key ${key.id} (${key.masked}) found in ${h.file}:${h.finding.line}`);
  return { keyId: key.id, added };
}
