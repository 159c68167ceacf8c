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
import type { RequestLife, RequestLives } from './request-life.js';

/**
 * The SDK transport of one session on one replica. It holds no HTTP connection and no request of
 * its own: a request it runs is found by id in its RequestLife, whose answer writer carries the
 * response and the messages related to it; messages not tied to a request go to
 * the session's standalone stream through the StreamManager (wherever that stream is held), and
 * server-to-client requests get fleet-unique ids so their answers can arrive on any replica.
 */
export class SessionTransport implements Transport, AnswerTarget {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  private readonly internal = new Map<RequestId, (message: JSONRPCMessage) => void>();
  private closed = false;

  constructor(
    readonly sessionId: string | undefined,
    private readonly lives: RequestLives,
    private readonly streams: StreamManager | undefined,
    private readonly pending: PendingClientRequests,
    /** Server-to-client requests of this session that may wait for answers at once (fleet-wide with a session). */
    private readonly maxPending = Infinity,
  ) {}

  async start(): Promise<void> {}

  /** How many client requests run here (a runtime with none may be evicted). */
  get running(): number {
    return this.lives.countOf(this);
  }

  /** Hands a client request of `life` to the server. */
  dispatchRequest(request: JSONRPCRequest, life: RequestLife, extra: MessageExtraInfo): void {
    life.run(request.id);
    this.onmessage?.(request, extra);
  }

  dispatchNotification(notification: JSONRPCMessage, extra?: MessageExtraInfo): void {
    this.onmessage?.(notification, extra);
    const cancelled = cancelledRequestOf(notification);
    if (cancelled !== undefined) this.lives.running(this, cancelled)?.cancel(cancelled);
  }

  /** Whether a request of the client's is running here (so a cancellation of it is ours to apply). */
  runs(requestId: RequestId): boolean {
    return this.lives.running(this, requestId) !== undefined;
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
      await this.lives.running(this, message.id)?.answerWriter?.write(message);
      return;
    }
    const outgoing = isJSONRPCRequest(message)
      ? { ...message, id: await this.pending.register(this, message.id, this.sessionId, this.maxPending) }
      : this.withFleetIds(message);
    const related = options?.relatedRequestId;
    const writer = related === undefined ? undefined : this.lives.running(this, related)?.answerWriter;
    if (writer) {
      await writer.write(outgoing);
      return;
    }
    // Not tied to a running request, or tied to one that has left its life (say, the cancellation
    // of its sampling request once the client cancelled it): the session's standalone stream.
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
    // The server is gone with its requests: none of them will be answered.
    this.lives.cancelAll(this);
    this.onclose?.();
  }
}

/** The client request a notifications/cancelled names, if the message is one. */
export function cancelledRequestOf(message: JSONRPCMessage): RequestId | undefined {
  if (!('method' in message) || message.method !== 'notifications/cancelled' || 'id' in message) return undefined;
  const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
  return typeof requestId === 'string' || typeof requestId === 'number' ? requestId : undefined;
}
