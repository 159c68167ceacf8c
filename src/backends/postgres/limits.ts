import { randomBytes } from 'node:crypto';
import type { RateLimiter } from '../../limits/rate-limiter.js';
import type { SessionQuota } from '../../limits/session-quota.js';
import { ident, type PgDatabase } from './connection.js';

/** Events per key in fixed one-second windows, counted fleet-wide: one upsert per event. */
export class PgRateLimiter implements RateLimiter {
  private readonly table: string;

  constructor(
    private readonly db: PgDatabase,
    schema: string,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.table = `${ident(schema)}.rate_counts`;
  }

  async take(key: string): Promise<boolean> {
    const window = Math.floor(this.now() / 1000) * 1000;
    const { rows } = await this.db.query<{ n: number }>(
      'rate_take',
      `INSERT INTO ${this.table} AS r (key, window_start, n) VALUES ($1, $2, 1) ON CONFLICT (key, window_start) DO UPDATE SET n = r.n + 1 RETURNING n`,
      [key, window],
    );
    return Number(rows[0]?.n ?? 0) <= this.perSecond;
  }
}

/** Sessions admitted per key within the window: one row each, counted under an advisory lock on the key. */
export class PgSessionQuota implements SessionQuota {
  private readonly table: string;

  constructor(
    private readonly db: PgDatabase,
    private readonly schema: string,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.table = `${ident(schema)}.session_quota`;
  }

  async admit(key: string, limit: number) {
    const now = this.now();
    const retryAfterMs = await this.db.transaction('session_quota', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${this.schema}.session_quota.${key}`]);
      await client.query(`DELETE FROM ${this.table} WHERE key = $1 AND admitted_at <= $2`, [key, now - this.windowMs]);
      const { rows } = await client.query<{ held: string; oldest: string | null }>(
        `SELECT count(*) AS held, min(admitted_at)::text AS oldest FROM ${this.table} WHERE key = $1`,
        [key],
      );
      const held = Number(rows[0]?.held ?? 0);
      if (held >= limit) return Number(rows[0]?.oldest ?? now) + this.windowMs - now;
      await client.query(`INSERT INTO ${this.table} (key, admitted_at, token) VALUES ($1, $2, $3)`, [key, now, randomBytes(9).toString('base64url')]);
      return undefined;
    });
    return retryAfterMs === undefined ? { admitted: true as const } : { admitted: false as const, retryAfterMs: Math.max(1000, retryAfterMs) };
  }
}
