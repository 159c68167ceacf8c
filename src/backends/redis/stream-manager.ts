import { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { RedisClient } from './connection.js';
import { redisCall } from './errors.js';
import { LuaScript } from './lua-script.js';
import { ListenerState } from '../../streams/listener-state.js';
import {
  compareEntryIds,
  type InstanceEnvelope,
  type ListenOptions,
  type StreamEvent,
  type StreamListener,
  type StreamManager,
} from '../../streams/stream-manager.js';

/**
 * Appends to the stream's log and publishes the entry in one atomic step, so the order listeners
 * see on the channel is the order of the log's ids. The payload is `stream\nid\npublishedAt\nend\nmessage`.
 * Each script publishes with the command it is given (PUBLISH, or SPUBLISH on a Cluster: the
 * session channel carries the session's hash tag, so it belongs to the slot of the script's keys).
 */
const PUBLISH = new LuaScript(
  'stream_publish',
  'writes',
  `if ARGV[6] == '1' and redis.call('EXISTS', KEYS[2]) == 0 then return false end
local id
if ARGV[7] == '1' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'e', '1', 't', ARGV[3])
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'm', ARGV[2], 't', ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SADD', KEYS[3], KEYS[1])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call(ARGV[9], ARGV[1], ARGV[8] .. '\\n' .. id .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[7] .. '\\n' .. ARGV[2])
return id`,
);

/**
 * Claims an exclusive stream for the newest listener: the stored owner is replaced only by a newer
 * listener id, and the winner is announced. A listener that opened while a newer one already
 * holds the stream learns it from the reply, since it subscribed too late to hear that one's notice.
 */
const CLAIM = new LuaScript(
  'stream_claim',
  'writes',
  `local owner = redis.call('GET', KEYS[1])
if not owner or ARGV[1] > owner then
  owner = ARGV[1]
  redis.call('SET', KEYS[1], owner, 'PX', ARGV[4])
  redis.call(ARGV[5], ARGV[2], 'K\\n' .. ARGV[3] .. '\\n' .. owner)
end
return owner`,
);

/** Deletes every stream log of a session (one slot: they share its hash tag) and tells its listeners. */
const TERMINATE = new LuaScript(
  'stream_terminate',
  'frees',
  `for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('DEL', key) end
redis.call('DEL', KEYS[1])
redis.call(ARGV[2], ARGV[1], 'T')
return 1`,
);

export interface RedisStreamOptions {
  /** Command connection (instrumented) and a dedicated subscriber connection. */
  redis: RedisClient;
  subscriber: RedisClient;
  prefix: string;
  retentionSeconds: number;
  maxEntriesPerStream: number;
  /** The session store's key for a session, so `requireSession` can check it in the same script. */
  sessionKey: (sessionId: string) => string;
}

type ChannelHandler = (payload: string) => void;

/**
 * Cross-replica delivery on Redis: each stream's log is a Redis Stream (XADD with MAXLEN and a
 * retention TTL) and each session has one pub/sub channel carrying its streams' entries and control
 * notices. A replica subscribes to a session's channel only while it holds one of its streams.
 *
 * On a Cluster the session and instance channels are shard channels (SPUBLISH / SSUBSCRIBE, Redis 7):
 * a message stays on the master of its slot (and that master's replicas) instead of being copied to
 * every node, and the subscriber connection needs ioredis's `shardedSubscribers` (one connection per
 * master). Only the broadcast channel, which every instance hears, stays plain there. A single Redis
 * or Sentinel keeps plain pub/sub: one node gains nothing from shard channels, and Redis 6 has none.
 */
export class RedisStreamManager implements StreamManager {
  readonly deliveryPath = 'store' as const;
  readonly instanceId = randomBytes(9).toString('base64url');
  private readonly channels = new Map<string, Set<ChannelHandler>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();
  private readonly instanceHandlers: Array<(envelope: InstanceEnvelope) => void> = [];
  private readonly listeners = new Set<ListenerState>();
  /** Session and instance channels are shard channels: on a Cluster only. */
  private readonly sharded: boolean;

  constructor(private readonly options: RedisStreamOptions) {
    this.sharded = options.redis instanceof Cluster;
    const deliver = (channel: string, payload: string) => {
      for (const handler of [...(this.channels.get(channel) ?? [])]) handler(payload);
    };
    options.subscriber.on('message', deliver);
    // Messages published while the subscriber is disconnected are lost to pub/sub: tell every
    // listener, so its client reconnects with Last-Event-ID and replays them from the log.
    const interrupt = () => {
      for (const listener of [...this.listeners]) listener.accept({ type: 'interrupted' });
    };
    options.subscriber.on('close', interrupt);
    if (this.sharded) {
      options.subscriber.on('smessage', deliver);
      // Each master has its own shard subscriber connection, which the Cluster replaces without a
      // 'close' of its own: when one is lost (-node), or the subscriptions were moved to other
      // connections after a topology change (subscribersReady), shard messages may have been missed.
      options.subscriber.on('-node', interrupt);
      options.subscriber.on('subscribersReady', interrupt);
    }
  }

  /** Subscribes this instance's own channel; call once before serving. */
  async start(): Promise<void> {
    const deliver = (payload: string) => {
      let envelope: InstanceEnvelope;
      try {
        envelope = JSON.parse(payload) as InstanceEnvelope;
      } catch {
        return;
      }
      for (const handler of this.instanceHandlers) handler(envelope);
    };
    await Promise.all([this.subscribe(this.instanceChannel(this.instanceId), deliver), this.subscribe(this.broadcastChannel, deliver)]);
  }

  private get broadcastChannel(): string {
    return `${this.options.prefix}instances`;
  }

  /** PUBLISH, or SPUBLISH for a session or instance channel on a Cluster. */
  private get publishCommand(): 'PUBLISH' | 'SPUBLISH' {
    return this.sharded ? 'SPUBLISH' : 'PUBLISH';
  }

  private publishTo(channel: string, payload: string): Promise<number> {
    const { redis } = this.options;
    return (this.sharded ? redis.spublish(channel, payload) : redis.publish(channel, payload)) as Promise<number>;
  }

  async broadcast(envelope: InstanceEnvelope): Promise<void> {
    await redisCall(() => this.options.redis.publish(this.broadcastChannel, JSON.stringify(envelope)));
  }

  private instanceChannel(instanceId: string): string {
    return `${this.options.prefix}instance:${instanceId}`;
  }

  private sessionChannel(sessionId: string): string {
    return `${this.options.prefix}session-events:{${sessionId}}`;
  }

  private ownerKey(sessionId: string, streamKey: string): string {
    return `${this.options.prefix}stream-owner:{${sessionId}}:${streamKey}`;
  }

  /** The set of a session's stream logs (GET and POST streams alike), so DELETE can remove them all. */
  private logIndexKey(sessionId: string): string {
    return `${this.options.prefix}event-logs:{${sessionId}}`;
  }

  private logKey(sessionId: string, streamKey: string): string {
    return `${this.options.prefix}events:{${sessionId}}:${streamKey}`;
  }

  private async subscribe(channel: string, handler: ChannelHandler): Promise<void> {
    let handlers = this.channels.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
      const { subscriber } = this.options;
      const subscribed = this.isShardChannel(channel) ? subscriber.ssubscribe(channel) : subscriber.subscribe(channel);
      this.subscribing.set(channel, subscribed);
      subscribed.finally(() => this.subscribing.delete(channel)).catch(() => {});
    }
    handlers.add(handler);
    try {
      await this.subscribing.get(channel);
    } catch (error) {
      await this.unsubscribe(channel, handler);
      throw error;
    }
  }

  private async unsubscribe(channel: string, handler: ChannelHandler): Promise<void> {
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    handlers.delete(handler);
    if (handlers.size > 0) return;
    this.channels.delete(channel);
    const { subscriber } = this.options;
    await (this.isShardChannel(channel) ? subscriber.sunsubscribe(channel) : subscriber.unsubscribe(channel)).catch(() => {});
  }

  private isShardChannel(channel: string): boolean {
    return this.sharded && channel !== this.broadcastChannel;
  }

  async publish(sessionId: string, streamKey: string, message: JSONRPCMessage, options: { requireSession?: boolean } = {}): Promise<string | undefined> {
    const id = await this.append(sessionId, streamKey, JSON.stringify(message), false, options.requireSession ?? false);
    return id ?? undefined;
  }

  async end(sessionId: string, streamKey: string): Promise<void> {
    await this.append(sessionId, streamKey, '', true, false);
  }

  private async append(sessionId: string, streamKey: string, message: string, end: boolean, requireSession: boolean): Promise<string | null> {
    const { retentionSeconds, maxEntriesPerStream, sessionKey } = this.options;
    const reply = await redisCall(() =>
      PUBLISH.run(
        this.options.redis,
        [this.logKey(sessionId, streamKey), sessionKey(sessionId), this.logIndexKey(sessionId)],
        [
          this.sessionChannel(sessionId),
          message,
          Date.now(),
          maxEntriesPerStream,
          retentionSeconds * 1000,
          requireSession ? '1' : '0',
          end ? '1' : '0',
          streamKey,
          this.publishCommand,
        ],
      ),
    );
    return typeof reply === 'string' ? reply : null;
  }

  async listen(sessionId: string, streamKey: string, options: ListenOptions, onEvent: (event: StreamEvent) => void): Promise<StreamListener> {
    const channel = this.sessionChannel(sessionId);
    const handler: ChannelHandler = (payload) => {
      const event = parsePayload(payload, streamKey);
      if (event) listener.accept(event);
    };
    const listener: ListenerState = new ListenerState(sessionId, streamKey, options.listenerId, options.exclusive, onEvent, async () => {
      this.listeners.delete(listener);
      await this.unsubscribe(channel, handler);
    });
    this.listeners.add(listener);
    try {
      await redisCall(() => this.subscribe(channel, handler));
      const key = this.logKey(sessionId, streamKey);
      if (options.after === undefined) {
        const newest = await redisCall(() => this.options.redis.xrevrange(key, '+', '-', 'COUNT', 1));
        listener.setBacklog(newest[0]?.[0] ?? '0-0', []);
      } else {
        // No COUNT: MAXLEN ~ trims in whole nodes, so the log may hold more than maxEntriesPerStream,
        // and a capped read would return the oldest entries and drop the newest.
        const after = options.after;
        const [entries, lost] = await redisCall(() => Promise.all([this.options.redis.xrange(key, `(${after}`, '+'), this.missedSince(key, after)]));
        const replay = entries.map(([id, fields]) => entryToEvent(id, fields));
        listener.setBacklog(after, lost ? [{ type: 'gap', after }, ...replay] : replay);
      }
      if (options.exclusive) {
        const owner = await redisCall(() =>
          CLAIM.run(
            this.options.redis,
            [this.ownerKey(sessionId, streamKey)],
            [options.listenerId, channel, streamKey, this.options.retentionSeconds * 1000, this.publishCommand],
          ),
        );
        if (owner !== options.listenerId) listener.accept({ type: 'takeover', listener: String(owner) });
      }
    } catch (error) {
      await listener.close();
      throw error;
    }
    return listener;
  }

  /**
   * Whether a resume after `after` missed entries: the log was trimmed (it counts more entries added
   * than it holds) and its oldest entry comes after the resume position, or the log expired. It
   * errs on the side of warning: a client exactly at the newest trimmed entry is told too.
   */
  private async missedSince(key: string, after: string): Promise<boolean> {
    let info: unknown[];
    try {
      info = (await this.options.redis.xinfo('STREAM', key)) as unknown[];
    } catch (error) {
      if (error instanceof Error && /no such key/i.test(error.message)) return after !== '0-0';
      throw error;
    }
    const field = (name: string) => info[info.indexOf(name) + 1];
    const added = Number(field('entries-added'));
    const length = Number(field('length'));
    // Redis before 7.0 does not count what was added: no gap can be known.
    if (!info.includes('entries-added') || added <= length) return false;
    const first = field('first-entry') as [string, unknown] | null;
    return first === null || compareEntryIds(after, first[0]) < 0;
  }

  async disconnect(sessionId: string, streamKey: string): Promise<void> {
    await redisCall(() => this.publishTo(this.sessionChannel(sessionId), `K\n${streamKey}\n`));
  }

  async terminate(sessionId: string): Promise<void> {
    await redisCall(() => TERMINATE.run(this.options.redis, [this.logIndexKey(sessionId)], [this.sessionChannel(sessionId), this.publishCommand]));
  }

  async sendToInstance(instanceId: string, envelope: InstanceEnvelope): Promise<boolean> {
    // Exact on a Cluster too: SPUBLISH counts the subscribers of the shard channel, which all
    // subscribe on the one master of its slot (a plain PUBLISH would count only one node's).
    const receivers = await redisCall(() => this.publishTo(this.instanceChannel(instanceId), JSON.stringify(envelope)));
    return receivers > 0;
  }

  onInstanceMessage(handler: (envelope: InstanceEnvelope) => void): void {
    this.instanceHandlers.push(handler);
  }

  async close(): Promise<void> {
    for (const listener of [...this.listeners]) listener.accept({ type: 'interrupted' });
    for (const listener of [...this.listeners]) await listener.close();
  }
}

function entryToEvent(entryId: string, fields: string[]): StreamEvent {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i]!, fields[i + 1]!);
  if (values.get('e') === '1') return { type: 'end', entryId };
  return {
    type: 'message',
    entryId,
    message: JSON.parse(values.get('m') ?? 'null') as JSONRPCMessage,
    publishedAt: Number(values.get('t') ?? Date.now()),
  };
}

/** Decodes a channel payload; undefined when it concerns another stream of the session. */
function parsePayload(payload: string, streamKey: string): StreamEvent | undefined {
  if (payload === 'T') return { type: 'terminated' };
  if (payload.startsWith('K\n')) {
    const [, key, listenerId] = payload.split('\n');
    return key === streamKey ? { type: 'takeover', listener: listenerId ?? '' } : undefined;
  }
  let rest = payload;
  const head: string[] = [];
  for (let i = 0; i < 4; i++) {
    const newline = rest.indexOf('\n');
    if (newline < 0) return undefined;
    head.push(rest.slice(0, newline));
    rest = rest.slice(newline + 1);
  }
  const [key, entryId, publishedAt, end] = head as [string, string, string, string];
  if (key !== streamKey) return undefined;
  if (end === '1') return { type: 'end', entryId };
  return { type: 'message', entryId, message: JSON.parse(rest) as JSONRPCMessage, publishedAt: Number(publishedAt) };
}
