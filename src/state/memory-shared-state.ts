import type { SharedState } from '../workload/types.js';

export class InMemorySharedState implements SharedState {
  private readonly values = new Map<string, string>();

  async get(key: string): Promise<string | undefined> {
    return this.values.get(key);
  }

  async set(key: string, value: string): Promise<void> {
    this.values.set(key, value);
  }

  async increment(key: string, by = 1): Promise<number> {
    const next = Number(this.values.get(key) ?? '0') + by;
    this.values.set(key, String(next));
    return next;
  }
}
