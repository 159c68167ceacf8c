import type { SessionStore } from '../../sessions/session-store.js';
import { STANDALONE_STREAM, type StreamManager } from '../../streams/stream-manager.js';

/** notifications/resources/updated for every subscriber of a URI, on whichever replica holds its stream. */
export class FleetResourceEvents {
  constructor(
    private readonly store: SessionStore,
    private readonly streams: StreamManager,
  ) {}

  async notifyUpdated(uri: string): Promise<number> {
    const subscribers = await this.store.subscribers(uri);
    const notification = { jsonrpc: '2.0' as const, method: 'notifications/resources/updated', params: { uri } };
    const delivered = await Promise.all(subscribers.map((id) => this.streams.publish(id, STANDALONE_STREAM, notification, { requireSession: true })));
    const gone = subscribers.filter((_, i) => delivered[i] === undefined);
    if (gone.length > 0) await this.store.forgetSubscribers(uri, gone);
    return subscribers.length - gone.length;
  }
}
