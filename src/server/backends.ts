import type { FleetEventBus } from '../bus/event-bus.js';
import { InMemoryFleetEventBus } from '../bus/memory-event-bus.js';
import { RedisFleetEventBus } from '../bus/redis-event-bus.js';
import type { FleetConfig, RedisSettings } from '../config.js';
import { InMemoryRateLimiter, RedisRateLimiter, type RateLimiter } from '../limits/rate-limiter.js';
import { InMemorySessionQuota, RedisSessionQuota, type SessionQuota } from '../limits/session-quota.js';
import type { FleetObserver } from '../observability/observer.js';
import { closeRedisConnection, connectRedis, createInvalidationConnection, createRedisClient, type RedisClient } from '../redis/connection.js';
import { describeRedisError } from '../redis/errors.js';
import { preloadScripts } from '../redis/lua-script.js';
import { InMemorySessionStore } from '../sessions/memory-session-store.js';
import { RedisSessionStore } from '../sessions/redis-session-store.js';
import { trackedSessionReads } from '../sessions/tracked-session-reads.js';
import { Cluster } from 'ioredis';
import type { SessionStore } from '../sessions/session-store.js';
import { InMemorySharedState } from '../state/memory-shared-state.js';
import { RedisSharedState } from '../state/redis-shared-state.js';
import { InMemoryStreamManager } from '../streams/memory-stream-manager.js';
import { RedisStreamManager } from '../streams/redis-stream-manager.js';
import type { StreamManager } from '../streams/stream-manager.js';
import type { SharedState } from '../workload/types.js';
import { log } from '../log.js';
import type { InFlightRegistry } from '../inflight/inflight-registry.js';
import { InMemoryInFlightRegistry } from '../inflight/memory-inflight-registry.js';
import { RedisInFlightRegistry } from '../inflight/redis-inflight-registry.js';

export interface Backends {
  store: SessionStore;
  streams: StreamManager;
  shared: SharedState;
  /** New sessions per client address and second. */
  sessionRate: RateLimiter;
  /** Sessions opened per principal and in total within one session TTL. */
  sessionQuota: SessionQuota;
  /** Change events for modern listen streams on every replica. */
  bus: FleetEventBus;
  /** Which instance runs which in-flight requests, and which instances are alive. */
  inflight: InFlightRegistry;
  /** Why the backends cannot serve now, or undefined when they can. */
  unavailableReason(): Promise<string | undefined>;
  close(): Promise<void>;
}

function inMemoryBackends(config: FleetConfig, observer: FleetObserver): Backends {
  const store = new InMemorySessionStore(config.sessionTtlSeconds, () => observer.sessionExpired());
  const streams = new InMemoryStreamManager({
    retentionSeconds: config.eventRetentionSeconds,
    maxEntriesPerStream: config.eventMaxPerStream,
    sessionExists: (id) => store.exists(id),
  });
  const bus = new InMemoryFleetEventBus(busOptions(observer));
  const inflight = new InMemoryInFlightRegistry(streams.instanceId, config.ownerLivenessMs);
  return {
    store,
    streams,
    inflight,
    shared: new InMemorySharedState(stateLimits(config)),
    sessionRate: new InMemoryRateLimiter(config.newSessionsPerAddressPerSecond),
    sessionQuota: new InMemorySessionQuota(config.sessionTtlSeconds * 1000),
    bus,
    unavailableReason: async () => undefined,
    close: async () => {
      await inflight.close();
      await bus.close();
      await streams.close();
      await store.close();
    },
  };
}

async function redisBackends(config: FleetConfig, settings: RedisSettings, observer: FleetObserver): Promise<Backends> {
  const commands: RedisClient = createRedisClient({ settings, observer, name: `mcp-fleet:${config.replicaName}` });
  const subscriber: RedisClient = createRedisClient({ settings, observer, subscriber: true, name: `mcp-fleet-sub:${config.replicaName}` });
  let lastError: string | undefined;
  for (const client of [commands, subscriber]) {
    client.on('error', (error: unknown) => {
      const reason = describeRedisError(error);
      if (reason !== lastError) log.warn('redis connection problem', { reason });
      lastError = reason;
    });
    client.on('ready', () => {
      if (lastError !== undefined) log.info('redis connection ready');
      lastError = undefined;
    });
  }
  // Not on a Cluster: client tracking is per node.
  const cache =
    config.sessionCacheMaxAgeMs > 0 && !(commands instanceof Cluster)
      ? trackedSessionReads(
          commands,
          createInvalidationConnection(settings, `mcp-fleet-invalidations:${config.replicaName}`),
          settings.keyPrefix,
          { maxEntries: config.runtimeCacheMaxSessions, maxAgeMs: config.sessionCacheMaxAgeMs },
          (on) => observer.sessionCacheTracking(on),
        )
      : undefined;
  const store = new RedisSessionStore(commands, settings.keyPrefix, config.sessionTtlSeconds, Date.now, cache?.reads);
  const streams = new RedisStreamManager({
    redis: commands,
    subscriber,
    prefix: settings.keyPrefix,
    retentionSeconds: config.eventRetentionSeconds,
    maxEntriesPerStream: config.eventMaxPerStream,
    sessionKey: (id) => store.sessionKey(id),
  });
  const bus = new RedisFleetEventBus({
    ...busOptions(observer),
    redis: commands,
    subscriber,
    prefix: settings.keyPrefix,
    instanceId: streams.instanceId,
  });
  let heartbeatFailing = false;
  const inflight = new RedisInFlightRegistry({
    redis: commands,
    prefix: settings.keyPrefix,
    instanceId: streams.instanceId,
    livenessMs: config.ownerLivenessMs,
    recordTtlMs: config.eventRetentionSeconds * 1000,
    // Once per outage: the connection's own warning already says why.
    onHeartbeatError: (error) => {
      if (!heartbeatFailing) log.warn('could not refresh this instance\'s liveness; other replicas will count it gone after OWNER_LIVENESS_MS', { reason: describeRedisError(error) });
      heartbeatFailing = true;
    },
  });
  commands.on('ready', () => (heartbeatFailing = false));
  let scriptsLoaded = false;
  commands.on('ready', () => {
    preloadScripts(commands).then(
      () => (scriptsLoaded = true),
      (error: unknown) => log.warn('could not preload Lua scripts (they load on first use)', { reason: describeRedisError(error) }),
    );
  });
  cache?.invalidations.start();
  // Connect in the background: the replica serves 503 and reports not-ready until Redis answers.
  let subscribed = false;
  // The heartbeat starts with the connection (and retries on its interval while Redis is away).
  void connectRedis(commands)
    .then(() => inflight.start())
    .catch(() => {});
  void connectRedis(subscriber)
    .catch(() => {})
    .then(() => Promise.all([streams.start(), bus.start()]))
    .then(() => {
      subscribed = true;
    })
    .catch((error: unknown) => log.error('could not subscribe to this instance channel', { reason: describeRedisError(error) }));
  return {
    store,
    streams,
    inflight,
    shared: new RedisSharedState(commands, settings.keyPrefix, stateLimits(config)),
    sessionRate: new RedisRateLimiter(commands, settings.keyPrefix, config.newSessionsPerAddressPerSecond),
    sessionQuota: new RedisSessionQuota(commands, settings.keyPrefix, config.sessionTtlSeconds * 1000),
    bus,
    async unavailableReason() {
      if (commands.status !== 'ready') return `Redis is not connected (${lastError ?? commands.status})`;
      if (subscriber.status !== 'ready' || !subscribed) return 'Redis subscriber is not connected';
      if (!scriptsLoaded) return 'Lua scripts are not loaded yet';
      try {
        await store.ping();
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    async close() {
      cache?.invalidations.stop();
      await inflight.close();
      await bus.close();
      await streams.close();
      await Promise.all([closeRedisConnection(commands), closeRedisConnection(subscriber)]);
    },
  };
}

const stateLimits = (config: FleetConfig) => ({ ttlSeconds: config.stateTtlSeconds, maxKeys: config.stateMaxKeys });

function busOptions(observer: FleetObserver) {
  return {
    onError: (error: Error) => log.warn('event bus problem', { reason: error.message }),
    onDelivered: (path: 'local' | 'redis', latencySeconds: number) => observer.delivered('event', path, latencySeconds),
  };
}

/** In memory by default; Redis when REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES is set. */
export async function createBackends(config: FleetConfig, observer: FleetObserver): Promise<Backends> {
  return config.redis ? redisBackends(config, config.redis, observer) : inMemoryBackends(config, observer);
}
