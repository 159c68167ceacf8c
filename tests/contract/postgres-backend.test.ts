import { randomUUID } from 'node:crypto';
import type { JSONRPCMessage, ServerEvent } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { PgDatabase } from '../../src/backends/postgres/connection.js';
import { PgChangeEventBus } from '../../src/backends/postgres/event-bus.js';
import { InstancePresence } from '../../src/backends/postgres/presence.js';
import { migrate, SCHEMA_VERSION } from '../../src/backends/postgres/schema.js';
import { PgSessionStore } from '../../src/backends/postgres/session-store.js';
import { PgSharedState } from '../../src/backends/postgres/shared-state.js';
import { PgStreamManager } from '../../src/backends/postgres/stream-manager.js';
import { StoreInputError, StoreUnavailableError } from '../../src/backends/store-errors.js';
import { freePort } from '../../src/fleet/free-port.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import type { InstanceEnvelope, StreamEvent } from '../../src/streams/stream-manager.js';
import {
  freshSchema,
  openPostgresReplica,
  postgresSettings,
  terminateListenConnections,
  usePostgresServer,
  type PostgresReplica,
} from '../support/postgres.js';

const postgresServer = usePostgresServer();
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function connections(schema = freshSchema()): Promise<PostgresReplica> {
  const opened = await openPostgresReplica(postgresServer().url, schema);
  cleanups.push(() => opened.close());
  return opened;
}

/** Two replicas' stream managers on one schema. */
async function twoStreamManagers(): Promise<{ here: PgStreamManager; there: PgStreamManager; first: PostgresReplica }> {
  const first = await connections();
  const second = await connections(first.schema);
  const make = async (c: PostgresReplica) => {
    const manager = new PgStreamManager({ db: c.db, listener: c.listener, schema: c.schema, retentionSeconds: 60, maxEntriesPerStream: 10_000 });
    const presence = new InstancePresence(c.db, c.schema, manager.instanceId, 3000, c.listener);
    await manager.start();
    await presence.start();
    cleanups.push(async () => {
      await manager.close();
      await presence.close();
    });
    return manager;
  };
  return { here: await make(first), there: await make(second), first };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const note = (n: number, pad = 0): JSONRPCMessage => ({
  jsonrpc: '2.0',
  method: 'notifications/message',
  params: { level: 'info', data: { n, pad: 'x'.repeat(pad) } },
});
const dataOf = (event: StreamEvent) =>
  event.type === 'message' ? (event.message as unknown as { params: { data: { n: number; pad: string } } }).params.data : undefined;
const seqOf = (entryId: string) => Number(entryId.split('-')[0]);

describe('PostgreSQL stream log', () => {
  it('never reorders or loses concurrent appends to one stream from two replicas: ids follow commit order', async () => {
    const { here, there } = await twoStreamManagers();
    const session = randomUUID();
    const received: StreamEvent[] = [];
    const listener = await here.listen(session, 'g', { listenerId: 'l1', exclusive: false }, (e) => received.push(e));
    listener.start();
    const ids = await Promise.all(Array.from({ length: 200 }, (_, n) => (n % 2 === 0 ? here : there).publish(session, 'g', note(n))));
    await until(() => received.length === 200);
    const live = received.map((e) => ('entryId' in e ? seqOf(e.entryId) : -1));
    expect(live).toEqual(Array.from({ length: 200 }, (_, i) => live[0]! + i));
    expect(new Set(ids).size).toBe(200);
    // Each publish's own id names the message it appended.
    for (const event of received) expect(ids[dataOf(event)!.n]).toBe((event as { entryId: string }).entryId);
    const replay = await there.listen(session, 'g', { after: '0-0', listenerId: 'l2', exclusive: false }, () => {});
    expect(replay.backlog.map((e) => dataOf(e)!.n)).toEqual(received.map((e) => dataOf(e)!.n));
    await replay.close();
    await listener.close();
  });

  it('starts a log made again after the sweeper dropped it past the ids its listeners hold, so none of its entries is taken as seen', async () => {
    const { here, there, first } = await twoStreamManagers();
    const session = randomUUID();
    for (let n = 0; n < 3; n++) await there.publish(session, 'g', note(n));
    const received: StreamEvent[] = [];
    const listener = await here.listen(session, 'g', { listenerId: 'l1', exclusive: false }, (e) => received.push(e));
    listener.start();
    // What the sweeper does to a stream idle for the retention period.
    await first.db.query('test', `DELETE FROM ${first.schema}.stream_events WHERE session_id = $1`, [session]);
    await first.db.query('test', `DELETE FROM ${first.schema}.stream_heads WHERE session_id = $1`, [session]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let n = 3; n < 5; n++) await there.publish(session, 'g', note(n));
    await until(() => received.length === 2);
    expect(received.map((e) => dataOf(e)!.n)).toEqual([3, 4]);
    await listener.close();
  });

  it('trims a log whose ids do not start at 1 only once it holds more than its bound', async () => {
    const first = await connections();
    const manager = new PgStreamManager({ db: first.db, listener: first.listener, schema: first.schema, retentionSeconds: 60, maxEntriesPerStream: 3 });
    cleanups.push(() => manager.close());
    const session = randomUUID();
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await manager.publish(session, 'g', note(n)))!);
    const whole = await manager.listen(session, 'g', { after: '0-0', listenerId: 'l1', exclusive: false }, () => {});
    expect(whole.backlog.map((e) => (e.type === 'gap' ? 'gap' : dataOf(e)!.n))).toEqual([0, 1, 2]);
    await whole.close();
    for (let n = 3; n < 5; n++) ids.push((await manager.publish(session, 'g', note(n)))!);
    const trimmed = await manager.listen(session, 'g', { after: ids[0]!, listenerId: 'l2', exclusive: false }, () => {});
    expect(trimmed.backlog.map((e) => (e.type === 'gap' ? 'gap' : dataOf(e)!.n))).toEqual(['gap', 2, 3, 4]);
    await trimmed.close();
  });

  it("delivers messages over NOTIFY's 8000 bytes whole and in order with the small ones around them", async () => {
    const { here, there } = await twoStreamManagers();
    const session = randomUUID();
    const received: StreamEvent[] = [];
    const listener = await here.listen(session, 'g', { listenerId: 'l1', exclusive: false }, (e) => received.push(e));
    listener.start();
    const sizes = [10, 20_000, 10, 7_990, 100_000, 10, 8_100];
    for (const [n, pad] of sizes.entries()) await there.publish(session, 'g', note(n, pad));
    await until(() => received.length === sizes.length);
    expect(received.map((e) => dataOf(e))).toEqual(sizes.map((pad, n) => ({ n, pad: 'x'.repeat(pad) })));
    await listener.close();
  });

  it('delivers instance envelopes and server events over 8000 bytes whole and in order', async () => {
    const { here, there, first } = await twoStreamManagers();
    const atHere: InstanceEnvelope[] = [];
    here.onInstanceMessage((e) => atHere.push(e));
    const envelope = (n: number, pad: number): InstanceEnvelope => ({
      type: 'client-response',
      sessionId: randomUUID(),
      message: { jsonrpc: '2.0', id: n, result: { pad: 'y'.repeat(pad) } },
      publishedAt: Date.now(),
    });
    const sent = [envelope(1, 10), envelope(2, 30_000), envelope(3, 10)];
    for (const e of sent) expect(await there.sendToInstance(here.instanceId, e)).toBe(true);
    await there.broadcast(envelope(4, 9000));
    await until(() => atHere.length === 4);
    expect(atHere.slice(0, 3)).toEqual(sent);
    expect((atHere[3]!.message as unknown as { result: { pad: string } }).result.pad).toHaveLength(9000);

    const second = await connections(first.schema);
    const buses = [first, second].map((c) => new PgChangeEventBus({ db: c.db, listener: c.listener, schema: c.schema }));
    for (const bus of buses) {
      await bus.start();
      cleanups.push(() => bus.close());
    }
    const heard: ServerEvent[] = [];
    buses[1]!.subscribe((event) => heard.push(event));
    const events: ServerEvent[] = [
      { kind: 'resource_updated', uri: 'file:///small' },
      { kind: 'resource_updated', uri: `file:///${'z'.repeat(8000)}` },
      { kind: 'tools_list_changed', params: { _meta: { pad: 'p'.repeat(50_000) } } },
      { kind: 'resource_updated', uri: 'file:///last' },
    ];
    for (const event of events) await buses[0]!.publishAndWait(event);
    await until(() => heard.length === events.length);
    expect(heard).toEqual(events);
  });

  it('tells listeners they were interrupted when the LISTEN connection is terminated, and replay covers the gap', async () => {
    const { here, there } = await twoStreamManagers();
    const session = randomUUID();
    const events: StreamEvent[] = [];
    // Where the client stands when told: its stream ends there and it resumes from that id.
    let resumeFrom: string | undefined;
    const listener = await here.listen(session, 'g', { listenerId: 'l1', exclusive: true }, (e) => {
      events.push(e);
      if (e.type === 'interrupted') resumeFrom ??= listener.cursor;
    });
    listener.start();
    await there.publish(session, 'g', note(0));
    await until(() => events.length === 1);
    expect(await terminateListenConnections(postgresServer())).toBeGreaterThanOrEqual(2);
    await until(() => resumeFrom !== undefined);
    // Published while the listeners are away or reconnecting (the pool still works).
    for (let n = 1; n <= 3; n++) await there.publish(session, 'g', note(n));
    await listener.close();
    // Once the LISTEN connection is back, a resume from the cursor replays exactly what was missed.
    await until(async () => {
      try {
        const again = await here.listen(session, 'g', { after: resumeFrom, listenerId: 'l2', exclusive: true }, () => {});
        cleanups.push(() => again.close());
        return again.backlog.map((e) => dataOf(e)!.n).join(',') === '1,2,3';
      } catch (error) {
        if (error instanceof StoreUnavailableError) return false;
        throw error;
      }
    });
  });
});

describe('PostgreSQL as the store', () => {
  it('keeps sessions and their subscriptions across a restart of PostgreSQL', async () => {
    const replica = await connections();
    const store = new PgSessionStore(replica.db, replica.schema, 600);
    const session = { id: randomUUID(), protocolVersion: '2025-11-25', clientCapabilities: {}, clientInfo: { name: 'durable', version: '1' } };
    await store.create(session);
    await store.subscribe(session.id, 'file:///kept');
    await postgresServer().restart();
    let record;
    await until(async () => {
      record = await store.touch(session.id).catch(() => undefined);
      return record !== undefined;
    });
    expect(record).toMatchObject({ id: session.id, clientInfo: { name: 'durable' }, subscriptions: ['file:///kept'] });
  });

  it('brings three replicas migrating one new schema at once all up, with each migration applied once', async () => {
    const schema = freshSchema();
    const pools = [0, 1, 2].map((i) => new PgDatabase(postgresSettings(postgresServer().url, { schema }), NOOP_OBSERVER, `migrate-${i}`));
    cleanups.push(async () => {
      for (const pool of pools) await pool.close();
    });
    expect(await Promise.all(pools.map((pool) => migrate(pool, schema)))).toEqual([SCHEMA_VERSION, SCHEMA_VERSION, SCHEMA_VERSION]);
    const { rows } = await pools[0]!.query('test', `SELECT version FROM ${schema}.schema_version ORDER BY version`);
    expect(rows.map((row) => row.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('fails fast with StoreUnavailableError and a reason when PostgreSQL is unreachable or does not answer in time', async () => {
    const unreachable = new PgDatabase(
      postgresSettings(`postgresql://postgres@127.0.0.1:${await freePort()}/postgres`, { connectTimeoutMs: 500 }),
      NOOP_OBSERVER,
      'down',
    );
    cleanups.push(() => unreachable.close());
    const down = await unreachable.query('test', 'SELECT 1').catch((error: unknown) => error);
    expect(down).toBeInstanceOf(StoreUnavailableError);
    expect((down as Error).message).toBe('PostgreSQL is unreachable');
    const slow = new PgDatabase(postgresSettings(postgresServer().url, { statementTimeoutMs: 200 }), NOOP_OBSERVER, 'slow');
    cleanups.push(() => slow.close());
    const stuck = await slow.query('test', 'SELECT pg_sleep(5)').catch((error: unknown) => error);
    expect(stuck).toBeInstanceOf(StoreUnavailableError);
    expect((stuck as Error).message).toBe('PostgreSQL did not answer in time');
  });

  it('refuses input the database cannot hold with StoreInputError (a 400), not as the store being down', async () => {
    const replica = await connections();
    const store = new PgSessionStore(replica.db, replica.schema, 600);
    const session = { id: randomUUID(), protocolVersion: '2025-11-25', clientCapabilities: {}, clientInfo: { name: 'input', version: '1' } };
    await store.create(session);
    await expect(store.subscribe(session.id, 'file:///nul\u0000byte')).rejects.toBeInstanceOf(StoreInputError);
    const state = new PgSharedState(replica.db, replica.schema, { ttlSeconds: 60, maxKeys: 10 });
    await expect(state.set('key\u0000', 'v')).rejects.toBeInstanceOf(StoreInputError);
    await expect(state.set('counter', 'not a number').then(() => state.increment('counter'))).rejects.toBeInstanceOf(StoreInputError);
    expect(await store.touch(session.id)).toMatchObject({ subscriptions: [] });
  });

  it('survives the server ending idle pooled connections: the error is reported, the next query reconnects', async () => {
    const replica = await connections();
    await Promise.all([replica.db.query('test', 'SELECT pg_sleep(0.05)'), replica.db.query('test', 'SELECT pg_sleep(0.05)')]);
    expect(replica.db.pool.idleCount).toBeGreaterThanOrEqual(1);
    const ended = await postgresServer().query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'contract'`);
    expect(ended.length).toBeGreaterThanOrEqual(1);
    await until(() => replica.db.pool.idleCount === 0);
    expect((await replica.db.query('test', 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});
