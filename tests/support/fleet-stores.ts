import { PostgresProcess, RedisProcess, type Fleet, type FleetStore } from '../../src/fleet/index.js';

/** The stores the fleet end-to-end tests run on: each suite is one row per store. */
export const FLEET_STORES: readonly FleetStore[] = ['redis', 'postgres'];

/** Drops every session and stream the store holds (FLUSHALL on Redis, TRUNCATE on PostgreSQL). */
export async function flushStore(fleet: Fleet): Promise<void> {
  if (fleet.redis) return fleet.redis.flushAll();
  if (fleet.postgres) {
    await fleet.postgres.query('TRUNCATE mcp_fleet.sessions, mcp_fleet.stream_heads, mcp_fleet.stream_events, mcp_fleet.inflight CASCADE');
    return;
  }
  throw new Error('the fleet runs on a store it did not start: nothing to flush');
}

/**
 * Makes the store stop answering session reads for `ms` without closing anything: CLIENT PAUSE on
 * Redis, an ACCESS EXCLUSIVE lock on the sessions table on PostgreSQL. Resolves once the pause has
 * begun; it ends by itself.
 */
export async function pauseStore(fleet: Fleet, ms: number): Promise<void> {
  if (fleet.redis) {
    await fleet.redis.command('CLIENT', 'PAUSE', String(ms), 'ALL');
    return;
  }
  if (!fleet.postgres) throw new Error('the fleet runs on a store it did not start: cannot pause it');
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: fleet.postgres.url });
  client.on('error', () => {});
  await client.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE mcp_fleet.sessions IN ACCESS EXCLUSIVE MODE');
  setTimeout(() => void client.query('COMMIT').finally(() => client.end()), ms);
}

/** Settings that bound how long a replica waits for its store, per store (the other store's would be a configuration error). */
export function storeTimeoutEnv(store: FleetStore, ms: number): Record<string, string> {
  return store === 'postgres' ? { DATABASE_STATEMENT_TIMEOUT_MS: String(ms) } : { REDIS_COMMAND_TIMEOUT_MS: String(ms) };
}

/** A private store of the given kind for replicas started by a test, with the setting that points them at it. */
export async function startStore(store: FleetStore): Promise<{ env: Record<string, string>; dispose(): Promise<void> }> {
  if (store === 'postgres') {
    const postgres = await PostgresProcess.start();
    return { env: { DATABASE_URL: postgres.url }, dispose: () => postgres.dispose() };
  }
  const redis = await RedisProcess.start();
  return { env: { REDIS_URL: redis.url }, dispose: () => redis.dispose() };
}

/**
 * Settings for fleets whose tests are about what is delivered, not about the store's timeout: on a
 * busy 2-core machine running PostgreSQL, three replicas, HAProxy and the test, a PostgreSQL
 * backend can be starved past the default 2 s statement timeout, and the replica then answers 503
 * as designed (tests/e2e/fleet-faults.test.ts tests that answer itself).
 */
export function patientStoreEnv(store: FleetStore): Record<string, string> {
  return store === 'postgres' ? { DATABASE_STATEMENT_TIMEOUT_MS: '15000' } : {};
}
