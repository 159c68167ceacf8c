/** Types of task-flows.js. */
import type { FlowContext } from './mcp.js';
import type { ModernClient } from './modern-mcp.js';

export interface TaskReport {
  ok: boolean;
  created: boolean;
  taskId: string | undefined;
  /** The status of the CreateTaskResult, then of every successful poll, in order. */
  statuses: string[];
  /** The distinct terminal states the polls saw. */
  terminals: string[];
  /** Polls that saw the task not terminal after a terminal state. */
  regressions: number;
  pollReplicas: string[];
  createReplica: string | undefined;
  cross: boolean;
}
export interface TasksReport {
  ok: boolean;
  tasks: TaskReport[];
}
export declare const TASK_TOOL: string;
export declare const TERMINAL: string[];
export declare function taskClient(ctx: FlowContext): ModernClient;
export declare function judgeStatuses(statuses: string[]): { terminals: string[]; regressions: number; once: boolean };
export declare function runTask(ctx: FlowContext, client: ModernClient, topic: string): Promise<TaskReport>;
export declare function tasksIteration(ctx: FlowContext): Promise<TasksReport>;
