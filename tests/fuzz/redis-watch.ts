import { Redis } from 'ioredis';
import { INVALIDATION_CHANNEL } from '../../src/backends/redis/key-invalidations.js';

/** Key-event notifications (every command class, expiries and evictions included). */
const KEY_EVENTS = 'EA';
const KEY_EVENT_CHANNEL = /^__keyevent@\d+__:/;

export interface KeyAudit {
  keys: number;
  foreignKeys: string[];
  keysWithoutTtl: string[];
  foreignChannels: string[];
}

/**
 * Watches everything the fleet does on Redis without MONITOR: a pattern subscription to every
 * channel sees each PUBLISH (so a channel outside the prefix shows up as it is used), and Redis's
 * key-event notifications name every key written. `drain()` hands over what was seen outside the
 * prefix since the last call, so a case can be blamed for it; `audit()` scans the whole keyspace.
 */
export class RedisWatch {
  private foreign: string[] = [];
  published = 0;

  private constructor(
    private readonly watcher: Redis,
    private readonly admin: Redis,
    readonly prefix: string,
  ) {}

  static async start(url: string, prefix: string): Promise<RedisWatch> {
    const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await admin.connect();
    await admin.config('SET', 'notify-keyspace-events', KEY_EVENTS);
    const watcher = new Redis(url, { lazyConnect: true });
    await watcher.connect();
    const watch = new RedisWatch(watcher, admin, prefix);
    watcher.on('pmessage', (_pattern: string, channel: string, message: string) => watch.seen(channel, message));
    await watcher.psubscribe('*');
    return watch;
  }

  private seen(channel: string, message: string): void {
    if (KEY_EVENT_CHANNEL.test(channel)) {
      if (!message.startsWith(this.prefix)) this.foreign.push(`key ${JSON.stringify(message.slice(0, 200))} (${channel.replace(KEY_EVENT_CHANNEL, '')})`);
      return;
    }
    this.published++;
    if (!channel.startsWith(this.prefix)) this.foreign.push(`channel ${JSON.stringify(channel.slice(0, 200))}`);
  }

  /** Keys written and channels published outside the prefix since the last call. */
  drain(): string[] {
    const seen = this.foreign;
    this.foreign = [];
    return seen;
  }

  /** Every key: those outside the prefix, those under it without a TTL; and the channels with subscribers outside it. */
  async audit(): Promise<KeyAudit> {
    const foreignKeys: string[] = [];
    const keysWithoutTtl: string[] = [];
    let keys = 0;
    let cursor = '0';
    do {
      const [next, batch] = await this.admin.scan(cursor, 'COUNT', 1000);
      cursor = next;
      keys += batch.length;
      const ours = batch.filter((key) => key.startsWith(this.prefix));
      foreignKeys.push(...batch.filter((key) => !key.startsWith(this.prefix)));
      if (ours.length > 0) {
        const pipeline = this.admin.pipeline();
        for (const key of ours) pipeline.pttl(key);
        const ttls = (await pipeline.exec()) ?? [];
        ours.forEach((key, i) => {
          if (ttls[i]?.[1] === -1) keysWithoutTtl.push(key);
        });
      }
    } while (cursor !== '0');
    const channels = (await this.admin.pubsub('CHANNELS', '*')) as string[];
    // Redis's own channel for client-tracking invalidations, which each replica's session cache listens on.
    const foreignChannels = channels.filter((c) => !c.startsWith(this.prefix) && c !== INVALIDATION_CHANNEL);
    return { keys, foreignKeys, keysWithoutTtl, foreignChannels };
  }

  async stop(): Promise<void> {
    await this.admin.config('SET', 'notify-keyspace-events', '').catch(() => {});
    this.watcher.disconnect();
    this.admin.disconnect();
  }
}
