import { randomUUID } from 'node:crypto';
import type { RedisSettings } from '../../src/config.js';
import type { RedisProcess } from '../../src/fleet/redis-process.js';
import type { PostgresProcess } from '../../src/fleet/index.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { InMemoryStreamManager } from '../../src/backends/memory/stream-manager.js';
import { RedisStreamManager } from '../../src/backends/redis/stream-manager.js';
import type { StreamManager } from '../../src/streams/stream-manager.js';
import { PgStreamManager } from '../../src/backends/postgres/stream-manager.js';
import { InstancePresence } from '../../src/backends/postgres/presence.js';
import { useRedisServer } from './redis.js';
import { useRedisCluster } from './redis-cluster.js';
import { redisSettings } from './redis-settings.js';
import { openPostgresReplica, terminateListenConnections, usePostgresServer, type PostgresReplica } from './postgres.js';

export interface StreamHarness {
  /** Two managers standing for two replicas (the same object in memory: one process). */
  here: StreamManager;
  there: StreamManager;
  createSession(id: string): Promise<void>;
  /** Closes every subscriber connection on the Redis side (undefined in memory: nothing to drop). */
  dropSubscribers?: () => Promise<void>;
  dispose(): Promise<void>;
}

function memoryHarness(maxEntries: number): StreamHarness {
  const sessions = new Set<string>();
  const manager = new InMemoryStreamManager({ retentionSeconds: 60, maxEntriesPerStream: maxEntries, sessionExists: async (id) => sessions.has(id) });
  return {
    here: manager,
    there: manager,
    createSession: async (id) => {
      sessions.add(id);
    },
    dispose: () => manager.close(),
  };
}

async function redisHarness(maxEntries: number, servers: () => Promise<RedisProcess[]>, settingsOf: () => Promise<RedisSettings>): Promise<StreamHarness> {
  const prefix = `streams-${randomUUID().slice(0, 8)}:`;
  const clients: RedisClient[] = [];
  const replica = async () => {
    const settings = await settingsOf();
    const redis = createRedisClient({ settings, observer: NOOP_OBSERVER, name: 'contract' });
    const subscriber = createRedisClient({ settings, observer: NOOP_OBSERVER, subscriber: true, name: 'contract-sub' });
    await Promise.all([connectRedis(redis), connectRedis(subscriber)]);
    clients.push(redis, subscriber);
    const manager = new RedisStreamManager({
      redis,
      subscriber,
      prefix,
      retentionSeconds: 60,
      maxEntriesPerStream: maxEntries,
      sessionKey: (id) => `${prefix}session:{${id}}`,
    });
    await manager.start();
    return manager;
  };
  const here = await replica();
  const there = await replica();
  return {
    here,
    there,
    createSession: async (id) => {
      await clients[0]!.set(`${prefix}session:{${id}}`, '1');
    },
    dropSubscribers: async () => {
      for (const server of await servers()) await server.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
    },
    dispose: async () => {
      await here.close();
      await there.close();
      for (const client of clients) client.disconnect();
    },
  };
}

/** Two replicas on one schema, each with its pool, LISTEN connection and presence row. */
async function postgresHarness(maxEntries: number, postgresServer: () => PostgresProcess): Promise<StreamHarness> {
  const first = await openPostgresReplica(postgresServer().url);
  const replicas: PostgresReplica[] = [first];
  const presences: InstancePresence[] = [];
  const replica = async (connections: PostgresReplica) => {
    const manager = new PgStreamManager({
      db: connections.db,
      listener: connections.listener,
      schema: connections.schema,
      retentionSeconds: 60,
      maxEntriesPerStream: maxEntries,
    });
    const presence = new InstancePresence(connections.db, connections.schema, manager.instanceId, 3000, connections.listener);
    presences.push(presence);
    await manager.start();
    await presence.start();
    return manager;
  };
  const here = await replica(first);
  const second = await openPostgresReplica(postgresServer().url, first.schema);
  replicas.push(second);
  const there = await replica(second);
  return {
    here,
    there,
    createSession: async (id) => {
      await first.db.query('test', `INSERT INTO ${first.schema}.sessions (id, record, expires_at) VALUES ($1, '{}', now() + interval '1 hour')`, [id]);
    },
    dropSubscribers: async () => {
      await terminateListenConnections(postgresServer());
    },
    dispose: async () => {
      await here.close();
      await there.close();
      for (const presence of presences) await presence.close();
      for (const connections of replicas) await connections.close();
    },
  };
}

export type StreamHarnessFactory = (maxEntries: number) => Promise<StreamHarness> | StreamHarness;

/**
 * Two StreamManagers standing for two replicas, on every backend: memory, PostgreSQL, a single
 * Redis and a Redis Cluster. Call at the top of a test file: it starts the servers for that file.
 */
export function streamHarnesses(): Array<[string, StreamHarnessFactory]> {
  const redisServer = useRedisServer();
  const redisCluster = useRedisCluster();
  const postgresServer = usePostgresServer();
  return [
    ['InMemoryStreamManager', memoryHarness],
    ['PgStreamManager', (maxEntries) => postgresHarness(maxEntries, postgresServer)],
    [
      'RedisStreamManager (single Redis)',
      (maxEntries) =>
        redisHarness(
          maxEntries,
          async () => [redisServer()],
          async () => redisSettings(redisServer().url),
        ),
    ],
    [
      'RedisStreamManager (Cluster)',
      (maxEntries) =>
        redisHarness(maxEntries, redisCluster, async () =>
          redisSettings('', { url: undefined, clusterNodes: (await redisCluster()).map((n) => ({ host: '127.0.0.1', port: n.port })) }),
        ),
    ],
  ];
}
