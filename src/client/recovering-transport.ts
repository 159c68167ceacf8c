import { isInitializeRequest, isJSONRPCRequest, SdkHttpError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type {
  JSONRPCMessage,
  JSONRPCRequest,
  MessageExtraInfo,
  StreamableHTTPClientTransportOptions,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/client';
import { isModernRevision } from './era.js';
import { ReissuingRequests, type Reissue } from './reissuing-requests.js';

export interface SessionChange {
  previousSessionId: string | undefined;
  sessionId: string | undefined;
  /** Why the session was replaced: the server answered 404 to a request (POST) or to the GET stream. */
  cause: 'post-404' | 'get-404';
}

export interface RecoveringTransportOptions extends StreamableHTTPClientTransportOptions {
  /** Called after each recovery, once the new session is initialized. */
  onSessionChange?: (change: SessionChange) => void;
  /** How long the re-initialization may take (default 30 s). */
  recoveryTimeoutMs?: number;
  /** Called each time the server accepts a GET stream of the current session (first open, reconnections, after a recovery). */
  onStreamOpen?: (sessionId: string | undefined) => void;
  /** 2026-07-28: called each time a request whose response stream broke is re-issued. */
  onReissue?: (reissue: Reissue) => void;
}

const isNotFound = (error: unknown): boolean => error instanceof SdkHttpError && error.status === 404;

/**
 * A Streamable HTTP client transport that survives what a horizontally scaled server does to its
 * clients, in either era (the Client's `versionNegotiation` picks it; the transport follows the
 * protocol version the Client sets).
 *
 * 2025 era (sessions): when the server answers 404 to a request carrying a session id (the session
 * expired, was deleted, or its store was flushed), it initializes a new session with the same
 * client info and capabilities, re-opens the GET stream, and re-sends the failed request once, so
 * the caller gets its result and never sees the 404. Concurrent requests that all meet the 404
 * share one re-initialization. A request that meets a 404 again right after its recovery fails
 * with that error: there is no loop. A request is re-sent at most once, whatever it is, so a
 * non-idempotent tool call may run twice if the server executed it before losing the session; in
 * practice a 404 means the server never looked at the request.
 *
 * 2026-07-28 (stateless): a request whose response stream breaks before the response (the replica
 * died or drained, the connection was reset) is re-issued once as a new request, usually to another
 * replica; see {@link ReissuingRequests}. `subscriptions/listen` is left to the Client: its stream
 * is re-opened by {@link DurableSubscription}.
 */
export class RecoveringTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;
  /** Sessions replaced so far (2025 era). */
  recoveries = 0;
  /** One HTTP request per JSON-RPC request: on 2026-07-28 the Client cancels by aborting it. */
  readonly hasPerRequestStream = true;

  private inner: StreamableHTTPClientTransport;
  private generation = 0;
  private initializeRequest: JSONRPCRequest | undefined;
  private protocolVersion: string | undefined;
  private recovery: Promise<void> | undefined;
  private recoverySeq = 0;
  private closed = false;
  /** The session whose GET stream the server accepted last, and who waits for the current one's. */
  private streamSession: string | undefined;
  private streamWaiters: Array<() => void> = [];
  private readonly modern: ReissuingRequests;

  constructor(
    private readonly url: URL,
    private readonly options: RecoveringTransportOptions = {},
  ) {
    this.protocolVersion = options.protocolVersion;
    this.inner = this.createInner(options.sessionId);
    this.modern = new ReissuingRequests({
      send: (message, sendOptions) => this.inner.send(message, sendOptions),
      deliver: (message) => this.onmessage?.(message),
      isClosed: () => this.closed,
      onReissue: options.onReissue,
    });
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  /** Requests re-issued so far because their response stream broke (2026-07-28). */
  get reissues(): number {
    return this.modern.reissues;
  }

  /** The era of the protocol version the Client negotiated; undefined before it did. */
  get era(): 'legacy' | 'modern' | undefined {
    if (this.protocolVersion === undefined) return undefined;
    return isModernRevision(this.protocolVersion) ? 'modern' : 'legacy';
  }

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
    this.inner.setProtocolVersion(version);
  }

  /**
   * 2025 era: resolves once the server has accepted a GET stream of the current session. A server delivers
   * notifications on that stream only from the moment it opened (a stream without Last-Event-ID
   * starts live), so an application that triggers notifications right after connecting or after a
   * recovery waits for this first. Never resolves against a server that offers no GET stream (405).
   */
  whenStreamOpen(): Promise<void> {
    if (this.streamSession !== undefined && this.streamSession === this.sessionId) return Promise.resolve();
    return new Promise((resolve) => this.streamWaiters.push(resolve));
  }

  async start(): Promise<void> {
    await this.inner.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.era !== 'modern') return this.sendInSession(message, options);
    if (isJSONRPCRequest(message) && message.method !== 'subscriptions/listen') return this.modern.send(message, options);
    return this.inner.send(message, options);
  }

  /** The 2025 era (and the 2026 probe, which carries no session): a 404 means the session is lost. */
  private async sendInSession(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (isInitializeRequest(message)) this.initializeRequest = message as JSONRPCRequest;
    const generation = this.generation;
    try {
      await this.inner.send(message, options);
    } catch (error) {
      // A send still in flight on a session that another request's recovery replaced is aborted
      // when the old transport closes: that session is gone, so it is re-sent like a 404.
      const replaced = generation !== this.generation;
      if ((!isNotFound(error) && !replaced) || this.initializeRequest === undefined || isInitializeRequest(message) || this.closed) throw error;
      await this.recover(generation, 'post-404');
      await this.inner.send(message, options);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.modern.clear();
    await this.inner.close();
  }

  /** Ends the session on the server (DELETE), as the SDK transport does. */
  async terminateSession(): Promise<void> {
    await this.inner.terminateSession();
  }

  private createInner(sessionId?: string): StreamableHTTPClientTransport {
    const { onSessionChange: _change, recoveryTimeoutMs: _timeout, onStreamOpen: _open, onReissue: _reissue, ...sdkOptions } = this.options;
    const baseFetch = sdkOptions.fetch ?? fetch;
    let inner: StreamableHTTPClientTransport;
    // Watches the GET stream: a 404 there (on opening or on reconnecting) also means a lost session.
    const watchingFetch: typeof fetch = async (input, init) => {
      const response = await baseFetch(input as string | URL, init);
      if ((init?.method ?? 'GET') !== 'GET' || inner !== this.inner || this.closed) return response;
      if (response.ok) this.streamOpened(inner.sessionId);
      if (response.status === 404) {
        const generation = this.generation;
        void this.recover(generation, 'get-404').catch((error: unknown) => this.onerror?.(error as Error));
      }
      return response;
    };
    inner = new StreamableHTTPClientTransport(this.url, { ...sdkOptions, sessionId, fetch: watchingFetch });
    inner.onmessage = (message: JSONRPCMessage) => {
      if (inner === this.inner) this.onmessage?.(this.modern.answer(message));
    };
    inner.onerror = (error) => {
      if (inner === this.inner && !isNotFound(error)) this.onerror?.(error);
    };
    inner.onclose = () => {
      if (inner === this.inner) this.onclose?.();
    };
    if (this.protocolVersion !== undefined) inner.setProtocolVersion(this.protocolVersion);
    return inner;
  }

  private streamOpened(sessionId: string | undefined): void {
    this.streamSession = sessionId;
    for (const resolve of this.streamWaiters.splice(0)) resolve();
    this.options.onStreamOpen?.(sessionId);
  }

  /** One re-initialization for everyone who saw the session of `generation` fail. */
  private recover(generation: number, cause: SessionChange['cause']): Promise<void> {
    if (this.generation !== generation) return Promise.resolve();
    this.recovery ??= this.reinitialize(cause).finally(() => {
      this.recovery = undefined;
    });
    return this.recovery;
  }

  private async reinitialize(cause: SessionChange['cause']): Promise<void> {
    const initialize = this.initializeRequest!;
    const previous = this.inner;
    const next = this.createInner(undefined);
    const handshakeId = `mcp-fleet-recovery-${++this.recoverySeq}`;
    const answered = new Promise<JSONRPCMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('re-initializing the session timed out')), this.options.recoveryTimeoutMs ?? 30_000);
      next.onmessage = (message: JSONRPCMessage) => {
        if ('id' in message && message.id === handshakeId) {
          clearTimeout(timer);
          resolve(message);
        } else if (next === this.inner) {
          this.onmessage?.(message);
        }
      };
    });
    await next.start();
    await next.send({ ...initialize, id: handshakeId });
    const response = await answered;
    if ('error' in response) throw new Error(`re-initializing the session failed: ${JSON.stringify(response.error)}`);
    const negotiated = (response as { result?: { protocolVersion?: string } }).result?.protocolVersion;
    if (negotiated) {
      this.protocolVersion = negotiated;
      next.setProtocolVersion(negotiated);
    }
    next.onmessage = (message: JSONRPCMessage) => {
      if (next === this.inner) this.onmessage?.(message);
    };
    this.inner = next;
    this.generation += 1;
    // Sending notifications/initialized makes the SDK transport open the GET stream of the new session.
    await next.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    previous.onclose = undefined;
    await previous.close();
    this.recoveries += 1;
    this.options.onSessionChange?.({ previousSessionId: previous.sessionId, sessionId: next.sessionId, cause });
  }
}
