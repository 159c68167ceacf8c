import type { FleetObserver } from '../observability/observer.js';
import type { TaskEvents } from '../tasks/task-runner.js';

/** The task runner's reports, to the fleet's observer (metrics). */
export function taskEventsOf(observer: FleetObserver): TaskEvents {
  return {
    created: () => observer.taskCreated(),
    ended: (status, reason, durationSeconds) => observer.taskEnded(status, reason, durationSeconds),
    orphaned: (outcome) => observer.taskOrphaned(outcome),
    refused: (limit) => observer.taskRefused(limit),
    running: (running, overdue) => observer.tasksRunning(running, overdue),
  };
}
