// Polling for something asynchronous to happen, with a timeout that says what did not happen.

export interface WaitOptions {
  /** Default 5000. */
  timeoutMs?: number;
  /** Default 20. */
  intervalMs?: number;
}

/**
 * Resolves with the first value `poll` gives that is neither undefined nor false; rejects after
 * the timeout with "timed out after N ms waiting for <what>".
 */
export async function waitFor<T>(poll: () => T | undefined | false | Promise<T | undefined | false>, what: string, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await poll();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}

/** Polls `get` until `ok` holds for its value; the timeout error shows the last value seen. */
export async function waitUntil<T>(get: () => T | Promise<T>, ok: (v: T) => boolean, what: string, opts: WaitOptions = {}): Promise<T> {
  let last: T | undefined;
  try {
    return await waitFor(async () => {
      last = await get();
      return ok(last) ? { value: last } : undefined;
    }, what, opts).then((r) => r.value);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last: ${show(last)}`, { cause: err });
  }
}

/** JSON when it can be written (not a value that refers back to itself), else String(). */
function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
