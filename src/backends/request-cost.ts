import { AsyncLocalStorage } from 'node:async_hooks';

/** The store work one HTTP request caused: commands (round trips) sent and the sum of their latencies. */
export interface RequestCost {
  storeCommands: number;
  storeSeconds: number;
}

const storage = new AsyncLocalStorage<RequestCost>();

/** Runs `fn` with a fresh cost record that every store command issued inside it (however deep) adds to. */
export function withRequestCost<T>(cost: RequestCost, fn: () => T): T {
  return storage.run(cost, fn);
}

export function currentRequestCost(): RequestCost | undefined {
  return storage.getStore();
}

export function newRequestCost(): RequestCost {
  return { storeCommands: 0, storeSeconds: 0 };
}
