import { AsyncLocalStorage } from 'node:async_hooks';

/** The Redis work one HTTP request caused: commands sent and the sum of their latencies. */
export interface RequestCost {
  redisCommands: number;
  redisSeconds: number;
}

const storage = new AsyncLocalStorage<RequestCost>();

/** Runs `fn` with a fresh cost record that every Redis command issued inside it (however deep) adds to. */
export function withRequestCost<T>(cost: RequestCost, fn: () => T): T {
  return storage.run(cost, fn);
}

export function currentRequestCost(): RequestCost | undefined {
  return storage.getStore();
}

export function newRequestCost(): RequestCost {
  return { redisCommands: 0, redisSeconds: 0 };
}
