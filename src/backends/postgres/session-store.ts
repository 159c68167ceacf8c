import type { LoggingLevel } from '@modelcontextprotocol/server';
import type { SessionReadCache } from '../../sessions/session-read-cache.js';
import { decodeSessionRecord, encodeSessionFields } from '../../sessions/session-record-codec.js';
import { SubscriptionLimitError, type NewSession, type SessionRecord, type SessionStore } from '../../sessions/session-store.js';
import { ident, type PgDatabase } from './connection.js';

/** What a touch needs of the row: the record less lastAccessAt, and when its TTL last slid (on this replica's clock). */
export interface PgSessionRead {
  record: Omit<SessionRecord, 'lastAccessAt'>;
  slidAt: number;
}

interface SessionRow {
  record: string;
  log_level: string | null;
  slid_at: number;
  now: number;
  subs: string[];
}

/**
 * Sessions as rows with an expiry on the database clock, subscriptions in their own table (so
 * `subscribers` is a join over live sessions and needs no index upkeep). A touch is one SELECT, or
 * none while the read cache holds the session (triggers announce every change to a session or its
 * subscriptions on the LISTEN connection); the slide it finds due is an UPDATE it does not wait for.
 * Expired rows are invisible to every read and removed by the sweeper.
 */
export class PgSessionStore implements SessionStore {
  readonly kind = 'postgres' as const;
  private readonly sessions: string;
  private readonly subscriptions: string;
  private readonly sliding = new Set<string>();

  constructor(
    private readonly db: PgDatabase,
    schema: string,
    readonly ttlSeconds: number,
    private readonly cache?: SessionReadCache<PgSessionRead>,
    private readonly now: () => number = Date.now,
  ) {
    this.sessions = `${ident(schema)}.sessions`;
    this.subscriptions = `${ident(schema)}.session_subscriptions`;
  }

  private get ttlMs(): number {
    return this.ttlSeconds * 1000;
  }

  /** How much of the TTL may pass before a touch slides it again: a tenth, at most a minute. */
  private get slideSlackMs(): number {
    return Math.min(60_000, Math.floor(this.ttlMs / 10));
  }

  async create(session: NewSession): Promise<boolean> {
    // An expired row not swept yet does not hold its id.
    const { rows } = await this.db.query(
      'session_create',
      `INSERT INTO ${this.sessions} (id, record, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record, log_level = NULL, slid_at = now(), expires_at = EXCLUDED.expires_at
       WHERE ${this.sessions}.expires_at <= now()
       RETURNING (xmax <> 0) AS replaced`,
      [session.id, encodeSessionFields(session, this.now()), this.ttlMs],
    );
    if (rows.length === 0) return false;
    if (rows[0]!.replaced) await this.db.query('session_create', `DELETE FROM ${this.subscriptions} WHERE session_id = $1`, [session.id]);
    return true;
  }

  async touch(id: string): Promise<SessionRecord | undefined> {
    const read = this.cache?.get(id, this.now()) ?? (await this.read(id));
    if (read === undefined) return undefined;
    const now = this.now();
    if (now - read.slidAt >= this.slideSlackMs) this.slide(id);
    return { ...read.record, lastAccessAt: now };
  }

  private async read(id: string): Promise<PgSessionRead | undefined> {
    const ticket = this.cache?.beginRead(id);
    let row: SessionRow | undefined;
    try {
      const { rows } = await this.db.query<SessionRow>(
        'session_read',
        `SELECT s.record, s.log_level, (extract(epoch FROM s.slid_at) * 1000)::float8 AS slid_at, (extract(epoch FROM now()) * 1000)::float8 AS now,
                coalesce((SELECT array_agg(uri ORDER BY ord) FROM ${this.subscriptions} WHERE session_id = s.id), '{}') AS subs
         FROM ${this.sessions} s WHERE s.id = $1 AND s.expires_at > now()`,
        [id],
      );
      row = rows[0];
    } catch (error) {
      this.cache?.abandonRead(id, ticket);
      throw error;
    }
    if (row === undefined) {
      this.cache?.abandonRead(id, ticket);
      return undefined;
    }
    // The database clock decides expiry; its slide time is carried over to this replica's clock.
    const localNow = this.now();
    const slidAt = localNow - (Number(row.now) - Number(row.slid_at));
    const read: PgSessionRead = {
      record: decodeSessionRecord(id, row.record, { logLevel: row.log_level, subscriptions: row.subs }),
      slidAt,
    };
    // Kept no longer than the row lives without another slide (which announces itself anyway).
    this.cache?.finishRead(id, ticket, read, slidAt + this.ttlMs, localNow);
    return read;
  }

  /** Not awaited: a slide that fails is found due again by the next touch, with the slack to spare. */
  private slide(id: string): void {
    if (this.sliding.has(id)) return;
    this.sliding.add(id);
    void this.db
      .query(
        'session_slide',
        `UPDATE ${this.sessions} SET slid_at = now(), expires_at = now() + $2 * interval '1 millisecond' WHERE id = $1 AND expires_at > now()`,
        [id, this.ttlMs],
      )
      .catch(() => {})
      .finally(() => {
        this.sliding.delete(id);
        this.cache?.forget(id);
      });
  }

  async setLogLevel(id: string, level: LoggingLevel): Promise<boolean> {
    const { rowCount } = await this.writing(id, () =>
      this.db.query('session_set', `UPDATE ${this.sessions} SET log_level = $2 WHERE id = $1 AND expires_at > now()`, [id, level]),
    );
    return rowCount === 1;
  }

  /** One transaction: the session row locked, so concurrent subscribes of one session count one after another. */
  async subscribe(id: string, uri: string, limit = Number.MAX_SAFE_INTEGER): Promise<boolean> {
    const outcome = await this.writing(id, () =>
      this.db.transaction('session_subscribe', async (client) => {
        const live = await client.query(`SELECT 1 FROM ${this.sessions} WHERE id = $1 AND expires_at > now() FOR UPDATE`, [id]);
        if (live.rowCount === 0) return 'gone' as const;
        const { rows } = await client.query<{ held: string; has: boolean }>(
          `SELECT count(*) AS held, bool_or(uri_hash = md5($2) AND uri = $2) AS has FROM ${this.subscriptions} WHERE session_id = $1`,
          [id, uri],
        );
        if (rows[0]?.has) return 'subscribed' as const;
        if (Number(rows[0]?.held ?? 0) >= limit) return 'full' as const;
        await client.query(`INSERT INTO ${this.subscriptions} (session_id, uri) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [id, uri]);
        return 'subscribed' as const;
      }),
    );
    if (outcome === 'full') throw new SubscriptionLimitError(limit);
    return outcome === 'subscribed';
  }

  async unsubscribe(id: string, uri: string): Promise<boolean> {
    const { rows } = await this.writing(id, () =>
      this.db.query<{ live: boolean }>(
        'session_unsubscribe',
        `WITH live AS (SELECT id FROM ${this.sessions} WHERE id = $1 AND expires_at > now()),
              gone AS (DELETE FROM ${this.subscriptions} WHERE session_id IN (SELECT id FROM live) AND uri_hash = md5($2) AND uri = $2)
         SELECT EXISTS (SELECT 1 FROM live) AS live`,
        [id, uri],
      ),
    );
    return rows[0]?.live === true;
  }

  async subscribers(uri: string): Promise<string[]> {
    const { rows } = await this.db.query<{ session_id: string }>(
      'session_subscribers',
      `SELECT sub.session_id FROM ${this.subscriptions} sub JOIN ${this.sessions} s ON s.id = sub.session_id
       WHERE sub.uri_hash = md5($1) AND sub.uri = $1 AND s.expires_at > now()`,
      [uri],
    );
    return rows.map((row) => row.session_id);
  }

  /** Nothing to drop: `subscribers` joins live sessions, and expired ones go with their rows. */
  async forgetSubscribers(): Promise<void> {}

  async delete(id: string): Promise<boolean> {
    const { rows } = await this.writing(id, () =>
      this.db.query<{ live: boolean }>('session_delete', `DELETE FROM ${this.sessions} WHERE id = $1 RETURNING expires_at > now() AS live`, [id]),
    );
    return rows[0]?.live === true;
  }

  /**
   * A write from this replica: its cached copy goes before (no touch serves it meanwhile) and after
   * (the trigger's announcement may arrive later than the write's own answer).
   */
  private async writing<R>(id: string, write: () => Promise<R>): Promise<R> {
    this.cache?.forget(id);
    try {
      return await write();
    } finally {
      this.cache?.forget(id);
    }
  }

  async ping(): Promise<void> {
    await this.db.query('ping', 'SELECT 1');
  }

  async close(): Promise<void> {}
}
