import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/server';
import type { FleetConfig } from '../../config.js';
import type { InFlightRegistry } from '../../inflight/inflight-registry.js';
import type { FleetObserver } from '../../observability/observer.js';
import type { SessionRecord } from '../../sessions/session-store.js';
import { formatEventId, parseEventId } from '../../streams/event-id.js';
import { newListenerId } from '../../streams/listener-state.js';
import { STANDALONE_STREAM, type StreamEvent, type StreamManager } from '../../streams/stream-manager.js';
import { ErrorCode } from '../jsonrpc.js';
import { HttpError, sessionHeaders } from './http-error.js';
import { OrphanWatch } from './orphan-watch.js';
import { PRIMING_PROTOCOL_VERSION } from './response-sink.js';
import { SseWriter } from './sse.js';

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

export interface GetStreamDeps {
  config: FleetConfig;
  streams: StreamManager;
  inflight: InFlightRegistry;
  observer: FleetObserver;
}

/**
 * The GET streams this replica holds: a session's standalone stream, or the resume of a POST
 * stream (Last-Event-ID) wherever its requests run, watched for the death of their owner.
 */
export class GetStreams {
  private readonly open = new Set<() => void>();
  private readonly orphans: OrphanWatch;

  constructor(private readonly deps: GetStreamDeps) {
    this.orphans = new OrphanWatch({ inflight: deps.inflight, streams: deps.streams, onOrphaned: (count) => deps.observer.requestsOrphaned(count) });
  }

  /** Holds the stream a GET asks for (its Last-Event-ID names a stream and a position) until it ends. */
  async serve(req: IncomingMessage, res: ServerResponse, record: SessionRecord, protocolVersion: string): Promise<void> {
    const lastEventId = req.headers['last-event-id'];
    let streamKey = STANDALONE_STREAM;
    let after: string | undefined;
    if (typeof lastEventId === 'string' && lastEventId !== '') {
      const parsed = parseEventId(lastEventId);
      if (!parsed) throw new HttpError(400, ErrorCode.ServerError, 'Bad Request: Last-Event-ID is not an event id of this server');
      streamKey = parsed.streamKey;
      after = parsed.entryId;
    }
    await this.hold(res, record, streamKey, after, protocolVersion);
  }

  /** Drain: every stream ends with a retry hint; the client reconnects elsewhere. */
  closeAll(): void {
    for (const close of [...this.open]) close();
  }

  private async hold(res: ServerResponse, record: SessionRecord, streamKey: string, after: string | undefined, protocolVersion: string): Promise<void> {
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
    // The client may leave while the listener subscribes (a slow store): then nothing may outlive it.
    let clientGone = false;
    const markGone = () => (clientGone = true);
    res.once('close', markGone);
    const listener = await streams.listen(record.id, streamKey, { after, listenerId: newListenerId(), exclusive: true }, write);
    res.off('close', markGone);
    if (clientGone || res.destroyed) {
      await listener.close();
      return;
    }
    writer = SseWriter.open(res, sessionHeaders(record.id), config.sseKeepAliveMs, config.sseMaxUnsentBytes);
    observer.streamOpened('get');
    const drainHook = () => finish(true);
    this.open.add(drainHook);
    let maxAge: NodeJS.Timeout | undefined;
    if (config.getStreamMaxMs > 0) maxAge = setTimeout(() => finish(true), config.getStreamMaxMs);
    // A POST stream still running: its owner may die, and then this resume must end with an error.
    const complete = streamKey === STANDALONE_STREAM || listener.backlog.some((e) => e.type === 'end');
    const unwatch = complete ? undefined : this.orphans.watch(record.id, streamKey);
    res.once('close', () => {
      closed = true;
      unwatch?.();
      if (maxAge) clearTimeout(maxAge);
      this.open.delete(drainHook);
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
}
