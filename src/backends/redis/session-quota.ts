import { randomBytes } from 'node:crypto';
import type { SessionQuota } from '../../limits/session-quota.js';
import type { RedisClient } from './connection.js';
import { redisCall } from './errors.js';
import { LuaScript } from './lua-script.js';

const ADMIT = new LuaScript(
  'session_quota',
  'writes',
  `local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + window - now
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return -1`,
);

export class RedisSessionQuota implements SessionQuota {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async admit(key: string, limit: number) {
    const reply = Number(
      await redisCall(() =>
        ADMIT.run(this.redis, [`${this.prefix}session-quota:${key}`], [this.now(), this.windowMs, limit, randomBytes(9).toString('base64url')]),
      ),
    );
    return reply < 0 ? { admitted: true as const } : { admitted: false as const, retryAfterMs: Math.max(1000, reply) };
  }
}
