import type { Fleet, FleetStore } from '../../src/fleet/index.js';

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
