import { ident, type PgDatabase } from './connection.js';
import type { PgListener } from './listener.js';

/**
 * This instance's row in `instances`: `alive_until` renewed by a heartbeat every third of the
 * liveness window (what the InFlightRegistry calls alive), and `listening` while the LISTEN
 * connection is up (what sendToInstance calls someone listening: NOTIFY reports no receivers).
 */
export class InstancePresence {
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly table: string;

  constructor(
    private readonly db: PgDatabase,
    schema: string,
    readonly instanceId: string,
    readonly livenessMs: number,
    private readonly listener: PgListener,
    private readonly onHeartbeatError: (error: Error) => void = () => {},
  ) {
    this.table = `${ident(schema)}.instances`;
    listener.on({
      ready: () => void this.beat().catch(() => {}),
      lost: () =>
        void this.db.query('instance_listening', `UPDATE ${this.table} SET listening = false WHERE instance_id = $1`, [this.instanceId]).catch(() => {}),
    });
  }

  /** Beats at once and then every third of the window; a failed beat is reported and retried on the next. */
  async start(): Promise<void> {
    if (this.closed) return;
    if (!this.heartbeat) {
      this.heartbeat = setInterval(
        () => {
          this.beat().catch((error: unknown) => this.onHeartbeatError(error instanceof Error ? error : new Error(String(error))));
        },
        Math.max(50, Math.floor(this.livenessMs / 3)),
      );
      this.heartbeat.unref();
    }
    await this.beat();
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    await this.db.query(
      'instance_heartbeat',
      `INSERT INTO ${this.table} (instance_id, alive_until, listening) VALUES ($1, now() + $2 * interval '1 millisecond', $3)
       ON CONFLICT (instance_id) DO UPDATE SET alive_until = EXCLUDED.alive_until, listening = EXCLUDED.listening`,
      [this.instanceId, this.livenessMs, this.listener.ready],
    );
  }

  /** Stops the heartbeat and withdraws the row at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.db.query('instance_withdraw', `DELETE FROM ${this.table} WHERE instance_id = $1`, [this.instanceId]).catch(() => {});
  }
}
