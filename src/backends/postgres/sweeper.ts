import { log } from '../../log.js';
import { ident, type PgDatabase } from './connection.js';

export interface SweeperOptions {
  db: PgDatabase;
  schema: string;
  intervalMs: number;
  retentionSeconds: number;
  /** The session quota's window (the session TTL). */
  quotaWindowMs: number;
  onSessionsExpired: (count: number) => void;
}

const BATCH = 1000;

/**
 * Deletes what expired, in batches of rows no other replica is deleting (SKIP LOCKED), so every
 * replica may sweep at once. Reads never depend on it: each checks expiry itself.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: SweeperOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => {})
        .catch((error: unknown) => log.warn('postgres sweep failed', { reason: error instanceof Error ? error.message : String(error) }))
        .finally(() => (this.running = undefined));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** One pass over every table; resolves with the number of sessions it expired. */
  async sweep(): Promise<number> {
    const { db, retentionSeconds, quotaWindowMs } = this.options;
    const s = ident(this.options.schema);
    const batch = (table: string, condition: string) =>
      `DELETE FROM ${s}.${table} WHERE ctid IN (SELECT ctid FROM ${s}.${table} WHERE ${condition} LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)`;
    let expired = 0;
    for (;;) {
      const { rowCount } = await db.query('sweep_sessions', batch('sessions', 'expires_at <= now()'));
      expired += rowCount ?? 0;
      if ((rowCount ?? 0) < BATCH) break;
    }
    if (expired > 0) this.options.onSessionsExpired(expired);
    const retention = `now() - interval '${retentionSeconds} seconds'`;
    await db.query('sweep_events', batch('stream_events', `created_at < ${retention}`));
    await db.query('sweep_streams', batch('stream_heads', `updated_at < ${retention}`));
    await db.query('sweep_inflight', batch('inflight', 'expires_at <= now()'));
    await db.query('sweep_spill', batch('spill', `created_at < now() - interval '1 minute'`));
    await db.query('sweep_instances', batch('instances', `alive_until < now() - interval '1 hour'`));
    const now = Date.now();
    await db.query('sweep_state', batch('shared_state', `expires_at <= ${now}`));
    await db.query('sweep_rates', batch('rate_counts', `window_start < ${now - 5000}`));
    await db.query('sweep_tasks', batch('tasks', `expires_at <= ${now}`));
    await db.query('sweep_slots', batch('session_slots', `expires_at <= ${now}`));
    await db.query('sweep_quota', batch('session_quota', `admitted_at <= ${now - quotaWindowMs}`));
    return expired;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
