import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The HTTP status a request handler asks for, should its request end with a JSON-RPC error: the
 * SDK answers every error a handler throws with HTTP 200, while a refusal by a limit is a 429 and
 * a store outage a 503 (with Retry-After), as on the rest of the endpoint. Noted per HTTP request.
 */
export interface ErrorStatus {
  status: number;
  headers: Record<string, string>;
}

const storage = new AsyncLocalStorage<{ asked?: ErrorStatus }>();

export function withErrorStatus<T>(fn: () => T): T {
  return storage.run({}, fn);
}

/** Asks for `status` (the first ask of a request wins); nothing outside a request. */
export function answerErrorWith(status: number, headers: Record<string, string> = {}): void {
  const noted = storage.getStore();
  if (noted && !noted.asked) noted.asked = { status, headers };
}

/** What the current request's handlers asked for, if anything. */
export function askedErrorStatus(): ErrorStatus | undefined {
  return storage.getStore()?.asked;
}
