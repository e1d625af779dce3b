// What a @keys answer is, and what a slash command provides. Pure: the command modules build answers
// from the core, and participant.ts streams them.
import type { AiKeyManagerCore } from '../../core/service';

export interface ChatButton {
  title: string;
  command: string;
  args?: unknown[];
}

export interface ChatFollowup {
  prompt: string;
  /** Slash command to run the prompt with (a ChatCommandDef name). */
  command?: string;
  label: string;
}

export interface ChatAnswer {
  markdown: string;
  buttons: ChatButton[];
  followups: ChatFollowup[];
}

/** Text to estimate besides the prompt (editor selection, attached file), described for the reply. */
export interface ExtraText {
  text: string;
  /** e.g. "the selection in app.ts"; never the text itself. */
  source: string;
}

/**
 * One slash command of @keys. Its name, description and sample request are also in package.json's
 * chatParticipants (test/manifest.test.ts checks they agree).
 */
export interface ChatCommandDef {
  name: string;
  description: string;
  sampleRequest: string;
  /** The help line's example, e.g. "`/usage 7d anthropic`". */
  help: string;
  /** Words that point a question without a slash command here: strong ones count 2, weak ones 1. */
  words: { strong: RegExp; weak: RegExp };
  /** On equal keyword scores the higher wins (default 0): the more specific command. */
  priority?: number;
  /** Another word worth 1 point (e.g. a task name for /route), and where it is. */
  extraWord?(text: string): { word: string; at: number } | undefined;
  /** Shown while the answer is built. */
  progress?: string;
  /** Reads attached files or the editor selection as text to estimate. */
  readsExtraText?: boolean;
  answer(core: AiKeyManagerCore, prompt: string, extra?: ExtraText): ChatAnswer | Promise<ChatAnswer>;
}

/** The palette commands that chat buttons run. */
export const COMMAND_IDS = {
  addKey: 'aiKeyManager.addKey',
  rotateKey: 'aiKeyManager.rotateKey',
  removeKey: 'aiKeyManager.removeKey',
  validateAll: 'aiKeyManager.validateAllKeys',
  showPanel: 'aiKeyManager.showPanel',
} as const;
