import type { CallToolResult, InputRequests, InputRequiredResult, ServerContext } from '@modelcontextprotocol/server';
import type { WorkloadContext } from '../workload/types.js';

/** What one round of a task tool gets. */
export interface TaskStep<M> {
  args: Record<string, unknown>;
  /** What the previous round kept (or `prepare` gave the first); undefined on a first round without one. */
  memory: M | undefined;
  /** The client's answers to the previous round's questions, by the keys that round asked them under. */
  answers: Record<string, unknown>;
  /** Aborts when the task is cancelled, runs past its TTL, or its replica drains. */
  signal: AbortSignal;
  /** The task's statusMessage, visible to every replica's tasks/get. */
  setStatus(message: string): Promise<void>;
  /** 1 for the first round. */
  round: number;
}

/** A round that needs the client's input: the task parks (input_required) with `memory` until it is answered. */
export interface TaskInputNeeded<M> {
  readonly kind: 'task-input';
  inputRequests: InputRequests;
  memory: M;
}

export const needInput = <M>(inputRequests: InputRequests, memory: M): TaskInputNeeded<M> => ({ kind: 'task-input', inputRequests, memory });

export type TaskOutcome<M> = CallToolResult | TaskInputNeeded<M>;

export const isInputNeeded = (outcome: unknown): outcome is TaskInputNeeded<unknown> =>
  typeof outcome === 'object' && outcome !== null && (outcome as { kind?: unknown }).kind === 'task-input';

/**
 * A tool run as a task, written once in the re-entrant round shape of the input handlers: each
 * round gets the arguments, the memory of the last round and the answers to its questions, and
 * returns a result, throws (a JSON-RPC error: the task fails), or asks for input. Any replica may
 * run any round, so a round keeps nothing in the process.
 */
export interface TaskToolDefinition<M = unknown> {
  name: string;
  /** As McpServer.registerTool's config (title, description, inputSchema, annotations). */
  config: { title?: string; description?: string; inputSchema?: unknown; annotations?: Record<string, unknown> };
  /** optional: a client that did not declare the tasks extension gets the tool run synchronously; required: -32021. */
  taskSupport: 'optional' | 'required';
  /** Safe to run a round again elsewhere after its replica died (bounded by TASK_MAX_ATTEMPTS). */
  resumable?: boolean;
  /**
   * Multi round-trip input gathered before the task exists (answered synchronously, sealed in the
   * requestState): an input_required result, or the first round's memory.
   */
  prepare?(request: ServerContext, ctx: WorkloadContext): Promise<InputRequiredResult | { memory?: M }>;
  round(step: TaskStep<M>): Promise<TaskOutcome<M>>;
}
