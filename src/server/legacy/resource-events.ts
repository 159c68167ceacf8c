import type { SessionStore } from '../../sessions/session-store.js';
import { STANDALONE_STREAM, type StreamManager } from '../../streams/stream-manager.js';
import { RESOURCE_UPDATES_LOG, resourceUpdatedNotification } from './resource-fanout.js';

/** Index entries of expired sessions checked per sweep, and how often a URI's index is swept. */
const SWEEP_PAGE = 500;
const SWEEP_EVERY_MS = 30_000;
/** URIs whose last sweep this replica remembers; past it the oldest is forgotten. */
const SWEPT_URIS_KEPT = 10_000;

/**
 * notifications/resources/updated for every subscriber of a URI, on whichever replica holds its
 * stream: one entry in the fleet's resource-update log, which each replica holding standalone GET
 * streams hears once and fans out to the streams of the URI's subscribers (ResourceFanout).
 */
export class ResourceUpdatePublisher {
  /** Per URI: when its index was last swept and where the next page starts. */
  private readonly sweeps = new Map<string, { at: number; offset: number }>();

  constructor(
    private readonly store: SessionStore,
    private readonly streams: StreamManager,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Resolves to the number of sessions subscribed to `uri` once the update is in the log. A URI
   * nobody subscribes to costs no append (on PostgreSQL every append takes the log's one head row).
   */
  async notifyUpdated(uri: string): Promise<number> {
    const subscribers = await this.store.countSubscribers(uri);
    if (subscribers === 0) return 0;
    await this.streams.publish(RESOURCE_UPDATES_LOG, STANDALONE_STREAM, resourceUpdatedNotification(uri));
    this.sweep(uri);
    return subscribers;
  }

  /**
   * An expired session may stay in the subscriber index (Redis expires the session, not its index
   * entries): at most every SWEEP_EVERY_MS per URI, off the answer's path, a page of the index is
   * checked and the gone dropped.
   */
  private sweep(uri: string): void {
    const last = this.sweeps.get(uri);
    if (last && this.now() - last.at < SWEEP_EVERY_MS) return;
    this.sweeps.delete(uri);
    const next = { at: this.now(), offset: last?.offset ?? 0 };
    this.sweeps.set(uri, next);
    if (this.sweeps.size > SWEPT_URIS_KEPT) this.sweeps.delete(this.sweeps.keys().next().value!);
    const sweeping = async () => {
      const subscribers = await this.store.subscribers(uri);
      const offset = next.offset < subscribers.length ? next.offset : 0;
      next.offset = offset + SWEEP_PAGE;
      await this.store.forgetSubscribers(uri, subscribers.slice(offset, offset + SWEEP_PAGE));
    };
    // A sweep that fails is retried at the next one: the index only holds a few stale ids longer.
    sweeping().catch(() => {});
  }
}
