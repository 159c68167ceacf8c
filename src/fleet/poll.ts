/**
 * Calls `attempt` every `intervalMs` until it returns something other than undefined, and
 * resolves with that. An attempt that throws ends the wait with its error; after `timeoutMs`,
 * the wait fails with `timedOut()`, given the last attempt's outcome.
 */
export async function pollUntil<T>(
  attempt: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; timedOut: () => Error },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw options.timedOut();
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
