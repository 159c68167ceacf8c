import type { StoreKind } from '../observability/observer.js';

/** The states of a task (ext-tasks): the last three are terminal and final. */
export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

export const isTerminal = (status: TaskStatus): boolean => TERMINAL_STATUSES.includes(status);

/** A JSON-RPC error, the payload of a `failed` task. */
export interface TaskError {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * Everything the fleet knows of one task, serialisable, so that any replica can serve it and run
 * its next round. Written only through compare-and-set on `version`.
 */
export interface TaskRecord {
  /** 128 random bits, base64url: unguessable, it may be used as a bearer of the task. */
  taskId: string;
  /** Who created it (principalKey), '' with authorization off: every request on it must come from the same. */
  principal: string;
  tool: string;
  args: Record<string, unknown>;
  status: TaskStatus;
  statusMessage?: string;
  /** ms since the epoch. */
  createdAt: number;
  lastUpdatedAt: number;
  /** How long after createdAt the task may be purged; extended when it ends late, so a result stays readable. */
  ttlMs: number;
  pollIntervalMs: number;
  /** completed: the tool's result (isError included). */
  result?: Record<string, unknown>;
  /** failed: the JSON-RPC error. */
  error?: TaskError;
  /** input_required: the questions still unanswered, by their wire key. */
  inputRequests?: Record<string, unknown>;
  /** Answers gathered for the current round, by wire key. */
  inputResponses?: Record<string, unknown>;
  /** The round's own memory (server side only, never on the wire). */
  memory?: unknown;
  /** The round being run or awaited, from 1. */
  round: number;
  /** The instance running a round now; absent while parked for input or terminal. */
  owner?: string;
  /** How many times the current round was started (re-runs after an owner's death count). */
  attempt: number;
  /** Whether the tool declared its rounds safe to run again elsewhere after an owner's death. */
  resumable: boolean;
  /** A tasks/cancel arrived while a round ran: its owner aborts the round and ends the task cancelled. */
  cancelRequested?: boolean;
  /** Compare-and-set counter, 1 on creation. */
  version: number;
}

/** The purge time of a record. */
export const expiresAt = (record: TaskRecord): number => record.createdAt + record.ttlMs;

export interface TaskStoreLimits {
  /** Non-terminal tasks one principal may have at once. */
  maxActivePerPrincipal: number;
  /** Tasks stored fleet-wide (any state, until purged). */
  maxStored: number;
}

export type TaskLimit = 'active_per_principal' | 'stored';

/** A create refused by a limit. */
export class TaskLimitError extends Error {
  constructor(
    readonly limit: TaskLimit,
    readonly max: number,
  ) {
    super(limit === 'active_per_principal' ? `Too many active tasks for this caller (at most ${max})` : `Too many tasks stored (at most ${max})`);
    this.name = 'TaskLimitError';
  }
}

/**
 * The fleet-wide task records. A write is visible to every replica once its promise resolves (the
 * CreateTaskResult goes out only then). Records expire at createdAt + ttlMs, after which they are
 * gone (get answers undefined). Terminal records are final: no write replaces them. The owner index
 * (which instance runs which tasks) lets a replica find a dead instance's tasks in O(its tasks).
 *
 * A backend implements these few operations in one file (memory, Redis; a PostgreSQL one would be
 * `mcp_tasks(task_id PK, principal, status, owner, version, record jsonb, expires_at)` with CAS as
 * `UPDATE … WHERE task_id = $1 AND version = $2` and the indexes as partial indexes).
 */
export interface TaskStore {
  readonly kind: StoreKind;
  /** Stores a new record (version 1) if the limits allow; throws TaskLimitError otherwise. */
  create(record: TaskRecord, limits: TaskStoreLimits): Promise<void>;
  /** The record, or undefined when unknown, purged or expired. */
  get(taskId: string): Promise<TaskRecord | undefined>;
  getMany(taskIds: readonly string[]): Promise<Array<TaskRecord | undefined>>;
  /**
   * Replaces the record if its stored version is still `next.version - 1` and it is not terminal;
   * false otherwise (someone else wrote first, it ended, or it is gone). Keeps the indexes: a
   * terminal record leaves its principal's active count, `owner` moves it between owner indexes.
   */
  compareAndSet(next: TaskRecord): Promise<boolean>;
  /** Instances that the owner index says run tasks (a superset: stale entries are possible). */
  owners(): Promise<string[]>;
  /** Task ids the owner index lists for `owner` (may include tasks it no longer owns). */
  ownedBy(owner: string): Promise<string[]>;
  /** Drops index entries of `owner` for tasks it does not own any more. */
  unindex(owner: string, taskIds: readonly string[]): Promise<void>;
  /** Non-terminal tasks of a principal. */
  countActive(principal: string): Promise<number>;
  close(): Promise<void>;
}
