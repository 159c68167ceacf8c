/** Task settings (environment variables in src/config.ts; defaults in docs/tasks.md). */
export interface TaskSettings {
  /** TASK_TTL_MS: a task's ttlMs (from creation) unless its tool asks less. */
  ttlMs: number;
  /** TASK_MAX_TTL_MS: the most any task may get, its retention after ending included. */
  maxTtlMs: number;
  /** TASK_RESULT_RETENTION_MS: an ended task stays readable at least this long after it ended. */
  resultRetentionMs: number;
  /** TASK_POLL_INTERVAL_MS: the pollIntervalMs suggested to clients. */
  pollIntervalMs: number;
  /** TASKS_MAX_ACTIVE_PER_PRINCIPAL: non-terminal tasks one caller may have (anonymous callers share one bucket). */
  maxActivePerPrincipal: number;
  /** TASKS_MAX_STORED: tasks stored fleet-wide, ended ones included until purged. */
  maxStored: number;
  /** TASKS_MAX_RUNNING_PER_REPLICA: rounds one replica runs at once; a new task beyond it is refused. */
  maxRunningPerReplica: number;
  /** TASK_RESULT_MAX_BYTES: a result larger than this (JSON) fails the task. */
  resultMaxBytes: number;
  /** TASK_MAX_ATTEMPTS: how often a resumable round may start (first run and re-runs after an owner's death). */
  maxAttempts: number;
}

export const DEFAULT_TASK_SETTINGS: TaskSettings = {
  ttlMs: 3_600_000,
  maxTtlMs: 7 * 24 * 3_600_000,
  resultRetentionMs: 600_000,
  pollIntervalMs: 1000,
  maxActivePerPrincipal: 100,
  maxStored: 100_000,
  maxRunningPerReplica: 500,
  resultMaxBytes: 1024 * 1024,
  maxAttempts: 3,
};
