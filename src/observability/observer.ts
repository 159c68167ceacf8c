/**
 * The metrics seam: the server reports what happens through this interface and knows nothing of
 * Prometheus. `src/metrics/` implements it with prom-client; NOOP_OBSERVER is the default.
 */
export type StoreKind = 'memory' | 'redis';
export type DeliveryKind = 'notification' | 'request' | 'response' | 'event';
export type DeliveryPath = 'local' | 'redis';
export type StreamKind = 'get' | 'post' | 'listen';

export interface RequestFinished {
  /** Which leg served it: 2025 sessions or 2026-07-28 stateless requests. */
  era: 'legacy' | 'modern';
  /** JSON-RPC method of the request (first of a batch); 'response' / 'notification' for POSTs of those; 'GET' / 'DELETE' for the other verbs; folded to 'other' by the metrics layer when unknown. */
  method: string;
  httpStatus: number;
  durationSeconds: number;
  /** Redis commands this HTTP request caused, and the sum of their latencies. */
  redisCommands: number;
  redisSeconds: number;
  store: StoreKind;
}

export interface FleetObserver {
  requestFinished(event: RequestFinished): void;
  redisCommand(operation: string, durationSeconds: number, ok: boolean): void;
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
  /** Whether Redis announces session changes to this replica, so that its session read cache serves. */
  sessionCacheTracking(on: boolean): void;
  readiness(ready: boolean): void;
}

export const NOOP_OBSERVER: FleetObserver = {
  requestFinished() {},
  redisCommand() {},
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
};
