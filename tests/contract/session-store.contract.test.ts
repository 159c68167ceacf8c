import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { StoreUnavailableError } from '../../src/backends/store-errors.js';
import { InMemorySessionStore } from '../../src/backends/memory/session-store.js';
import { RedisSessionStore } from '../../src/backends/redis/session-store.js';
import type { NewSession, SessionStore } from '../../src/sessions/session-store.js';
import { useRedisServer } from '../support/redis.js';
import { redisSettings } from '../support/redis-settings.js';
import { openPostgresReplica, usePostgresServer } from '../support/postgres.js';
import { PgSessionStore } from '../../src/backends/postgres/session-store.js';

const redisServer = useRedisServer();
const postgresServer = usePostgresServer();

interface Harness {
  store: SessionStore;
  /** Moves the store's clock (memory) or waits real time (Redis TTLs are server-side). */
  elapse(ms: number): Promise<void>;
  dispose(): Promise<void>;
}

function memoryHarness(ttlSeconds: number): Harness {
  let offset = 0;
  const store = new InMemorySessionStore(
    ttlSeconds,
    () => {},
    () => Date.now() + offset,
  );
  return {
    store,
    elapse: async (ms) => {
      offset += ms;
    },
    dispose: () => store.close(),
  };
}

async function redisHarness(ttlSeconds: number): Promise<Harness> {
  const client: RedisClient = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'contract' });
  await connectRedis(client);
  const store = new RedisSessionStore(client, `contract-${randomUUID().slice(0, 8)}:`, ttlSeconds);
  return {
    store,
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    dispose: async () => {
      client.disconnect();
    },
  };
}

async function postgresHarness(ttlSeconds: number): Promise<Harness> {
  const replica = await openPostgresReplica(postgresServer().url);
  return {
    store: new PgSessionStore(replica.db, replica.schema, ttlSeconds),
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    dispose: () => replica.close(),
  };
}

const implementations: Array<[string, (ttlSeconds: number) => Promise<Harness> | Harness]> = [
  ['InMemorySessionStore', memoryHarness],
  ['RedisSessionStore', redisHarness],
  ['PgSessionStore', postgresHarness],
];

const newSession = (overrides: Partial<NewSession> = {}): NewSession => ({
  id: randomUUID(),
  protocolVersion: '2025-11-25',
  clientCapabilities: { sampling: {}, elicitation: { form: {} } },
  clientInfo: { name: 'contract-client', version: '1.2.3' },
  ...overrides,
});

describe.each(implementations)('SessionStore contract: %s', (_name, makeHarness) => {
  let harness: Harness | undefined;
  const open = async (ttlSeconds = 60) => {
    harness = await makeHarness(ttlSeconds);
    return harness;
  };
  afterEach(async () => {
    await harness?.dispose();
    harness = undefined;
  });

  it('stores a session and returns every field as created', async () => {
    const { store } = await open();
    const session = newSession();
    const before = Date.now();
    expect(await store.create(session)).toBe(true);
    const record = await store.touch(session.id);
    expect(record).toMatchObject({
      id: session.id,
      protocolVersion: '2025-11-25',
      clientCapabilities: session.clientCapabilities,
      clientInfo: session.clientInfo,
      logLevel: undefined,
      subscriptions: [],
    });
    expect(record!.createdAt).toBeGreaterThanOrEqual(before - 5);
    expect(record!.lastAccessAt).toBeGreaterThanOrEqual(record!.createdAt);
  });

  it('keeps the principal that created the session, and none for a session created without one', async () => {
    const { store } = await open();
    const principal = { issuer: 'https://issuer.test/tenant "1"', subject: 'client:\n42' };
    const [owned, anonymous] = [newSession({ principal }), newSession()];
    await store.create(owned);
    await store.create(anonymous);
    expect((await store.touch(owned.id))!.principal).toEqual(principal);
    expect((await store.touch(owned.id))!.principal).toEqual(principal);
    expect((await store.touch(anonymous.id))!.principal).toBeUndefined();
  });

  it('refuses to create a session whose id is taken', async () => {
    const { store } = await open();
    const session = newSession();
    expect(await store.create(session)).toBe(true);
    expect(await store.create({ ...session, clientInfo: { name: 'intruder', version: '0' } })).toBe(false);
    expect((await store.touch(session.id))!.clientInfo.name).toBe('contract-client');
  });

  it('answers undefined for an unknown session, including ids full of glob characters', async () => {
    const { store } = await open();
    await store.create(newSession());
    expect(await store.touch(randomUUID())).toBeUndefined();
    expect(await store.touch('*')).toBeUndefined();
    expect(await store.touch('session:{*}\r\nFLUSHALL')).toBeUndefined();
  });

  it('keeps the log level and subscriptions', async () => {
    const { store } = await open();
    const session = newSession();
    await store.create(session);
    expect(await store.setLogLevel(session.id, 'warning')).toBe(true);
    expect(await store.subscribe(session.id, 'counter://a')).toBe(true);
    expect(await store.subscribe(session.id, 'counter://b')).toBe(true);
    expect(await store.subscribe(session.id, 'counter://a')).toBe(true);
    const record = await store.touch(session.id);
    expect(record!.logLevel).toBe('warning');
    expect(record!.subscriptions.sort()).toEqual(['counter://a', 'counter://b']);
    expect(await store.unsubscribe(session.id, 'counter://a')).toBe(true);
    expect((await store.touch(session.id))!.subscriptions).toEqual(['counter://b']);
  });

  it('indexes subscribers by URI across sessions', async () => {
    const { store } = await open();
    const [a, b, c] = [newSession(), newSession(), newSession()];
    for (const s of [a, b, c]) await store.create(s);
    await store.subscribe(a.id, 'counter://shared');
    await store.subscribe(b.id, 'counter://shared');
    await store.subscribe(c.id, 'counter://other');
    expect((await store.subscribers('counter://shared')).sort()).toEqual([a.id, b.id].sort());
    expect(await store.subscribers('counter://nobody')).toEqual([]);
    expect((await store.subscribedAmong('counter://shared', [c.id, b.id, randomUUID(), a.id])).sort()).toEqual([a.id, b.id].sort());
    expect(await store.subscribedAmong('counter://shared', [])).toEqual([]);
    expect(await store.countSubscribers('counter://shared')).toBe(2);
    expect(await store.countSubscribers('counter://nobody')).toBe(0);
    expect(await store.subscribedAmong('counter://nobody', [a.id])).toEqual([]);
    await store.unsubscribe(a.id, 'counter://shared');
    expect(await store.subscribers('counter://shared')).toEqual([b.id]);
  });

  it('does not let an unknown session subscribe or set a log level', async () => {
    const { store } = await open();
    const ghost = randomUUID();
    expect(await store.subscribe(ghost, 'counter://a')).toBe(false);
    expect(await store.setLogLevel(ghost, 'debug')).toBe(false);
    expect(await store.subscribers('counter://a')).toEqual([]);
  });

  it('deletes a session, its subscriptions and nothing else', async () => {
    const { store } = await open();
    const [gone, kept] = [newSession(), newSession()];
    await store.create(gone);
    await store.create(kept);
    await store.subscribe(gone.id, 'counter://a');
    await store.subscribe(kept.id, 'counter://a');
    expect(await store.delete(gone.id)).toBe(true);
    expect(await store.delete(gone.id)).toBe(false);
    expect(await store.touch(gone.id)).toBeUndefined();
    expect(await store.touch(kept.id)).toBeDefined();
    expect(await store.subscribers('counter://a')).toEqual([kept.id]);
  });

  it('expires a session after its TTL without requests, and slides the TTL on each touch', async () => {
    const { store, elapse } = await open(1);
    const [idle, busy] = [newSession(), newSession()];
    await store.create(idle);
    await store.create(busy);
    for (let i = 0; i < 3; i++) {
      await elapse(450);
      expect(await store.touch(busy.id)).toBeDefined();
    }
    await elapse(200);
    expect(await store.touch(idle.id)).toBeUndefined();
    expect(await store.touch(busy.id)).toBeDefined();
  });

  it('keeps an active subscribed session in the subscriber index past the TTL it subscribed with', async () => {
    const { store, elapse } = await open(1);
    const [active, idle] = [newSession(), newSession()];
    await store.create(active);
    await store.create(idle);
    await store.subscribe(active.id, 'counter://kept');
    await store.subscribe(idle.id, 'counter://kept');
    for (let i = 0; i < 5; i++) {
      await elapse(450);
      expect(await store.touch(active.id)).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await store.subscribers('counter://kept')).toContain(active.id);
    expect(await store.touch(idle.id)).toBeUndefined();
  });

  it('drops from a subscriber index only the sessions that are gone', async () => {
    const { store, elapse } = await open(1);
    const [active, idle] = [newSession(), newSession()];
    await store.create(active);
    await store.create(idle);
    await store.subscribe(active.id, 'counter://swept');
    await store.subscribe(idle.id, 'counter://swept');
    for (let i = 0; i < 3; i++) {
      await elapse(450);
      expect(await store.touch(active.id)).toBeDefined();
    }
    await store.forgetSubscribers('counter://swept', [active.id, idle.id]);
    expect(await store.subscribers('counter://swept')).toEqual([active.id]);
  });
});

describe('RedisSessionStore touches', () => {
  it('slide the TTL only once a tenth of it has passed, so most requests write nothing', async () => {
    const client: RedisClient = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'touch-writes' });
    await connectRedis(client);
    const store = new RedisSessionStore(client, `touch-${randomUUID().slice(0, 8)}:`, 60);
    const session = newSession();
    await store.create(session);
    const writes = async () => {
      const stats = String(await client.info('commandstats'));
      return ['pexpire', 'hset'].reduce((sum, name) => sum + Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0), 0);
    };
    const before = await writes();
    for (let i = 0; i < 5; i++) expect(await store.touch(session.id)).toBeDefined();
    expect((await writes()) - before).toBe(0);
    client.disconnect();
  });

  const calls = async (client: RedisClient, name: string) =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(String(await client.info('commandstats')))?.[1] ?? 0);
  const connect = async (name: string) => {
    const client: RedisClient = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name });
    await connectRedis(client);
    return client;
  };

  it('read the session with one plain HGETALL, no script', async () => {
    const client = await connect('touch-plain');
    const store = new RedisSessionStore(client, `plain-${randomUUID().slice(0, 8)}:`, 60);
    const session = newSession();
    await store.create(session);
    const [evalsha, hgetall] = [await calls(client, 'evalsha'), await calls(client, 'hgetall')];
    for (let i = 0; i < 5; i++) expect(await store.touch(session.id)).toBeDefined();
    expect(await calls(client, 'evalsha')).toBe(evalsha);
    expect((await calls(client, 'hgetall')) - hgetall).toBe(5);
    client.disconnect();
  });

  it('slide once for concurrent touches that find the slide due, and reset the TTL', async () => {
    const client = await connect('touch-due');
    const store = new RedisSessionStore(client, `due-${randomUUID().slice(0, 8)}:`, 2);
    const session = newSession();
    await store.create(session);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const before = await calls(client, 'pexpire');
    const left = await client.pttl(store.sessionKey(session.id));
    await Promise.all(Array.from({ length: 10 }, () => store.touch(session.id)));
    await expect.poll(() => calls(client, 'pexpire')).toBe(before + 1);
    expect(await client.pttl(store.sessionKey(session.id))).toBeGreaterThan(left);
    client.disconnect();
  });

  it('slide at once on a replica whose clock is behind the one that last slid', async () => {
    const client = await connect('touch-skew');
    const prefix = `skew-${randomUUID().slice(0, 8)}:`;
    const ahead = new RedisSessionStore(client, prefix, 60);
    const behind = new RedisSessionStore(client, prefix, 60, () => Date.now() - 10 * 60_000);
    const session = newSession();
    await ahead.create(session);
    const before = await calls(client, 'pexpire');
    expect(await behind.touch(session.id)).toBeDefined();
    await expect.poll(() => calls(client, 'pexpire')).toBe(before + 1);
    for (let i = 0; i < 3; i++) await behind.touch(session.id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await calls(client, 'pexpire')).toBe(before + 1);
    client.disconnect();
  });

  it('never bring back a session deleted while its slide was on its way', async () => {
    const client = await connect('touch-deleted');
    const store = new RedisSessionStore(client, `gone-${randomUUID().slice(0, 8)}:`, 1);
    const session = newSession();
    await store.create(session);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await calls(client, 'pexpire');
    const touched = store.touch(session.id);
    const deleted = store.delete(session.id);
    expect(await touched).toBeDefined();
    expect(await deleted).toBe(true);
    await expect.poll(() => calls(client, 'pexpire')).toBe(before + 1);
    expect(await client.exists(store.sessionKey(session.id))).toBe(0);
    expect(await store.touch(session.id)).toBeUndefined();
    client.disconnect();
  });
});

describe('RedisSessionStore when Redis is down', () => {
  it('fails fast with StoreUnavailableError and a readable reason', async () => {
    const client = createRedisClient({ settings: redisSettings('redis://127.0.0.1:1'), observer: NOOP_OBSERVER, name: 'down' });
    client.on('error', () => {});
    const store = new RedisSessionStore(client, 'down:', 60);
    const started = Date.now();
    const error = await store.touch(randomUUID()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/Redis/);
    expect(Date.now() - started).toBeLessThan(5000);
    client.disconnect();
  });
});
