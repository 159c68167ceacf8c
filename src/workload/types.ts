import type { McpServer, RequestStateCodec } from '@modelcontextprotocol/server';
import type { TaskToolDefinition } from '../tasks/task-tool.js';

/** The protocol era a server instance serves: 2025 sessions (`legacy`) or 2026-07-28 requests (`modern`). */
export type Era = 'legacy' | 'modern';

/**
 * Fleet-wide state that tools may share across replicas: Redis when the fleet runs on Redis,
 * a Map in memory otherwise. Keys are application-chosen and stored under the key prefix.
 */
export interface SharedState {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  increment(key: string, by?: number): Promise<number>;
}

/**
 * Fleet-wide change events, for both eras at once: modern `subscriptions/listen` streams on every
 * replica and legacy sessions (resources/subscribe, list_changed on their GET stream).
 */
export interface ChangeEvents {
  /** notifications/resources/updated for `uri`. Resolves to the number of legacy sessions it was sent to. */
  resourceUpdated(uri: string): Promise<number>;
  toolsChanged(): Promise<void>;
  promptsChanged(): Promise<void>;
  resourcesChanged(): Promise<void>;
}

export interface WorkloadContext {
  era: Era;
  /** This replica's name (POD_NAME); also sent in the X-MCP-Replica header. */
  replicaName: string;
  /** The legacy session this server instance serves; undefined for modern requests and in stateless mode. */
  sessionId: string | undefined;
  shared: SharedState;
  events: ChangeEvents;
  /** Seals the `requestState` of multi round-trip requests with the fleet's keys (verified on every replica). */
  requestState: RequestStateCodec;
}

/**
 * What an application registers on the server. `register` runs for every server instance: once
 * per legacy session on every replica that serves it (at initialize, and again when another replica
 * rebuilds the session from the store) and, for modern requests, once per instance of the
 * replica's pool (an instance serves one request at a time, then the next; one whose
 * registrations a handler changed is not lent again). It must only register handlers
 * and keep no per-process state of its own: anything a later request must see goes through
 * `ctx.shared`, and what a multi round-trip request must remember between rounds goes in its sealed
 * `requestState`. Since it runs that often, what does not depend on `ctx` belongs at module level:
 * argument schemas (wrapped in `sharedSchema`, so their JSON Schema is converted once) and
 * resource templates, which the SDK only reads, are built once and shared by every instance.
 */
export interface Workload {
  name: string;
  instructions?: string;
  register(server: McpServer, ctx: WorkloadContext): void;
  /**
   * Tools run as MCP Tasks (src/tasks/task-tool.ts): the fleet registers them on every server
   * instance, and any replica's task runner can run any of their rounds.
   */
  taskTools?: readonly TaskToolDefinition<any>[];
}
