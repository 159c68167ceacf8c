import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { InFlightRegistry } from '../../src/inflight/inflight-registry.js';
import { InMemoryInFlightRegistry } from '../../src/backends/memory/inflight-registry.js';
import { RedisInFlightRegistry } from '../../src/backends/redis/inflight-registry.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { useRedisServer } from '../support/redis.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { redisSettings } from '../support/redis-settings.js';
import type { RedisSettings } from '../../src/config.js';
import { freshSchema, openPostgresReplica, usePostgresServer } from '../support/postgres.js';
import { PgInFlightRegistry } from '../../src/backends/postgres/inflight-registry.js';
import { InstancePresence } from '../../src/backends/postgres/presence.js';

const redisServer = useRedisServer();
const redisCluster = useRedisCluster();
const postgresServer = usePostgresServer();
const postgresCleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of postgresCleanups.splice(0)) await cleanup();
});
const clients: RedisClient[] = [];
const registries: InFlightRegistry[] = [];

afterEach(async () => {
  for (const registry of registries.splice(0)) await registry.close();
  for (const client of clients.splice(0)) client.disconnect();
});

/** Two instances of one fleet (`a` and `b`); in memory there is only one process, so only `a`. */
interface Fleet {
  a: InFlightRegistry;
  b: InFlightRegistry | undefined;
}

/**
 * Short, for the tests that wait for a lapse; the test that an instance stays alive while it beats
 * uses a longer one: this process runs the heartbeat, and a stall of its event loop on a busy
 * machine longer than two thirds of the window (a missed beat) would count it gone.
 */
const LIVENESS_MS = 600;
const BEATING_LIVENESS_MS = 3000;

function redisFleet(settings: () => Promise<RedisSettings>) {
  return async (livenessMs = LIVENESS_MS): Promise<Fleet> => {
    const prefix = `inflight-${randomUUID().slice(0, 8)}:`;
    const make = async () => {
      const client = createRedisClient({ settings: { ...(await settings()), keyPrefix: prefix }, observer: NOOP_OBSERVER, name: 'inflight-contract' });
      clients.push(client);
      await connectRedis(client);
      const registry = new RedisInFlightRegistry({ redis: client, prefix, instanceId: randomBytes(9).toString('base64url'), livenessMs, recordTtlMs: 60_000 });
      registries.push(registry);
      await registry.start();
      return registry;
    };
    return { a: await make(), b: await make() };
  };
}

/** Each instance with its own pool and LISTEN connection, on one schema. */
async function postgresFleet(livenessMs = LIVENESS_MS): Promise<Fleet> {
  const schema = freshSchema();
  const make = async () => {
    const connections = await openPostgresReplica(postgresServer().url, schema);
    postgresCleanups.push(() => connections.close());
    const presence = new InstancePresence(connections.db, schema, randomBytes(9).toString('base64url'), livenessMs, connections.listener);
    const registry = new PgInFlightRegistry({ db: connections.db, schema, presence, recordTtlMs: 60_000 });
    registries.push(registry);
    await registry.start();
    return registry;
  };
  return { a: await make(), b: await make() };
}

const implementations: Array<[string, (livenessMs?: number) => Promise<Fleet>]> = [
  ['PgInFlightRegistry', postgresFleet],
  [
    'InMemoryInFlightRegistry',
    async (livenessMs = LIVENESS_MS) => {
      const a = new InMemoryInFlightRegistry(randomBytes(9).toString('base64url'), livenessMs);
      registries.push(a);
      await a.start();
      return { a, b: undefined };
    },
  ],
  ['RedisInFlightRegistry (single)', redisFleet(async () => redisSettings(redisServer().url))],
  [
    'RedisInFlightRegistry (Cluster)',
    redisFleet(async () => redisSettings('', { url: undefined, clusterNodes: (await redisCluster()).map((n) => ({ host: '127.0.0.1', port: n.port })) })),
  ],
];

const session = () => randomUUID();

describe.each(implementations)('InFlightRegistry contract: %s', (_name, makeFleet) => {
  it('tells every instance which instance runs which requests of a session, until released', async () => {
    const { a, b } = await makeFleet();
    const s = session();
    await a.record(s, 'pA', [7, 'x']);
    await a.record(s, 'pB', [8]);
    for (const reader of [a, b ?? a]) {
      expect(await reader.ownerOf(s, 'pA')).toMatchObject({ instanceId: a.instanceId, requestIds: [7, 'x'] });
      expect([...(await reader.recordsOf(s)).keys()].sort()).toEqual(['pA', 'pB']);
    }
    await a.release(s, 'pA');
    expect(await (b ?? a).ownerOf(s, 'pA')).toBeUndefined();
    expect([...(await (b ?? a).recordsOf(s)).keys()]).toEqual(['pB']);
    expect(await a.ownerOf(session(), 'pA')).toBeUndefined();
  });

  it('counts an instance alive while it beats, and not once it closed', async () => {
    const { a, b } = await makeFleet(BEATING_LIVENESS_MS);
    const observer = b ?? a;
    // Past the first beat's lapse: only later beats keep it alive now.
    await new Promise((resolve) => setTimeout(resolve, BEATING_LIVENESS_MS + 500));
    expect([...(await observer.aliveAmong([a.instanceId, 'never-was']))]).toEqual([a.instanceId]);
    await a.close();
    expect((await observer.aliveAmong([a.instanceId])).size).toBe(0);
  });

  it('never hands out the record of a live owner as an orphan', async () => {
    const { a, b } = await makeFleet();
    const s = session();
    await a.record(s, 'p1', [1]);
    expect(await (b ?? a).claimOrphan(s, 'p1')).toBeUndefined();
    expect(await a.ownerOf(s, 'p1')).toBeDefined();
    expect(await a.claimOrphan(s, 'missing')).toBeUndefined();
  });

  it("hands a dead owner's record to exactly one claimant", async () => {
    const { a, b } = await makeFleet();
    const s = session();
    await a.record(s, 'p1', [1, 2]);
    await a.close();
    const claimant = b ?? a;
    const claims = await Promise.all([claimant.claimOrphan(s, 'p1'), claimant.claimOrphan(s, 'p1'), claimant.claimOrphan(s, 'p1')]);
    const won = claims.filter((claim) => claim !== undefined);
    expect(won).toHaveLength(1);
    expect(won[0]).toMatchObject({ instanceId: a.instanceId, requestIds: [1, 2] });
    expect(await claimant.ownerOf(s, 'p1')).toBeUndefined();
  });
});

describe('RedisInFlightRegistry liveness', () => {
  it('lapses within the liveness window after the heartbeat stops without a close (a killed process)', async () => {
    const fleet = await redisFleet(async () => redisSettings(redisServer().url))();
    const s = session();
    await fleet.a.record(s, 'p1', [3]);
    // A SIGKILLed process neither beats nor withdraws: its connection just goes away.
    clients[0]!.disconnect();
    // The window is the liveness key's own TTL, whatever the timing of this process.
    const observer = clients[1]!;
    const left =
      (await observer.keys(`*instance-alive:${fleet.a.instanceId}`)).length === 0
        ? 0
        : await observer.pttl((await observer.keys(`*instance-alive:${fleet.a.instanceId}`))[0]!);
    expect(left).toBeLessThanOrEqual(LIVENESS_MS);
    const stoppedAt = Date.now();
    let claimed;
    while (!(claimed = await fleet.b!.claimOrphan(s, 'p1'))) {
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(claimed.requestIds).toEqual([3]);
  });

  it('gives records the TTL it was built with, so an abandoned one does not stay forever', async () => {
    const client = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'inflight-ttl' });
    clients.push(client);
    await connectRedis(client);
    const registry = new RedisInFlightRegistry({ redis: client, prefix: 'ttl:', instanceId: 'i1', livenessMs: 5000, recordTtlMs: 30_000 });
    registries.push(registry);
    const s = session();
    await registry.record(s, 'p1', [1]);
    const ttl = await client.pttl(`ttl:inflight:{${s}}`);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });
});
