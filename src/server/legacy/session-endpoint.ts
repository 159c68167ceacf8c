import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/core';
import { isInitializeRequest, isJSONRPCRequest } from '@modelcontextprotocol/server';
import type { InitializeRequest, JSONRPCMessage, JSONRPCRequest, LoggingLevel, MessageExtraInfo, RequestId } from '@modelcontextprotocol/server';
import { principalKey, requestPrincipal, samePrincipal, type AuthenticatedRequest } from '../../auth/principal.js';
import type { FleetConfig } from '../../config.js';
import type { InFlightRegistry } from '../../inflight/inflight-registry.js';
import type { FleetObserver } from '../../observability/observer.js';
import { StoreInputError, StoreUnavailableError } from '../../backends/store-errors.js';
import { isWellFormedSessionId, type SessionRecord, type SessionStore } from '../../sessions/session-store.js';
import { formatEventId, parseEventId } from '../../streams/event-id.js';
import { newListenerId } from '../../streams/listener-state.js';
import { STANDALONE_STREAM, type StreamEvent, type StreamManager } from '../../streams/stream-manager.js';
import {
  acceptsEventStream,
  acceptsPost,
  checkProtocolVersion,
  hasJsonBody,
  protocolVersionOf,
  type GuardFailure,
} from '../http-guards.js';
import { addressKey, clientAddress } from '../../limits/client-address.js';
import type { RateLimiter } from '../../limits/rate-limiter.js';
import type { SessionQuota } from '../../limits/session-quota.js';
import { NOT_JSON } from '../json-body.js';
import { ErrorCode, isAnswer, sendJsonRpcError } from '../jsonrpc.js';
import { setMethodLabel } from '../request-labels.js';
import { cancelledRequestOf } from './fleet-transport.js';
import { OrphanWatch } from './orphan-watch.js';
import { PendingClientRequests } from './pending-client-requests.js';
import { PRIMING_PROTOCOL_VERSION, ResponseSink } from './response-sink.js';
import type { RuntimeCache } from './runtime-cache.js';
import { SessionRuntime, type RuntimeDeps } from './session-runtime.js';
import { SseWriter } from './sse.js';
import { log } from '../../log.js';

const LOGGING_LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];
const isLoggingLevel = (value: unknown): value is LoggingLevel => LOGGING_LEVELS.includes(value as LoggingLevel);

/** What a resumed stream says first when its log no longer holds everything after the resume position. */
const missedEventsNotice = (after: string, streamKey: string): JSONRPCMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/message',
  params: {
    level: 'warning',
    logger: 'mcp-fleet',
    data: {
      missedEvents: true,
      resumedAfter: formatEventId(streamKey, after),
      reason: 'the event log no longer holds every event after this position (trimmed to EVENT_MAX_PER_STREAM or expired after EVENT_RETENTION_SECONDS)',
    },
  },
});

/** Revisions from 2025-06-18 on removed JSON-RPC batching. */
const FIRST_REVISION_WITHOUT_BATCHES = '2025-06-18';
const MAX_BATCH = 100;

export interface EndpointDeps {
  config: FleetConfig;
  store: SessionStore;
  streams: StreamManager;
  inflight: InFlightRegistry;
  runtimes: RuntimeCache;
  runtimeDeps: RuntimeDeps;
  pending: PendingClientRequests;
  observer: FleetObserver;
  sessionRate: RateLimiter;
  sessionQuota: SessionQuota;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const fail = (failure: GuardFailure | undefined, code: number = ErrorCode.ServerError): void => {
  if (failure) throw new HttpError(failure.status, code, failure.message);
};

const sessionHeader = (req: IncomingMessage): string | undefined => {
  const value = req.headers['mcp-session-id'];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * The revision a request is answered at: clients may send an older supported revision in the
 * header than the one the session negotiated, and must not lose features (priming events) for it.
 */
function effectiveVersion(req: IncomingMessage, record: SessionRecord): string {
  const header = protocolVersionOf(req);
  return header !== undefined && header > record.protocolVersion ? header : record.protocolVersion;
}

/**
 * The Streamable HTTP endpoint. Stateless about sessions itself: every request loads its session
 * from the store, so any replica can serve any request.
 */
export class McpEndpoint {
  private readonly openGetStreams = new Set<() => void>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly orphans: OrphanWatch;

  constructor(private readonly deps: EndpointDeps) {
    this.orphans = new OrphanWatch({ inflight: deps.inflight, streams: deps.streams, onOrphaned: (count) => deps.observer.requestsOrphaned(count) });
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

  /**
   * Runs a verb handler, turning thrown errors into spec-shaped JSON-RPC error responses. Requests
   * other than GET streams are tracked from their first byte, so a drain waits for all of them.
   */
  async handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const work = this.serve(req, res, body);
    if (req.method === 'GET') return work;
    this.inFlight.add(work);
    try {
      await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    try {
      switch (req.method) {
        case 'POST':
          setMethodLabel(res, 'other');
          await this.post(req, res, body);
          return;
        case 'GET':
          setMethodLabel(res, 'GET');
          await this.get(req, res);
          return;
        case 'DELETE':
          setMethodLabel(res, 'DELETE');
          await this.delete(req, res);
          return;
        default:
          sendJsonRpcError(res, 405, ErrorCode.ServerError, 'Method not allowed.', { Allow: 'GET, POST, DELETE' });
      }
    } catch (error) {
      if (error instanceof HttpError) {
        if (error.status === 404) this.deps.observer.sessionNotFound();
        sendJsonRpcError(res, error.status, error.code, error.message, error.headers);
      } else if (error instanceof StoreInputError) {
        sendJsonRpcError(res, 400, ErrorCode.ServerError, `Bad Request: ${error.message}`);
      } else if (error instanceof StoreUnavailableError) {
        sendJsonRpcError(res, 503, ErrorCode.ServerError, `Service Unavailable: ${error.message}`, { 'Retry-After': '1' });
      } else {
        log.error('unexpected error while serving a request', { error: String(error instanceof Error ? error.stack : error) });
        sendJsonRpcError(res, 500, ErrorCode.InternalError, 'Internal error');
      }
    }
  }

  private get stateless(): boolean {
    return this.deps.config.sessionMode === 'stateless';
  }

  private responseHeaders(sessionId: string | undefined): Record<string, string> {
    return sessionId === undefined ? {} : { 'mcp-session-id': sessionId };
  }

  private parseBody(raw: unknown): { messages: JSONRPCMessage[]; batch: boolean } {
    if (raw === NOT_JSON || raw === undefined) throw new HttpError(400, ErrorCode.ParseError, 'Parse error: Invalid JSON');
    const batch = Array.isArray(raw);
    const items = batch ? (raw as unknown[]) : [raw];
    if (items.length === 0) throw new HttpError(400, ErrorCode.InvalidRequest, 'Invalid Request: empty batch');
    if (items.length > MAX_BATCH) throw new HttpError(400, ErrorCode.InvalidRequest, `Invalid Request: a batch may hold at most ${MAX_BATCH} messages`);
    const messages = items.map((item) => {
      const parsed = JSONRPCMessageSchema.safeParse(item);
      if (!parsed.success) throw new HttpError(400, ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message');
      return parsed.data;
    });
    return { messages, batch };
  }

  /** Loads the session named by the request, or answers 400 (no id) / 404 (unknown, expired, deleted). */
  private async requireSession(req: IncomingMessage): Promise<SessionRecord> {
    const id = sessionHeader(req);
    if (id === undefined || id === '') throw new HttpError(400, ErrorCode.ServerError, 'Bad Request: Mcp-Session-Id header is required');
    if (!isWellFormedSessionId(id)) throw new HttpError(404, ErrorCode.SessionNotFound, 'Session not found');
    const record = await this.deps.store.touch(id);
    if (!record) {
      if (this.deps.runtimes.has(id)) {
        this.deps.observer.sessionExpired();
        await this.deps.runtimes.drop(id);
      }
      throw new HttpError(404, ErrorCode.SessionNotFound, 'Session not found');
    }
    // Another principal's session is answered exactly as an unknown one.
    if (!samePrincipal(record.principal, requestPrincipal(req))) throw new HttpError(404, ErrorCode.SessionNotFound, 'Session not found');
    return record;
  }

  private async post(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    fail(acceptsPost(req));
    fail(hasJsonBody(req));
    const { messages, batch } = this.parseBody(body);
    fail(checkProtocolVersion(req));
    const first = messages[0]!;
    setMethodLabel(res, batch ? 'batch' : 'method' in first ? (isJSONRPCRequest(first) ? first.method : 'notification') : 'response');

    if (messages.some((m) => 'method' in m && m.method === 'initialize' && !('id' in m))) {
      throw new HttpError(400, ErrorCode.InvalidRequest, 'Invalid Request: initialize is a request and needs an id');
    }
    const initialize = messages.find((m) => isInitializeRequest(m));
    if (initialize) {
      if (messages.length > 1) throw new HttpError(400, ErrorCode.InvalidRequest, 'Invalid Request: initialize must be sent on its own');
      await this.admitNewSession(req);
      await this.initialize(req, res, initialize as JSONRPCRequest & InitializeRequest);
      return;
    }
    if (this.stateless) {
      await this.serveStateless(req, res, messages, batch);
      return;
    }
    const record = await this.requireSession(req);
    if (batch && record.protocolVersion >= FIRST_REVISION_WITHOUT_BATCHES) {
      throw new HttpError(400, ErrorCode.InvalidRequest, `Invalid Request: JSON-RPC batches are not allowed in protocol ${record.protocolVersion}`);
    }
    const runtime = await this.deps.runtimes.get(record);
    await this.dispatch(req, res, runtime, messages, batch, record.id, effectiveVersion(req, record));
  }

  /** New sessions are limited per client address and second, per principal and in total (429 with Retry-After). */
  private async admitNewSession(req: IncomingMessage): Promise<void> {
    const { config, sessionRate, sessionQuota } = this.deps;
    if (this.stateless) return;
    if (config.newSessionsPerAddressPerSecond > 0 && !(await sessionRate.take(`sessions:${addressKey(clientAddress(req, config.trustedProxyHops))}`))) {
      throw new HttpError(429, ErrorCode.ServerError, `Too Many Requests: at most ${config.newSessionsPerAddressPerSecond} new sessions per second from one address`, { 'Retry-After': '1' });
    }
    const principal = requestPrincipal(req);
    const quotas: Array<[string, number, string]> = [
      ['total', config.maxSessionsTotal, 'the fleet'],
      ...(principal ? ([[`principal:${addressKey(principalKey(principal))}`, config.maxSessionsPerPrincipal, 'one principal']] as Array<[string, number, string]>) : []),
    ];
    for (const [key, limit, who] of quotas) {
      if (limit === 0) continue;
      const verdict = await sessionQuota.admit(key, limit);
      if (!verdict.admitted) {
        throw new HttpError(429, ErrorCode.ServerError, `Too Many Requests: ${who} may open at most ${limit} sessions within SESSION_TTL_SECONDS`, {
          'Retry-After': String(Math.ceil(verdict.retryAfterMs / 1000)),
        });
      }
    }
  }

  private async initialize(req: IncomingMessage, res: ServerResponse, request: JSONRPCRequest & InitializeRequest): Promise<void> {
    // The record is read back on every request of the session, on every replica.
    const recordBytes = Buffer.byteLength(JSON.stringify([request.params?.capabilities, request.params?.clientInfo]));
    if (recordBytes > this.deps.config.sessionRecordMaxBytes) {
      throw new HttpError(400, ErrorCode.InvalidParams, `Invalid params: capabilities and clientInfo take ${recordBytes} bytes, more than the ${this.deps.config.sessionRecordMaxBytes} a session may keep`);
    }
    if (this.stateless) {
      const runtime = await SessionRuntime.create(undefined, this.deps.runtimeDeps);
      const response = await runtime.initialize(request);
      await runtime.close();
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(response));
      return;
    }
    const sessionId = randomUUID();
    const runtime = await this.deps.runtimes.createFresh(sessionId);
    const response = await runtime.initialize(request);
    if ('error' in response) {
      await this.deps.runtimes.drop(sessionId);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(response));
      return;
    }
    const result = (response as unknown as { result: { protocolVersion: string } }).result;
    try {
      await this.deps.store.create({
        id: sessionId,
        protocolVersion: result.protocolVersion,
        clientCapabilities: request.params.capabilities,
        clientInfo: request.params.clientInfo,
        principal: requestPrincipal(req),
      });
    } catch (error) {
      await this.deps.runtimes.drop(sessionId);
      throw error;
    }
    this.deps.observer.sessionCreated();
    res.writeHead(200, { 'Content-Type': 'application/json', ...this.responseHeaders(sessionId) });
    res.end(JSON.stringify(response));
  }

  private async serveStateless(req: IncomingMessage, res: ServerResponse, messages: JSONRPCMessage[], batch: boolean): Promise<void> {
    const runtime = await SessionRuntime.create(undefined, this.deps.runtimeDeps);
    try {
      await this.dispatch(req, res, runtime, messages, batch, undefined, protocolVersionOf(req) ?? PRIMING_PROTOCOL_VERSION);
    } finally {
      await runtime.close();
    }
  }

  /** Hands a POST's messages to the session's server and waits until its answer is complete. */
  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
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
      res.writeHead(202, this.responseHeaders(sessionId));
      res.end();
      return;
    }
    const sink = new ResponseSink({
      res,
      requestIds: requests.map((r) => r.id),
      session: sessionId === undefined ? undefined : { id: sessionId, streams: this.deps.streams, inflight: this.deps.inflight },
      protocolVersion,
      headers: this.responseHeaders(sessionId),
      retryMs: this.deps.config.sseRetryMs,
      keepAliveMs: this.deps.config.sseKeepAliveMs,
      maxUnsentBytes: this.deps.config.sseMaxUnsentBytes,
      observer: this.deps.observer,
      forceSse: batch,
    });
    const finished = new Promise<void>((resolve) => sink.onDone(resolve));
    const abandoned = new Promise<void>((resolve) => res.once('close', resolve));
    for (const request of requests) {
      if (request.method === 'logging/setLevel') {
        const level = (request.params as { level?: unknown } | undefined)?.level;
        if (!isLoggingLevel(level)) {
          await sink.write({ jsonrpc: '2.0', id: request.id, error: { code: ErrorCode.InvalidParams, message: `Invalid params: level must be one of ${LOGGING_LEVELS.join(', ')}` } });
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
        await sink.write({ jsonrpc: '2.0', id: request.id, error: { code: ErrorCode.InvalidRequest, message: `Invalid Request: a request with id ${JSON.stringify(request.id)} is already in progress in this session` } });
        continue;
      }
      runtime.transport.dispatchRequest(request, sink, extra);
    }
    // The HTTP request is over when the answer is complete or the client has gone (the server
    // keeps working and logging for a resume).
    await Promise.race([finished, abandoned]);
  }

  /** Stores the level for replicas that rebuild the session. */
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
      throw new HttpError(409, ErrorCode.ServerError, 'Conflict: the replica that sent this request is gone, and the request it answers with it; retry the call');
    }
  }

  private async get(req: IncomingMessage, res: ServerResponse): Promise<void> {
    fail(acceptsEventStream(req));
    if (this.stateless) {
      sendJsonRpcError(res, 405, ErrorCode.ServerError, 'Method not allowed: stateless mode has no standalone stream', { Allow: 'POST' });
      return;
    }
    fail(checkProtocolVersion(req));
    const record = await this.requireSession(req);
    const lastEventId = req.headers['last-event-id'];
    let streamKey = STANDALONE_STREAM;
    let after: string | undefined;
    if (typeof lastEventId === 'string' && lastEventId !== '') {
      const parsed = parseEventId(lastEventId);
      if (!parsed) throw new HttpError(400, ErrorCode.ServerError, 'Bad Request: Last-Event-ID is not an event id of this server');
      streamKey = parsed.streamKey;
      after = parsed.entryId;
    }
    await this.holdStream(res, record, streamKey, after, effectiveVersion(req, record));
  }

  private async holdStream(res: ServerResponse, record: SessionRecord, streamKey: string, after: string | undefined, protocolVersion: string): Promise<void> {
    const { streams, observer, config } = this.deps;
    const path = streams.deliveryPath;
    let writer: SseWriter | undefined;
    let closed = false;
    const finish = (retry: boolean) => {
      if (closed) return;
      closed = true;
      if (retry) writer?.retry(config.sseRetryMs);
      writer?.end();
    };
    const write = (event: StreamEvent) => {
      switch (event.type) {
        case 'message':
          writer?.event(event.message, formatEventId(streamKey, event.entryId));
          observer.delivered(isJSONRPCRequest(event.message) ? 'request' : 'notification', path, Math.max(0, Date.now() - event.publishedAt) / 1000);
          return;
        case 'end':
        case 'takeover':
        case 'interrupted':
          finish(true);
          return;
        case 'terminated':
          finish(false);
          return;
        case 'gap':
          // Without an event id, so the client's resume position stays where it was.
          writer?.event(missedEventsNotice(event.after, streamKey));
      }
    };
    // The client may leave while the listener subscribes (a slow Redis): then nothing may outlive it.
    let clientGone = false;
    const markGone = () => (clientGone = true);
    res.once('close', markGone);
    const listener = await streams.listen(record.id, streamKey, { after, listenerId: newListenerId(), exclusive: true }, write);
    res.off('close', markGone);
    if (clientGone || res.destroyed) {
      await listener.close();
      return;
    }
    writer = SseWriter.open(res, this.responseHeaders(record.id), config.sseKeepAliveMs, config.sseMaxUnsentBytes);
    observer.streamOpened('get');
    const drainHook = () => finish(true);
    this.openGetStreams.add(drainHook);
    let maxAge: NodeJS.Timeout | undefined;
    if (config.getStreamMaxMs > 0) maxAge = setTimeout(() => finish(true), config.getStreamMaxMs);
    // A POST stream still running: its owner may die, and then this resume must end with an error.
    const complete = streamKey === STANDALONE_STREAM || listener.backlog.some((e) => e.type === 'end');
    const unwatch = complete ? undefined : this.orphans.watch(record.id, streamKey);
    res.once('close', () => {
      closed = true;
      unwatch?.();
      if (maxAge) clearTimeout(maxAge);
      this.openGetStreams.delete(drainHook);
      observer.streamClosed('get');
      void listener.close();
    });
    // Resumed streams get a priming event too, at the resume position: a client that tracks the last
    // id per connection (the SDK's does) would otherwise reconnect without Last-Event-ID when this
    // stream closes before carrying an event, and miss what was published in between.
    if (protocolVersion >= PRIMING_PROTOCOL_VERSION) {
      writer.priming(formatEventId(streamKey, after ?? listener.cursor), config.sseRetryMs);
    }
    if (after !== undefined) observer.replayServed(listener.backlog.filter((e) => e.type === 'message').length);
    for (const event of listener.backlog) write(event);
    listener.start();
  }

  private async delete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.stateless) {
      sendJsonRpcError(res, 405, ErrorCode.ServerError, 'Method not allowed: stateless mode has no sessions', { Allow: 'POST' });
      return;
    }
    fail(checkProtocolVersion(req));
    const id = sessionHeader(req);
    if (id === undefined || id === '') throw new HttpError(400, ErrorCode.ServerError, 'Bad Request: Mcp-Session-Id header is required');
    if (requestPrincipal(req) !== undefined) await this.requireSession(req);
    if (!isWellFormedSessionId(id) || !(await this.deps.store.delete(id))) {
      throw new HttpError(404, ErrorCode.SessionNotFound, 'Session not found');
    }
    this.deps.observer.sessionDeleted();
    await this.deps.streams.terminate(id);
    await this.deps.runtimes.drop(id);
    res.writeHead(200, this.responseHeaders(id));
    res.end();
  }

  /** SIGTERM: close GET streams with a retry hint, then wait (bounded) for in-flight requests. */
  /**
   * SIGTERM: close GET streams with a retry hint, then let every request finish up to the deadline:
   * those whose client is still connected and the detached ones (client gone, or stream closed
   * early), whose results go to the event log for a resume on another replica. Past the deadline
   * each unanswered request ends with an error response, logged the same way: never silently.
   */
  async drain(timeoutMs: number): Promise<void> {
    for (const close of [...this.openGetStreams]) close();
    const sinks = () => this.deps.runtimes.all.flatMap((runtime) => runtime.transport.openSinks);
    const answered = Promise.allSettled([...this.inFlight, ...sinks().map((sink) => new Promise<void>((resolve) => sink.onDone(resolve)))]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), timeoutMs)));
    const outcome = await Promise.race([answered, deadline]);
    clearTimeout(timer);
    if (outcome !== 'deadline') return;
    const late = sinks();
    if (late.length > 0) log.warn('drain deadline: ending unanswered requests with an error', { requests: late.length });
    await Promise.race([
      Promise.allSettled(late.map((sink) => sink.abandon('Server shutting down: the request did not finish before this replica stopped (DRAIN_TIMEOUT_MS)'))),
      new Promise((resolve) => setTimeout(resolve, 2000).unref()),
    ]);
  }
}
