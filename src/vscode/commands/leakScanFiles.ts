// Reading workspace files for the leak scan, and taking keys out of them or putting one back.
import * as vscode from 'vscode';
import { scanText, keyAt, commentPrefix, movedNote, findMovedNotes, LEAK_SCAN_MAX_BYTES } from '../../core/leakScan';

/** Text of a workspace file (the editor's text when it is open), or undefined when too big or binary. */
export async function readText(uri: vscode.Uri): Promise<string | undefined> {
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
export function notedText(noted: string[], emptied: string[]): string {
  const note = noted.length ? ` A comment in ${noted.join(', ')} says where the key went; 'AI Keys: Restore Moved Key' puts it back.` : '';
  const bare = emptied.length ? ` In ${emptied.join(', ')} the value is now empty, with no note (the file takes no comments there).` : '';
  return note + bare;
}

/** After removing keys from files with unsaved changes: what the user still has to do. */
export function unsavedNote(files: string[]): string {
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
export async function removeKeysFromFile(uri: vscode.Uri, keys: Map<string, string>, date: string): Promise<{ saved: boolean; note: boolean }> {
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
export async function restoreIntoFile(uri: vscode.Uri, keyId: string, secret: string): Promise<boolean> {
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
