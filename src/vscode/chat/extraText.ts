// Text for a /costs estimate besides the prompt: attached files or ranges, else the editor's selection.
import * as vscode from 'vscode';
import { parseTokens } from './intent';
import type { ChatRequestLike, ChatStreamLike } from './participant';
import type { ExtraText } from './types';

/** Files larger than this are not read for an estimate. */
const MAX_FILE_BYTES = 2_000_000;

/** Text to estimate: attached files or locations, else the active editor's selection when no token counts were given. */
export async function readExtraText(request: ChatRequestLike, prompt: string, stream: ChatStreamLike): Promise<ExtraText | undefined> {
  const parts: { text: string; source: string }[] = [];
  for (const ref of request.references ?? []) {
    if (ref.value instanceof vscode.Uri) {
      const uri = ref.value;
      stream.progress(`Counting tokens in ${baseName(uri)}…`);
      const stat = await readable(uri, () => vscode.workspace.fs.stat(uri));
      if (stat.size > MAX_FILE_BYTES) throw new Error(`${baseName(uri)} is larger than 2 MB; select the part you want estimated instead.`);
      const text = new TextDecoder().decode(await readable(uri, () => vscode.workspace.fs.readFile(uri)));
      parts.push({ text, source: baseName(uri) });
    } else if (ref.value instanceof vscode.Location) {
      const { uri, range } = ref.value;
      stream.progress(`Counting tokens in ${baseName(uri)}…`);
      const doc = await readable(uri, () => vscode.workspace.openTextDocument(uri));
      parts.push({ text: doc.getText(range), source: `${baseName(uri)} ${lines(range)}` });
    }
  }
  if (parts.length === 0) {
    const editor = vscode.window.activeTextEditor;
    const tokens = parseTokens(` ${prompt} `);
    if (editor && !editor.selection.isEmpty && tokens.inputTokens === undefined && tokens.outputTokens === undefined) {
      parts.push({ text: editor.document.getText(editor.selection), source: `the selection in ${baseName(editor.document.uri)} ${lines(editor.selection)}` });
    }
  }
  if (parts.length === 0) return undefined;
  return { text: parts.map((p) => p.text).join('\n'), source: parts.map((p) => p.source).join(' and ') };
}

/** Runs a read, turning a file-system failure into a plain sentence. */
async function readable<T>(uri: vscode.Uri, read: () => Thenable<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const why = err instanceof vscode.FileSystemError && err.code === 'FileNotFound' ? 'it does not exist (any more)' : 'it could not be opened';
    throw new Error(`I could not read ${baseName(uri)}: ${why}. Attach the file again or select the text in the editor.`, { cause: err });
  }
}

function baseName(uri: vscode.Uri): string {
  return uri.path.split('/').pop() || uri.toString();
}

function lines(range: vscode.Range): string {
  const a = range.start.line + 1;
  const b = range.end.line + 1;
  return a === b ? `(line ${a})` : `(lines ${a}–${b})`;
}
