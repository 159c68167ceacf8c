import type { ServerConfig } from '../../config.js';
import { log } from '../../log.js';
import type { ServerObserver } from '../../observability/observer.js';
import { busOptionsOf, stateLimitsOf, type Backends } from '../backends.js';
import { clientConfig, PgDatabase, type PostgresSettings } from './connection.js';
import { describePostgresError } from './errors.js';
import { PgChangeEventBus } from './event-bus.js';
import { PgInFlightRegistry } from './inflight-registry.js';
import { PgRateLimiter, PgSessionQuota } from './limits.js';
import { PgListener } from './listener.js';
import { InstancePresence } from './presence.js';
import { migrate } from './schema.js';
import { PgSessionStore } from './session-store.js';
import { PgSessionSlots } from './session-slots.js';
import { PgSharedState } from './shared-state.js';
import { PgStreamManager } from './stream-manager.js';
import { PgTaskStore } from './task-store.js';
import { Sweeper } from './sweeper.js';
import { trackedSessionReads } from './tracked-session-reads.js';

/**
 * Every seam on PostgreSQL: one pool for commands, one LISTEN connection (DATABASE_LISTEN_URL when
 * the pool goes through a transaction-pooling proxy). The schema is migrated in the background;
 * until it is, and while the LISTEN connection is down, the replica reports not ready and answers 503.
 */
export async function postgresBackends(config: ServerConfig, settings: PostgresSettings, observer: ServerObserver): Promise<Backends> {
  const { schema } = settings;
  const db = new PgDatabase(settings, observer, `mcp-fleet:${config.replicaName}`);
  const listener = new PgListener(() => clientConfig(settings, settings.listenUrl ?? settings.url, `mcp-fleet-listen:${config.replicaName}`));
  const cache =
    config.sessionCacheMaxAgeMs > 0
      ? await trackedSessionReads(listener, schema, { maxEntries: config.runtimeCacheMaxSessions, maxAgeMs: config.sessionCacheMaxAgeMs }, (on) =>
          observer.sessionCacheTracking(on),
        )
      : undefined;
  const store = new PgSessionStore(db, schema, config.sessionTtlSeconds, cache);
  const streams = new PgStreamManager({ db, listener, schema, retentionSeconds: config.eventRetentionSeconds, maxEntriesPerStream: config.eventMaxPerStream });
  const bus = new PgChangeEventBus({ ...busOptionsOf(observer), db, listener, schema, instanceId: streams.instanceId });
  let heartbeatFailing = false;
  const presence = new InstancePresence(db, schema, streams.instanceId, config.ownerLivenessMs, listener, (error) => {
    if (!heartbeatFailing)
      log.warn("could not refresh this instance's liveness; other replicas will count it gone after OWNER_LIVENESS_MS", { reason: error.message });
    heartbeatFailing = true;
  });
  const inflight = new PgInFlightRegistry({ db, schema, presence, recordTtlMs: config.eventRetentionSeconds * 1000 });
  const sweeper = new Sweeper({
    db,
    schema,
    intervalMs: Math.min(config.sessionTtlSeconds * 1000, 30_000),
    retentionSeconds: config.eventRetentionSeconds,
    quotaWindowMs: config.sessionTtlSeconds * 1000,
    onSessionsExpired: (count) => {
      for (let i = 0; i < count; i++) observer.sessionExpired();
    },
  });

  let migrated = false;
  let subscribed = false;
  let stopped = false;
  const prepare = async (attempt = 0): Promise<void> => {
    try {
      await migrate(db, schema);
      migrated = true;
      listener.start();
    } catch (error) {
      log.warn('could not migrate the postgres schema; retrying', { reason: describePostgresError(error) });
      if (stopped) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2000)).unref());
      return prepare(attempt + 1);
    }
  };
  listener.on({
    ready: () => {
      heartbeatFailing = false;
      if (subscribed) return;
      Promise.all([streams.start(), bus.start()]).then(
        () => (subscribed = true),
        (error: unknown) => log.error('could not listen to this instance channel', { reason: describePostgresError(error) }),
      );
    },
    lost: () => {},
  });
  void prepare().then(() => {
    if (stopped) return;
    sweeper.start();
    return inflight.start().catch(() => {});
  });

  return {
    store,
    streams,
    inflight,
    shared: new PgSharedState(db, schema, stateLimitsOf(config)),
    sessionRate: new PgRateLimiter(db, schema, config.newSessionsPerAddressPerSecond),
    sessionQuota: new PgSessionQuota(db, schema, config.sessionTtlSeconds * 1000),
    sessionSlots: new PgSessionSlots(db, schema),
    bus,
    tasks: new PgTaskStore(db, schema),
    async unavailableReason() {
      if (!migrated) return `PostgreSQL schema is not ready (${db.lastError ?? 'migrating'})`;
      if (!listener.ready) return `PostgreSQL listen connection is not connected (${listener.problem ?? 'connecting'})`;
      if (!subscribed) return 'PostgreSQL notification channels are not listened yet';
      try {
        await store.ping();
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    async close() {
      stopped = true;
      await sweeper.stop();
      await inflight.close();
      await bus.close();
      await streams.close();
      await listener.stop();
      await db.close();
    },
  };
}
