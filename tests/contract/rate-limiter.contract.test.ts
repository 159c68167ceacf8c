import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { addressKey, clientAddress } from '../../src/limits/client-address.js';
import type { RateLimiter } from '../../src/limits/rate-limiter.js';
import type { SessionQuota } from '../../src/limits/session-quota.js';
import { InMemoryRateLimiter } from '../../src/backends/memory/rate-limiter.js';
import { InMemorySessionQuota } from '../../src/backends/memory/session-quota.js';
import { RedisRateLimiter } from '../../src/backends/redis/rate-limiter.js';
import { RedisSessionQuota } from '../../src/backends/redis/session-quota.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { useRedisServer } from '../support/redis.js';
import { redisSettings } from '../support/redis-settings.js';
import type { IncomingMessage } from 'node:http';
import { freshSchema, openPostgresReplica, usePostgresServer } from '../support/postgres.js';
import { PgRateLimiter, PgSessionQuota } from '../../src/backends/postgres/limits.js';

const redisServer = useRedisServer();
const postgresServer = usePostgresServer();
const postgresCleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of postgresCleanups.splice(0)) await cleanup();
});

const postgresConnections = async (schema = freshSchema()) => {
  const connections = await openPostgresReplica(postgresServer().url, schema);
  postgresCleanups.push(() => connections.close());
  return connections;
};
const clients: RedisClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

async function redisLimiters(perSecond: number, now: () => number): Promise<[RateLimiter, RateLimiter]> {
  const prefix = `rate-${randomUUID().slice(0, 8)}:`;
  const make = async () => {
    const client = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'rate-contract' });
    clients.push(client);
    await connectRedis(client);
    return new RedisRateLimiter(client, prefix, perSecond, now);
  };
  return [await make(), await make()];
}

const implementations: Array<[string, (perSecond: number, now: () => number) => Promise<[RateLimiter, RateLimiter]>]> = [
  [
    'InMemoryRateLimiter',
    async (perSecond, now) => {
      const limiter = new InMemoryRateLimiter(perSecond, now);
      return [limiter, limiter];
    },
  ],
  ['RedisRateLimiter', redisLimiters],
  [
    'PgRateLimiter',
    async (perSecond, now) => {
      const schema = freshSchema();
      const [here, there] = [await postgresConnections(schema), await postgresConnections(schema)];
      return [new PgRateLimiter(here.db, schema, perSecond, now), new PgRateLimiter(there.db, schema, perSecond, now)];
    },
  ],
];

describe.each(implementations)('RateLimiter contract: %s', (_name, make) => {
  it('allows perSecond events per key and second, counted across replicas, and starts afresh each second', async () => {
    let clock = 1_000_000;
    const [here, there] = await make(3, () => clock);
    const taken = [await here.take('a'), await there.take('a'), await here.take('a'), await there.take('a')];
    expect(taken).toEqual([true, true, true, false]);
    expect(await here.take('b')).toBe(true);
    clock += 1000;
    expect(await there.take('a')).toBe(true);
  });
});

const quotas: Array<[string, (windowMs: number, now: () => number) => Promise<SessionQuota>]> = [
  ['InMemorySessionQuota', async (windowMs, now) => new InMemorySessionQuota(windowMs, now)],
  [
    'RedisSessionQuota',
    async (windowMs, now) => {
      const client = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'quota-contract' });
      clients.push(client);
      await connectRedis(client);
      return new RedisSessionQuota(client, `quota-${randomUUID().slice(0, 8)}:`, windowMs, now);
    },
  ],
  [
    'PgSessionQuota',
    async (windowMs, now) => {
      const connections = await postgresConnections();
      return new PgSessionQuota(connections.db, connections.schema, windowMs, now);
    },
  ],
];

describe.each(quotas)('SessionQuota contract: %s', (_name, make) => {
  it('admits `limit` sessions per key within the window, then says when the oldest leaves it', async () => {
    let clock = 5_000_000;
    const quota = await make(10_000, () => clock);
    expect(await quota.admit('p', 2)).toEqual({ admitted: true });
    clock += 3000;
    expect(await quota.admit('p', 2)).toEqual({ admitted: true });
    const refused = await quota.admit('p', 2);
    expect(refused.admitted).toBe(false);
    expect(refused.admitted === false && refused.retryAfterMs).toBe(7000);
    expect(await quota.admit('q', 2)).toEqual({ admitted: true });
    clock += 7001;
    expect(await quota.admit('p', 2)).toEqual({ admitted: true });
  });
});

describe('client addresses', () => {
  const req = (peer: string, forwarded?: string) =>
    ({ socket: { remoteAddress: peer }, headers: forwarded ? { 'x-forwarded-for': forwarded } : {} }) as unknown as IncomingMessage;

  it('trusts only as many X-Forwarded-For entries as there are proxies, from the right', () => {
    expect(clientAddress(req('10.0.0.1', 'spoofed, 198.51.100.7'), 0)).toBe('10.0.0.1');
    expect(clientAddress(req('10.0.0.1', 'spoofed, 198.51.100.7'), 1)).toBe('198.51.100.7');
    expect(clientAddress(req('10.0.0.1'), 1)).toBe('10.0.0.1');
    expect(addressKey('a\r\nFLUSHALL')).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });
});
