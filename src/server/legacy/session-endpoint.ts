import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/core';
import { isInitializeRequest, isJSONRPCRequest, type InitializeRequest, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/server';
import { requestPrincipal, samePrincipal } from '../../auth/principal.js';
import { StoreInputError, StoreUnavailableError } from '../../backends/store-errors.js';
import type { ServerConfig } from '../../config.js';
import type { InFlightRegistry } from '../../inflight/inflight-registry.js';
import type { RateLimiter } from '../../limits/rate-limiter.js';
import type { SessionQuota } from '../../limits/session-quota.js';
import { log } from '../../log.js';
import type { ServerObserver } from '../../observability/observer.js';
import { isWellFormedSessionId, type SessionRecord, type SessionStore } from '../../sessions/session-store.js';
import type { StreamManager } from '../../streams/stream-manager.js';
import { acceptsEventStream, acceptsPost, checkProtocolVersion, hasJsonBody, protocolVersionOf } from '../http-guards.js';
import { NOT_JSON } from '../json-body.js';
import { ErrorCode, sendJsonRpcError } from '../jsonrpc.js';
import { setMethodLabel } from '../request-labels.js';
import { admitNewSession } from './admission.js';
import { MessageDispatch } from './dispatch.js';
import { GetStreams } from './get-streams.js';
import { fail, HttpError, sessionHeaders, sessionIdOf } from './http-error.js';
import type { PendingClientRequests } from './pending-client-requests.js';
import type { RequestLife, RequestLives } from './request-life.js';
import type { RuntimeCache } from './runtime-cache.js';
import type { RuntimeDeps } from './session-runtime.js';
import { Sessionless } from './sessionless.js';

/** Revisions from 2025-06-18 on removed JSON-RPC batching. */
const FIRST_REVISION_WITHOUT_BATCHES = '2025-06-18';
const MAX_BATCH = 100;
const DRAIN_DEADLINE_MESSAGE = 'Server shutting down: the request did not finish before this replica stopped (DRAIN_TIMEOUT_MS)';

export interface EndpointDeps {
  config: ServerConfig;
  store: SessionStore;
  streams: StreamManager;
  inflight: InFlightRegistry;
  runtimes: RuntimeCache;
  runtimeDeps: RuntimeDeps;
  pending: PendingClientRequests;
  lives: RequestLives;
  observer: ServerObserver;
  sessionRate: RateLimiter;
  sessionQuota: SessionQuota;
}

/**
 * The revision a request is answered at: clients may send an older supported revision in the
 * header than the one the session negotiated, and must not lose features (priming events) for it.
 */
function effectiveVersion(req: IncomingMessage, record: SessionRecord): string {
  const header = protocolVersionOf(req);
  return header !== undefined && header > record.protocolVersion ? header : record.protocolVersion;
}

/**
 * The legacy (2025) leg's Streamable HTTP endpoint: its verbs. It keeps no session itself: every
 * request loads its session from the store, so any replica can serve any request. What a POST
 * carries goes through MessageDispatch, GET streams are GetStreams', and the sessionless mode
 * (SESSION_MODE=stateless) is Sessionless'.
 */
export class SessionEndpoint {
  private readonly messages: MessageDispatch;
  private readonly getStreams: GetStreams;
  private readonly sessionless: Sessionless | undefined;

  constructor(private readonly deps: EndpointDeps) {
    this.messages = new MessageDispatch(deps);
    this.getStreams = new GetStreams(deps);
    this.sessionless = deps.config.sessionMode === 'stateless' ? new Sessionless(deps.runtimeDeps, this.messages) : undefined;
  }

  /**
   * Runs a verb handler, turning thrown errors into spec-shaped JSON-RPC error responses. Requests
   * other than GET streams have a life from their first byte, so a drain waits for all of them.
   */
  async handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (req.method === 'GET') return this.serve(req, res, body, undefined);
    const life = this.deps.lives.begin();
    try {
      await this.serve(req, res, body, life);
    } finally {
      life.handlerReturned();
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse, body: unknown, life: RequestLife | undefined): Promise<void> {
    try {
      switch (req.method) {
        case 'POST':
          setMethodLabel(res, 'other');
          await this.post(req, res, body, life!);
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
    const id = sessionIdOf(req);
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

  private async post(req: IncomingMessage, res: ServerResponse, body: unknown, life: RequestLife): Promise<void> {
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
      if (!this.sessionless) await admitNewSession(req, this.deps);
      await this.initialize(req, res, initialize as JSONRPCRequest & InitializeRequest);
      return;
    }
    if (this.sessionless) {
      await this.sessionless.serve(req, res, life, messages, batch);
      return;
    }
    const record = await this.requireSession(req);
    if (batch && record.protocolVersion >= FIRST_REVISION_WITHOUT_BATCHES) {
      throw new HttpError(400, ErrorCode.InvalidRequest, `Invalid Request: JSON-RPC batches are not allowed in protocol ${record.protocolVersion}`);
    }
    const runtime = await this.deps.runtimes.get(record);
    await this.messages.dispatch(req, res, life, runtime, messages, batch, record.id, effectiveVersion(req, record));
  }

  private async initialize(req: IncomingMessage, res: ServerResponse, request: JSONRPCRequest & InitializeRequest): Promise<void> {
    // The record is read back on every request of the session, on every replica.
    const recordBytes = Buffer.byteLength(JSON.stringify([request.params?.capabilities, request.params?.clientInfo]));
    if (recordBytes > this.deps.config.sessionRecordMaxBytes) {
      throw new HttpError(
        400,
        ErrorCode.InvalidParams,
        `Invalid params: capabilities and clientInfo take ${recordBytes} bytes, more than the ${this.deps.config.sessionRecordMaxBytes} a session may keep`,
      );
    }
    if (this.sessionless) {
      await this.sessionless.initialize(res, request);
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
    res.writeHead(200, { 'Content-Type': 'application/json', ...sessionHeaders(sessionId) });
    res.end(JSON.stringify(response));
  }

  private async get(req: IncomingMessage, res: ServerResponse): Promise<void> {
    fail(acceptsEventStream(req));
    if (this.sessionless) {
      sendJsonRpcError(res, 405, ErrorCode.ServerError, 'Method not allowed: the sessionless mode has no standalone stream', { Allow: 'POST' });
      return;
    }
    fail(checkProtocolVersion(req));
    const record = await this.requireSession(req);
    await this.getStreams.serve(req, res, record, effectiveVersion(req, record));
  }

  private async delete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.sessionless) {
      sendJsonRpcError(res, 405, ErrorCode.ServerError, 'Method not allowed: the sessionless mode has no sessions', { Allow: 'POST' });
      return;
    }
    fail(checkProtocolVersion(req));
    const id = sessionIdOf(req);
    if (id === undefined || id === '') throw new HttpError(400, ErrorCode.ServerError, 'Bad Request: Mcp-Session-Id header is required');
    if (requestPrincipal(req) !== undefined) await this.requireSession(req);
    if (!isWellFormedSessionId(id) || !(await this.deps.store.delete(id))) {
      throw new HttpError(404, ErrorCode.SessionNotFound, 'Session not found');
    }
    this.deps.observer.sessionDeleted();
    await this.deps.streams.terminate(id);
    await this.deps.runtimes.drop(id);
    res.writeHead(200, sessionHeaders(id));
    res.end();
  }

  /**
   * SIGTERM: close GET streams with a retry hint, then let every request finish up to the deadline:
   * those whose client is still connected and the detached ones (client gone, or stream closed
   * early), whose results go to the event log for a resume on another replica. Past the deadline
   * each unanswered request ends with an error response, logged the same way: never silently.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.getStreams.closeAll();
    const late = await this.deps.lives.drain(timeoutMs, DRAIN_DEADLINE_MESSAGE);
    if (late > 0) log.warn('drain deadline: ended unanswered requests with an error', { requests: late });
  }
}
