import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../redis/connection.js';
import { redisCall } from '../redis/errors.js';
import { LuaScript } from '../redis/lua-script.js';

/**
 * How many sessions a key (a principal, or the whole fleet) opened within the last window (the
 * session TTL): `admit` counts one more, or answers how many ms until one leaves the window. A
 * session lives at least that long unless deleted, so this bounds the live sessions of a client
 * that keeps opening them; one that stays active past the window no longer counts.
 */
export interface SessionQuota {
  admit(key: string, limit: number): Promise<{ admitted: true } | { admitted: false; retryAfterMs: number }>;
}

export class InMemorySessionQuota implements SessionQuota {
  private readonly opened = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async admit(key: string, limit: number) {
    const now = this.now();
    const recent = (this.opened.get(key) ?? []).filter((at) => at > now - this.windowMs);
    if (recent.length >= limit) {
      this.opened.set(key, recent);
      return { admitted: false as const, retryAfterMs: recent[0]! + this.windowMs - now };
    }
    recent.push(now);
    this.opened.set(key, recent);
    return { admitted: true as const };
  }
}

const ADMIT = new LuaScript(
  'session_quota',
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
      await redisCall(() => ADMIT.run(this.redis, [`${this.prefix}session-quota:${key}`], [this.now(), this.windowMs, limit, randomBytes(9).toString('base64url')])),
    );
    return reply < 0 ? { admitted: true as const } : { admitted: false as const, retryAfterMs: Math.max(1000, reply) };
  }
}
