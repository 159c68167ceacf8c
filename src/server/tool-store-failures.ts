import { AsyncLocalStorage } from 'node:async_hooks';
import { StoreUnavailableError } from '../backends/store-errors.js';
import type { ChangeEvents, SharedState } from '../workload/types.js';

/**
 * A tool's store work that failed: the SDK turns the tool's error into an `isError` result, but the
 * client must get what any other request gets when the store refuses or is away, a 503 with the
 * reason (see ResponseSink). Noted per HTTP request, wherever the tool ran.
 */
interface Failures {
  failure?: StoreUnavailableError;
}

const storage = new AsyncLocalStorage<Failures>();

export function withToolStoreFailures<T>(fn: () => T): T {
  return storage.run({}, fn);
}

/** The first store failure of a tool of the current HTTP request, if any. */
export function toolStoreFailure(): StoreUnavailableError | undefined {
  return storage.getStore()?.failure;
}

/** `work`, its store failure (if any) noted for the current request. */
export function noted<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    const failures = storage.getStore();
    if (error instanceof StoreUnavailableError && failures && !failures.failure) failures.failure = error;
    throw error;
  });
}

/** The shared state a workload sees: its store failures are noted for the request. */
export function notingSharedState(shared: SharedState): SharedState {
  return {
    get: (key) => noted(shared.get(key)),
    set: (key, value) => noted(shared.set(key, value)),
    increment: (key, by) => noted(shared.increment(key, by)),
  };
}

/** The fleet events a workload sees: their store failures are noted for the request. */
export function notingChangeEvents(events: ChangeEvents): ChangeEvents {
  return {
    resourceUpdated: (uri) => noted(events.resourceUpdated(uri)),
    toolsChanged: () => noted(events.toolsChanged()),
    promptsChanged: () => noted(events.promptsChanged()),
    resourcesChanged: () => noted(events.resourcesChanged()),
  };
}
