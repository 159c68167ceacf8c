import { randomBytes } from 'node:crypto';
import { isTerminal, type TaskError, type TaskRecord, type TaskStatus, type TaskStore } from './task-store.js';

/** 128 random bits, base64url. */
export const newTaskId = (): string => randomBytes(16).toString('base64url');

/** How often a read-modify-write retries after losing a compare-and-set to another writer. */
const MAX_ATTEMPTS = 32;

/**
 * Reads the task, lets `change` derive the next record from it (undefined: nothing to write) and
 * compare-and-sets it, again from a fresh read whenever another writer came first. Resolves with
 * the record written, or undefined when nothing was (unknown, ended, or `change` declined).
 */
export async function updateTask(store: TaskStore, taskId: string, change: (current: TaskRecord) => TaskRecord | undefined): Promise<TaskRecord | undefined> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const current = await store.get(taskId);
    if (!current || isTerminal(current.status)) return undefined;
    const next = change(current);
    if (!next) return undefined;
    const written = { ...next, version: current.version + 1 };
    if (await store.compareAndSet(written)) return written;
  }
  throw new Error(`task ${taskId}: ${MAX_ATTEMPTS} writers came first in a row`);
}

/** The state machine: from a non-terminal state anywhere; terminal states are final. */
export function canTransition(from: TaskStatus, _to: TaskStatus): boolean {
  return !isTerminal(from);
}

export interface Ending {
  status: 'completed' | 'failed' | 'cancelled';
  result?: Record<string, unknown>;
  error?: TaskError;
  statusMessage?: string;
}

/**
 * The terminal record: round state dropped, no owner, and a TTL long enough that the outcome stays
 * readable for `retentionMs` after now.
 */
export function ended(current: TaskRecord, ending: Ending, now: number, retentionMs: number): TaskRecord {
  const { inputRequests: _q, inputResponses: _a, memory: _m, owner: _o, cancelRequested: _c, result: _r, error: _e, ...kept } = current;
  return {
    ...kept,
    status: ending.status,
    ...(ending.statusMessage !== undefined ? { statusMessage: ending.statusMessage } : {}),
    ...(ending.status === 'completed' && ending.result ? { result: ending.result } : {}),
    ...(ending.status === 'failed' && ending.error ? { error: ending.error } : {}),
    lastUpdatedAt: now,
    ttlMs: Math.max(current.ttlMs, now - current.createdAt + retentionMs),
  };
}
