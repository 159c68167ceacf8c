import { ident, type PgDatabase } from './connection.js';

/** NOTIFY refuses payloads of 8000 bytes or more (default build); this leaves room to spare. */
export const NOTIFY_MAX_BYTES = 7900;

export const fitsNotification = (payload: string): boolean => Buffer.byteLength(payload) <= NOTIFY_MAX_BYTES;

/**
 * Notifications whose payload may exceed NOTIFY's limit: a small one travels as `M<payload>`, a
 * large one is stored in the `spill` table (swept after a minute) and travels as `S<id>`, which the
 * receiver reads back. The LISTEN connection hands a channel's notifications over one after another,
 * so a read-back one is not overtaken by the next.
 */
export class Spill {
  private readonly table: string;

  constructor(
    private readonly db: PgDatabase,
    schema: string,
  ) {
    this.table = `${ident(schema)}.spill`;
  }

  /**
   * Notifies `channel` when `condition` (SQL over the parameters `$3...` = `conditionValues`) holds;
   * resolves to whether it did.
   */
  async notify(operation: string, channel: string, payload: string, condition = 'true', conditionValues: unknown[] = []): Promise<boolean> {
    const inline = fitsNotification(`M${payload}`);
    const { rowCount } = await this.db.query(
      operation,
      inline
        ? `SELECT pg_notify($1, 'M' || $2) WHERE ${condition}`
        : `WITH spilled AS (INSERT INTO ${this.table} (payload) SELECT $2 WHERE ${condition} RETURNING id) SELECT pg_notify($1, 'S' || id) FROM spilled`,
      [channel, payload, ...conditionValues],
    );
    return (rowCount ?? 0) > 0;
  }

  /** The payload a notification carries; undefined when it is malformed or its spilled row is gone. */
  async resolve(notification: string): Promise<string | undefined> {
    if (notification.startsWith('M')) return notification.slice(1);
    if (!/^S\d{1,19}$/.test(notification)) return undefined;
    const { rows } = await this.db.query<{ payload: string }>('spill_read', `SELECT payload FROM ${this.table} WHERE id = $1`, [notification.slice(1)]);
    return rows[0]?.payload;
  }
}
