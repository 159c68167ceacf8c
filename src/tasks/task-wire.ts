import type { TaskRecord } from './task-store.js';

/** The Task fields of the extension, from a record: nothing server-side (owner, memory, answers) ever leaves. */
export function taskView(record: TaskRecord): Record<string, unknown> {
  return {
    taskId: record.taskId,
    status: record.status,
    ...(record.statusMessage !== undefined ? { statusMessage: record.statusMessage } : {}),
    createdAt: new Date(record.createdAt).toISOString(),
    lastUpdatedAt: new Date(record.lastUpdatedAt).toISOString(),
    ttlMs: record.ttlMs,
    pollIntervalMs: record.pollIntervalMs,
  };
}

/** tasks/get: the task with what its state carries (questions, result or error). */
export function detailedTask(record: TaskRecord): Record<string, unknown> {
  return {
    ...taskView(record),
    ...(record.status === 'input_required' ? { inputRequests: record.inputRequests ?? {} } : {}),
    ...(record.status === 'completed' ? { result: record.result ?? { content: [] } } : {}),
    ...(record.status === 'failed' ? { error: record.error ?? { code: -32603, message: 'failed' } } : {}),
  };
}

/** The flat CreateTaskResult answering a tools/call. */
export function createTaskResult(record: TaskRecord): Record<string, unknown> {
  return { resultType: 'task', ...taskView(record) };
}
