import { StateLimitError, type StateLimits } from '../../state/state-limits.js';
import type { SharedState } from '../../workload/types.js';
import { ident, type PgDatabase } from './connection.js';

/**
 * Application state shared by the fleet, one row per key with a sliding expiry (this replica's
 * clock, as on Redis), at most `maxKeys` live rows. Writing a live key is one UPDATE; a new key
 * takes an advisory lock for the count, so concurrent new keys cannot overshoot the cap.
 */
export class PgSharedState implements SharedState {
  private readonly table: string;
  private readonly lockName: string;

  constructor(
    private readonly db: PgDatabase,
    schema: string,
    private readonly limits: StateLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.table = `${ident(schema)}.shared_state`;
    this.lockName = `${schema}.shared_state`;
  }

  async get(key: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ value: string }>('state_get', `SELECT value FROM ${this.table} WHERE key = $1 AND expires_at > $2`, [
      key,
      this.now(),
    ]);
    return rows[0]?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.write('set', key, value);
  }

  async increment(key: string, by = 1): Promise<number> {
    return Number(await this.write('incr', key, String(by)));
  }

  private async write(op: 'set' | 'incr', key: string, value: string): Promise<string> {
    const now = this.now();
    const expiresAt = now + this.limits.ttlSeconds * 1000;
    const next = op === 'incr' ? `(t.value::bigint + $2::bigint)::text` : '$2';
    const updated = await this.db.query<{ value: string }>(
      'state_write',
      `UPDATE ${this.table} t SET value = ${next}, expires_at = $4 WHERE key = $1 AND expires_at > $3 RETURNING value`,
      [key, value, now, expiresAt],
    );
    if (updated.rows[0]) return updated.rows[0].value;
    const written = await this.db.transaction('state_write_new', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockName]);
      const { rows } = await client.query<{ live: string }>(`SELECT count(*) AS live FROM ${this.table} WHERE expires_at > $1`, [now]);
      // The key may have been written by another replica while this one waited for the lock.
      const { rows: existing } = await client.query(`SELECT 1 FROM ${this.table} WHERE key = $1 AND expires_at > $2`, [key, now]);
      if (existing.length === 0 && Number(rows[0]?.live ?? 0) >= this.limits.maxKeys) return undefined;
      const inserted = await client.query<{ value: string }>(
        `INSERT INTO ${this.table} AS t (key, value, expires_at) VALUES ($1, ($2::text), $4)
         ON CONFLICT (key) DO UPDATE SET value = CASE WHEN t.expires_at > $3 THEN ${next} ELSE EXCLUDED.value END, expires_at = $4
         RETURNING value`,
        [key, value, now, expiresAt],
      );
      return inserted.rows[0]!.value;
    });
    if (written === undefined) throw new StateLimitError(this.limits.maxKeys);
    return written;
  }
}
