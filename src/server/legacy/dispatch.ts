import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  isJSONRPCRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type LoggingLevel,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/server';
import type { AuthenticatedRequest } from '../../auth/principal.js';
import type { ServerConfig } from '../../config.js';
import type { InFlightRegistry } from '../../inflight/inflight-registry.js';
import type { ServerObserver } from '../../observability/observer.js';
import type { SessionStore } from '../../sessions/session-store.js';
import { STANDALONE_STREAM, type StreamManager } from '../../streams/stream-manager.js';
import { ErrorCode, isAnswer } from '../jsonrpc.js';
import { cancelledRequestOf } from './session-transport.js';
import { HttpError, sessionHeaders } from './http-error.js';
import { PendingClientRequests } from './pending-client-requests.js';
import { ResponseSink } from './response-sink.js';
import type { RequestLife } from './request-life.js';
import type { RuntimeCache } from './runtime-cache.js';
import type { SessionRuntime } from './session-runtime.js';

const LOGGING_LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
const isLoggingLevel = (value: unknown): value is LoggingLevel => LOGGING_LEVELS.includes(value as LoggingLevel);

export interface DispatchDeps {
  config: ServerConfig;
  store: SessionStore;
  streams: StreamManager;
  inflight: InFlightRegistry;
  runtimes: RuntimeCache;
  pending: PendingClientRequests;
  observer: ServerObserver;
}

/**
 * What a POST carries, handed to the session's server: requests (answered through a ResponseSink),
 * notifications (a cancellation reaches the replica running the request), and the client's answers
 * to server-to-client requests (routed to the instance waiting for them).
 */
export class MessageDispatch {
  constructor(private readonly deps: DispatchDeps) {
    deps.streams.onInstanceMessage((envelope) => {
      if (envelope.type === 'cancel') {
        this.applyCancellation(envelope.sessionId, envelope.message);
        return;
      }
      if (envelope.type !== 'client-response' || !isAnswer(envelope.message)) return;
      if (deps.pending.resolve(envelope.message, envelope.sessionId)) {
        deps.observer.delivered('response', deps.streams.deliveryPath, (Date.now() - envelope.publishedAt) / 1000);
      }
    });
  }

  /** Hands a POST's messages to the session's server and waits until its answer is complete. */
  async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    life: RequestLife,
    runtime: SessionRuntime,
    messages: JSONRPCMessage[],
    batch: boolean,
    sessionId: string | undefined,
    protocolVersion: string,
  ): Promise<void> {
    const requests: JSONRPCRequest[] = [];
    for (const message of messages) {
      if (isAnswer(message)) await this.routeClientResponse(message, sessionId);
      else if (isJSONRPCRequest(message)) requests.push(message);
      else await this.dispatchNotification(runtime, message, sessionId);
    }
    if (requests.length === 0) {
      res.writeHead(202, sessionHeaders(sessionId));
      res.end();
      return;
    }
    const sink = new ResponseSink({
      res,
      life,
      session: sessionId === undefined ? undefined : { id: sessionId, streams: this.deps.streams },
      protocolVersion,
      headers: sessionHeaders(sessionId),
      retryMs: this.deps.config.sseRetryMs,
      keepAliveMs: this.deps.config.sseKeepAliveMs,
      maxUnsentBytes: this.deps.config.sseMaxUnsentBytes,
      observer: this.deps.observer,
      forceSse: batch,
    });
    life.carry(
      requests.map((r) => r.id),
      sink,
      runtime.transport,
      sessionId === undefined ? undefined : { id: sessionId, inflight: this.deps.inflight },
    );
    const finished = new Promise<void>((resolve) => sink.onDone(resolve));
    const abandoned = new Promise<void>((resolve) => res.once('close', resolve));
    for (const request of requests) {
      if (request.method === 'logging/setLevel') {
        const level = (request.params as { level?: unknown } | undefined)?.level;
        if (!isLoggingLevel(level)) {
          await sink.write({
            jsonrpc: '2.0',
            id: request.id,
            error: { code: ErrorCode.InvalidParams, message: `Invalid params: level must be one of ${LOGGING_LEVELS.join(', ')}` },
          });
          continue;
        }
        if (sessionId !== undefined) await this.rememberLogLevel(sessionId, runtime, level);
      }
      const extra: MessageExtraInfo = {
        closeSSEStream: sink.resumable ? () => sink.closeStream() : undefined,
        closeStandaloneSSEStream: sessionId === undefined ? undefined : () => void this.deps.streams.disconnect(sessionId, STANDALONE_STREAM).catch(() => {}),
        authInfo: (req as AuthenticatedRequest).auth,
      };
      // Checked just before dispatching, with no await between: its answer would go to the first
      // one's stream, and this one would never be answered.
      if (runtime.transport.runs(request.id)) {
        await sink.write({
          jsonrpc: '2.0',
          id: request.id,
          error: {
            code: ErrorCode.InvalidRequest,
            message: `Invalid Request: a request with id ${JSON.stringify(request.id)} is already in progress in this session`,
          },
        });
        continue;
      }
      runtime.transport.dispatchRequest(request, life, extra);
    }
    // The HTTP request is over when the answer is complete or the client has gone (the server
    // keeps working and logging for a resume).
    await Promise.race([finished, abandoned]);
  }

  /**
   * A cancellation stops the request on the replica running it: here, or on whichever replica holds
   * it, told through a broadcast (the one whose runtime runs that request applies it).
   */
  private async dispatchNotification(runtime: SessionRuntime, message: JSONRPCMessage, sessionId: string | undefined): Promise<void> {
    const cancelled = cancelledRequestOf(message);
    if (cancelled === undefined || sessionId === undefined || runtime.transport.runs(cancelled)) {
      runtime.transport.dispatchNotification(message);
      return;
    }
    await this.deps.streams.broadcast({ type: 'cancel', sessionId, message, publishedAt: Date.now() });
  }

  private applyCancellation(sessionId: string | undefined, message: JSONRPCMessage): void {
    const requestId = cancelledRequestOf(message);
    if (sessionId === undefined || requestId === undefined) return;
    const runtime = this.deps.runtimes.peek(sessionId);
    if (runtime?.transport.runs(requestId)) runtime.transport.dispatchNotification(message);
  }

  /** Stores the level for replicas that rebuild the session. */
  private async rememberLogLevel(sessionId: string, runtime: SessionRuntime, level: LoggingLevel): Promise<void> {
    await this.deps.store.setLogLevel(sessionId, level);
    runtime.appliedLogLevel = level;
  }

  /** A client's answer to a server-to-client request goes to the instance waiting for it. */
  private async routeClientResponse(message: JSONRPCMessage & { id: RequestId }, sessionId: string | undefined): Promise<void> {
    const instance = PendingClientRequests.instanceOf(message.id);
    if (instance === undefined) return;
    if (instance === this.deps.pending.instanceId) {
      if (this.deps.pending.resolve(message, sessionId)) this.deps.observer.delivered('response', 'local', 0);
      return;
    }
    const delivered = await this.deps.streams.sendToInstance(instance, { type: 'client-response', sessionId, message, publishedAt: Date.now() });
    if (!delivered) {
      throw new HttpError(
        409,
        ErrorCode.ServerError,
        'Conflict: the replica that sent this request is gone, and the request it answers with it; retry the call',
      );
    }
  }
}
