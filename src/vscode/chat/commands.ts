// The @keys slash commands. Adding one: a module beside this one exporting a ChatCommandDef, one line
// below, and its entry in package.json's chatParticipants (test/manifest.test.ts checks they agree).
import type { AiKeyManagerCore } from '../../core/service';
import { configCommand } from './config';
import { costsCommand } from './costs';
import { pickCommand } from './intent';
import { escapeMd } from './markdown';
import { refuseKeyMaterial } from './refusal';
import { routeCommand } from './route';
import { usageCommand } from './usage';
import { COMMAND_IDS, type ChatAnswer, type ChatCommandDef, type ExtraText } from './types';

export const CHAT_COMMANDS: readonly ChatCommandDef[] = [configCommand, usageCommand, costsCommand, routeCommand];

export function chatCommand(name: string | undefined): ChatCommandDef | undefined {
  return CHAT_COMMANDS.find((c) => c.name === name);
}

/** The command a question without one is closest to, and the words that decided it. */
export function pickChatCommand(prompt: string): { command: string; matched: string[] } | undefined {
  return pickCommand(prompt, CHAT_COMMANDS);
}

/** Answer for a request: with its slash command, or routed by keywords (saying which), or help. */
export async function answerChat(core: AiKeyManagerCore, command: string | undefined, prompt: string, extra?: ExtraText): Promise<ChatAnswer> {
  const refusal = refuseKeyMaterial(core, prompt);
  if (refusal) return refusal;
  let note = '';
  let def = chatCommand(command);
  if (command && !def) note = `I don't know the command /${escapeMd(command)}. `;
  if (!def) {
    const picked = pickChatCommand(prompt);
    if (!picked) return help(note);
    def = chatCommand(picked.command)!;
    note += `_Answering with **/${def.name}** (you mentioned ${picked.matched.map((m) => `"${m}"`).join(', ')})._\n\n`;
  }
  const a = await def.answer(core, prompt, extra);
  return { ...a, markdown: note + a.markdown };
}

function help(note: string): ChatAnswer {
  const md = [`${note}I answer questions about your AI keys, usage, costs and routing. Try:`, '', ...CHAT_COMMANDS.map((c) => `- ${c.help}`)].join('\n');
  return {
    markdown: md,
    buttons: [{ title: 'Open usage panel', command: COMMAND_IDS.showPanel }],
    followups: [
      { prompt: 'show my keys', command: 'config', label: 'Show my keys' },
      { prompt: 'today', command: 'usage', label: "Today's usage" },
      { prompt: 'budget', command: 'costs', label: 'Budget status' },
    ],
  };
}
