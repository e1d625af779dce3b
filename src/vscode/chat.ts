import * as vscode from 'vscode';
import type { SurfaceDeps } from './deps';
import { answerChat, findKeyLikeTokens, parseTokens, pickCommand, redactPromptKeys, type ChatFollowup, type ExtraText } from '../core/chatAnswers';

export const PARTICIPANT_ID = 'aiKeyManager.keys';
/** Test-mode only: runs the handler with a recording stream and returns what it streamed. */
export const DEBUG_CHAT_COMMAND = 'aiKeyManager.debug.chat';
/** Files larger than this are not read for an estimate. */
const MAX_FILE_BYTES = 2_000_000;

/** The parts of a vscode.ChatRequest the handler reads. */
export interface ChatRequestLike {
  readonly prompt: string;
  readonly command?: string;
  readonly references?: readonly { readonly id: string; readonly value: unknown }[];
}

/** The parts of a vscode.ChatResponseStream the handler writes to. */
export interface ChatStreamLike {
  markdown(value: string): void;
  button(command: vscode.Command): void;
  progress(value: string): void;
}

export interface ChatResultMetadata {
  command?: string;
  followups: ChatFollowup[];
}

/** The @keys chat participant. */
export function registerChat(deps: SurfaceDeps): vscode.Disposable[] {
  const out: vscode.Disposable[] = [];
  let participant: vscode.ChatParticipant | undefined;
  try {
    participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, (request, _context, stream, token) => handleChatRequest(deps, request, stream, token));
    participant.iconPath = vscode.Uri.joinPath(deps.context.extensionUri, 'media', 'keys.svg');
    participant.followupProvider = { provideFollowups: (result) => followupsOf(result) };
    out.push(participant);
  } catch (err) {
    deps.log.warn(`The @keys chat participant is not available in this host: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (deps.context.extensionMode === vscode.ExtensionMode.Test) {
    out.push(vscode.commands.registerCommand(DEBUG_CHAT_COMMAND, (args: DebugChatArgs) => debugChat(deps, participant, args)));
  }
  return out;
}

/** Answers one chat request: the answer is built by core/chatAnswers and streamed here. Never throws. */
export async function handleChatRequest(
  deps: Pick<SurfaceDeps, 'core' | 'log'>,
  request: ChatRequestLike,
  stream: ChatStreamLike,
  token?: vscode.CancellationToken,
): Promise<vscode.ChatResult> {
  const prompt = request.prompt ?? '';
  const command = request.command || pickCommand(prompt)?.command;
  deps.log.info(`chat request /${command ?? 'help'}`);
  try {
    let extra: ExtraText | undefined;
    if (command === 'costs' && findKeyLikeTokens(prompt).length === 0) {
      extra = await readExtraText(request, prompt, stream);
    } else if (command === 'config' || command === 'route') {
      stream.progress(command === 'config' ? 'Reading keys, budgets and routing…' : 'Checking providers…');
    }
    if (token?.isCancellationRequested) return {};
    const answer = await answerChat(deps.core, request.command, prompt, extra);
    stream.markdown(redactPromptKeys(answer.markdown, prompt));
    for (const b of answer.buttons) stream.button({ title: b.title, command: b.command, arguments: b.args });
    const metadata: ChatResultMetadata = { command, followups: answer.followups };
    return { metadata };
  } catch (err) {
    const message = redactPromptKeys(err instanceof Error ? err.message : String(err), prompt);
    deps.log.error(`chat /${command ?? 'help'} failed: ${message}`);
    stream.markdown(`Sorry, I could not answer that: ${message || 'an unexpected error occurred'}\n\nRun "AI Keys: Show Log" for details, or try again.`);
    return { metadata: { command, followups: [] } satisfies ChatResultMetadata };
  }
}

function followupsOf(result: vscode.ChatResult): vscode.ChatFollowup[] {
  const meta = result.metadata as Partial<ChatResultMetadata> | undefined;
  return (meta?.followups ?? []).map((f) => ({ prompt: f.prompt, label: f.label, command: f.command }));
}

/** Text to estimate: attached files or locations, else the active editor's selection when no token counts were given. */
async function readExtraText(request: ChatRequestLike, prompt: string, stream: ChatStreamLike): Promise<ExtraText | undefined> {
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

// --- test mode ----------------------------------------------------------------------------------

interface DebugChatArgs {
  command?: string;
  prompt?: string;
  /** Files or ranges to attach, as a chat reference would: uri string, optional [startLine, startChar, endLine, endChar]. */
  references?: { uri: string; range?: [number, number, number, number] }[];
}

async function debugChat(deps: SurfaceDeps, participant: vscode.ChatParticipant | undefined, args: DebugChatArgs = {}) {
  const rec = { markdown: [] as string[], buttons: [] as { title: string; command: string; arguments?: unknown[] }[], progress: [] as string[] };
  const stream: ChatStreamLike = {
    markdown: (v) => rec.markdown.push(v),
    button: (c) => rec.buttons.push({ title: c.title, command: c.command, arguments: c.arguments }),
    progress: (v) => rec.progress.push(v),
  };
  const references = (args.references ?? []).map((r, i) => {
    const uri = vscode.Uri.parse(r.uri);
    const value = r.range ? new vscode.Location(uri, new vscode.Range(...r.range)) : uri;
    return { id: `debug.ref.${i}`, value };
  });
  const source = new vscode.CancellationTokenSource();
  try {
    // Through the registered participant when there is one, so the test exercises what VS Code calls;
    // the casts are safe because the handler reads only the ChatRequestLike / ChatStreamLike members.
    const request = { prompt: args.prompt ?? '', command: args.command, references };
    const result = participant
      ? ((await participant.requestHandler(request as unknown as vscode.ChatRequest, { history: [] }, stream as unknown as vscode.ChatResponseStream, source.token)) ?? {})
      : await handleChatRequest(deps, request, stream, source.token);
    const followups = participant?.followupProvider
      ? ((await participant.followupProvider.provideFollowups(result, { history: [] }, source.token)) ?? [])
      : followupsOf(result);
    return {
      participant: participant ? { id: participant.id, iconPath: String(participant.iconPath ?? ''), hasFollowupProvider: !!participant.followupProvider } : null,
      markdown: rec.markdown.join(''),
      buttons: rec.buttons,
      progress: rec.progress,
      followups,
      metadata: result.metadata ?? null,
    };
  } finally {
    source.dispose();
  }
}
