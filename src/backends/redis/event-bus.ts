import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { RedisClient } from './connection.js';
import { redisCall } from './errors.js';
import { LuaScript } from './lua-script.js';
import { decodeEnvelope, encodeEnvelope } from '../../bus/event-envelope.js';
import { BaseChangeEventBus } from '../../bus/base-event-bus.js';
import type { BusEvent, ChangeEventBusOptions } from '../../bus/event-bus.js';

/**
 * A Cluster client sends a keyless PUBLISH to any master, and two masters' messages can reach a
 * subscriber out of order; naming the channel as the script's key sends every publish to the one
 * master that owns the channel's slot.
 */
const PUBLISH_ON_CHANNEL_SLOT = new LuaScript('server_event_publish', 'frees', `return redis.call('PUBLISH', KEYS[1], ARGV[1])`);

export interface RedisEventBusOptions extends ChangeEventBusOptions {
  /** Command connection (instrumented): carries the PUBLISH. */
  redis: RedisClient;
  /** The replica's subscriber-mode connection, shared with other subscribers. */
  subscriber: RedisClient;
  prefix: string;
  /** Marks this replica's envelopes, so it skips them when Redis echoes them back; random by default. */
  instanceId?: string;
}

/**
 * One pub/sub channel for the fleet, subscribed once per replica however many streams listen. The
 * publishing replica delivers to its own listeners at once; the others deliver what Redis relays.
 * Events published while a replica's subscriber is disconnected do not reach it (ioredis
 * resubscribes the channel when it reconnects).
 */
export class RedisChangeEventBus extends BaseChangeEventBus {
  readonly instanceId: string;
  readonly channel: string;

  private readonly onMessage = (channel: string, payload: string): void => {
    if (channel !== this.channel) return;
    const envelope = decodeEnvelope(payload);
    if (!envelope || envelope.o === this.instanceId) return;
    this.local.deliver(envelope.e, 'store', envelope.t);
  };

  constructor(private readonly options: RedisEventBusOptions) {
    super(options);
    this.instanceId = options.instanceId ?? randomBytes(9).toString('base64url');
    this.channel = `${options.prefix}server-events`;
  }

  async publishAndWait(event: BusEvent): Promise<void> {
    const admitted = this.local.admit(event);
    const publishedAt = Date.now();
    const payload = encodeEnvelope({ o: this.instanceId, t: publishedAt, e: admitted });
    this.local.deliver(admitted, 'local', publishedAt);
    await redisCall(() => this.send(payload));
  }

  private send(payload: string): Promise<unknown> {
    const { redis } = this.options;
    if (redis instanceof Cluster) return PUBLISH_ON_CHANNEL_SLOT.run(redis, [this.channel], [payload]);
    return redis.publish(this.channel, payload);
  }

  async start(): Promise<void> {
    const { subscriber } = this.options;
    // A retried start() must not add a second listener.
    subscriber.off('message', this.onMessage);
    subscriber.on('message', this.onMessage);
    await redisCall(() => subscriber.subscribe(this.channel));
  }

  async close(): Promise<void> {
    const { subscriber } = this.options;
    this.local.close();
    subscriber.off('message', this.onMessage);
    const unsubscribed = subscriber.unsubscribe(this.channel).catch(() => {});
    // While Redis is away the command waits in the subscriber's offline queue; shutdown must not.
    if (subscriber.status === 'ready') await unsubscribed;
  }
}
