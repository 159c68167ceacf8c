import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ServerEvent } from '@modelcontextprotocol/server';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RedisSettings } from '../../src/config.js';
import type { ChangeEventBus, ChangeEventBusOptions } from '../../src/bus/event-bus.js';
import type { DeliveryPath } from '../../src/observability/observer.js';
import { MAX_ORIGIN_LENGTH, MAX_PAYLOAD_BYTES, MAX_URI_LENGTH } from '../../src/bus/event-envelope.js';
import { InMemoryChangeEventBus } from '../../src/backends/memory/event-bus.js';
import { RedisChangeEventBus } from '../../src/backends/redis/event-bus.js';
import { freePort } from '../../src/fleet/free-port.js';
import { RedisProcess, waitForPort } from '../../src/fleet/redis-process.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { StoreUnavailableError } from '../../src/backends/store-errors.js';
import { useRedisServer } from '../support/redis.js';
import { clusterReady, useRedisCluster } from '../support/redis-cluster.js';
import { redisSettings } from '../support/redis-settings.js';
import { openPostgresReplica, terminateListenConnections, usePostgresServer } from '../support/postgres.js';
import { PgChangeEventBus } from '../../src/backends/postgres/event-bus.js';
import { Spill } from '../../src/backends/postgres/spill.js';
import { channelsOf } from '../../src/backends/postgres/schema.js';

const redisServer = useRedisServer();

const redisCluster = useRedisCluster();

/** A master watched by one Sentinel, started on first use. */
function useRedisSentinel(): () => Promise<{ master: RedisProcess; sentinelPort: number }> {
  let starting: Promise<{ master: RedisProcess; sentinel: ChildProcess; sentinelPort: number }> | undefined;
  afterAll(async () => {
    const started = await starting?.catch(() => undefined);
    started?.sentinel.kill('SIGKILL');
    await started?.master.dispose();
  });
  return () => (starting ??= startSentinel());
}

async function startSentinel(): Promise<{ master: RedisProcess; sentinel: ChildProcess; sentinelPort: number }> {
  const master = await RedisProcess.start();
  const sentinelPort = await freePort();
  const config = path.join(master.dir, 'sentinel.conf');
  writeFileSync(
    config,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${master.dir}`,
      `sentinel monitor fleet 127.0.0.1 ${master.port} 1`,
      'sentinel down-after-milliseconds fleet 2000',
      '',
    ].join('\n'),
  );
  const sentinel = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
  await waitForPort(sentinelPort);
  return { master, sentinel, sentinelPort };
}

const redisSentinel = useRedisSentinel();

const postgresServer = usePostgresServer();

/** Replicas of one fleet: `a` and `b` are separate processes on Redis, the same bus in memory. */
interface Fleet {
  a: ChangeEventBus;
  b: ChangeEventBus;
}

interface Implementation {
  name: string;
  /** What a replica's onDelivered reports for an event another replica published. */
  remotePath: DeliveryPath;
  /** Builds a fleet whose buses share `prefix`; `options` are given to each replica's bus. */
  open(prefix: string, options: (replica: 'a' | 'b') => ChangeEventBusOptions): Promise<Fleet>;
  /** PUBLISHes a raw payload on the prefix's event channel (Redis only). */
  publishRaw?(prefix: string, payload: string): Promise<void>;
  /** Kills Redis; the returned function brings it back. */
  stopRedis?(): Promise<() => Promise<void>>;
  /** Closes every subscriber connection from the server side (CLIENT KILL TYPE pubsub). */
  dropSubscribers?(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];

function memoryImplementation(): Implementation {
  return {
    name: 'InMemoryChangeEventBus',
    remotePath: 'local',
    open: async (_prefix, options) => {
      const bus = new InMemoryChangeEventBus(options('a'));
      cleanups.push(() => bus.close());
      return { a: bus, b: bus };
    },
  };
}

interface RedisTopology {
  name: string;
  /** The servers to PUBLISH raw payloads through (the first) and to drop subscribers on (all). */
  servers(): Promise<RedisProcess[]>;
  settings(): Promise<RedisSettings>;
  /** Kills Redis; the returned function brings it back. */
  stop(): Promise<() => Promise<void>>;
}

function redisImplementation({ name, servers, settings, stop }: RedisTopology): Implementation {
  const connect = async (subscriber = false): Promise<RedisClient> => {
    const client = createRedisClient({ settings: await settings(), observer: NOOP_OBSERVER, subscriber, name: 'event-bus-contract' });
    client.on('error', () => {});
    cleanups.push(async () => client.disconnect());
    await connectRedis(client);
    return client;
  };
  const replica = async (prefix: string, options: ChangeEventBusOptions): Promise<ChangeEventBus> => {
    const [redis, subscriber] = await Promise.all([connect(), connect(true)]);
    const bus = new RedisChangeEventBus({ ...options, redis, subscriber, prefix });
    cleanups.push(() => bus.close());
    await bus.start();
    return bus;
  };
  return {
    name,
    remotePath: 'store',
    open: async (prefix, options) => {
      const [a, b] = await Promise.all([replica(prefix, options('a')), replica(prefix, options('b'))]);
      return { a, b };
    },
    // Through one node, so that one after the other the payloads reach subscribers in order.
    publishRaw: async (prefix, payload) => {
      await (await servers())[0]!.command('PUBLISH', `${prefix}server-events`, payload);
    },
    stopRedis: stop,
    dropSubscribers: async () => {
      let killed = 0;
      for (const server of await servers()) killed += Number((await server.command('CLIENT', 'KILL', 'TYPE', 'pubsub')).slice(1));
      if (killed < 2) throw new Error(`expected both replicas' subscribers to be killed, killed ${killed}`);
    },
  };
}

const singleRedis = redisImplementation({
  name: 'RedisChangeEventBus (single Redis)',
  servers: async () => [redisServer()],
  settings: async () => redisSettings(redisServer().url),
  stop: async () => {
    await redisServer().stop();
    return () => redisServer().restart();
  },
});

const sentinelRedis = redisImplementation({
  name: 'RedisChangeEventBus (Sentinel)',
  servers: async () => [(await redisSentinel()).master],
  settings: async () =>
    redisSettings('', { url: undefined, sentinels: [{ host: '127.0.0.1', port: (await redisSentinel()).sentinelPort }], sentinelName: 'fleet' }),
  stop: async () => {
    const { master } = await redisSentinel();
    await master.stop();
    return () => master.restart();
  },
});

const clusterRedis = redisImplementation({
  name: 'RedisChangeEventBus (Cluster)',
  servers: redisCluster,
  settings: async () => redisSettings('', { url: undefined, clusterNodes: (await redisCluster()).map((n) => ({ host: '127.0.0.1', port: n.port })) }),
  stop: async () => {
    const nodes = await redisCluster();
    await Promise.all(nodes.map((n) => n.stop()));
    return async () => {
      await Promise.all(nodes.map((n) => n.restart()));
      await clusterReady(nodes);
    };
  },
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const updated = (uri: string): ServerEvent => ({ kind: 'resource_updated', uri });
const isMarker = (event: ServerEvent) => event.kind === 'resource_updated' && event.uri.startsWith('marker:');

/** What a listener receives; `events` leaves the markers out. */
class Inbox {
  readonly all: ServerEvent[] = [];
  readonly unsubscribe: () => void;

  constructor(bus: ChangeEventBus) {
    this.unsubscribe = bus.subscribe((event) => this.all.push(event));
  }

  get events(): ServerEvent[] {
    return this.all.filter((event) => !isMarker(event));
  }

  has(uri: string): boolean {
    return this.all.some((event) => event.kind === 'resource_updated' && event.uri === uri);
  }
}

/**
 * Publishes a marker from `publisher` and waits until each inbox holds it: since one publisher's
 * events arrive in order, everything it published before has then arrived as well.
 */
async function settle(publisher: ChangeEventBus, inboxes: Inbox[]): Promise<void> {
  const uri = `marker:${randomUUID()}`;
  await publisher.publishAndWait(updated(uri));
  await until(() => inboxes.every((inbox) => inbox.has(uri)));
}

const kindsAndUris = (events: ServerEvent[]) => events.map((e) => (e.kind === 'resource_updated' ? e.uri : e.kind));

/** A fleet's key prefix stands for its schema. */
const schemaOf = (prefix: string) => `t_${prefix.replace(/[^a-z0-9]/g, '')}`;

const postgres: Implementation = {
  name: 'PgChangeEventBus',
  remotePath: 'store',
  open: async (prefix, options) => {
    const replica = async (name: 'a' | 'b') => {
      const connections = await openPostgresReplica(postgresServer().url, schemaOf(prefix));
      const bus = new PgChangeEventBus({ ...options(name), db: connections.db, listener: connections.listener, schema: connections.schema });
      cleanups.push(() => connections.close());
      cleanups.push(() => bus.close());
      await bus.start();
      return bus;
    };
    return { a: await replica('a'), b: await replica('b') };
  },
  publishRaw: async (prefix, payload) => {
    const connections = await openPostgresReplica(postgresServer().url, schemaOf(prefix));
    try {
      await new Spill(connections.db, connections.schema).notify('test', channelsOf(connections.schema).bus, payload);
    } finally {
      await connections.close();
    }
  },
  stopRedis: async () => {
    await postgresServer().stop();
    return () => postgresServer().restart();
  },
  dropSubscribers: async () => {
    if ((await terminateListenConnections(postgresServer())) < 2) throw new Error("expected both replicas' listen connections to be ended");
  },
};

describe.each([memoryImplementation(), singleRedis, sentinelRedis, clusterRedis, postgres])('ChangeEventBus contract: $name', (implementation) => {
  const open = (options: (replica: 'a' | 'b') => ChangeEventBusOptions = () => ({}), prefix = `bus-${randomUUID().slice(0, 8)}:`) =>
    implementation.open(prefix, options);

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('delivers an event published on one replica to every listener on every replica exactly once', async () => {
    const { a, b } = await open();
    const inboxes = [new Inbox(a), new Inbox(a), new Inbox(b), new Inbox(b)];
    await a.publishAndWait({ kind: 'tools_list_changed' });
    b.publish({ kind: 'prompts_list_changed' });
    await settle(a, inboxes);
    await settle(b, inboxes);
    for (const inbox of inboxes) {
      expect(kindsAndUris(inbox.events).sort()).toEqual(['prompts_list_changed', 'tools_list_changed']);
    }
  });

  it('preserves the order of one publisher’s events on every replica', async () => {
    const { a, b } = await open();
    const inboxes = [new Inbox(a), new Inbox(b)];
    const uris = Array.from({ length: 100 }, (_, i) => `file:///ordered/${i}`);
    for (const [i, uri] of uris.entries()) {
      if (i % 2 === 0) a.publish(updated(uri));
      else await a.publishAndWait(updated(uri));
    }
    await settle(a, inboxes);
    for (const inbox of inboxes) expect(kindsAndUris(inbox.events)).toEqual(uris);
  });

  it('stops delivering to a listener once it unsubscribes, and unsubscribing twice changes nothing', async () => {
    const { a, b } = await open();
    const leaving = new Inbox(b);
    const staying = new Inbox(b);
    await a.publishAndWait(updated('file:///before'));
    await settle(a, [leaving, staying]);
    leaving.unsubscribe();
    leaving.unsubscribe();
    await a.publishAndWait(updated('file:///after'));
    await settle(a, [staying]);
    expect(kindsAndUris(leaving.events)).toEqual(['file:///before']);
    expect(kindsAndUris(staying.events)).toEqual(['file:///before', 'file:///after']);
  });

  it('keeps delivering to the other listeners when one throws, and reports the throw', async () => {
    const errors = { a: [] as Error[], b: [] as Error[] };
    const { a, b } = await open((replica) => ({ onError: (error) => errors[replica].push(error) }));
    const thrower = (bus: ChangeEventBus) =>
      bus.subscribe((event) => {
        if (!isMarker(event)) throw new Error('listener failed');
      });
    thrower(a);
    const onA = new Inbox(a);
    thrower(b);
    const onB = new Inbox(b);
    await a.publishAndWait({ kind: 'resources_list_changed' });
    await settle(a, [onA, onB]);
    expect(kindsAndUris(onA.events)).toEqual(['resources_list_changed']);
    expect(kindsAndUris(onB.events)).toEqual(['resources_list_changed']);
    const reported = a === b ? errors.a : [...errors.a, ...errors.b];
    expect(reported.map((e) => e.message)).toEqual(['listener failed', 'listener failed']);
  });

  it('round-trips all four kinds of event with their params', async () => {
    const { a, b } = await open();
    const inboxes = [new Inbox(a), new Inbox(b)];
    const meta = { _meta: { progressToken: 7, 'io.example/trace': 'abc' }, reason: 'deploy' };
    const events: ServerEvent[] = [
      { kind: 'tools_list_changed', params: meta },
      { kind: 'prompts_list_changed', params: { _meta: { progressToken: 'p' } } },
      { kind: 'resources_list_changed' },
      { kind: 'resource_updated', uri: 'file:///a b/ü.txt?x=1#y', params: { nested: { list: [1, 'two', null] } } },
    ];
    for (const event of events) await a.publishAndWait(event);
    await settle(a, inboxes);
    for (const inbox of inboxes) expect(inbox.events).toEqual(events);
  });

  it('refuses an event the bus cannot carry, before delivering it anywhere', async () => {
    const errors: Error[] = [];
    const { a, b } = await open(() => ({ onError: (error) => errors.push(error) }));
    const inboxes = [new Inbox(a), new Inbox(b)];
    const invalid = [
      { kind: 'tools_changed' },
      { kind: 'resource_updated' },
      { kind: 'resource_updated', uri: 'x'.repeat(MAX_URI_LENGTH + 1) },
      { kind: 'tools_list_changed', params: ['not', 'an', 'object'] },
    ] as unknown as ServerEvent[];
    for (const event of invalid) await expect(a.publishAndWait(event)).rejects.toBeInstanceOf(TypeError);
    expect(() => a.publish(invalid[0]!)).not.toThrow();
    await until(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(TypeError);
    await settle(a, inboxes);
    for (const inbox of inboxes) expect(inbox.events).toEqual([]);
  });

  it('does not echo an event back to the listener that published it from inside its call', async () => {
    const { a, b } = await open();
    const echoes: ServerEvent[] = [];
    a.subscribe((event) => {
      if (event.kind === 'tools_list_changed') a.publish({ kind: 'prompts_list_changed' });
      else if (!isMarker(event)) echoes.push(event);
    });
    const others = [new Inbox(a), new Inbox(b)];
    await a.publishAndWait({ kind: 'tools_list_changed' });
    await settle(a, others);
    expect(echoes).toEqual([]);
    for (const inbox of others) expect(kindsAndUris(inbox.events).sort()).toEqual(['prompts_list_changed', 'tools_list_changed']);
  });

  it('keeps fleets with different key prefixes apart', async () => {
    const first = await open();
    const second = await open();
    const inFirst = [new Inbox(first.a), new Inbox(first.b)];
    const inSecond = [new Inbox(second.a), new Inbox(second.b)];
    await first.a.publishAndWait(updated('file:///first'));
    await second.a.publishAndWait(updated('file:///second'));
    // Each marker is published after the other fleet's event was handed over, so a subscriber that
    // wrongly received that event would have it before the marker.
    await settle(first.a, inFirst);
    await settle(second.a, inSecond);
    for (const inbox of inFirst) expect(kindsAndUris(inbox.events)).toEqual(['file:///first']);
    for (const inbox of inSecond) expect(kindsAndUris(inbox.events)).toEqual(['file:///second']);
  });

  it('reports each delivery as local on the publishing replica and through Redis on the others', async () => {
    const delivered = { a: [] as Array<[DeliveryPath, number]>, b: [] as Array<[DeliveryPath, number]> };
    const { a, b } = await open((replica) => ({ onDelivered: (path, seconds) => delivered[replica].push([path, seconds]) }));
    const inboxes = [new Inbox(a), new Inbox(b)];
    await a.publishAndWait(updated('file:///from-a'));
    await settle(a, inboxes);
    await b.publishAndWait(updated('file:///from-b'));
    await settle(b, inboxes);
    const remote = implementation.remotePath;
    if (a === b) {
      expect(delivered.a.map(([path]) => path)).toEqual(['local', 'local', 'local', 'local']);
    } else {
      expect(delivered.a.map(([path]) => path)).toEqual(['local', 'local', remote, remote]);
      expect(delivered.b.map(([path]) => path)).toEqual([remote, remote, 'local', 'local']);
    }
    for (const [, seconds] of [...delivered.a, ...delivered.b]) {
      expect(seconds).toBeGreaterThanOrEqual(0);
      expect(seconds).toBeLessThan(5);
    }
  });

  it.runIf(implementation.publishRaw)('ignores malformed payloads on the channel and keeps delivering', async () => {
    const prefix = `bus-${randomUUID().slice(0, 8)}:`;
    const errors: Error[] = [];
    const { a, b } = await open(() => ({ onError: (error) => errors.push(error) }), prefix);
    const inboxes = [new Inbox(a), new Inbox(b)];
    const envelope = (e: unknown, o: unknown = 'elsewhere', t: unknown = Date.now()) => JSON.stringify({ o, t, e });
    const garbage = [
      'not json',
      '',
      'null',
      '[]',
      '"a string"',
      '{}',
      envelope({ kind: 'tools_list_changed' }, ''),
      envelope({ kind: 'tools_list_changed' }, 42),
      envelope({ kind: 'tools_list_changed' }, 'x'.repeat(MAX_ORIGIN_LENGTH + 1)),
      envelope({ kind: 'tools_list_changed' }, 'elsewhere', 'yesterday'),
      envelope({ kind: 'tools_list_changed' }, 'elsewhere', null),
      envelope(null),
      envelope('tools_list_changed'),
      envelope({ kind: 'TOOLS_LIST_CHANGED' }),
      envelope({ kind: 'resource_updated' }),
      envelope({ kind: 'resource_updated', uri: 17 }),
      envelope({ kind: 'resource_updated', uri: '' }),
      envelope({ kind: 'resource_updated', uri: 'x'.repeat(MAX_URI_LENGTH + 1) }),
      envelope({ kind: 'tools_list_changed', params: 'p' }),
      envelope({ kind: 'tools_list_changed', params: null }),
      envelope({ kind: 'tools_list_changed', params: { _meta: { progressToken: {} } } }),
      envelope({ kind: 'tools_list_changed', pad: 'x'.repeat(MAX_PAYLOAD_BYTES) }),
    ];
    for (const payload of garbage) await implementation.publishRaw!(prefix, payload);
    // A well-formed envelope from an unknown replica is delivered, with unknown fields dropped;
    // once it is in, so is (and was ignored) all the garbage sent before it.
    await implementation.publishRaw!(prefix, envelope({ kind: 'resource_updated', uri: 'file:///raw', extra: true }));
    await until(() => inboxes.every((inbox) => inbox.has('file:///raw')));
    await a.publishAndWait({ kind: 'tools_list_changed' });
    await settle(a, inboxes);
    for (const inbox of inboxes) expect(inbox.events).toEqual([{ kind: 'resource_updated', uri: 'file:///raw' }, { kind: 'tools_list_changed' }]);
    expect(errors).toEqual([]);
  });

  it.runIf(implementation.dropSubscribers)('receives again once its subscriber has reconnected and resubscribed', async () => {
    const { a, b } = await open();
    const onB = new Inbox(b);
    await settle(a, [onB]);
    await implementation.dropSubscribers!();
    // What is published while B is away is lost to it: publish until one gets through.
    let attempt = 0;
    await until(async () => {
      const uri = `file:///after-reconnect/${attempt++}`;
      await a.publishAndWait(updated(uri));
      await new Promise((resolve) => setTimeout(resolve, 50));
      return onB.has(uri);
    }, 10_000);
    await a.publishAndWait({ kind: 'tools_list_changed' });
    await settle(a, [onB]);
    expect(kindsAndUris(onB.events).at(-1)).toBe('tools_list_changed');
  });

  it.runIf(implementation.stopRedis)('rejects with StoreUnavailableError while Redis is down, and publish() reports it', async () => {
    const errors: Error[] = [];
    const { a, b } = await open(() => ({ onError: (error) => errors.push(error) }));
    const onA = new Inbox(a);
    const onB = new Inbox(b);
    const restart = await implementation.stopRedis!();
    try {
      await expect(a.publishAndWait(updated('file:///while-down'))).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(() => a.publish(updated('file:///while-down-too'))).not.toThrow();
      await until(() => errors.length === 1);
      expect(errors[0]).toBeInstanceOf(StoreUnavailableError);
    } finally {
      await restart();
    }
    // The publishing replica's listeners had both events at once; nothing reached the other replica.
    expect(kindsAndUris(onA.events)).toEqual(['file:///while-down', 'file:///while-down-too']);
    expect(onB.events).toEqual([]);
  });
});
