import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMcpHandler, type McpServer, SUBSCRIPTION_ID_META_KEY, type McpHttpHandler, type RequestId } from '@modelcontextprotocol/server';
import type { AuthenticatedRequest } from '../../auth/principal.js';
import type { ChangeEventBus } from '../../bus/event-bus.js';
import type { ServerConfig } from '../../config.js';
import { log } from '../../log.js';
import type { ServerObserver } from '../../observability/observer.js';
import { buildMcpServer, type ServerBuildDeps } from '../mcp-server-factory.js';
import { ErrorCode, sendJsonRpcError } from '../jsonrpc.js';
import { asksForTasks, TaskListen } from '../task-listen.js';
import { withErrorStatuses } from './error-answers.js';
import { ServerPool } from './server-pool.js';
import { type AnswerTarget, webRequestOf, writeWebResponse } from './web-exchange.js';

export interface ModernEndpointDeps {
  config: ServerConfig;
  build: ServerBuildDeps;
  bus: ChangeEventBus;
  observer: ServerObserver;
}

/**
 * The response a listen stream is written to, endable from outside: the SDK writes its events
 * here until it learns (through 'close') that the stream has ended, and nothing it writes after
 * that reaches a finished response.
 */
class EndableResponse {
  private ended = false;
  private stall: NodeJS.Timeout | undefined;

  /** `stallMs`: a client that has not taken what was written after this long is dropped (it listens again). */
  constructor(
    private readonly res: ServerResponse,
    private readonly stallMs: number,
  ) {
    res.on('drain', () => this.clearStall());
    res.once('close', () => this.clearStall());
  }

  private clearStall(): void {
    if (this.stall) clearTimeout(this.stall);
    this.stall = undefined;
  }

  get destroyed(): boolean {
    return this.res.destroyed;
  }

  writeHead(status: number, headers?: Record<string, string>): unknown {
    return this.res.writeHead(status, headers);
  }

  write(chunk: string | Uint8Array): unknown {
    if (this.ended) return true;
    const flushed = this.res.write(chunk);
    // While the client does not read, the SDK queues this stream's events in memory.
    if (!flushed && this.stall === undefined) this.stall = setTimeout(() => this.res.destroy(), this.stallMs);
    return flushed;
  }

  /**
   * The server ends the subscription on its own (drain, LISTEN_STREAM_MAX_MS): the spec's graceful
   * closure, a `complete` result to the listen request, then the end of the stream. Frames are
   * written whole, so this one never splits another.
   */
  complete(listenId: RequestId | undefined): void {
    if (this.ended || this.res.destroyed) return;
    if (listenId !== undefined) {
      const result = { jsonrpc: '2.0', id: listenId, result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID_META_KEY]: listenId } } };
      this.res.write(`event: message\ndata: ${JSON.stringify(result)}\n\n`);
    }
    this.end();
  }

  end(chunk?: string | Uint8Array): unknown {
    if (this.ended) return undefined;
    this.ended = true;
    return chunk === undefined ? this.res.end() : this.res.end(chunk);
  }

  on(event: string, listener: (...args: unknown[]) => void): unknown {
    return this.res.on(event, listener);
  }
}

const isListen = (body: unknown): body is { id?: unknown } =>
  typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'subscriptions/listen';

const requestIdOf = (body: { id?: unknown }): RequestId | undefined => (typeof body.id === 'string' || typeof body.id === 'number' ? body.id : undefined);

/** A JSON-RPC request (not a notification, a response or a batch): its handler has settled once its answer is whole. */
const isRequest = (body: unknown): boolean =>
  typeof body === 'object' && body !== null && !Array.isArray(body) && typeof (body as { method?: unknown }).method === 'string' && 'id' in body;

/** Idle server instances kept for later requests (see ServerPool): enough for the requests one replica has in flight. */
const MAX_IDLE_SERVERS = 64;

/**
 * The 2026-07-28 leg: stateless on every replica. Each request is served by a server instance of
 * its own, built by the same factory as legacy sessions and lent from a pool of idle ones (one
 * request at a time); `subscriptions/listen` streams are fed by the fleet's event bus, so an event
 * published on any replica reaches them; multi round-trip requests carry their state sealed with
 * the fleet's keys, so a retry may land anywhere. Nothing here touches the store.
 */
export class ModernEndpoint {
  private readonly handler: McpHttpHandler;
  private readonly pool: ServerPool;
  /** The instance lent to each request in flight, by the web request the SDK hands the factory. */
  private readonly lent = new WeakMap<Request, McpServer>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Open listen streams and the id of the request that opened each. */
  private readonly listenStreams = new Map<EndableResponse, RequestId | undefined>();
  /** Listen requests that name task ids (tasks extension); absent without a task runner. */
  private readonly taskListen: TaskListen | undefined;

  constructor(private readonly deps: ModernEndpointDeps) {
    const { config, build, bus } = deps;
    this.pool = new ServerPool(() => buildMcpServer('modern', undefined, build), MAX_IDLE_SERVERS);
    this.handler = createMcpHandler(
      ({ requestInfo }) => {
        const server = this.pool.acquire();
        if (requestInfo) this.lent.set(requestInfo, server);
        return server;
      },
      {
        // Legacy traffic never reaches this handler: the era router sends it to the session leg.
        legacy: 'reject',
        bus,
        maxSubscriptions: config.maxListenStreams,
        keepAliveMs: config.sseKeepAliveMs,
        maxRequestBodySize: config.maxBodyBytes,
        onerror: (error) => log.debug('modern request refused or failed', { reason: error.message }),
      },
    );
    if (build.tasks)
      this.taskListen = new TaskListen({ bus, store: build.tasks.store, keepAliveMs: config.sseKeepAliveMs, maxStreams: config.maxListenStreams });
  }

  /** Instances waiting in the pool. */
  get idleServers(): number {
    return this.pool.size;
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (isListen(body)) {
      const stream = new EndableResponse(res, this.deps.config.sseStallTimeoutMs);
      const listenId = requestIdOf(body);
      this.listenStreams.set(stream, listenId);
      this.deps.observer.streamOpened('listen');
      const maxMs = this.deps.config.listenStreamMaxMs;
      const maxAge = maxMs > 0 ? setTimeout(() => stream.complete(listenId), maxMs) : undefined;
      res.once('close', () => {
        if (maxAge) clearTimeout(maxAge);
        this.listenStreams.delete(stream);
        this.deps.observer.streamClosed('listen');
      });
      if (this.taskListen && asksForTasks(body)) return this.taskListen.serve(req, stream, body, (sink) => this.serve(req, res, sink, body));
      return this.serve(req, res, stream, body);
    }
    const work = this.serve(req, res, res, body);
    this.inFlight.add(work);
    try {
      await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  /** One exchange through the SDK's handler: a web request in, its response written to `target`. */
  private async serve(req: IncomingMessage, res: ServerResponse, target: AnswerTarget, body: unknown): Promise<void> {
    let finished = false;
    const abort = new AbortController();
    res.once('close', () => {
      if (!finished) abort.abort();
    });
    if (res.destroyed) abort.abort();
    const request = webRequestOf(req, abort.signal);
    let response: Response;
    try {
      const authInfo = (req as AuthenticatedRequest).auth;
      response = await withErrorStatuses(await this.handler.fetch(request, { parsedBody: body, ...(authInfo !== undefined ? { authInfo } : {}) }));
    } catch (error) {
      this.returnServer(request, false);
      log.debug('modern request failed', { reason: error instanceof Error ? error.message : String(error) });
      sendJsonRpcError(
        res,
        500,
        ErrorCode.InternalError,
        'Internal server error',
        {},
        typeof body === 'object' && body !== null ? (requestIdOf(body) ?? null) : null,
      );
      return;
    }
    // A listen stream's instance only told the SDK its capabilities: it is free before the stream starts.
    if (target !== res) this.returnServer(request, true);
    let whole = false;
    try {
      whole = await writeWebResponse(target, response, abort.signal);
    } finally {
      finished = true;
      this.returnServer(request, whole && response.status < 500 && isRequest(body));
    }
  }

  private returnServer(request: Request, settled: boolean): void {
    const server = this.lent.get(request);
    if (!server) return;
    this.lent.delete(request);
    this.pool.release(server, { settled });
  }

  /**
   * SIGTERM: listen streams end at once, gracefully (the client listens again, through the load
   * balancer, on another replica); requests in flight may finish until the deadline, then are aborted.
   */
  async drain(timeoutMs: number): Promise<void> {
    for (const [stream, listenId] of [...this.listenStreams]) stream.complete(listenId);
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);
    await this.handler.close();
    this.pool.clear();
    this.taskListen?.close();
  }
}
