/**
 * The metrics seam: the server reports what happens through this interface and knows nothing of
 * Prometheus. `src/metrics/` implements it with prom-client; NOOP_OBSERVER is the default.
 */
/** Which backend holds the fleet's state: 'memory', 'redis', ... (an open set: a new backend adds its name). */
export type StoreKind = string;
export type DeliveryKind = 'notification' | 'request' | 'response' | 'event';
/** 'local': handed over inside this process; 'store': through the store (to any replica). */
export type DeliveryPath = 'local' | 'store';
export type StreamKind = 'get' | 'post' | 'listen';

export interface RequestFinished {
  /** Which leg served it: 2025 sessions or 2026-07-28 stateless requests. */
  era: 'legacy' | 'modern';
  /** JSON-RPC method of the request (first of a batch); 'response' / 'notification' for POSTs of those; 'GET' / 'DELETE' for the other verbs; folded to 'other' by the metrics layer when unknown. */
  method: string;
  httpStatus: number;
  durationSeconds: number;
  /** Store commands (round trips) this HTTP request caused, and the sum of their latencies. */
  storeCommands: number;
  storeSeconds: number;
  store: StoreKind;
}

export interface ServerObserver {
  requestFinished(event: RequestFinished): void;
  /** The backend this replica runs on: said once, before its first store command. */
  storeSelected(kind: StoreKind): void;
  /** One store command (or script, or query) finished: its name, latency and whether it succeeded. */
  storeCommand(operation: string, durationSeconds: number, ok: boolean): void;
  /** A message was written to an SSE stream or a waiting handler; latency measured from publish. */
  delivered(kind: DeliveryKind, path: DeliveryPath, latencySeconds: number): void;
  sessionCreated(): void;
  sessionDeleted(): void;
  sessionExpired(): void;
  sessionNotFound(): void;
  replayServed(events: number): void;
  /** Requests whose owner instance died before answering, ended with an error by a resume elsewhere. */
  requestsOrphaned(count: number): void;
  streamOpened(kind: StreamKind): void;
  streamClosed(kind: StreamKind): void;
  /**
   * A multi round-trip request asked the client for input (`requested`: an input_required result,
   * or for a legacy session the SDK's server-to-client requests) or came back with it (`resumed`:
   * its sealed requestState verified on this replica).
   */
  inputRound(era: 'legacy' | 'modern', phase: 'requested' | 'resumed'): void;
  /** Sessions this replica holds a live runtime for. */
  cachedSessions(count: number): void;
  /** Whether the store announces session changes to this replica, so that its session read cache serves. */
  sessionCacheTracking(on: boolean): void;
  readiness(ready: boolean): void;
  /** A task was created on this replica. */
  taskCreated(): void;
  /** A task ended (by this replica's write): status, why, and its age in seconds. */
  taskEnded(status: 'completed' | 'failed' | 'cancelled', reason: string, durationSeconds: number): void;
  /** This replica claimed a task whose owner's liveness lapsed, and what became of it. */
  taskOrphaned(outcome: 'failed' | 'rerun' | 'cancelled'): void;
  /** A new task was refused by a limit (active_per_principal, stored, running_per_replica). */
  taskRefused(limit: string): void;
  /** Task rounds running on this replica now, and how many of them are past their task's TTL. */
  tasksRunning(running: number, overdue: number): void;
}

export const NOOP_OBSERVER: ServerObserver = {
  requestFinished() {},
  storeSelected() {},
  storeCommand() {},
  delivered() {},
  sessionCreated() {},
  sessionDeleted() {},
  sessionExpired() {},
  sessionNotFound() {},
  replayServed() {},
  requestsOrphaned() {},
  streamOpened() {},
  streamClosed() {},
  inputRound() {},
  cachedSessions() {},
  sessionCacheTracking() {},
  readiness() {},
  taskCreated() {},
  taskEnded() {},
  taskOrphaned() {},
  taskRefused() {},
  tasksRunning() {},
};
