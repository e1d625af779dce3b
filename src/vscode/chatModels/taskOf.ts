// The task of a request to the routed model ("Auto"), from what the user asks.
import type { TaskType } from '../../core/types';
import type { ChatMessage } from '../../gateway/translate/types';

/** The task of a routed request, from the last user message; chat when nothing says otherwise. */
export function taskOf(messages: readonly ChatMessage[]): TaskType {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  const text = (typeof last?.content === 'string' ? last.content : (last?.content ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('')).toLowerCase();
  if (/\breview\b/.test(text)) return 'code_review';
  if (/\bsummar(y|ise|ize)|tl;?dr\b/.test(text)) return 'summarization';
  if (/\bextract\b/.test(text)) return 'data_extraction';
  if (/\b(write|implement|refactor|fix|generate)\b.*\b(code|function|class|test|bug|method)\b/.test(text)) return 'code_generation';
  if (/\banaly[sz]e\b/.test(text)) return 'analysis';
  return 'chat';
}
