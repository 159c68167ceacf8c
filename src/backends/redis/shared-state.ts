import type { RedisClient } from './connection.js';
import { redisCall } from './errors.js';
import { LuaScript } from './lua-script.js';
import type { SharedState } from '../../workload/types.js';
import { StateLimitError, type StateLimits } from '../../state/state-limits.js';

/**
 * One write: drops expired entries from the index, refuses a new key when the index is full, then
 * writes the value and slides its TTL. The keys share the `{shared}` hash tag (one Cluster slot), so
 * the count and the write are one atomic step.
 */
const WRITE = new LuaScript(
  'state_write',
  'writes',
  `redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[3])
if redis.call('EXISTS', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return {0} end
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[4]), KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
local result = 1
if ARGV[1] == 'incr' then result = redis.call('INCRBY', KEYS[1], ARGV[2]) else redis.call('SET', KEYS[1], ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, result}`,
);

/** Application state shared by the fleet, under `<prefix>state:{shared}:`, each key with a sliding TTL, at most `maxKeys` of them. */
export class RedisSharedState implements SharedState {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly limits: StateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  private key(key: string): string {
    return `${this.prefix}state:{shared}:${key}`;
  }

  private get index(): string {
    return `${this.prefix}state-index:{shared}`;
  }

  async get(key: string): Promise<string | undefined> {
    return (await redisCall(() => this.redis.get(this.key(key)))) ?? undefined;
  }

  async set(key: string, value: string): Promise<void> {
    await this.write('set', key, value);
  }

  async increment(key: string, by = 1): Promise<number> {
    return Number(await this.write('incr', key, String(by)));
  }

  private async write(op: 'set' | 'incr', key: string, value: string): Promise<unknown> {
    const { ttlSeconds, maxKeys } = this.limits;
    const reply = (await redisCall(() => WRITE.run(this.redis, [this.key(key), this.index], [op, value, this.now(), ttlSeconds * 1000, maxKeys]))) as [
      number,
      unknown?,
    ];
    if (reply[0] !== 1) throw new StateLimitError(maxKeys);
    return reply[1];
  }
}
