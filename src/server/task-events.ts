import type { ChangeEventBus } from '../bus/event-bus.js';
import type { ServerObserver } from '../observability/observer.js';
import type { TaskEvents } from '../tasks/task-runner.js';
import type { TaskStore } from '../tasks/task-store.js';
import { noted } from './tool-store-failures.js';

/**
 * The task runner's reports: to the fleet's observer (metrics), and each record it writes onto the
 * event bus, so that listen streams on every replica that asked for the task hear of it.
 */
export function taskEventsOf(observer: ServerObserver, bus: ChangeEventBus): TaskEvents {
  return {
    created: () => observer.taskCreated(),
    ended: (status, reason, durationSeconds) => observer.taskEnded(status, reason, durationSeconds),
    orphaned: (outcome) => observer.taskOrphaned(outcome),
    refused: (limit) => observer.taskRefused(limit),
    running: (running, overdue) => observer.tasksRunning(running, overdue),
    changed: (record) => bus.publish({ kind: 'task_status', taskId: record.taskId, version: record.version }),
  };
}

/** The task store a replica's runner uses: a failure during an HTTP request is noted for its answer (a 503). */
export function notingTaskStore(store: TaskStore): TaskStore {
  return {
    kind: store.kind,
    create: (record, limits) => noted(store.create(record, limits)),
    get: (taskId) => noted(store.get(taskId)),
    getMany: (taskIds) => noted(store.getMany(taskIds)),
    compareAndSet: (next) => noted(store.compareAndSet(next)),
    owners: () => noted(store.owners()),
    ownedBy: (owner) => noted(store.ownedBy(owner)),
    unindex: (owner, taskIds) => noted(store.unindex(owner, taskIds)),
    countActive: (principal) => noted(store.countActive(principal)),
    close: () => store.close(),
  };
}
