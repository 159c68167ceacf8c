import { McpServer, type RequestStateCodec, type ServerOptions } from '@modelcontextprotocol/server';
import type { ServerObserver } from '../observability/observer.js';
import type { Era, ChangeEvents, SharedState, Workload, WorkloadContext } from '../workload/types.js';
import { SharedSchemaValidator } from './shared-schema-validator.js';
import type { TaskRunner } from '../tasks/task-runner.js';
import { guardTaskTools, registerTaskMethods, registerTaskTool, TASKS_CAPABILITY } from '../tasks/task-protocol.js';
import { notingChangeEvents, notingSharedState } from './tool-store-failures.js';

export const SERVER_INFO = { name: 'mcp-fleet', version: '0.1.0' };

/** What every server instance of this replica is built from, whichever era it serves. */
export interface ServerBuildDeps {
  workload: Workload;
  replicaName: string;
  shared: SharedState;
  events: ChangeEvents;
  requestState: RequestStateCodec;
  observer: ServerObserver;
  /** How long one server-to-client request of a legacy session waits for its answer. */
  clientRequestTimeoutMs: number;
  /** This replica's task runner; without one, task tools run synchronously only. */
  tasks?: TaskRunner;
}

const SCHEMA_VALIDATOR = new SharedSchemaValidator();

/**
 * 2026-07-28 cache hints: lists change only with a list_changed event, so clients may keep them a
 * while; a read (a counter's value) is always fresh.
 */
const CACHE_HINTS: ServerOptions['cacheHints'] = {
  'server/discover': { ttlMs: 300_000, cacheScope: 'public' },
  'tools/list': { ttlMs: 60_000, cacheScope: 'public' },
  'prompts/list': { ttlMs: 60_000, cacheScope: 'public' },
  'resources/list': { ttlMs: 60_000, cacheScope: 'public' },
  'resources/templates/list': { ttlMs: 60_000, cacheScope: 'public' },
  'resources/read': { ttlMs: 0, cacheScope: 'private' },
};

/**
 * One SDK McpServer with the workload registered: per legacy session (cached in the session
 * runtime) or per instance of the modern leg's pool (lent to one request at a time). Both eras get the same tools; multi round-trip handlers verify
 * their requestState with the fleet's key ring in both (the SDK's legacy shim re-verifies it each
 * round of a 2025 session too).
 */
export function buildMcpServer(era: Era, sessionId: string | undefined, deps: ServerBuildDeps): McpServer {
  const server = new McpServer(SERVER_INFO, {
    capabilities: {
      logging: {},
      tools: { listChanged: true },
      // A stateless legacy request has no session to remember a subscription in.
      resources: { subscribe: era === 'modern' || sessionId !== undefined, listChanged: true },
      prompts: { listChanged: true },
      // The tasks extension is defined for 2026-07-28 only.
      ...(era === 'modern' && deps.tasks ? TASKS_CAPABILITY : {}),
    },
    instructions: deps.workload.instructions,
    requestState: {
      verify: async (state, ctx) => {
        const payload = await deps.requestState.verify(state, ctx);
        deps.observer.inputRound(era, 'resumed');
        return payload;
      },
    },
    cacheHints: CACHE_HINTS,
    jsonSchemaValidator: SCHEMA_VALIDATOR,
    inputRequired: { roundTimeoutMs: deps.clientRequestTimeoutMs },
  });
  const ctx: WorkloadContext = {
    era,
    replicaName: deps.replicaName,
    sessionId,
    shared: notingSharedState(deps.shared),
    events: notingChangeEvents(deps.events),
    requestState: {
      mint: (payload, ctx) => {
        deps.observer.inputRound(era, 'requested');
        return deps.requestState.mint(payload, ctx);
      },
      verify: (state, ctx) => deps.requestState.verify(state, ctx),
    },
  };
  for (const tool of deps.workload.taskTools ?? []) registerTaskTool(server, ctx, tool, deps.tasks);
  if (era === 'modern' && deps.tasks) {
    registerTaskMethods(server, deps.tasks);
    guardTaskTools(server, deps.workload.taskTools ?? []);
  }
  deps.workload.register(server, ctx);
  return server;
}
