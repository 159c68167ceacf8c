import type { ServerResponse } from 'node:http';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/server';
import type { ServerObserver } from '../../observability/observer.js';
import { formatEventId, newPostStreamKey } from '../../streams/event-id.js';
import type { StreamManager } from '../../streams/stream-manager.js';
import { ErrorCode, isAnswer, sendJsonRpcError } from '../jsonrpc.js';
import { toolStoreFailure } from '../tool-store-failures.js';
import type { AnswerWriter, RequestLife } from './request-life.js';
import { SseWriter } from './sse.js';

/** The first protocol revision whose clients accept an SSE event with empty data (SEP-1699). */
export const PRIMING_PROTOCOL_VERSION = '2025-11-25';

export interface SinkOptions {
  res: ServerResponse;
  /** Owns the requests this answer is for: which are still unanswered. */
  life: RequestLife;
  /** Present for sessions: SSE events are then logged so a client can resume the stream anywhere. */
  session: { id: string; streams: StreamManager } | undefined;
  protocolVersion: string;
  headers: Record<string, string>;
  retryMs: number;
  keepAliveMs: number;
  /** See SseWriter: past this many unsent bytes the stream is dropped and the client resumes. */
  maxUnsentBytes?: number;
  observer: ServerObserver;
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
export class ResponseSink implements AnswerWriter {
  private mode: 'pending' | 'json' | 'sse' = 'pending';
  private writer: SseWriter | undefined;
  private streamKeyValue: string | undefined;
  private detached = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly doneCallbacks: Array<() => void> = [];
  private finished = false;

  constructor(private readonly options: SinkOptions) {
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

  /**
   * No request is left (the last was answered, cancelled or abandoned): the answer ends, after
   * whatever was handed over before. A POST whose requests were all cancelled gets an empty stream.
   */
  settle(): void {
    this.queue = this.queue.then(() => {
      if (this.finished) return;
      if (this.mode === 'pending') this.openSse();
      this.finish();
      this.closeLog();
    });
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
    const { life } = this.options;
    // An answer to a request that has left its life (cancelled, abandoned, answered) is not sent.
    if (this.finished || (isAnswer(message) && !life.isUnanswered(message.id))) return;
    const completes = isAnswer(message) && life.isLast(message.id);
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
        this.finish();
        life.answered(message.id);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', ...this.options.headers });
      res.end(JSON.stringify(message));
      this.options.observer.delivered(kindOf(message), 'local', 0);
      this.finish();
      life.answered(message.id);
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
    if (isAnswer(message)) life.answered(message.id);
  }

  private openSse(): void {
    this.mode = 'sse';
    if (this.detached) return;
    if (this.options.session) this.options.life.streaming(this.streamKey);
    this.writer = SseWriter.open(this.options.res, this.options.headers, this.options.keepAliveMs, this.options.maxUnsentBytes);
    this.options.observer.streamOpened('post');
    this.options.res.once('close', () => this.options.observer.streamClosed('post'));
    if (this.resumable) {
      this.writer.priming(formatEventId(this.streamKey, '0-0'), this.options.retryMs);
    }
  }

  /** Marks the stream complete for resumes (after the answer, so it adds nothing to its latency). */
  private closeLog(): void {
    const { session } = this.options;
    if (!session || this.mode !== 'sse') return;
    session.streams.end(session.id, this.streamKey).catch(() => {});
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
