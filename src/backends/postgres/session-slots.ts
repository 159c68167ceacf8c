import type { SessionSlots } from '../../limits/session-slots.js';
import { ident, type PgDatabase } from './connection.js';

/**
 * A row per slot, with its expiry (ms, on the caller's clock, as the Redis sorted set's score). A take
 * counts and inserts under an advisory lock on the session, so concurrent takers on any replica never
 * hold more than `limit`; lapsed slots are deleted before counting (and by the sweeper).
 */
export class PgSessionSlots implements SessionSlots {
  private readonly table: string;

  constructor(
    private readonly db: PgDatabase,
    private readonly schema: string,
    private readonly now: () => number = Date.now,
  ) {
    this.table = `${ident(schema)}.session_slots`;
  }

  async take(sessionId: string, slot: string, limit: number, ttlMs: number): Promise<boolean> {
    const now = this.now();
    return this.db.transaction('session_slots_take', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${this.schema}.session_slots.${sessionId}`]);
      await client.query(`DELETE FROM ${this.table} WHERE session_id = $1 AND expires_at <= $2`, [sessionId, now]);
      const { rows } = await client.query<{ held: string }>(`SELECT count(*) AS held FROM ${this.table} WHERE session_id = $1`, [sessionId]);
      if (Number(rows[0]?.held ?? 0) >= limit) return false;
      await client.query(
        `INSERT INTO ${this.table} (session_id, slot, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (session_id, slot) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
        [sessionId, slot, now + Math.max(1, Math.ceil(ttlMs))],
      );
      return true;
    });
  }

  async release(sessionId: string, slot: string): Promise<void> {
    await this.db.query('session_slots_release', `DELETE FROM ${this.table} WHERE session_id = $1 AND slot = $2`, [sessionId, slot]);
  }
}
