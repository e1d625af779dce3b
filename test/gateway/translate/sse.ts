// Reads an OpenAI chat.completion.chunk SSE stream as a client would assemble it.
export interface Assembled {
  raw: string;
  text: string;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReasons: string[];
  usage?: unknown;
  model?: string;
  errors: string[];
  roleChunks: number;
  done: boolean;
}

export function readChunks(sse: string): Assembled {
  const out: Assembled = { raw: sse, text: '', toolCalls: [], finishReasons: [], errors: [], roleChunks: 0, done: false };
  for (const event of sse.split('\n\n')) {
    if (!event.startsWith('data: ')) continue;
    const data = event.slice(6);
    if (data === '[DONE]') {
      out.done = true;
      continue;
    }
    const c = JSON.parse(data) as {
      model?: string;
      usage?: unknown;
      error?: { message: string };
      choices?: { delta: { role?: string; content?: string; tool_calls?: { index: number; id?: string; function: { name?: string; arguments: string } }[] }; finish_reason: string | null }[];
    };
    if (c.error) out.errors.push(c.error.message);
    if (c.model) out.model = c.model;
    if (c.usage) out.usage = c.usage;
    for (const ch of c.choices ?? []) {
      if (ch.delta.role) out.roleChunks++;
      out.text += ch.delta.content ?? '';
      for (const t of ch.delta.tool_calls ?? []) {
        const call = (out.toolCalls[t.index] ??= { id: '', name: '', arguments: '' });
        if (t.id) call.id = t.id;
        if (t.function.name) call.name = t.function.name;
        call.arguments += t.function.arguments;
      }
      if (ch.finish_reason) out.finishReasons.push(ch.finish_reason);
    }
  }
  return out;
}
