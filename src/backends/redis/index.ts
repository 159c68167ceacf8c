import { Cluster } from 'ioredis';
import type { ServerConfig, RedisSettings } from '../../config.js';
import { log } from '../../log.js';
import type { ServerObserver } from '../../observability/observer.js';
import { tolerateRejections } from '../../process-guards.js';
import { busOptionsOf, stateLimitsOf, type Backends } from '../backends.js';
import { ConnectionReport, redisAddress } from './connection-report.js';
import { checkKeySchema, KEY_SCHEMA_CHECK_MS } from './key-schema.js';
import { closeRedisConnection, connectRedis, createInvalidationConnection, createRedisClient, type RedisClient } from './connection.js';
import { describeRedisError, REDIS_CONNECTION_LOSS } from './errors.js';
import { RedisChangeEventBus } from './event-bus.js';
import { RedisInFlightRegistry } from './inflight-registry.js';
import { preloadScripts } from './lua-script.js';
import { RedisRateLimiter } from './rate-limiter.js';
import { RedisSessionQuota } from './session-quota.js';
import { RedisSessionSlots } from './session-slots.js';
import { RedisSessionStore } from './session-store.js';
import { RedisSharedState } from './shared-state.js';
import { RedisStreamManager } from './stream-manager.js';
import { RedisTaskStore } from './task-store.js';
import { trackedSessionReads } from './tracked-session-reads.js';

/** Every seam on one Redis (single, Sentinel or Cluster): the fleet shares sessions, streams and state. */
export async function redisBackends(config: ServerConfig, settings: RedisSettings, observer: ServerObserver): Promise<Backends> {
  tolerateRejections(REDIS_CONNECTION_LOSS);
  const commands: RedisClient = createRedisClient({ settings, observer, name: `mcp-fleet:${config.replicaName}` });
  const subscriber: RedisClient = createRedisClient({ settings, observer, subscriber: true, name: `mcp-fleet-sub:${config.replicaName}` });
  const report = new ConnectionReport({ address: redisAddress(settings), warn: log.warn, info: log.info });
  for (const client of [commands, subscriber]) {
    client.on('error', (error: unknown) => report.failed(describeRedisError(error)));
    client.on('ready', () => report.ready());
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
  const bus = new RedisChangeEventBus({
    ...busOptionsOf(observer),
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
      if (!heartbeatFailing)
        log.warn("could not refresh this instance's liveness; other replicas will count it gone after OWNER_LIVENESS_MS", {
          reason: describeRedisError(error),
        });
      heartbeatFailing = true;
    },
  });
  commands.on('ready', () => (heartbeatFailing = false));
  let scriptsLoaded = false;
  let scriptsProblem: string | undefined;
  // Until checked on this connection: a replica of another key layout may own the prefix.
  let schemaProblem: string | undefined = 'the key schema is not checked yet';
  const checkSchema = () =>
    checkKeySchema(commands, settings.keyPrefix).then(
      (problem) => {
        if (problem !== undefined && problem !== schemaProblem) log.error('refusing to serve from this Redis', { reason: problem });
        schemaProblem = problem;
      },
      (error: unknown) => (schemaProblem = `could not check the key schema: ${describeRedisError(error)}`),
    );
  commands.on('ready', checkSchema);
  const schemaTimer = setInterval(() => commands.status === 'ready' && void checkSchema(), KEY_SCHEMA_CHECK_MS);
  schemaTimer.unref();
  commands.on('ready', () => {
    preloadScripts(commands).then(
      () => {
        scriptsLoaded = true;
        scriptsProblem = undefined;
      },
      (error: unknown) => {
        scriptsProblem = describeRedisError(error);
        log.warn('could not preload Lua scripts (they load on first use)', { reason: scriptsProblem });
      },
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
    tasks: new RedisTaskStore(commands, settings.keyPrefix),
    shared: new RedisSharedState(commands, settings.keyPrefix, stateLimitsOf(config)),
    sessionRate: new RedisRateLimiter(commands, settings.keyPrefix, config.newSessionsPerAddressPerSecond),
    sessionQuota: new RedisSessionQuota(commands, settings.keyPrefix, config.sessionTtlSeconds * 1000),
    sessionSlots: new RedisSessionSlots(commands, settings.keyPrefix),
    bus,
    async unavailableReason() {
      if (commands.status !== 'ready') return `Redis is not connected (${report.problem ?? commands.status})`;
      if (subscriber.status !== 'ready' || !subscribed) return 'Redis subscriber is not connected';
      if (!scriptsLoaded) return scriptsProblem === undefined ? 'Lua scripts are not loaded yet' : `Lua scripts could not be loaded: ${scriptsProblem}`;
      if (schemaProblem !== undefined) return schemaProblem;
      try {
        await store.ping();
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    async close() {
      clearInterval(schemaTimer);
      cache?.invalidations.stop();
      await inflight.close();
      await bus.close();
      await streams.close();
      await store.close();
      await Promise.all([closeRedisConnection(commands), closeRedisConnection(subscriber)]);
    },
  };
}
