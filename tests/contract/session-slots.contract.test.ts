import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemorySessionSlots } from '../../src/backends/memory/session-slots.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { RedisSessionSlots } from '../../src/backends/redis/session-slots.js';
import type { SessionSlots } from '../../src/limits/session-slots.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { useRedisServer } from '../support/redis.js';
import { redisSettings } from '../support/redis-settings.js';
import type { RedisSettings } from '../../src/config.js';

const redisServer = useRedisServer();
const redisCluster = useRedisCluster();
const clients: RedisClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

/** Two replicas of one fleet sharing one clock under the test's control. */
type Make = (now: () => number) => Promise<[SessionSlots, SessionSlots]>;

const redisSlots =
  (settings: () => Promise<RedisSettings>): Make =>
  async (now) => {
    const prefix = `slots-${randomUUID().slice(0, 8)}:`;
    const make = async () => {
      const client = createRedisClient({ settings: await settings(), observer: NOOP_OBSERVER, name: 'slots-contract' });
      clients.push(client);
      await connectRedis(client);
      return new RedisSessionSlots(client, prefix, now);
    };
    return [await make(), await make()];
  };

const implementations: Array<[string, Make]> = [
  [
    'InMemorySessionSlots',
    async (now) => {
      const slots = new InMemorySessionSlots(now);
      return [slots, slots];
    },
  ],
  ['RedisSessionSlots (single)', redisSlots(async () => redisSettings(redisServer().url))],
  [
    'RedisSessionSlots (Cluster)',
    redisSlots(async () => redisSettings('', { url: undefined, clusterNodes: (await redisCluster()).map((n) => ({ host: '127.0.0.1', port: n.port })) })),
  ],
];

describe.each(implementations)('SessionSlots contract: %s', (_name, make) => {
  it('holds at most `limit` slots per session across replicas, each session on its own', async () => {
    const [here, there] = await make(() => 1_000_000);
    const s = randomUUID();
    expect([await here.take(s, 'a', 3, 60_000), await there.take(s, 'b', 3, 60_000), await here.take(s, 'c', 3, 60_000)]).toEqual([true, true, true]);
    expect(await there.take(s, 'd', 3, 60_000)).toBe(false);
    expect(await here.take(s, 'e', 3, 60_000)).toBe(false);
    expect(await there.take(randomUUID(), 'a', 3, 60_000)).toBe(true);
  });

  it('frees a slot released on any replica', async () => {
    const [here, there] = await make(() => 1_000_000);
    const s = randomUUID();
    await here.take(s, 'a', 2, 60_000);
    await here.take(s, 'b', 2, 60_000);
    expect(await there.take(s, 'c', 2, 60_000)).toBe(false);
    await there.release(s, 'a');
    expect(await there.take(s, 'c', 2, 60_000)).toBe(true);
    expect(await here.take(s, 'd', 2, 60_000)).toBe(false);
    // Releasing a slot twice, or one never taken, frees nothing more.
    await here.release(s, 'a');
    await here.release(s, 'never');
    expect(await here.take(s, 'd', 2, 60_000)).toBe(false);
  });

  it('lets a slot never released lapse after its TTL (its replica died), not before', async () => {
    let clock = 1_000_000;
    const [here, there] = await make(() => clock);
    const s = randomUUID();
    await here.take(s, 'lost', 1, 60_000);
    clock += 59_999;
    expect(await there.take(s, 'next', 1, 60_000)).toBe(false);
    clock += 2;
    expect(await there.take(s, 'next', 1, 60_000)).toBe(true);
  });
});

describe('RedisSessionSlots', () => {
  it("keeps a session's slots in one key with the session's hash tag and a TTL", async () => {
    const client = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'slots-key' });
    clients.push(client);
    await connectRedis(client);
    const slots = new RedisSessionSlots(client, 'slots-key:');
    const s = randomUUID();
    await slots.take(s, 'a', 4, 30_000);
    const ttl = await client.pttl(`slots-key:session-slots:{${s}}`);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });
});
