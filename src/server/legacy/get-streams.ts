import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/server';
import type { ServerConfig } from '../../config.js';
import type { InFlightRegistry } from '../../inflight/inflight-registry.js';
import type { ServerObserver } from '../../observability/observer.js';
import type { SessionRecord, SessionStore } from '../../sessions/session-store.js';
import { formatEventId, formatStandaloneEventId, parseEventId } from '../../streams/event-id.js';
import { newListenerId } from '../../streams/listener-state.js';
import { STANDALONE_STREAM, type StreamEvent, type StreamManager } from '../../streams/stream-manager.js';
import { ErrorCode } from '../jsonrpc.js';
import { HttpError, sessionHeaders } from './http-error.js';
import { OrphanWatch } from './orphan-watch.js';
import { PRIMING_PROTOCOL_VERSION } from './response-sink.js';
import { ResourceFanout, type ResourceTap } from './resource-fanout.js';
import { SseWriter } from './sse.js';

/** What a resumed stream says first when its log no longer holds everything after the resume position. */
const missedEventsNotice = (resumedAfter: string): JSONRPCMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/message',
  params: {
    level: 'warning',
    logger: 'mcp-fleet',
    data: {
      missedEvents: true,
      resumedAfter,
      reason: 'the event log no longer holds every event after this position (trimmed to EVENT_MAX_PER_STREAM or expired after EVENT_RETENTION_SECONDS)',
    },
  },
});

export interface GetStreamDeps {
  config: ServerConfig;
  streams: StreamManager;
  store: Pick<SessionStore, 'subscribedAmong'>;
  inflight: InFlightRegistry;
  observer: ServerObserver;
}

/**
 * The GET streams this replica holds: a session's standalone stream, or the resume of a POST
 * stream (Last-Event-ID) wherever its requests run, watched for the death of their owner.
 */
export class GetStreams {
  private readonly open = new Set<() => void>();
  private readonly orphans: OrphanWatch;
  private readonly resourceUpdates: ResourceFanout;

  constructor(private readonly deps: GetStreamDeps) {
    this.resourceUpdates = new ResourceFanout(deps.streams, deps.store);
    this.orphans = new OrphanWatch({ inflight: deps.inflight, streams: deps.streams, onOrphaned: (count) => deps.observer.requestsOrphaned(count) });
  }

  /** Holds the stream a GET asks for (its Last-Event-ID names a stream and a position) until it ends. */
  async serve(req: IncomingMessage, res: ServerResponse, record: SessionRecord, protocolVersion: string): Promise<void> {
    const lastEventId = req.headers['last-event-id'];
    let streamKey = STANDALONE_STREAM;
    let after: string | undefined;
    let updatesAfter: string | undefined;
    if (typeof lastEventId === 'string' && lastEventId !== '') {
      const parsed = parseEventId(lastEventId);
      if (!parsed) throw new HttpError(400, ErrorCode.ServerError, 'Bad Request: Last-Event-ID is not an event id of this server');
      streamKey = parsed.streamKey;
      after = parsed.entryId;
      updatesAfter = parsed.updatesEntryId;
    }
    await this.hold(res, record, streamKey, after, updatesAfter, protocolVersion);
  }

  /** Drain: every stream ends with a retry hint; the client reconnects elsewhere. */
  closeAll(): void {
    for (const close of [...this.open]) close();
  }

  private async hold(
    res: ServerResponse,
    record: SessionRecord,
    streamKey: string,
    after: string | undefined,
    updatesAfter: string | undefined,
    protocolVersion: string,
  ): Promise<void> {
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
    // The standalone stream's events come from the session's log and the resource-update log: each
    // event id carries the position in both, so a resume replays what either holds after it.
    let position = after ?? '0-0';
    let updatesPosition = updatesAfter ?? '0-0';
    let resumedAt = '';
    const eventId = () => (streamKey === STANDALONE_STREAM ? formatStandaloneEventId(position, updatesPosition) : formatEventId(streamKey, position));
    const write = (event: StreamEvent, fromUpdates = false) => {
      if ('entryId' in event) {
        if (fromUpdates) updatesPosition = event.entryId;
        else position = event.entryId;
      }
      switch (event.type) {
        case 'message':
          writer?.event(event.message, eventId());
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
          writer?.event(missedEventsNotice(resumedAt));
      }
    };
    // The client may leave while the listener subscribes (a slow store): then nothing may outlive it.
    let clientGone = false;
    const markGone = () => (clientGone = true);
    res.once('close', markGone);
    const listener = await streams.listen(record.id, streamKey, { after, listenerId: newListenerId(), exclusive: true }, (event) => write(event));
    let updates: ResourceTap | undefined;
    try {
      if (streamKey === STANDALONE_STREAM) {
        updates = await this.resourceUpdates.open(record, updatesAfter, {
          write: (event) => write(event, true),
          pass: (entryId) => (updatesPosition = entryId),
        });
      }
    } catch (error) {
      await listener.close();
      throw error;
    }
    res.off('close', markGone);
    if (clientGone || res.destroyed) {
      await Promise.all([listener.close(), updates?.close()]);
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
      void updates?.close();
    });
    // Resumed streams get a priming event too, at the resume position: a client that tracks the last
    // id per connection (the SDK's does) would otherwise reconnect without Last-Event-ID when this
    // stream closes before carrying an event, and miss what was published in between.
    if (after === undefined) position = listener.cursor;
    // A resume from an id without an update position (written before the log existed) goes live there.
    if (updates && updatesAfter === undefined) updatesPosition = updates.cursor;
    resumedAt = eventId();
    if (protocolVersion >= PRIMING_PROTOCOL_VERSION) writer.priming(resumedAt, config.sseRetryMs);
    const replayed = [...listener.backlog, ...(updates?.backlog ?? [])];
    if (after !== undefined) observer.replayServed(replayed.filter((e) => e.type === 'message').length);
    for (const event of listener.backlog) write(event);
    for (const event of updates?.backlog ?? []) write(event, true);
    if (updates) updatesPosition = updates.cursor;
    listener.start();
    updates?.start();
  }
}
