import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { SessionRecord, SessionStore } from '../../sessions/session-store.js';
import { newListenerId } from '../../streams/listener-state.js';
import { STANDALONE_STREAM, type StreamEvent, type StreamListener, type StreamManager } from '../../streams/stream-manager.js';

/**
 * The log every notifications/resources/updated for legacy sessions goes to, once per change: a
 * stream of a pseudo-session (no session id of ours has this form) that each replica listens to
 * while it holds standalone GET streams, and resumes read from.
 */
export const RESOURCE_UPDATES_LOG = 'resource-updates';

export const resourceUpdatedNotification = (uri: string): JSONRPCMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/resources/updated',
  params: { uri },
});

const uriOf = (event: StreamEvent): string | undefined => {
  if (event.type !== 'message' || !('params' in event.message)) return undefined;
  const uri = (event.message.params as { uri?: unknown } | undefined)?.uri;
  return typeof uri === 'string' ? uri : undefined;
};

/** Where a tap's events go: `write` for those its session must see, `pass` for entries it skipped. */
export interface ResourceTapSink {
  write(event: StreamEvent): void;
  pass(entryId: string): void;
}

/**
 * One standalone GET stream's view of the resource-update log: the replayed updates of URIs its
 * session subscribes to (and a gap notice when the log no longer holds them all), then live ones.
 */
export interface ResourceTap {
  /** Position in the log once `backlog` is written. */
  readonly cursor: string;
  readonly backlog: StreamEvent[];
  start(): void;
  close(): Promise<void>;
}

interface Delivery {
  sessionId: string;
  sink: ResourceTapSink;
  event: StreamEvent;
  isClosed: () => boolean;
}

/** Live entries of one log position, for every tap of this replica that received it. */
interface Batch {
  entryId: string | undefined;
  uri: string | undefined;
  deliveries: Delivery[];
}

/**
 * This replica's fan-out of resource updates to its standalone GET streams. Each update reaches the
 * replica once (one log entry, one store message per replica that listens); the replica asks the
 * store once which of the sessions whose streams it holds subscribe to its URI (a read bounded by
 * its own streams, not by the fleet's subscribers) and writes it to their streams.
 * Batches are handled in arrival order, so each stream sees the log's order.
 */
export class ResourceFanout {
  private readonly queue: Batch[] = [];
  private draining = false;

  constructor(
    private readonly streams: StreamManager,
    private readonly store: Pick<SessionStore, 'subscribedAmong'>,
  ) {}

  /** Opens the tap of `record`'s standalone stream, resuming after `after` (undefined: live only). */
  async open(record: SessionRecord, after: string | undefined, sink: ResourceTapSink): Promise<ResourceTap> {
    let closed = false;
    const listener: StreamListener = await this.streams.listen(
      RESOURCE_UPDATES_LOG,
      STANDALONE_STREAM,
      { after, listenerId: newListenerId(), exclusive: false },
      (event) => this.enqueue({ sessionId: record.id, sink, event, isClosed: () => closed }),
    );
    const subscribed = new Set(record.subscriptions);
    const backlog = listener.backlog.filter((event) => event.type === 'gap' || subscribed.has(uriOf(event) ?? ''));
    return {
      cursor: listener.cursor,
      backlog,
      start: () => listener.start(),
      close: async () => {
        closed = true;
        await listener.close();
      },
    };
  }

  private enqueue(delivery: Delivery): void {
    const { event } = delivery;
    const entryId = event.type === 'message' ? event.entryId : undefined;
    const last = this.queue.at(-1);
    if (entryId !== undefined && last?.entryId === entryId) last.deliveries.push(delivery);
    else this.queue.push({ entryId, uri: uriOf(event), deliveries: [delivery] });
    // Every local stream hears an entry in the same turn of the event loop: draining on the next
    // turn gathers them into one batch, and one read of the subscribers.
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    try {
      for (let batch = this.queue.shift(); batch; batch = this.queue.shift()) await this.deliver(batch);
    } finally {
      this.draining = false;
    }
  }

  private async deliver({ entryId, uri, deliveries }: Batch): Promise<void> {
    const open = deliveries.filter((d) => !d.isClosed());
    if (open.length === 0) return;
    if (entryId === undefined || uri === undefined) {
      for (const d of open) d.sink.write(d.event);
      return;
    }
    let subscribers: Set<string>;
    try {
      subscribers = new Set(await this.store.subscribedAmong(uri, [...new Set(open.map((d) => d.sessionId))]));
    } catch {
      // The store cannot say who subscribes: the streams end, their clients resume from the log.
      for (const d of open) d.sink.write({ type: 'interrupted' });
      return;
    }
    for (const d of open) {
      if (d.isClosed()) continue;
      if (subscribers.has(d.sessionId)) d.sink.write(d.event);
      else d.sink.pass(entryId);
    }
  }
}
