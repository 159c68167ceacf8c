import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { Cluster, Redis, type Command, type RedisOptions } from 'ioredis';
import type { RedisSettings } from '../../config.js';
import type { ServerObserver } from '../../observability/observer.js';
import { currentRequestCost } from '../request-cost.js';

export type RedisClient = Redis | Cluster;

/** sha1 of each Lua script, so EVALSHA commands are reported under the script's name. */
const scriptNames = new Map<string, string>();

export function registerScriptName(lua: string, name: string): void {
  scriptNames.set(createHash('sha1').update(lua).digest('hex'), name);
}

function operationName(command: Command): string {
  if (command.name === 'evalsha') {
    const sha = String(command.args[0] ?? '');
    return scriptNames.get(sha) ?? 'evalsha';
  }
  return command.name;
}

/** Times every command, reports it to the observer and adds it to the current request's cost. */
function instrument(client: RedisClient, observer: ServerObserver): void {
  const original = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
  const patched = (command: Command, ...rest: unknown[]): unknown => {
    const started = performance.now();
    const cost = currentRequestCost();
    const settle = (ok: boolean) => {
      const seconds = (performance.now() - started) / 1000;
      observer.storeCommand(operationName(command), seconds, ok);
      if (cost) {
        cost.storeCommands += 1;
        cost.storeSeconds += seconds;
      }
    };
    command.promise.then(
      () => settle(true),
      () => settle(false),
    );
    return original(command, ...rest);
  };
  (client as { sendCommand: unknown }).sendCommand = patched;
}

/**
 * Corks the connection's socket at its first command of an event-loop turn and uncorks it once the
 * turn's I/O has been handled (setImmediate): the commands of every request that turn served go out
 * in one write, so Redis reads them in one read and answers in one write. On loopback each write
 * costs Redis far more than a small command does, so commands per syscall is what sets its CPU.
 * Commands keep their order and each its own reply; nothing waits for another command's reply.
 */
function oneWritePerTurn(redis: Redis): void {
  const send = redis.sendCommand.bind(redis) as (command: Command, ...rest: unknown[]) => unknown;
  let corked: Socket | undefined;
  const patched = (command: Command, ...rest: unknown[]): unknown => {
    const socket = redis.stream as Socket | undefined;
    if (corked === undefined && socket !== undefined && redis.status === 'ready') {
      corked = socket;
      socket.cork();
      setImmediate(() => {
        corked = undefined;
        socket.uncork();
      });
    }
    return send(command, ...rest);
  };
  (redis as { sendCommand: unknown }).sendCommand = patched;
}

/** Commands ioredis sends by itself when a subscriber connection comes back (autoResubscribe). */
const RESUBSCRIPTION = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'select']);

/**
 * ioredis re-sends a reconnected subscriber's SUBSCRIBE (and SELECT) without handling their
 * promises, so a connection closed before Redis answers them leaves a rejection unhandled. Marking
 * those promises handled changes nothing for a caller that awaits its own subscribe: it still gets
 * the rejection through its own chain.
 */
function handleOwnResubscriptions(redis: Redis): void {
  const send = redis.sendCommand.bind(redis) as (command: Command, ...rest: unknown[]) => unknown;
  const patched = (command: Command, ...rest: unknown[]): unknown => {
    if (RESUBSCRIPTION.has(command.name)) command.promise.catch(() => {});
    return send(command, ...rest);
  };
  (redis as { sendCommand: unknown }).sendCommand = patched;
}

/** The parts of ioredis's Cluster that hold its sharded subscriber connections (not public API). */
interface ShardedSubscriberInternals {
  subscriberGroupEmitter?: { on(event: '+subscriber', listener: () => void): void };
  shardedSubscribers?: { shardedSubscribers?: Map<string, { getInstance(): Redis | null }> };
}

/** The same for each sharded subscriber connection a Cluster opens, as it opens them. */
function handleShardedResubscriptions(cluster: Cluster): void {
  const internals = cluster as unknown as ShardedSubscriberInternals;
  const handled = new WeakSet<Redis>();
  internals.subscriberGroupEmitter?.on('+subscriber', () => {
    for (const sharded of internals.shardedSubscribers?.shardedSubscribers?.values() ?? []) {
      const redis = sharded.getInstance();
      if (redis && !handled.has(redis)) {
        handled.add(redis);
        handleOwnResubscriptions(redis);
      }
    }
  });
}

function baseOptions(settings: RedisSettings, subscriber: boolean): RedisOptions {
  return {
    username: settings.username,
    password: settings.password,
    tls: settings.tls ? {} : undefined,
    connectTimeout: settings.connectTimeoutMs,
    // A request must fail fast with 503 while Redis is away, not queue until it returns.
    enableOfflineQueue: subscriber,
    maxRetriesPerRequest: subscriber ? null : 1,
    commandTimeout: subscriber ? undefined : settings.commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    lazyConnect: true,
  };
}

export interface RedisConnectionOptions {
  settings: RedisSettings;
  observer: ServerObserver;
  /** A subscriber connection keeps its offline queue so (re)subscriptions wait for the connection. */
  subscriber?: boolean;
  name: string;
}

/**
 * The connection Redis sends client-tracking invalidations to (key-invalidations.ts), on
 * a single Redis or through Sentinel. RESP2, since Redis sends them to a RESP3 connection as push
 * frames, which ioredis drops; no automatic resubscription, since the connection's CLIENT ID must
 * be asked after each connect and before it subscribes, which ioredis's own resubscription beats.
 */
export function createInvalidationConnection(settings: RedisSettings, name: string): Redis {
  const options: RedisOptions = { ...baseOptions(settings, true), connectionName: name, protocol: 2, autoResubscribe: false };
  return settings.sentinels.length > 0
    ? new Redis({ ...options, sentinels: settings.sentinels, name: settings.sentinelName })
    : new Redis(settings.url ?? 'redis://127.0.0.1:6379', options);
}

export function createRedisClient({ settings, observer, subscriber = false, name }: RedisConnectionOptions): RedisClient {
  const options = { ...baseOptions(settings, subscriber), connectionName: name };
  let client: RedisClient;
  if (settings.clusterNodes.length > 0) {
    client = new Cluster(settings.clusterNodes, {
      redisOptions: options,
      enableOfflineQueue: subscriber,
      // One subscriber connection per master, for the shard channels (SSUBSCRIBE) of the streams.
      shardedSubscribers: subscriber,
      lazyConnect: true,
      clusterRetryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
    });
  } else if (settings.sentinels.length > 0) {
    client = new Redis({ ...options, sentinels: settings.sentinels, name: settings.sentinelName });
  } else {
    client = new Redis(settings.url ?? 'redis://127.0.0.1:6379', options);
  }
  if (subscriber) {
    if (client instanceof Redis) handleOwnResubscriptions(client);
    else handleShardedResubscriptions(client);
  }
  if (!subscriber) {
    instrument(client, observer);
    if (client instanceof Cluster) client.on('+node', (node: Redis) => oneWritePerTurn(node));
    else oneWritePerTurn(client);
  }
  return client;
}

/** Connects and waits until the client is ready, or fails with the connection error. */
export async function connectRedis(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return;
  await client.connect();
}

/**
 * Closes a connection within `quitTimeoutMs`, Redis reachable or not: QUIT when the connection is
 * ready (pending replies still arrive), then a hard disconnect. A connection that is not ready is
 * disconnected at once: its QUIT would wait in the offline queue for a Redis that may never return.
 */
export async function closeRedisConnection(client: RedisClient, quitTimeoutMs = 1000): Promise<void> {
  if (client.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, quitTimeoutMs)));
    await Promise.race([
      client.quit().then(
        () => undefined,
        () => undefined,
      ),
      timedOut,
    ]);
    clearTimeout(timer);
  }
  client.disconnect();
}
