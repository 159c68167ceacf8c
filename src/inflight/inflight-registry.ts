import type { RequestId } from '@modelcontextprotocol/server';

/** Who runs the requests answered on one stream of a session. */
export interface InFlightRecord {
  /** The instance (StreamManager.instanceId) whose process runs the requests. */
  instanceId: string;
  /** The client's request ids still unanswered on this stream when it was recorded. */
  requestIds: RequestId[];
  /** When the owner recorded them (ms since the epoch). */
  since: number;
}

/**
 * The fleet-visible record of in-flight requests: which instance runs which requests of which
 * session, answered on which stream. An instance is alive while its heartbeat (one per process,
 * not per session or request) is fresher than the liveness window; a record whose owner is not
 * alive is an orphan, and exactly one replica may claim it to answer its requests with an error.
 */
export interface InFlightRegistry {
  readonly instanceId: string;
  /** How long an instance counts as alive after its last heartbeat. */
  readonly livenessMs: number;
  /** Starts this instance's heartbeat; call once before serving. */
  start(): Promise<void>;
  /** Records that this instance runs `requestIds` of the session, answered on `streamKey`. */
  record(sessionId: string, streamKey: string, requestIds: RequestId[]): Promise<void>;
  /** The stream's requests are all answered, cancelled or abandoned: forgets the record. */
  release(sessionId: string, streamKey: string): Promise<void>;
  ownerOf(sessionId: string, streamKey: string): Promise<InFlightRecord | undefined>;
  /** The in-flight records of a session, by stream key. */
  recordsOf(sessionId: string): Promise<Map<string, InFlightRecord>>;
  /** Which of these instances are alive now. */
  aliveAmong(instanceIds: readonly string[]): Promise<Set<string>>;
  /**
   * Removes the stream's record if its owner is not alive and returns it; undefined when there is
   * none, its owner is alive, or another replica claimed it first (at most one claim succeeds).
   */
  claimOrphan(sessionId: string, streamKey: string): Promise<InFlightRecord | undefined>;
  /** Stops the heartbeat and withdraws this instance's liveness at once. */
  close(): Promise<void>;
}
