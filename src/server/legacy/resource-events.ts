import type { SessionStore } from '../../sessions/session-store.js';
import { STANDALONE_STREAM, type StreamManager } from '../../streams/stream-manager.js';
import { RESOURCE_UPDATES_LOG, resourceUpdatedNotification } from './resource-fanout.js';

/**
 * notifications/resources/updated for every subscriber of a URI, on whichever replica holds its
 * stream: one entry in the fleet's resource-update log, which each replica holding standalone GET
 * streams hears once and fans out to the streams of the URI's subscribers (ResourceFanout).
 */
export class FleetResourceEvents {
  constructor(
    private readonly store: SessionStore,
    private readonly streams: StreamManager,
  ) {}

  /** Resolves to the number of sessions subscribed to `uri` once the update is in the log. */
  async notifyUpdated(uri: string): Promise<number> {
    const [subscribers] = await Promise.all([
      this.store.subscribers(uri),
      this.streams.publish(RESOURCE_UPDATES_LOG, STANDALONE_STREAM, resourceUpdatedNotification(uri)),
    ]);
    return subscribers.length;
  }
}
