import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemorySessionSlots } from '../../src/backends/memory/session-slots.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { RedisSessionSlots } from '../../src/backends/redis/session-slots.js';
import { PgSessionSlots } from '../../src/backends/postgres/session-slots.js';
import { Sweeper } from '../../src/backends/postgres/sweeper.js';
import type { SessionSlots } from '../../src/limits/session-slots.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { useRedisServer } from '../support/redis.js';
import { redisSettings } from '../support/redis-settings.js';
import { openPostgresReplica, usePostgresServer, type PostgresReplica } from '../support/postgres.js';
import type { RedisSettings } from '../../src/config.js';

const redisServer = useRedisServer();
const redisCluster = useRedisCluster();
const postgresServer = usePostgresServer();
const clients: RedisClient[] = [];
const replicas: PostgresReplica[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const replica of replicas.splice(0)) await replica.close();
});

/** Two replicas' pools on one schema. */
async function postgresReplicas(): Promise<[PostgresReplica, PostgresReplica]> {
  const first = await openPostgresReplica(postgresServer().url);
  replicas.push(first);
  const second = await openPostgresReplica(postgresServer().url, first.schema);
  replicas.push(second);
  return [first, second];
}

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
  [
    'PgSessionSlots',
    async (now) => {
      const [first, second] = await postgresReplicas();
      return [new PgSessionSlots(first.db, first.schema, now), new PgSessionSlots(second.db, second.schema, now)];
    },
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

  it('lets exactly `limit` of many concurrent takers on both replicas hold a slot', async () => {
    const [here, there] = await make(() => 1_000_000);
    const s = randomUUID();
    const taken = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? here : there).take(s, `slot-${i}`, 4, 60_000)));
    expect(taken.filter(Boolean)).toHaveLength(4);
    expect(await here.take(s, 'late', 4, 60_000)).toBe(false);
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

describe('PgSessionSlots', () => {
  it('has the sweeper delete lapsed slots and keep live ones', async () => {
    const [replica] = await postgresReplicas();
    const lapsed = new PgSessionSlots(replica.db, replica.schema, () => Date.now() - 120_000);
    const live = new PgSessionSlots(replica.db, replica.schema);
    // Two sessions: a take on the first would delete its lapsed slot itself.
    const [gone, kept] = [randomUUID(), randomUUID()];
    await lapsed.take(gone, 'lost', 4, 60_000);
    await live.take(kept, 'held', 4, 60_000);
    const sweeper = new Sweeper({
      db: replica.db,
      schema: replica.schema,
      intervalMs: 60_000,
      retentionSeconds: 60,
      quotaWindowMs: 60_000,
      onSessionsExpired: () => {},
    });
    await sweeper.sweep();
    const { rows } = await replica.db.query<{ slot: string }>('test', `SELECT slot FROM ${replica.schema}.session_slots WHERE session_id = ANY($1)`, [
      [gone, kept],
    ]);
    expect(rows.map((row) => row.slot)).toEqual(['held']);
  });
});
