// The @keys chat participant: VS Code's side. Answers are built by the command modules beside this
// file (commands.ts lists them) and streamed here.
import * as vscode from 'vscode';
import type { SurfaceDeps } from '../deps';
import { findKeyLikeTokens } from '../../core/redact';
import { answerChat, chatCommand, pickChatCommand } from './commands';
import { readExtraText } from './extraText';
import { redactPromptKeys } from './refusal';
import type { ChatFollowup, ExtraText } from './types';

export const PARTICIPANT_ID = 'aiKeyManager.keys';
/** Test-mode only: runs the handler with a recording stream and returns what it streamed. */
export const DEBUG_CHAT_COMMAND = 'aiKeyManager.debug.chat';

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

/** Answers one chat request and streams the answer. Never throws. */
export async function handleChatRequest(
  deps: Pick<SurfaceDeps, 'core' | 'log'>,
  request: ChatRequestLike,
  stream: ChatStreamLike,
  token?: vscode.CancellationToken,
): Promise<vscode.ChatResult> {
  const prompt = request.prompt ?? '';
  const command = request.command || pickChatCommand(prompt)?.command;
  const def = chatCommand(command);
  deps.log.info(`chat request /${command ?? 'help'}`);
  try {
    let extra: ExtraText | undefined;
    if (def?.readsExtraText && findKeyLikeTokens(prompt).length === 0) {
      extra = await readExtraText(request, prompt, stream);
    } else if (def?.progress) {
      stream.progress(def.progress);
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
