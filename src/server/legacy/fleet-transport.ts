import {
  isJSONRPCRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type MessageExtraInfo,
  type RequestId,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';
import { isAnswer } from '../jsonrpc.js';
import { STANDALONE_STREAM, type StreamManager } from '../../streams/stream-manager.js';
import type { AnswerTarget, PendingClientRequests } from './pending-client-requests.js';
import type { ResponseSink } from './response-sink.js';

/**
 * The SDK transport of one session on one replica. It holds no HTTP connection of its own: each
 * POST lends it a ResponseSink for the requests it carries, messages not tied to a request go to
 * the session's standalone stream through the StreamManager (wherever that stream is held), and
 * server-to-client requests get fleet-unique ids so their answers can arrive on any replica.
 */
export class FleetTransport implements Transport, AnswerTarget {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  private readonly sinks = new Map<RequestId, ResponseSink>();
  private readonly internal = new Map<RequestId, (message: JSONRPCMessage) => void>();
  private closed = false;

  constructor(
    readonly sessionId: string | undefined,
    private readonly streams: StreamManager | undefined,
    private readonly pending: PendingClientRequests,
    /** Server-to-client requests of this session that may wait for answers at once (fleet-wide with a session). */
    private readonly maxPending = Infinity,
  ) {}

  async start(): Promise<void> {}

  get inFlight(): number {
    return this.sinks.size;
  }

  /** Hands a client request to the server; its response and related messages go to `sink`. */
  dispatchRequest(request: JSONRPCRequest, sink: ResponseSink, extra: MessageExtraInfo): void {
    this.sinks.set(request.id, sink);
    sink.onDone(() => {
      if (this.sinks.get(request.id) === sink) this.sinks.delete(request.id);
    });
    this.onmessage?.(request, extra);
  }

  dispatchNotification(notification: JSONRPCMessage, extra?: MessageExtraInfo): void {
    this.onmessage?.(notification, extra);
    const cancelled = cancelledRequestOf(notification);
    if (cancelled !== undefined) this.sinks.get(cancelled)?.cancel(cancelled);
  }

  /** Whether a request of the client's is running here (so a cancellation of it is ours to apply). */
  runs(requestId: RequestId): boolean {
    return this.sinks.has(requestId);
  }

  /** Every sink still waiting for an answer here: a drain lets them finish, then abandons them. */
  get openSinks(): ResponseSink[] {
    return [...new Set(this.sinks.values())].filter((sink) => !sink.done);
  }

  /** Runs a request whose response is kept here, not sent: initialize and replayed state. */
  request(request: JSONRPCRequest): Promise<JSONRPCMessage> {
    return new Promise((resolve) => {
      this.internal.set(request.id, resolve);
      this.onmessage?.(request);
    });
  }

  deliverClientResponse(message: JSONRPCMessage): void {
    this.onmessage?.(message);
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.closed) return;
    if (isAnswer(message)) {
      const internal = this.internal.get(message.id);
      if (internal) {
        this.internal.delete(message.id);
        internal(message);
        return;
      }
      await this.sinks.get(message.id)?.write(message);
      return;
    }
    const outgoing = isJSONRPCRequest(message)
      ? { ...message, id: await this.pending.register(this, message.id, this.sessionId, this.maxPending) }
      : this.withFleetIds(message);
    const related = options?.relatedRequestId;
    const sink = related === undefined ? undefined : this.sinks.get(related);
    if (sink && !sink.done) {
      await sink.write(outgoing);
      return;
    }
    if (this.sessionId === undefined || this.streams === undefined) {
      throw new Error('No stream to send this message on: stateless mode has no standalone stream');
    }
    await this.streams.publish(this.sessionId, STANDALONE_STREAM, outgoing);
  }

  /** A cancellation of a server-to-client request names the id the client saw, not the SDK's own. */
  private withFleetIds(message: JSONRPCMessage): JSONRPCMessage {
    if (!('method' in message) || message.method !== 'notifications/cancelled') return message;
    const params = message.params as { requestId?: RequestId } | undefined;
    if (params?.requestId === undefined) return message;
    const fleetId = this.pending.fleetIdOf(this, params.requestId);
    if (fleetId === undefined) return message;
    this.pending.drop(fleetId);
    return { ...message, params: { ...params, requestId: fleetId } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending.forget(this);
    this.onclose?.();
  }
}

/** The client request a notifications/cancelled names, if the message is one. */
export function cancelledRequestOf(message: JSONRPCMessage): RequestId | undefined {
  if (!('method' in message) || message.method !== 'notifications/cancelled' || 'id' in message) return undefined;
  const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
  return typeof requestId === 'string' || typeof requestId === 'number' ? requestId : undefined;
}
