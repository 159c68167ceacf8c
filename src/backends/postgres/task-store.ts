import { expiresAt, TaskLimitError, type TaskRecord, type TaskStore, type TaskStoreLimits } from '../../tasks/task-store.js';
import { ident, type PgDatabase } from './connection.js';

const ACTIVE = `status IN ('working', 'input_required')`;

/**
 * One row per task: the record as JSON beside the columns the queries need (status, version,
 * expiry on this replica's clock, as on Redis). Compare-and-set is one UPDATE on the version. The
 * owner index is the `indexed_owner` column, set with each write that names an owner (in the same
 * statement, so it never misses a task its owner runs) and cleared by unindex. A create counts the
 * limits under an advisory lock, so concurrent creates cannot overshoot them.
 */
export class PgTaskStore implements TaskStore {
  readonly kind = 'postgres' as const;
  private readonly table: string;
  private readonly lockName: string;

  constructor(
    private readonly db: PgDatabase,
    schema: string,
    private readonly now: () => number = Date.now,
  ) {
    this.table = `${ident(schema)}.tasks`;
    this.lockName = `${schema}.tasks`;
  }

  async create(record: TaskRecord, limits: TaskStoreLimits): Promise<void> {
    const now = this.now();
    if (expiresAt(record) - now <= 0) throw new Error('a task must not be created expired');
    const stored = { ...record, version: 1 };
    const refused = await this.db.transaction('task_create', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.lockName]);
      const { rows } = await client.query<{ stored: string; active: string }>(
        `SELECT count(*) AS stored, count(*) FILTER (WHERE principal = $2 AND ${ACTIVE}) AS active FROM ${this.table} WHERE expires_at > $1`,
        [now, record.principal],
      );
      if (Number(rows[0]?.stored ?? 0) >= limits.maxStored) return new TaskLimitError('stored', limits.maxStored);
      if (Number(rows[0]?.active ?? 0) >= limits.maxActivePerPrincipal) return new TaskLimitError('active_per_principal', limits.maxActivePerPrincipal);
      await client.query(
        `INSERT INTO ${this.table} (task_id, principal, status, indexed_owner, version, record, expires_at) VALUES ($1, $2, $3, $4, 1, $5, $6)`,
        [record.taskId, record.principal, record.status, record.owner ?? null, JSON.stringify(stored), expiresAt(record)],
      );
      return undefined;
    });
    if (refused) throw refused;
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const { rows } = await this.db.query<{ record: string }>('task_get', `SELECT record FROM ${this.table} WHERE task_id = $1 AND expires_at > $2`, [
      taskId,
      this.now(),
    ]);
    return rows[0] && decode(rows[0].record);
  }

  async getMany(taskIds: readonly string[]): Promise<Array<TaskRecord | undefined>> {
    if (taskIds.length === 0) return [];
    const { rows } = await this.db.query<{ task_id: string; record: string }>(
      'task_get_many',
      `SELECT task_id, record FROM ${this.table} WHERE task_id = ANY($1::text[]) AND expires_at > $2`,
      [[...taskIds], this.now()],
    );
    const found = new Map(rows.map((row) => [row.task_id, decode(row.record)]));
    return taskIds.map((id) => found.get(id));
  }

  async compareAndSet(next: TaskRecord): Promise<boolean> {
    const now = this.now();
    if (expiresAt(next) - now <= 0) return false;
    const { rowCount } = await this.db.query(
      'task_cas',
      `UPDATE ${this.table} SET version = $3, status = $4, indexed_owner = $5, record = $6, expires_at = $7
       WHERE task_id = $1 AND version = $2 AND expires_at > $8 AND status NOT IN ('completed', 'failed', 'cancelled')`,
      [next.taskId, next.version - 1, next.version, next.status, next.owner ?? null, JSON.stringify(next), expiresAt(next), now],
    );
    return rowCount === 1;
  }

  async owners(): Promise<string[]> {
    const { rows } = await this.db.query<{ owner: string }>(
      'task_owners',
      `SELECT DISTINCT indexed_owner AS owner FROM ${this.table} WHERE indexed_owner IS NOT NULL AND expires_at > $1`,
      [this.now()],
    );
    return rows.map((row) => row.owner);
  }

  async ownedBy(owner: string): Promise<string[]> {
    const { rows } = await this.db.query<{ task_id: string }>('task_owned', `SELECT task_id FROM ${this.table} WHERE indexed_owner = $1 AND expires_at > $2`, [
      owner,
      this.now(),
    ]);
    return rows.map((row) => row.task_id);
  }

  async unindex(owner: string, taskIds: readonly string[]): Promise<void> {
    if (taskIds.length === 0) return;
    await this.db.query('task_unindex', `UPDATE ${this.table} SET indexed_owner = NULL WHERE indexed_owner = $1 AND task_id = ANY($2::text[])`, [
      owner,
      [...taskIds],
    ]);
  }

  async countActive(principal: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      'task_count_active',
      `SELECT count(*) AS n FROM ${this.table} WHERE principal = $1 AND ${ACTIVE} AND expires_at > $2`,
      [principal, this.now()],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {}
}

function decode(raw: string): TaskRecord | undefined {
  try {
    const value = JSON.parse(raw) as TaskRecord;
    return typeof value.taskId === 'string' && typeof value.version === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}
