import { createHash } from 'node:crypto';
import { Cluster, Redis, type ChainableCommander, type Command, type RedisOptions } from 'ioredis';
import type { RedisSettings } from '../config.js';
import type { FleetObserver } from '../observability/observer.js';
import { currentRequestCost, type RequestCost } from './request-cost.js';

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

/**
 * Where and when a command was issued. With auto-pipelining a command is queued in its caller's
 * async context but written later, from the context of whichever call opened the batch: the cost
 * is taken when it is queued so that each request is charged its own commands.
 */
interface Issued {
  cost: RequestCost | undefined;
  at: number;
}

/** Times every command, reports it to the observer and adds it to the current request's cost. */
function instrument(client: RedisClient, observer: FleetObserver): void {
  const issued = new WeakMap<Command, Issued>();
  const original = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
  const patched = (command: Command, ...rest: unknown[]): unknown => {
    const { cost, at: started } = issued.get(command) ?? { cost: currentRequestCost(), at: performance.now() };
    const settle = (ok: boolean) => {
      const seconds = (performance.now() - started) / 1000;
      observer.redisCommand(operationName(command), seconds, ok);
      if (cost) {
        cost.redisCommands += 1;
        cost.redisSeconds += seconds;
      }
    };
    command.promise.then(() => settle(true), () => settle(false));
    return original(command, ...rest);
  };
  (client as { sendCommand: unknown }).sendCommand = patched;
  const pipeline = client.pipeline.bind(client) as (...args: unknown[]) => ChainableCommander;
  (client as { pipeline: unknown }).pipeline = (...args: unknown[]): ChainableCommander => {
    const batch = pipeline(...args);
    const queue = (batch as unknown as { sendCommand: (command: Command) => unknown }).sendCommand.bind(batch);
    (batch as unknown as { sendCommand: unknown }).sendCommand = (command: Command) => {
      issued.set(command, { cost: currentRequestCost(), at: performance.now() });
      return queue(command);
    };
    return batch;
  };
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
    // Commands issued while one event-loop turn's I/O is handled go out in one write, so Redis
    // reads them in one read and answers in one write: per command, its syscalls are what it costs.
    enableAutoPipelining: !subscriber,
  };
}

export interface RedisConnectionOptions {
  settings: RedisSettings;
  observer: FleetObserver;
  /** A subscriber connection keeps its offline queue so (re)subscriptions wait for the connection. */
  subscriber?: boolean;
  name: string;
}

export function createRedisClient({ settings, observer, subscriber = false, name }: RedisConnectionOptions): RedisClient {
  const options = { ...baseOptions(settings, subscriber), connectionName: name };
  let client: RedisClient;
  if (settings.clusterNodes.length > 0) {
    client = new Cluster(settings.clusterNodes, {
      redisOptions: options,
      enableOfflineQueue: subscriber,
      enableAutoPipelining: !subscriber,
      lazyConnect: true,
      clusterRetryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2000),
    });
  } else if (settings.sentinels.length > 0) {
    client = new Redis({ ...options, sentinels: settings.sentinels, name: settings.sentinelName });
  } else {
    client = new Redis(settings.url ?? 'redis://127.0.0.1:6379', options);
  }
  if (!subscriber) instrument(client, observer);
  return client;
}

/** Connects and waits until the client is ready, or fails with the connection error. */
export async function connectRedis(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return;
  await client.connect();
}
