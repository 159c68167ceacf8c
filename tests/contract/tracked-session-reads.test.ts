import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createInvalidationConnection, createRedisClient } from '../../src/backends/redis/connection.js';
import { RedisSessionStore } from '../../src/backends/redis/session-store.js';
import { trackedSessionReads as redisTrackedReads } from '../../src/backends/redis/tracked-session-reads.js';
import { PgSessionStore } from '../../src/backends/postgres/session-store.js';
import { trackedSessionReads as pgTrackedReads } from '../../src/backends/postgres/tracked-session-reads.js';
import type { NewSession, SessionStore } from '../../src/sessions/session-store.js';
import { pollUntil } from '../../src/fleet/poll.js';
import { useRedisServer } from '../support/redis.js';
import { redisSettings } from '../support/redis-settings.js';
import { freshSchema, openPostgresReplica, terminateListenConnections, usePostgresServer } from '../support/postgres.js';

/**
 * A replica's session read cache, kept coherent by its store's announcements (Redis: client
 * tracking on the invalidation connection; PostgreSQL: NOTIFY from triggers on the LISTEN
 * connection): two replicas on one store, each with its own connections.
 */
const redisServer = useRedisServer();
const postgresServer = usePostgresServer();

interface Replica {
  store: SessionStore;
  /** Whether the cache serves reads (the announcements are coming). */
  tracking(): boolean;
  /** Operations this replica sent since the last call. */
  sent(): string[];
  close(): Promise<void>;
}

interface Backend {
  name: string;
  /** A key prefix or schema no other test uses. */
  namespace(): string;
  replica(namespace: string, ttlSeconds: number, settings?: Record<string, string>): Promise<Replica>;
  /** Ends every replica's announcement connection, as a network fault would. */
  dropAnnouncements(): Promise<void>;
  /** Removes every session at once, behind the stores' backs (FLUSHDB, TRUNCATE). */
  wipe(namespace: string): Promise<void>;
}

/** Counts the operations a replica's store sends, by name, through its observer. */
function operationLog() {
  let names: string[] = [];
  return {
    observer: { ...NOOP_OBSERVER, storeCommand: (name: string) => void names.push(name) },
    sent: () => {
      const sent = names;
      names = [];
      return sent;
    },
  };
}

const redis: Backend = {
  name: 'Redis',
  namespace: () => `tr-${randomUUID().slice(0, 8)}:`,
  async replica(prefix, ttlSeconds, settings = {}) {
    const log = operationLog();
    const config = redisSettings(redisServer().url, { keyPrefix: prefix, ...settings });
    const commands = createRedisClient({ settings: config, observer: log.observer, name: 'tracked-commands' }) as Redis;
    const subscriber = createInvalidationConnection(config, 'tracked-invalidations');
    const tracked = redisTrackedReads(commands, subscriber, prefix, { maxEntries: 1000, maxAgeMs: 60_000 });
    tracked.invalidations.start();
    await connectRedis(commands);
    return {
      store: new RedisSessionStore(commands, prefix, ttlSeconds, Date.now, tracked.reads),
      tracking: () => tracked.reads.active,
      sent: log.sent,
      close: async () => {
        tracked.invalidations.stop();
        commands.disconnect();
      },
    };
  },
  dropAnnouncements: () => withRedisAdmin(async (admin) => void (await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))),
  wipe: () => withRedisAdmin(async (admin) => void (await admin.flushdb())),
};

async function withRedisAdmin(work: (admin: Redis) => Promise<void>): Promise<void> {
  const admin = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'admin' }) as Redis;
  await connectRedis(admin);
  try {
    await work(admin);
  } finally {
    admin.disconnect();
  }
}

const postgres: Backend = {
  name: 'PostgreSQL',
  namespace: freshSchema,
  async replica(schema, ttlSeconds) {
    const log = operationLog();
    const connections = await openPostgresReplica(postgresServer().url, schema, 'tracked', log.observer);
    const reads = await pgTrackedReads(connections.listener, schema, { maxEntries: 1000, maxAgeMs: 60_000 });
    return {
      store: new PgSessionStore(connections.db, schema, ttlSeconds, reads),
      tracking: () => reads.active,
      sent: log.sent,
      close: () => connections.close(),
    };
  },
  dropAnnouncements: async () => void (await terminateListenConnections(postgresServer())),
  wipe: async (schema) => void (await postgresServer().query(`TRUNCATE ${schema}.sessions CASCADE`)),
};

const opened: Replica[] = [];

afterEach(async () => {
  for (const r of opened.splice(0)) await r.close();
});

async function open(backend: Backend, namespace: string, ttlSeconds = 60, settings?: Record<string, string>): Promise<Replica> {
  const made = await backend.replica(namespace, ttlSeconds, settings);
  opened.push(made);
  return made;
}

const tracking = (r: Replica) =>
  pollUntil(async () => (r.tracking() ? true : undefined), { timeoutMs: 5000, timedOut: () => new Error('tracking never came on') });

/** Two replicas on one namespace, both tracking, and a session created through the first. */
async function pairWithSession(backend: Backend, ttlSeconds = 60): Promise<{ a: Replica; b: Replica; session: NewSession; namespace: string }> {
  const namespace = backend.namespace();
  const [a, b] = [await open(backend, namespace, ttlSeconds), await open(backend, namespace, ttlSeconds)];
  await Promise.all([tracking(a), tracking(b)]);
  const session = newSession();
  await a.store.create(session);
  return { a, b, session, namespace };
}

const newSession = (): NewSession => ({
  id: randomUUID(),
  protocolVersion: '2025-11-25',
  clientCapabilities: {},
  clientInfo: { name: 'tracked', version: '1' },
});

/** Announcements travel on another connection than the write's answer: wait for one to arrive. */
const seenWithin = async <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 2000): Promise<T> => {
  let last = await read();
  const deadline = Date.now() + timeoutMs;
  while (!done(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    last = await read();
  }
  return last;
};

describe.each([redis, postgres])('session reads kept coherent by $name (two replicas, one store)', (backend) => {
  it('serve a warm touch without any store operation', async () => {
    const { b, session } = await pairWithSession(backend);
    expect(await b.store.touch(session.id)).toMatchObject({ id: session.id, protocolVersion: '2025-11-25' });
    // The announcement of the create may reach B after its first read, and drop what it kept.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await b.store.touch(session.id);
    b.sent();
    for (let i = 0; i < 20; i += 1) expect((await b.store.touch(session.id))?.clientInfo.name).toBe('tracked');
    expect(b.sent()).toEqual([]);
  });

  it('see a session deleted, its log level set and a subscription added on another replica', async () => {
    const { a, b, session } = await pairWithSession(backend);
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

  it('see their own writes at once, before the store announces them', async () => {
    const { a, session } = await pairWithSession(backend);
    await a.store.touch(session.id);
    await a.store.setLogLevel(session.id, 'debug');
    expect((await a.store.touch(session.id))?.logLevel).toBe('debug');
    await a.store.delete(session.id);
    expect(await a.store.touch(session.id)).toBeUndefined();
  });

  it('let a session cached on one replica expire on time, and slide it while it is used', async () => {
    const { a, b, session: idle } = await pairWithSession(backend, 1);
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

  it('stop serving from the cache when the announcement connection drops, and start again once it is back', async () => {
    const { a, b, session } = await pairWithSession(backend);
    await b.store.touch(session.id);
    await backend.dropAnnouncements();
    await pollUntil(async () => (b.tracking() ? undefined : true), { timeoutMs: 2000, timedOut: () => new Error('the loss went unnoticed') });
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
  });

  it('drop everything when every session is removed at once (FLUSHDB, TRUNCATE)', async () => {
    const { b, session, namespace } = await pairWithSession(backend);
    await b.store.touch(session.id);
    await backend.wipe(namespace);
    expect(
      await seenWithin(
        () => b.store.touch(session.id),
        (r) => r === undefined,
      ),
    ).toBeUndefined();
    expect(b.tracking()).toBe(true);
  });
});

describe('session reads on Redis', () => {
  it('read every time, and correctly, where Redis refuses client tracking', async () => {
    const prefix = redis.namespace();
    await withRedisAdmin(async (admin) => void (await admin.call('ACL', 'SETUSER', 'no-tracking', 'on', '>pw', `~${prefix}*`, '+@all', '-client|tracking')));
    const b = await open(redis, prefix, 60, { username: 'no-tracking', password: 'pw' });
    const session = newSession();
    await b.store.create(session);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(b.tracking()).toBe(false);
    b.sent();
    expect(await b.store.touch(session.id)).toBeDefined();
    expect(await b.store.touch(session.id)).toBeDefined();
    expect(b.sent()).toEqual(['hgetall', 'hgetall']);
    await b.store.delete(session.id);
    expect(await b.store.touch(session.id)).toBeUndefined();
  });
});

describe('session reads on PostgreSQL', () => {
  it('drop the rows the sweeper deletes', async () => {
    const { a, b, namespace } = await pairWithSession(postgres);
    const swept = newSession();
    await a.store.create(swept);
    await b.store.touch(swept.id);
    // Expired (as the database sees it) and removed by a sweep: no replica serves it from its cache.
    await postgresServer().query(`UPDATE ${namespace}.sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [swept.id]);
    await postgresServer().query(`DELETE FROM ${namespace}.sessions WHERE expires_at <= now()`);
    expect(
      await seenWithin(
        () => b.store.touch(swept.id),
        (r) => r === undefined,
      ),
    ).toBeUndefined();
  });
});
