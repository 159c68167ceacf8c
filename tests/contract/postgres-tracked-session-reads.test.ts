import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { PgSessionStore, type PgSessionRead } from '../../src/backends/postgres/session-store.js';
import { trackedSessionReads } from '../../src/backends/postgres/tracked-session-reads.js';
import type { SessionReadCache } from '../../src/sessions/session-read-cache.js';
import type { NewSession } from '../../src/sessions/session-store.js';
import { pollUntil } from '../../src/fleet/poll.js';
import { freshSchema, openPostgresReplica, terminateListenConnections, usePostgresServer, type PostgresReplica } from '../support/postgres.js';

const postgresServer = usePostgresServer();

interface Replica {
  store: PgSessionStore;
  reads: SessionReadCache<PgSessionRead>;
  connections: PostgresReplica;
  /** Operations this replica sent since the last call. */
  sent(): string[];
}

const opened: Replica[] = [];

async function replica(schema: string, ttlSeconds = 60): Promise<Replica> {
  let names: string[] = [];
  const observer = { ...NOOP_OBSERVER, storeCommand: (name: string) => void names.push(name) };
  const connections = await openPostgresReplica(postgresServer().url, schema, 'tracked', observer);
  const reads = await trackedSessionReads(connections.listener, schema, { maxEntries: 1000, maxAgeMs: 60_000 });
  const made: Replica = {
    store: new PgSessionStore(connections.db, schema, ttlSeconds, reads),
    reads,
    connections,
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
  pollUntil(async () => (r.reads.active ? true : undefined), { timeoutMs: 5000, timedOut: () => new Error('tracking never came on') });

async function pairWithSession(ttlSeconds = 60): Promise<{ a: Replica; b: Replica; session: NewSession }> {
  const schema = freshSchema();
  const [a, b] = [await replica(schema, ttlSeconds), await replica(schema, ttlSeconds)];
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

/** Announcements travel on the LISTEN connection, not with the write's answer: wait for one to arrive. */
const seenWithin = async <T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 2000): Promise<T> => {
  let last = await read();
  const deadline = Date.now() + timeoutMs;
  while (!done(last) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    last = await read();
  }
  return last;
};

afterEach(async () => {
  for (const r of opened.splice(0)) await r.connections.close();
});

describe('session reads kept coherent by PostgreSQL triggers (two replicas, one database)', () => {
  it('serve a warm touch without any query', async () => {
    const { b, session } = await pairWithSession();
    expect(await b.store.touch(session.id)).toMatchObject({ id: session.id, protocolVersion: '2025-11-25' });
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

  it('see their own writes at once, before the announcement', async () => {
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

  it('stop serving from the cache when the LISTEN connection drops, and start again once it is back', async () => {
    const { a, b, session } = await pairWithSession();
    await b.store.touch(session.id);
    await terminateListenConnections(postgresServer());
    await pollUntil(async () => (b.reads.active ? undefined : true), { timeoutMs: 2000, timedOut: () => new Error('the loss went unnoticed') });
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

  it('drop everything when the sessions table is truncated, and the rows the sweeper deletes', async () => {
    const { a, b, session } = await pairWithSession();
    await b.store.touch(session.id);
    await a.connections.db.query('test', `TRUNCATE ${a.connections.schema}.sessions CASCADE`);
    expect(
      await seenWithin(
        () => b.store.touch(session.id),
        (r) => r === undefined,
      ),
    ).toBeUndefined();
    expect(b.reads.active).toBe(true);
    const swept = newSession();
    await a.store.create(swept);
    await b.store.touch(swept.id);
    // Expired (as the database sees it) and removed by a sweep: no replica serves it from its cache.
    await a.connections.db.query('test', `UPDATE ${a.connections.schema}.sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [swept.id]);
    await a.connections.db.query('test', `DELETE FROM ${a.connections.schema}.sessions WHERE expires_at <= now()`);
    expect(
      await seenWithin(
        () => b.store.touch(swept.id),
        (r) => r === undefined,
      ),
    ).toBeUndefined();
  });
});
