import type { FleetObserver } from '../observability/observer.js';
import { NOOP_TASK_EVENTS, type TaskEvents } from '../tasks/task-runner.js';

/** The task runner's reports, to the fleet's observer. */
export function taskEventsOf(_observer: FleetObserver): TaskEvents {
  return NOOP_TASK_EVENTS;
}
