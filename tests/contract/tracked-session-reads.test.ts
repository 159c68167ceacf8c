import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createInvalidationConnection, createRedisClient } from '../../src/backends/redis/connection.js';
import { RedisSessionStore } from '../../src/backends/redis/session-store.js';
import type { NewSession } from '../../src/sessions/session-store.js';
import { trackedSessionReads, type TrackedSessionReads } from '../../src/backends/redis/tracked-session-reads.js';
import { pollUntil } from '../../src/fleet/poll.js';
import { useRedisServer } from '../support/redis.js';
import { redisSettings } from '../support/redis-settings.js';

const redisServer = useRedisServer();

interface Replica {
  store: RedisSessionStore;
  tracked: TrackedSessionReads;
  commands: Redis;
  subscriber: Redis;
  /** Names of the commands this replica sent since the last call. */
  sent(): string[];
}

const opened: Replica[] = [];

async function replica(prefix: string, ttlSeconds = 60, settings = {}): Promise<Replica> {
  let names: string[] = [];
  const observer = { ...NOOP_OBSERVER, storeCommand: (name: string) => void names.push(name) };
  const config = redisSettings(redisServer().url, { keyPrefix: prefix, ...settings });
  const commands = createRedisClient({ settings: config, observer, name: 'tracked-commands' }) as Redis;
  const subscriber = createInvalidationConnection(config, 'tracked-invalidations');
  const tracked = trackedSessionReads(commands, subscriber, prefix, { maxEntries: 1000, maxAgeMs: 60_000 });
  tracked.invalidations.start();
  await connectRedis(commands);
  const made: Replica = {
    store: new RedisSessionStore(commands, prefix, ttlSeconds, Date.now, tracked.reads),
    tracked,
    commands,
    subscriber,
    sent: () => {
      const sent = names;
      names = [];
      return sent;
    },
  };
  opened.push(made);
  return made;
}

const tracking = (r: Replica) =>
  pollUntil(async () => (r.tracked.reads.active ? true : undefined), { timeoutMs: 5000, timedOut: () => new Error('tracking never came on') });

/** Two replicas on one prefix, both tracking, and a session created through the first. */
async function pairWithSession(ttlSeconds = 60): Promise<{ a: Replica; b: Replica; session: NewSession }> {
  const prefix = `tr-${randomUUID().slice(0, 8)}:`;
  const [a, b] = [await replica(prefix, ttlSeconds), await replica(prefix, ttlSeconds)];
  await Promise.all([tracking(a), tracking(b)]);
  const session = newSession();
  await a.store.create(session);
  return { a, b, session };
}

const newSession = (): NewSession => ({
  id: randomUUID(),
  protocolVersion: '2025-11-25',
  clientCapabilities: {},
  clientInfo: { name: 'tracked', version: '1' },
});

/** Announcements travel on another connection than the write's answer: wait for one to arrive. */
const seenWithin = async <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 1000): Promise<T> => {
  let last = await read();
  const deadline = Date.now() + timeoutMs;
  while (!done(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    last = await read();
  }
  return last;
};

afterEach(async () => {
  for (const r of opened.splice(0)) {
    r.tracked.invalidations.stop();
    r.commands.disconnect();
  }
});

describe('session reads tracked by Redis (two replicas, one Redis)', () => {
  it('serve a warm touch without any Redis command', async () => {
    const { b, session } = await pairWithSession();
    expect(await b.store.touch(session.id)).toMatchObject({ id: session.id, protocolVersion: '2025-11-25' });
    // The announcement of the create may reach B after its first read, and drop what it kept.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await b.store.touch(session.id);
    b.sent();
    for (let i = 0; i < 20; i += 1) expect((await b.store.touch(session.id))?.clientInfo.name).toBe('tracked');
    expect(b.sent()).toEqual([]);
  });

  it('see a session deleted, its log level set and a subscription added on another replica', async () => {
    const { a, b, session } = await pairWithSession();
    await b.store.touch(session.id);
    await a.store.setLogLevel(session.id, 'error');
    expect(
      (
        await seenWithin(
          () => b.store.touch(session.id),
          (r) => r?.logLevel === 'error',
        )
      )?.logLevel,
    ).toBe('error');
    await a.store.subscribe(session.id, 'counter://x');
    expect(
      (
        await seenWithin(
          () => b.store.touch(session.id),
          (r) => r?.subscriptions.length === 1,
        )
      )?.subscriptions,
    ).toEqual(['counter://x']);
    await a.store.delete(session.id);
    expect(
      await seenWithin(
        () => b.store.touch(session.id),
        (r) => r === undefined,
      ),
    ).toBeUndefined();
  });

  it('see their own writes at once, before Redis announces them', async () => {
    const { a, session } = await pairWithSession();
    await a.store.touch(session.id);
    await a.store.setLogLevel(session.id, 'debug');
    expect((await a.store.touch(session.id))?.logLevel).toBe('debug');
    await a.store.delete(session.id);
    expect(await a.store.touch(session.id)).toBeUndefined();
  });

  it('let a session cached on one replica expire on time, and slide it while it is used', async () => {
    const { a, b, session: idle } = await pairWithSession(1);
    const busy = newSession();
    await a.store.create(busy);
    await b.store.touch(idle.id);
    const until = Date.now() + 2500;
    while (Date.now() < until) {
      expect(await b.store.touch(busy.id)).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await b.store.touch(idle.id)).toBeUndefined();
    expect(await a.store.touch(idle.id)).toBeUndefined();
    expect(await a.store.touch(busy.id)).toBeDefined();
  });

  it('stop serving from the cache when the subscriber connection drops, and start again once tracking is back', async () => {
    const { a, b, session } = await pairWithSession();
    await b.store.touch(session.id);
    const admin = a.commands.duplicate();
    await connectRedis(admin);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await pollUntil(async () => (b.tracked.reads.active ? undefined : true), { timeoutMs: 2000, timedOut: () => new Error('the loss went unnoticed') });
    await a.store.delete(session.id);
    expect(await b.store.touch(session.id)).toBeUndefined();
    await tracking(b);
    const again = newSession();
    await a.store.create(again);
    await b.store.touch(again.id);
    b.sent();
    expect(await b.store.touch(again.id)).toBeDefined();
    expect(b.sent()).toEqual([]);
    await a.store.delete(again.id);
    expect(
      await seenWithin(
        () => b.store.touch(again.id),
        (r) => r === undefined,
      ),
    ).toBeUndefined();
    admin.disconnect();
  });

  it('drop everything when the database is flushed', async () => {
    const { a, b, session } = await pairWithSession();
    await b.store.touch(session.id);
    await a.commands.flushdb();
    expect(
      await seenWithin(
        () => b.store.touch(session.id),
        (r) => r === undefined,
      ),
    ).toBeUndefined();
    expect(b.tracked.reads.active).toBe(true);
  });

  it('read every time, and correctly, where Redis refuses client tracking', async () => {
    const prefix = `tr-${randomUUID().slice(0, 8)}:`;
    const admin = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'admin' }) as Redis;
    await connectRedis(admin);
    await admin.call('ACL', 'SETUSER', 'no-tracking', 'on', '>pw', `~${prefix}*`, '+@all', '-client|tracking');
    admin.disconnect();
    const b = await replica(prefix, 60, { username: 'no-tracking', password: 'pw' });
    const session = newSession();
    await b.store.create(session);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(b.tracked.reads.active).toBe(false);
    b.sent();
    expect(await b.store.touch(session.id)).toBeDefined();
    expect(await b.store.touch(session.id)).toBeDefined();
    expect(b.sent()).toEqual(['hgetall', 'hgetall']);
    await b.store.delete(session.id);
    expect(await b.store.touch(session.id)).toBeUndefined();
  });
});
