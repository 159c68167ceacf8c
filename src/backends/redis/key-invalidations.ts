import type { Redis } from 'ioredis';
import { log } from '../../log.js';
import { describeRedisError } from './errors.js';

/** The channel Redis publishes client-tracking invalidations on (RESP2, REDIRECT mode). */
export const INVALIDATION_CHANNEL = '__redis__:invalidate';

export interface InvalidationHandlers {
  /** Redis confirmed tracking: from now on every change to a tracked key is announced. */
  tracking(): void;
  /** Announcements may be lost from now on (a connection dropped): trust nothing cached. */
  lost(): void;
  /** These keys changed (written, deleted, expired); undefined: every key may have (FLUSHALL). */
  invalidated(keys: string[] | undefined): void;
}

/**
 * Redis's server-assisted client-side caching in broadcast mode: the command connection turns on
 * `CLIENT TRACKING ... REDIRECT <id> BCAST PREFIX ...`, and Redis then publishes the name of every
 * key under those prefixes that anyone changes (or that expires) to the connection with that id, a
 * RESP2 subscriber of its own (createInvalidationConnection). Tracking belongs to the two
 * connections: when either drops, it is gone (RESP2 says nothing when a redirect target
 * disappears), so 'close' on either is `lost()`, and both being ready again sets it up anew.
 * Single Redis and Sentinel only: on a Cluster each master would need its own pair of connections.
 */
export class KeyInvalidations {
  /** Bumped on every loss: a setup begun before a loss must not report tracking after it. */
  private epoch = 0;
  private subscriberId: number | undefined;
  private active = false;
  /** The epoch whose setup has been sent. */
  private enabling: number | undefined;
  private refused: string | undefined;

  constructor(
    private readonly commands: Redis,
    private readonly subscriber: Redis,
    private readonly prefixes: string[],
    private readonly handlers: InvalidationHandlers,
  ) {}

  get tracking(): boolean {
    return this.active;
  }

  /** Listens to both connections' events, and connects the subscriber (the caller connects the commands). */
  start(): void {
    for (const [connection, event, listener] of this.listeners()) connection.on(event, listener);
    // Its failures show as 'close' (tracking lost) and in the command connection's own errors.
    this.subscriber.on('error', () => {});
    void this.subscriber.connect().catch(() => {});
    if (this.commands.status === 'ready') this.onCommandsReady();
  }

  stop(): void {
    for (const [connection, event, listener] of this.listeners()) connection.off(event, listener);
    this.onLoss();
    this.subscriber.disconnect();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- ioredis's own listener type
  private listeners(): Array<[Redis, string, (...args: any[]) => void]> {
    return [
      [this.subscriber, 'messageBuffer', this.onMessage],
      [this.subscriber, 'ready', this.onSubscriberReady],
      [this.subscriber, 'close', this.onSubscriberClose],
      [this.commands, 'ready', this.onCommandsReady],
      [this.commands, 'close', this.onLoss],
    ];
  }

  private readonly onLoss = (): void => {
    this.epoch += 1;
    if (!this.active) return;
    this.active = false;
    this.handlers.lost();
  };

  private readonly onSubscriberClose = (): void => {
    this.subscriberId = undefined;
    this.onLoss();
  };

  private readonly onSubscriberReady = (): void => {
    const epoch = this.epoch;
    // Asked before subscribing: a RESP2 connection in subscriber mode takes no other command.
    this.subscriber
      .call('CLIENT', 'ID')
      .then(async (id) => {
        if (epoch !== this.epoch) return;
        await this.subscriber.subscribe(INVALIDATION_CHANNEL);
        if (epoch !== this.epoch) return;
        this.subscriberId = Number(id);
        await this.enable(epoch);
      })
      .catch((error: unknown) => this.refuse(error));
  };

  private readonly onCommandsReady = (): void => {
    void this.enable(this.epoch).catch((error: unknown) => this.refuse(error));
  };

  private async enable(epoch: number): Promise<void> {
    const id = this.subscriberId;
    if (id === undefined || this.commands.status !== 'ready' || this.enabling === epoch) return;
    // Both connections' 'ready' lead here: one setup per epoch (a loss starts a new one).
    this.enabling = epoch;
    // OFF first: ON again would keep the redirect to a subscriber connection that is gone.
    await this.commands.call('CLIENT', 'TRACKING', 'OFF');
    await this.commands.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', ...this.prefixes.flatMap((prefix) => ['PREFIX', prefix]));
    if (epoch !== this.epoch || id !== this.subscriberId) return;
    this.active = true;
    if (this.refused !== undefined) log.info('session cache on again: Redis announces session changes');
    this.refused = undefined;
    this.handlers.tracking();
  }

  /** Tracking refused (an ACL without CLIENT, a Redis before 6) or cut short: every read goes to Redis. */
  private refuse(error: unknown): void {
    const reason = describeRedisError(error);
    if (reason !== this.refused) log.warn('session cache off: Redis client tracking is not available, every request reads its session', { reason });
    this.refused = reason;
  }

  private readonly onMessage = (channel: Buffer, payload: unknown): void => {
    if (channel.toString() !== INVALIDATION_CHANNEL) return;
    // Until tracking is confirmed nothing is cached, so announcements before it have nothing to drop.
    if (!Array.isArray(payload)) return this.handlers.invalidated(undefined);
    this.handlers.invalidated(payload.map((key: Buffer | string) => key.toString()));
  };
}
