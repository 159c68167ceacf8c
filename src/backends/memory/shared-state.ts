import type { SharedState } from '../../workload/types.js';
import { StateLimitError, type StateLimits } from '../../state/state-limits.js';
import { StoreInputError } from '../store-errors.js';

const UNLIMITED: StateLimits = { ttlSeconds: 365 * 24 * 3600, maxKeys: Number.MAX_SAFE_INTEGER };

/** One process's shared state, with the same expiry and cap as on Redis. */
export class InMemorySharedState implements SharedState {
  private readonly values = new Map<string, { value: string; expiresAt: number }>();

  constructor(
    private readonly limits: StateLimits = UNLIMITED,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return this.live(key)?.value;
  }

  async set(key: string, value: string): Promise<void> {
    this.write(key, value);
  }

  async increment(key: string, by = 1): Promise<number> {
    const current = this.live(key)?.value ?? '0';
    if (!/^-?\d+$/.test(current)) throw new StoreInputError(`the value of ${key} is not an integer`);
    const next = Number(current) + by;
    this.write(key, String(next));
    return next;
  }

  private live(key: string): { value: string; expiresAt: number } | undefined {
    const entry = this.values.get(key);
    if (entry && entry.expiresAt <= this.now()) {
      this.values.delete(key);
      return undefined;
    }
    return entry;
  }

  private write(key: string, value: string): void {
    if (!this.live(key)) {
      for (const name of [...this.values.keys()]) this.live(name);
      if (this.values.size >= this.limits.maxKeys) throw new StateLimitError(this.limits.maxKeys);
    }
    this.values.set(key, { value, expiresAt: this.now() + this.limits.ttlSeconds * 1000 });
  }
}
