import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/**
 * Fleet-wide state that tools may share across replicas: Redis when the fleet runs on Redis,
 * a Map in memory otherwise. Keys are application-chosen and stored under the key prefix.
 */
export interface SharedState {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  increment(key: string, by?: number): Promise<number>;
}

/** Fleet-wide resource events: subscribers may live on any replica. */
export interface ResourceEvents {
  /** Sends notifications/resources/updated to every session subscribed to `uri`, wherever its stream is held. Resolves to the number of sessions notified. */
  notifyUpdated(uri: string): Promise<number>;
}

export interface WorkloadContext {
  /** This replica's name (POD_NAME); also sent in the X-MCP-Replica header. */
  replicaName: string;
  /** The MCP session this server instance serves; undefined in stateless mode. */
  sessionId: string | undefined;
  shared: SharedState;
  resources: ResourceEvents;
}

/**
 * What an application registers on the server. `register` runs once per session on every replica
 * that serves it (at initialize, and again when another replica rebuilds the session from the
 * store), so it must only register handlers and keep no per-process state of its own: anything a
 * later request must see goes through `ctx.shared`.
 */
export interface Workload {
  name: string;
  instructions?: string;
  register(server: McpServer, ctx: WorkloadContext): void;
}
