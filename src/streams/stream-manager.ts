import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { DeliveryPath } from '../observability/observer.js';

/** The standalone GET stream of a session; POST streams get a random key each. */
export const STANDALONE_STREAM = 'g';

export type StreamEvent =
  | { type: 'message'; entryId: string; message: JSONRPCMessage; publishedAt: number }
  /** The stream is complete (a POST stream whose responses were all sent). */
  | { type: 'end'; entryId: string }
  /** Another connection took this stream over, or the session ended: close without replaying. */
  | { type: 'takeover'; listener: string }
  | { type: 'terminated' }
  /** Delivery can no longer be guaranteed (the store's connection lost): the client should reconnect. */
  | { type: 'interrupted' }
  /** First in a backlog: the log no longer holds every entry after the resume position (trimmed or expired). */
  | { type: 'gap'; after: string };

/**
 * A listener is created paused: the caller writes `backlog` (the replayed entries) and then calls
 * start(), after which live events are passed to onEvent in log order, none twice.
 */
export interface StreamListener {
  /** Entry id the client is positioned at once `backlog` is written: the cursor for a priming event. */
  readonly cursor: string;
  readonly backlog: StreamEvent[];
  start(): void;
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Replay entries after this one before going live; undefined = live only. */
  after?: string;
  /** Identifies this listener in takeover notices; listeners with `exclusive` evict older ones. */
  listenerId: string;
  exclusive: boolean;
}

/** A message for one replica instance, wherever it runs. */
export interface InstanceEnvelope {
  /** client-response: to the instance waiting for it; cancel: to every instance, the one running the request applies it. */
  type: 'client-response' | 'cancel';
  sessionId: string | undefined;
  message: JSONRPCMessage;
  publishedAt: number;
}

/**
 * Live delivery: appends events to a session's stream logs (with ids, kept for a bounded time) and
 * hands them to whoever listens to that stream, in this process or another.
 */
export interface StreamManager {
  /** How its messages reach listeners and instances: 'local' (within this process) or 'store' (through the store, to any replica). */
  readonly deliveryPath: DeliveryPath;
  /** This process's address for sendToInstance. */
  readonly instanceId: string;
  /**
   * Appends `message` to the stream's log and delivers it to its listeners. With `requireSession`,
   * nothing is appended when the session no longer exists and the result is undefined.
   */
  publish(sessionId: string, streamKey: string, message: JSONRPCMessage, options?: { requireSession?: boolean }): Promise<string | undefined>;
  /** Appends an end marker: listeners of this stream close once they reach it. */
  end(sessionId: string, streamKey: string): Promise<void>;
  listen(sessionId: string, streamKey: string, options: ListenOptions, onEvent: (event: StreamEvent) => void): Promise<StreamListener>;
  /** Closes the listeners of one stream, on every replica, so the client reconnects (closeStandaloneSSEStream). */
  disconnect(sessionId: string, streamKey: string): Promise<void>;
  /** Closes every listener of the session's streams, on every replica, and drops its logs. */
  terminate(sessionId: string): Promise<void>;
  /**
   * Sends an envelope to one instance. Resolves to false when the instance is known not to listen
   * (it is gone, or between connections: Redis counts PUBLISH's receivers), true when it was handed over.
   */
  sendToInstance(instanceId: string, envelope: InstanceEnvelope): Promise<boolean>;
  /** Sends an envelope to every instance of the fleet, this one included. */
  broadcast(envelope: InstanceEnvelope): Promise<void>;
  onInstanceMessage(handler: (envelope: InstanceEnvelope) => void): void;
  close(): Promise<void>;
}

/**
 * Entry ids are two decimal parts `<a>-<b>`, each below 2^64, ordered by comparing the parts as
 * numbers (a Redis stream id `<ms>-<seq>` is one; a backend with a single sequence writes `<seq>-0`).
 */
export function compareEntryIds(a: string, b: string): number {
  const [am = 0n, as = 0n] = a.split('-').map((p) => BigInt(p));
  const [bm = 0n, bs = 0n] = b.split('-').map((p) => BigInt(p));
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

export const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;
