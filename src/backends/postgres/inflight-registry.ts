import type { RequestId } from '@modelcontextprotocol/server';
import type { InFlightRecord, InFlightRegistry } from '../../inflight/inflight-registry.js';
import { ident, type PgDatabase } from './connection.js';
import type { InstancePresence } from './presence.js';

export interface PgInFlightOptions {
  db: PgDatabase;
  schema: string;
  presence: InstancePresence;
  /** How long a record outlives its last write: as long as the stream's log it points into. */
  recordTtlMs: number;
}

interface Row {
  stream_key: string;
  instance_id: string;
  request_ids: string;
  since: string;
}

/**
 * One row per (session, stream) in `inflight`; liveness is the instance's presence row. A claim is
 * one DELETE of the record whose owner has no live presence row: row locking lets exactly one of
 * concurrent claimants delete it, the others find nothing.
 */
export class PgInFlightRegistry implements InFlightRegistry {
  readonly kind = 'postgres' as const;
  readonly instanceId: string;
  readonly livenessMs: number;
  private readonly table: string;
  private readonly instances: string;

  constructor(private readonly options: PgInFlightOptions) {
    this.instanceId = options.presence.instanceId;
    this.livenessMs = options.presence.livenessMs;
    this.table = `${ident(options.schema)}.inflight`;
    this.instances = `${ident(options.schema)}.instances`;
  }

  start(): Promise<void> {
    return this.options.presence.start();
  }

  async record(sessionId: string, streamKey: string, requestIds: RequestId[]): Promise<void> {
    await this.options.db.query(
      'inflight_record',
      `INSERT INTO ${this.table} (session_id, stream_key, instance_id, request_ids, since, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 millisecond')
       ON CONFLICT (session_id, stream_key) DO UPDATE SET instance_id = EXCLUDED.instance_id, request_ids = EXCLUDED.request_ids,
         since = EXCLUDED.since, expires_at = greatest(${this.table}.expires_at, EXCLUDED.expires_at)`,
      [sessionId, streamKey, this.instanceId, JSON.stringify(requestIds), Date.now(), this.options.recordTtlMs],
    );
  }

  async release(sessionId: string, streamKey: string): Promise<void> {
    await this.options.db.query('inflight_release', `DELETE FROM ${this.table} WHERE session_id = $1 AND stream_key = $2`, [sessionId, streamKey]);
  }

  async ownerOf(sessionId: string, streamKey: string): Promise<InFlightRecord | undefined> {
    const { rows } = await this.options.db.query<Row>(
      'inflight_owner',
      `SELECT stream_key, instance_id, request_ids, since::text FROM ${this.table} WHERE session_id = $1 AND stream_key = $2 AND expires_at > now()`,
      [sessionId, streamKey],
    );
    return rows[0] && decode(rows[0]);
  }

  async recordsOf(sessionId: string): Promise<Map<string, InFlightRecord>> {
    const { rows } = await this.options.db.query<Row>(
      'inflight_records',
      `SELECT stream_key, instance_id, request_ids, since::text FROM ${this.table} WHERE session_id = $1 AND expires_at > now()`,
      [sessionId],
    );
    return new Map(rows.map((row) => [row.stream_key, decode(row)]));
  }

  async aliveAmong(instanceIds: readonly string[]): Promise<Set<string>> {
    if (instanceIds.length === 0) return new Set();
    const { rows } = await this.options.db.query<{ instance_id: string }>(
      'instance_alive',
      `SELECT instance_id FROM ${this.instances} WHERE instance_id = ANY($1::text[]) AND alive_until > now()`,
      [[...new Set(instanceIds)]],
    );
    return new Set(rows.map((row) => row.instance_id));
  }

  async claimOrphan(sessionId: string, streamKey: string): Promise<InFlightRecord | undefined> {
    const { rows } = await this.options.db.query<Row>(
      'inflight_claim',
      `DELETE FROM ${this.table} i WHERE session_id = $1 AND stream_key = $2
         AND NOT EXISTS (SELECT 1 FROM ${this.instances} a WHERE a.instance_id = i.instance_id AND a.alive_until > now())
       RETURNING stream_key, instance_id, request_ids, since::text`,
      [sessionId, streamKey],
    );
    return rows[0] && decode(rows[0]);
  }

  close(): Promise<void> {
    return this.options.presence.close();
  }
}

function decode(row: Row): InFlightRecord {
  let requestIds: RequestId[] = [];
  try {
    const value = JSON.parse(row.request_ids) as unknown;
    if (Array.isArray(value)) requestIds = value.filter((id): id is RequestId => typeof id === 'string' || typeof id === 'number');
  } catch {
    // A damaged row still names its owner.
  }
  return { instanceId: row.instance_id, requestIds, since: Number(row.since) };
}
