import type { RedisClient } from '../redis/connection.js';
import { redisCall } from '../redis/errors.js';
import type { SharedState } from '../workload/types.js';

/** Application state shared by the fleet, under `<prefix>state:`. */
export class RedisSharedState implements SharedState {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(key: string): string {
    return `${this.prefix}state:${key}`;
  }

  async get(key: string): Promise<string | undefined> {
    return (await redisCall(() => this.redis.get(this.key(key)))) ?? undefined;
  }

  async set(key: string, value: string): Promise<void> {
    await redisCall(() => this.redis.set(this.key(key), value));
  }

  async increment(key: string, by = 1): Promise<number> {
    return redisCall(() => this.redis.incrby(this.key(key), by));
  }
}
