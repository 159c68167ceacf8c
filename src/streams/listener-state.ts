import { randomBytes } from 'node:crypto';
import { compareEntryIds, type StreamEvent, type StreamListener } from './stream-manager.js';

/**
 * Ids of exclusive listeners order by creation (a fixed-width time, then random): when two open at
 * once on two replicas, each hears the other's takeover notice and only the older yields, so
 * exactly one survives whichever notice arrives first.
 */
export function newListenerId(now = Date.now()): string {
  return `${now.toString(36).padStart(9, '0')}.${randomBytes(9).toString('base64url')}`;
}

/**
 * The part every StreamManager shares: a listener that buffers live events until started, drops
 * entries at or before its cursor (so replay and live delivery never overlap), and ends itself on
 * takeover, termination or interruption.
 */
export class ListenerState implements StreamListener {
  backlog: StreamEvent[] = [];
  cursor = '0-0';
  private positioned = false;
  private started = false;
  private closed = false;
  /** Live events that arrived before the backlog was read: filtered against the cursor once it is known. */
  private readonly early: StreamEvent[] = [];
  private readonly pending: StreamEvent[] = [];

  constructor(
    readonly sessionId: string,
    readonly streamKey: string,
    readonly listenerId: string,
    readonly exclusive: boolean,
    private readonly onEvent: (event: StreamEvent) => void,
    private readonly onClose: (listener: ListenerState) => Promise<void>,
  ) {}

  /** Sets the replayed entries; the cursor moves to the last of them. */
  setBacklog(cursor: string, backlog: StreamEvent[]): void {
    this.cursor = cursor;
    this.backlog = backlog;
    for (const event of backlog) if ('entryId' in event) this.cursor = event.entryId;
    this.positioned = true;
    for (const event of this.early.splice(0)) this.accept(event);
  }

  accept(event: StreamEvent): void {
    if (this.closed) return;
    if (!this.positioned) {
      this.early.push(event);
      return;
    }
    if ('entryId' in event) {
      if (compareEntryIds(event.entryId, this.cursor) <= 0) return;
      this.cursor = event.entryId;
    }
    // A takeover notice without a listener id (closeStandaloneSSEStream) closes every exclusive listener.
    if (event.type === 'takeover' && (!this.exclusive || (event.listener !== '' && event.listener <= this.listenerId))) return;
    if (!this.started) {
      this.pending.push(event);
      return;
    }
    this.onEvent(event);
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    for (const event of this.pending.splice(0)) this.onEvent(event);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pending.length = 0;
    this.early.length = 0;
    await this.onClose(this);
  }
}
