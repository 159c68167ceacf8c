import type { SessionSlots } from '../../limits/session-slots.js';
import type { RedisClient } from './connection.js';
import { redisCall } from './errors.js';
import { LuaScript } from './lua-script.js';

/** A sorted set per session, each slot scored by its expiry: lapsed ones are dropped before counting. */
const TAKE = new LuaScript(
  'session_slots_take',
  'writes',
  `local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[4])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`,
);

export class RedisSessionSlots implements SessionSlots {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** With the session's hash tag: on a Cluster the key lives in the session's slot. */
  private key(sessionId: string): string {
    return `${this.prefix}session-slots:{${sessionId}}`;
  }

  async take(sessionId: string, slot: string, limit: number, ttlMs: number): Promise<boolean> {
    const taken = await redisCall(() => TAKE.run(this.redis, [this.key(sessionId)], [this.now(), limit, Math.max(1, Math.ceil(ttlMs)), slot]));
    return Number(taken) === 1;
  }

  async release(sessionId: string, slot: string): Promise<void> {
    await redisCall(() => this.redis.zrem(this.key(sessionId), slot));
  }
}
