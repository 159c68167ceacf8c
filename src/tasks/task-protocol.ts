import { isInputRequiredResult, ProtocolError, type AuthInfo, type CallToolResult, type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { principalKey, principalOf } from '../auth/principal.js';
import type { WorkloadContext } from '../workload/types.js';
import { TaskRunnerLimitError, type TaskRunner } from './task-runner.js';
import { StoreUnavailableError } from '../backends/store-errors.js';
import { TaskLimitError } from './task-store.js';
import { isInputNeeded, type TaskToolDefinition } from './task-tool.js';
import { createTaskResult, detailedTask } from './task-wire.js';
import { answerErrorWith } from '../http/error-status.js';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';
const MISSING_CAPABILITY = -32021;
const INVALID_PARAMS = -32602;
/**
 * A task refused by a limit (tasks per caller, stored, running on this replica; HTTP 429), or the
 * task store down (HTTP 503): a JSON-RPC error, as the extension's protocol errors are.
 */
export const TASK_LIMIT_ERROR = -32000;

/** The server/discover capability that advertises the extension (there is no `capabilities.tasks`). */
export const TASKS_CAPABILITY = { extensions: { [TASKS_EXTENSION]: {} } };

export const missingCapability = (what: string): ProtocolError =>
  new ProtocolError(MISSING_CAPABILITY, `${what} needs the ${TASKS_EXTENSION} extension, which this request does not declare`, {
    requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
  });

/** The same answer for an unknown, purged and another caller's task. */
const unknownTask = (taskId: string) => new ProtocolError(INVALID_PARAMS, `Unknown task: ${taskId} (it does not exist or has expired)`);

/** Whether a request's `_meta` declares the extension in its per-request client capabilities. */
export function declaresTasksIn(meta: unknown): boolean {
  const envelope = typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>) : undefined;
  const capabilities = envelope?.['io.modelcontextprotocol/clientCapabilities'] as { extensions?: Record<string, unknown> } | undefined;
  return capabilities?.extensions?.[TASKS_EXTENSION] !== undefined;
}

/** Whether a 2026-07-28 request declared the extension in its per-request client capabilities. */
export const declaresTasks = (request: ServerContext): boolean => declaresTasksIn(request.mcpReq.envelope);

/** The caller a task is bound to: its token's principal, '' with authorization off. */
export function callerOfToken(authInfo: AuthInfo | undefined): string {
  const principal = principalOf(authInfo);
  return principal === undefined ? '' : principalKey(principal);
}

export const callerOf = (request: ServerContext): string => callerOfToken(request.http?.authInfo);

const TASK_PARAMS = z.object({ taskId: z.string() }).passthrough();
// The SDK lifts `inputResponses` out of the params into the request context.
const UPDATE_PARAMS = z.object({ taskId: z.string(), inputResponses: z.record(z.string(), z.unknown()).optional() }).passthrough();

const storeUnavailable = (error: StoreUnavailableError) => new ProtocolError(TASK_LIMIT_ERROR, `Service Unavailable: ${error.message}`);

/** The store is down: a JSON-RPC error with the reason (HTTP 503: the store's failure is noted for the request). */
async function storeErrorsAnswered<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw storeUnavailable(error);
    throw error;
  }
}

/**
 * Task creations refused, by request: McpServer turns what a tool handler throws into an `isError`
 * result, but a refusal is a protocol error (no tool ran, no task exists), so the tools/call
 * handler in front of it (guardTaskTools) throws it instead.
 */
const refusals = new WeakMap<ServerContext, ProtocolError>();

/** A create refused by a limit (429, Retry-After) or by the store's outage (503); undefined for any other error. */
function refusalOf(error: unknown, retryAfterSeconds: number): ProtocolError | undefined {
  if (error instanceof StoreUnavailableError) return storeUnavailable(error);
  if (!(error instanceof TaskLimitError || error instanceof TaskRunnerLimitError)) return undefined;
  answerErrorWith(429, { 'Retry-After': String(retryAfterSeconds) });
  const limit = error instanceof TaskLimitError ? error.limit : 'running_per_replica';
  return new ProtocolError(TASK_LIMIT_ERROR, `Too Many Requests: ${error.message}`, { limit, max: error.max });
}

/** tasks/get, tasks/update and tasks/cancel on a 2026-07-28 server instance (tasks/list and tasks/result stay -32601). */
export function registerTaskMethods(server: McpServer, runner: TaskRunner): void {
  server.server.setRequestHandler('tasks/get', { params: TASK_PARAMS }, (params, request) =>
    storeErrorsAnswered(async () => {
      if (!declaresTasks(request)) throw missingCapability('tasks/get');
      const record = await runner.get(params.taskId, callerOf(request));
      if (!record) throw unknownTask(params.taskId);
      return detailedTask(record);
    }),
  );
  server.server.setRequestHandler('tasks/update', { params: UPDATE_PARAMS }, (params, request) =>
    storeErrorsAnswered(async () => {
      if (!declaresTasks(request)) throw missingCapability('tasks/update');
      const responses = params.inputResponses ?? (request.mcpReq.inputResponses as Record<string, unknown> | undefined) ?? {};
      if (!(await runner.update(params.taskId, callerOf(request), responses))) throw unknownTask(params.taskId);
      return {};
    }),
  );
  server.server.setRequestHandler('tasks/cancel', { params: TASK_PARAMS }, (params, request) =>
    storeErrorsAnswered(async () => {
      if (!declaresTasks(request)) throw missingCapability('tasks/cancel');
      if (!(await runner.cancel(params.taskId, callerOf(request)))) throw unknownTask(params.taskId);
      return {};
    }),
  );
}

type StoredHandler = (request: { params?: { name?: unknown } }, ctx: ServerContext) => Promise<unknown>;

/**
 * JSON-RPC errors where McpServer would answer a task tool with an error result: a required task
 * tool called by a client that did not declare the extension answers -32021, and a refused task
 * creation its refusal. Both are decided in front of McpServer's tools/call handler.
 */
export function guardTaskTools(server: McpServer, tools: readonly TaskToolDefinition<any>[]): void {
  if (tools.length === 0) return;
  const required = new Set(tools.filter((tool) => tool.taskSupport === 'required').map((tool) => tool.name));
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, StoredHandler> })._requestHandlers;
  const callTool = handlers?.get('tools/call');
  if (!handlers || !callTool) throw new Error('this SDK version keeps no tools/call handler where expected: task tools cannot answer protocol errors');
  handlers.set('tools/call', async (request, ctx) => {
    const name = request.params?.name;
    if (typeof name === 'string' && required.has(name) && !declaresTasks(ctx)) throw missingCapability(`The tool ${name}`);
    const result = await callTool(request, ctx);
    const refusal = refusals.get(ctx);
    if (refusal) throw refusal;
    return result;
  });
}

/** What a synchronous run seals in its requestState between input rounds. */
interface SyncRound {
  round: number;
  memory: unknown;
}

/**
 * A task tool on a server instance: a declaring 2026-07-28 client gets a task (created durably,
 * first round started here); any other client gets an optional tool run synchronously, its input
 * rounds as multi round-trip requests, and a required one -32021.
 */
export function registerTaskTool(server: McpServer, ctx: WorkloadContext, tool: TaskToolDefinition<any>, runner: TaskRunner | undefined): void {
  const owner = `task:${tool.name}`;
  const handler = async (args: Record<string, unknown>, request: ServerContext) => {
    const asTask = runner !== undefined && ctx.era === 'modern' && declaresTasks(request);
    const sealed = request.mcpReq.requestState<{ owner?: unknown; memory?: SyncRound }>();
    const resumed = sealed?.owner === owner ? sealed.memory : undefined;
    if (!asTask && tool.taskSupport === 'required') throw missingCapability(`The tool ${tool.name}`);
    let memory = resumed?.memory;
    if (resumed === undefined && tool.prepare) {
      const prepared = await tool.prepare(request, ctx);
      if (isInputRequiredResult(prepared)) return prepared;
      memory = prepared.memory;
    }
    if (asTask) {
      try {
        return createTaskResult(await runner.create(tool, args, callerOf(request), memory));
      } catch (error) {
        const refusal = refusalOf(error, Math.max(1, Math.ceil(runner.settings.pollIntervalMs / 1000)));
        if (refusal) refusals.set(request, refusal);
        throw refusal ?? error;
      }
    }
    const round = resumed ? resumed.round + 1 : 1;
    const outcome = await tool.round({
      args,
      memory,
      answers: resumed ? { ...(request.mcpReq.inputResponses ?? {}) } : {},
      signal: request.mcpReq.signal,
      round,
      setStatus: async () => {},
    });
    if (!isInputNeeded(outcome)) return outcome as CallToolResult;
    const requestState = await ctx.requestState.mint({ owner, memory: { round, memory: outcome.memory } satisfies SyncRound }, request);
    return { resultType: 'input_required' as const, inputRequests: outcome.inputRequests, requestState };
  };
  // The SDK calls a tool without an input schema with the context alone.
  const register = server.registerTool.bind(server) as (name: string, config: unknown, cb: (...parameters: any[]) => Promise<unknown>) => void;
  if (tool.config.inputSchema === undefined) register(tool.name, tool.config, (request: ServerContext) => handler({}, request));
  else register(tool.name, tool.config, (args: Record<string, unknown>, request: ServerContext) => handler(args, request));
}
