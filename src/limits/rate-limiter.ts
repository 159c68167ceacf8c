import type { RedisClient } from '../redis/connection.js';
import { redisCall } from '../redis/errors.js';
import { LuaScript } from '../redis/lua-script.js';

/** Counts events per key in fixed one-second windows; `take` says whether one more is allowed. */
export interface RateLimiter {
  take(key: string): Promise<boolean>;
}

export class InMemoryRateLimiter implements RateLimiter {
  private window = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  async take(key: string): Promise<boolean> {
    const window = Math.floor(this.now() / 1000);
    if (window !== this.window) {
      this.window = window;
      this.counts.clear();
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return count <= this.perSecond;
  }
}

const TAKE = new LuaScript(
  'rate_take',
  `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 2000) end
return n`,
);

/** The same window, counted fleet-wide: every replica adds to one counter per key and second. */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  async take(key: string): Promise<boolean> {
    const window = Math.floor(this.now() / 1000);
    const count = Number(await redisCall(() => TAKE.run(this.redis, [`${this.prefix}rate:${window}:${key}`], [])));
    return count <= this.perSecond;
  }
}
