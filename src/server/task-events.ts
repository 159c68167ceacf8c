import type { FleetEventBus } from '../bus/event-bus.js';
import type { FleetObserver } from '../observability/observer.js';
import type { TaskEvents } from '../tasks/task-runner.js';

/**
 * The task runner's reports: to the fleet's observer (metrics), and each record it writes onto the
 * event bus, so that listen streams on every replica that asked for the task hear of it.
 */
export function taskEventsOf(observer: FleetObserver, bus: FleetEventBus): TaskEvents {
  return {
    created: () => observer.taskCreated(),
    ended: (status, reason, durationSeconds) => observer.taskEnded(status, reason, durationSeconds),
    orphaned: (outcome) => observer.taskOrphaned(outcome),
    refused: (limit) => observer.taskRefused(limit),
    running: (running, overdue) => observer.tasksRunning(running, overdue),
    changed: (record) => bus.publish({ kind: 'task_status', taskId: record.taskId, version: record.version }),
  };
}
