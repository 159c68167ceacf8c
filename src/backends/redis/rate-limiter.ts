import type { RateLimiter } from '../../limits/rate-limiter.js';
import type { RedisClient } from './connection.js';
import { redisCall } from './errors.js';
import { LuaScript } from './lua-script.js';

const TAKE = new LuaScript(
  'rate_take',
  'writes',
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
