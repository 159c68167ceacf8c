import type { ServerResponse } from 'node:http';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/server';
import type { FleetObserver } from '../../observability/observer.js';
import { formatEventId, newPostStreamKey } from '../../streams/event-id.js';
import type { InFlightRegistry } from '../../inflight/inflight-registry.js';
import type { StreamManager } from '../../streams/stream-manager.js';
import { ErrorCode, isAnswer, sendJsonRpcError } from '../jsonrpc.js';
import { toolStoreFailure } from '../tool-store-failures.js';
import { SseWriter } from './sse.js';

/** The first protocol revision whose clients accept an SSE event with empty data (SEP-1699). */
export const PRIMING_PROTOCOL_VERSION = '2025-11-25';

export interface SinkOptions {
  res: ServerResponse;
  requestIds: RequestId[];
  /** Present for sessions: SSE events are then logged so a client can resume the stream anywhere. */
  session: { id: string; streams: StreamManager; inflight: InFlightRegistry } | undefined;
  protocolVersion: string;
  headers: Record<string, string>;
  retryMs: number;
  keepAliveMs: number;
  /** See SseWriter: past this many unsent bytes the stream is dropped and the client resumes. */
  maxUnsentBytes?: number;
  observer: FleetObserver;
  /** Batches always answer as SSE. */
  forceSse: boolean;
}

/**
 * The HTTP answer to one POST carrying requests. It decides lazily: when the first message out is
 * the only response, it is sent as plain JSON (no event log, no extra store write); anything else
 * (a notification first, a server-to-client request, a batch, closeSSEStream) turns it into an SSE
 * stream whose events are logged for resumption. After the client disconnects or the server closes
 * the stream early, messages are still logged, for a resume through GET with Last-Event-ID.
 */
export class ResponseSink {
  private mode: 'pending' | 'json' | 'sse' = 'pending';
  private writer: SseWriter | undefined;
  private streamKeyValue: string | undefined;
  private readonly awaiting: Set<RequestId>;
  private detached = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly doneCallbacks: Array<() => void> = [];
  private finished = false;
  private recorded = false;

  constructor(private readonly options: SinkOptions) {
    this.awaiting = new Set(options.requestIds);
    options.res.once('close', () => {
      if (!this.finished) this.detached = true;
    });
  }

  /** Drawn only when the answer becomes a stream: most are one JSON body and need none. */
  private get streamKey(): string {
    return (this.streamKeyValue ??= newPostStreamKey());
  }

  /** Whether the client can resume this stream after the server closes it: it gets a priming event id. */
  get resumable(): boolean {
    return this.options.session !== undefined && this.options.protocolVersion >= PRIMING_PROTOCOL_VERSION;
  }

  get done(): boolean {
    return this.finished;
  }

  onDone(callback: () => void): void {
    if (this.finished) callback();
    else this.doneCallbacks.push(callback);
  }

  /** Writes messages in the order they were handed over, even though logging them is asynchronous. */
  write(message: JSONRPCMessage): Promise<void> {
    const next = this.queue.then(() => this.writeNow(message));
    this.queue = next.catch(() => {});
    return next;
  }

  /** The client cancelled a request: no response will come for it (the spec says none is sent). */
  cancel(id: RequestId): void {
    this.queue = this.queue.then(() => {
      if (this.finished || !this.awaiting.delete(id) || this.awaiting.size > 0) return;
      if (this.mode === 'pending') this.openSse();
      this.finish();
      this.closeLog();
    });
  }

  /** Ends every request still unanswered with an error response, logged like any other (drain deadline). */
  async abandon(message: string): Promise<void> {
    for (const id of [...this.awaiting]) await this.write({ jsonrpc: '2.0', id, error: { code: -32603, message } });
  }

  /** SEP-1699 polling: end the HTTP response now; the client resumes with GET and Last-Event-ID. */
  closeStream(): void {
    if (!this.resumable) return;
    this.queue = this.queue.then(() => {
      if (this.finished || this.detached) return;
      if (this.mode === 'pending') this.openSse();
      this.detached = true;
      this.writer?.end();
    });
  }

  private async writeNow(message: JSONRPCMessage): Promise<void> {
    if (this.finished) return;
    const completes = isAnswer(message) && this.awaiting.has(message.id) && this.awaiting.size === 1;
    if (this.mode === 'pending' && completes && !this.options.forceSse && !this.detached) {
      this.mode = 'json';
      const { res } = this.options;
      const storeFailure = isToolError(message) ? toolStoreFailure() : undefined;
      if (storeFailure) {
        // The tool failed because the store did: the answer any request gets then (the session endpoint's 503).
        sendJsonRpcError(
          res,
          503,
          ErrorCode.ServerError,
          `Service Unavailable: ${storeFailure.message}`,
          { 'Retry-After': '1', ...this.options.headers },
          message.id,
        );
        this.complete(message);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', ...this.options.headers });
      res.end(JSON.stringify(message));
      this.options.observer.delivered(kindOf(message), 'local', 0);
      this.complete(message);
      return;
    }
    if (this.mode === 'pending') this.openSse();
    const { session } = this.options;
    let eventId: string | undefined;
    if (session) {
      const entryId = await session.streams.publish(session.id, this.streamKey, message);
      if (entryId !== undefined) eventId = formatEventId(this.streamKey, entryId);
    }
    if (!this.detached && this.writer?.writable) {
      this.writer.event(message, eventId);
      this.options.observer.delivered(kindOf(message), 'local', 0);
    }
    this.complete(message);
    if (this.finished) this.closeLog();
  }

  private openSse(): void {
    this.mode = 'sse';
    if (this.detached) return;
    // From its first event on the client can resume this stream on any replica: the fleet learns
    // who runs its requests, so a resume elsewhere can end them if this instance dies.
    this.recordInFlight();
    this.writer = SseWriter.open(this.options.res, this.options.headers, this.options.keepAliveMs, this.options.maxUnsentBytes);
    this.options.observer.streamOpened('post');
    this.options.res.once('close', () => this.options.observer.streamClosed('post'));
    if (this.resumable) {
      this.writer.priming(formatEventId(this.streamKey, '0-0'), this.options.retryMs);
    }
  }

  private complete(message: JSONRPCMessage): void {
    if (!isAnswer(message) || !this.awaiting.delete(message.id)) return;
    if (this.awaiting.size > 0) {
      // A batch answered in parts: the record names only what is still unanswered.
      if (this.recorded) this.recordInFlight();
      return;
    }
    this.finish();
  }

  /** Sent without waiting: the record and its release go out in order on one connection. */
  private recordInFlight(): void {
    const { session } = this.options;
    if (!session) return;
    this.recorded = true;
    session.inflight.record(session.id, this.streamKey, [...this.awaiting]).catch(() => {});
  }

  /** Marks the stream complete for resumes (after the answer, so it adds nothing to its latency) and forgets its record. */
  private closeLog(): void {
    const { session } = this.options;
    if (!session || this.mode !== 'sse') return;
    session.streams.end(session.id, this.streamKey).catch(() => {});
    if (this.recorded) session.inflight.release(session.id, this.streamKey).catch(() => {});
  }

  private finish(): void {
    this.finished = true;
    this.writer?.end();
    for (const callback of this.doneCallbacks.splice(0)) callback();
  }
}

function kindOf(message: JSONRPCMessage): 'notification' | 'request' | 'response' {
  if (isAnswer(message)) return 'response';
  return 'id' in message ? 'request' : 'notification';
}

function isToolError(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId } {
  return 'result' in message && (message.result as { isError?: unknown }).isError === true;
}
