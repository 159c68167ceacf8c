import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { redisCall } from '../../src/backends/redis/errors.js';
import '../../src/backends/redis/index.js';
import { declaredScripts, preloadScripts } from '../../src/backends/redis/lua-script.js';
import { RedisSessionQuota } from '../../src/backends/redis/session-quota.js';
import { RedisSessionStore } from '../../src/backends/redis/session-store.js';
import { RedisSharedState } from '../../src/backends/redis/shared-state.js';
import { StoreUnavailableError } from '../../src/backends/store-errors.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { useRedisServer } from '../support/redis.js';
import { redisSettings } from '../support/redis-settings.js';

/**
 * Under maxmemory with noeviction Redis refuses a script that may write before it starts, as it
 * does any write command; a script left undeclared was checked only until its first write, and
 * scripts whose first write OOM allows (ZREMRANGEBYSCORE, PEXPIRE) kept writing.
 */
const redisServer = useRedisServer();
let client: RedisClient;
let prefix: string;

beforeAll(async () => {
  client = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'oom-contract' });
  await connectRedis(client);
  await preloadScripts(client);
});

afterAll(() => client?.disconnect());

const outOfMemory = async () => {
  await redisServer().command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
  await redisServer().command('CONFIG', 'SET', 'maxmemory', '1');
};

afterEach(async () => {
  await redisServer().command('CONFIG', 'SET', 'maxmemory', '0');
});

/** What a plain write command gets: the reason every write must be refused with. */
async function plainWriteRefusal(): Promise<string> {
  const error = await redisCall(() => client.set(`${prefix}plain`, 'x')).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(StoreUnavailableError);
  expect((error as Error).message).toMatch(/OOM/);
  return (error as Error).message;
}

const keys = () => client.keys(`${prefix}*`);

describe('Redis out of memory', () => {
  beforeAll(() => {
    prefix = `oom-${randomUUID().slice(0, 8)}:`;
  });

  it('refuses shared state writes (bump, ctx.shared.set) like any write, and writes no key', async () => {
    const state = new RedisSharedState(client, prefix, { ttlSeconds: 60, maxKeys: 100 });
    await outOfMemory();
    const reason = await plainWriteRefusal();
    await expect(state.increment('counter:new')).rejects.toThrow(new StoreUnavailableError(reason));
    await expect(state.set('value:new', 'x')).rejects.toThrow(new StoreUnavailableError(reason));
    expect(await keys()).toEqual([]);
  });

  it('refuses a session quota admission like any write, and writes no key', async () => {
    const quota = new RedisSessionQuota(client, prefix, 60_000);
    await outOfMemory();
    const reason = await plainWriteRefusal();
    await expect(quota.admit('principal', 10)).rejects.toThrow(new StoreUnavailableError(reason));
    expect(await keys()).toEqual([]);
  });

  it('refuses every script that may write before it starts, whatever its first command', async () => {
    const writers = declaredScripts().filter((script) => script.access === 'writes');
    expect(writers.map((script) => script.name)).toEqual(expect.arrayContaining(['state_write', 'session_quota', 'session_slide', 'stream_publish']));
    await outOfMemory();
    const reason = await plainWriteRefusal();
    for (const script of writers) {
      const keysOf = [1, 2, 3].map((n) => `${prefix}{${script.name}}:${n}`);
      const args = ['incr', '1', '0', '60000', '100', '0', '0', '0', 'PUBLISH'];
      const error = await redisCall(() => script.run(client, keysOf, args)).catch((e: unknown) => e);
      expect((error as Error).message, script.name).toBe(reason);
    }
    expect(await keys()).toEqual([]);
  });

  it('still ends a session (deleting frees memory), and still reads', async () => {
    const store = new RedisSessionStore(client, prefix, 60);
    const id = randomUUID();
    await store.create({ id, protocolVersion: '2025-06-18', clientCapabilities: {}, clientInfo: { name: 'oom', version: '1' } });
    await outOfMemory();
    expect((await store.touch(id))?.id).toBe(id);
    expect(await store.delete(id)).toBe(true);
    expect(await store.touch(id)).toBeUndefined();
  });
});
