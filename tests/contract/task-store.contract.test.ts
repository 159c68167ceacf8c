import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisSettings } from '../../src/config.js';
import { InMemoryTaskStore } from '../../src/backends/memory/task-store.js';
import { RedisTaskStore } from '../../src/backends/redis/task-store.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { TaskLimitError, type TaskRecord, type TaskStore, type TaskStoreLimits } from '../../src/tasks/task-store.js';
import { ended, newTaskId, updateTask } from '../../src/tasks/task-updates.js';
import { useRedisServer } from '../support/redis.js';
import { useRedisCluster } from '../support/redis-cluster.js';
import { redisSettings } from '../support/redis-settings.js';
import { openPostgresReplica, usePostgresServer, freshSchema } from '../support/postgres.js';
import { PgTaskStore } from '../../src/backends/postgres/task-store.js';

const redisServer = useRedisServer();
const redisCluster = useRedisCluster();
const clients: RedisClient[] = [];
const postgresServer = usePostgresServer();
const postgresCleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of postgresCleanups.splice(0)) await cleanup();
});

async function postgresPair(): Promise<Pair> {
  const schema = freshSchema();
  const make = async () => {
    const connections = await openPostgresReplica(postgresServer().url, schema);
    postgresCleanups.push(() => connections.close());
    return new PgTaskStore(connections.db, schema);
  };
  return { a: await make(), b: await make() };
}

afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

/** Two replicas' views of one store (`a` and `b`); in memory there is one process, so both are the same store. */
interface Pair {
  a: TaskStore;
  b: TaskStore;
}

function redisPair(settings: () => Promise<RedisSettings>) {
  return async (): Promise<Pair> => {
    const prefix = `tasks-${randomUUID().slice(0, 8)}:`;
    const make = async () => {
      const client = createRedisClient({ settings: { ...(await settings()), keyPrefix: prefix }, observer: NOOP_OBSERVER, name: 'task-contract' });
      clients.push(client);
      await connectRedis(client);
      return new RedisTaskStore(client, prefix);
    };
    return { a: await make(), b: await make() };
  };
}

const implementations: Array<[string, () => Promise<Pair>]> = [
  [
    'InMemoryTaskStore',
    async () => {
      const store = new InMemoryTaskStore();
      return { a: store, b: store };
    },
  ],
  ['PgTaskStore', postgresPair],
  ['RedisTaskStore (single)', redisPair(async () => redisSettings(redisServer().url))],
  [
    'RedisTaskStore (Cluster)',
    redisPair(async () => redisSettings('', { url: undefined, clusterNodes: (await redisCluster()).map((n) => ({ host: '127.0.0.1', port: n.port })) })),
  ],
];

const LIMITS: TaskStoreLimits = { maxActivePerPrincipal: 50, maxStored: 10_000 };

function record(overrides: Partial<TaskRecord> = {}): TaskRecord {
  const now = Date.now();
  return {
    taskId: newTaskId(),
    principal: `p-${randomUUID()}`,
    tool: 'slow_compute',
    args: { seconds: 1 },
    status: 'working',
    createdAt: now,
    lastUpdatedAt: now,
    ttlMs: 60_000,
    pollIntervalMs: 1000,
    round: 1,
    owner: 'instance-x',
    attempt: 1,
    resumable: false,
    version: 1,
    ...overrides,
  };
}

describe.each(implementations)('TaskStore contract: %s', (_name, makePair) => {
  it('a created task is readable at once through every replica, at version 1', async () => {
    const { a, b } = await makePair();
    const task = record({ args: { nested: { list: [1, 'two'] } } });
    await a.create(task, LIMITS);
    expect(await b.get(task.taskId)).toEqual({ ...task, version: 1 });
    expect(await b.get(newTaskId())).toBeUndefined();
    expect(await b.getMany([task.taskId, 'nope'])).toEqual([{ ...task, version: 1 }, undefined]);
  });

  it('compare-and-set: of two writers from one version exactly one wins, and the version moves on', async () => {
    const { a, b } = await makePair();
    const task = record();
    await a.create(task, LIMITS);
    const outcomes = await Promise.all([
      a.compareAndSet({ ...task, statusMessage: 'from a', version: 2 }),
      b.compareAndSet({ ...task, statusMessage: 'from b', version: 2 }),
    ]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const stored = await a.get(task.taskId);
    expect(stored?.version).toBe(2);
    expect(stored?.statusMessage).toBe(outcomes[0] ? 'from a' : 'from b');
    expect(await a.compareAndSet({ ...task, version: 2 })).toBe(false);
    expect(await b.compareAndSet({ ...stored!, status: 'input_required', version: 3 })).toBe(true);
  });

  it('terminal states are final: no write replaces a completed, failed or cancelled task', async () => {
    const { a, b } = await makePair();
    for (const status of ['completed', 'failed', 'cancelled'] as const) {
      const task = record();
      await a.create(task, LIMITS);
      const end = ended(
        task,
        {
          status,
          ...(status === 'completed' ? { result: { content: [], isError: true } } : {}),
          ...(status === 'failed' ? { error: { code: -32603, message: 'x' } } : {}),
        },
        Date.now(),
        60_000,
      );
      expect(await a.compareAndSet({ ...end, version: 2 })).toBe(true);
      expect(await b.compareAndSet({ ...end, status: 'working', version: 3 })).toBe(false);
      expect(await updateTask(b, task.taskId, (current) => ({ ...current, status: 'working' }))).toBeUndefined();
      const stored = await b.get(task.taskId);
      expect(stored?.status).toBe(status);
      expect(stored?.owner).toBeUndefined();
      if (status === 'completed') expect(stored?.result).toEqual({ content: [], isError: true });
    }
  });

  it('updateTask retries from a fresh read when another writer came first', async () => {
    const { a, b } = await makePair();
    const task = record({ args: { n: 0 } });
    await a.create(task, LIMITS);
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => updateTask(i % 2 ? a : b, task.taskId, (current) => ({ ...current, args: { n: (current.args.n as number) + 1 } }))),
    );
    const stored = await a.get(task.taskId);
    expect(stored?.args.n).toBe(8);
    expect(stored?.version).toBe(9);
  });

  it('a task is purged when its TTL runs out, and not before', async () => {
    const { a, b } = await makePair();
    const kept = record();
    const short = record({ ttlMs: 200 });
    await a.create(kept, LIMITS);
    await a.create(short, LIMITS);
    const deadline = Date.now() + 5000;
    while ((await b.get(short.taskId)) !== undefined) {
      if (Date.now() > deadline) throw new Error('the short task was not purged within 5 s of its TTL');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await b.get(kept.taskId)).toBeDefined();
    expect(await b.compareAndSet({ ...short, status: 'completed', version: 2 })).toBe(false);
  });

  it('limits: at most maxActivePerPrincipal active tasks per caller under concurrency; an ended one frees its place', async () => {
    const { a, b } = await makePair();
    const limits = { maxActivePerPrincipal: 4, maxStored: 10_000 };
    const principal = `p-${randomUUID()}`;
    const tasks = Array.from({ length: 10 }, () => record({ principal }));
    const results = await Promise.allSettled(tasks.map((task, i) => (i % 2 ? a : b).create(task, limits)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ limit: 'active_per_principal', max: 4 });
    expect(await a.countActive(principal)).toBe(4);
    // Another caller is not affected.
    await b.create(record(), limits);
    const first = tasks[results.findIndex((r) => r.status === 'fulfilled')]!;
    expect(await a.compareAndSet({ ...ended(first, { status: 'cancelled' }, Date.now(), 1000), version: 2 })).toBe(true);
    expect(await b.countActive(principal)).toBe(3);
    await a.create(record({ principal }), limits);
    await expect(a.create(record({ principal }), limits)).rejects.toBeInstanceOf(TaskLimitError);
  });

  it('limits: at most maxStored tasks in the store', async () => {
    const { a, b } = await makePair();
    const limits = { maxActivePerPrincipal: 50, maxStored: 3 };
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).create(record(), limits)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ limit: 'stored', max: 3 });
  });

  it('the owner index lists who runs what; a claim moves the task to its new owner', async () => {
    const { a, b } = await makePair();
    const dead = `dead-${randomUUID()}`;
    const tasks = [record({ owner: dead }), record({ owner: dead }), record({ owner: undefined, status: 'input_required' })];
    for (const task of tasks) await a.create(task, LIMITS);
    expect(await b.owners()).toContain(dead);
    expect((await b.ownedBy(dead)).sort()).toEqual([tasks[0]!.taskId, tasks[1]!.taskId].sort());
    expect(await b.compareAndSet({ ...tasks[0]!, owner: 'alive', version: 2 })).toBe(true);
    expect(await a.ownedBy(dead)).toEqual([tasks[1]!.taskId]);
    expect(await a.ownedBy('alive')).toEqual([tasks[0]!.taskId]);
    expect(await a.compareAndSet({ ...ended(tasks[1]!, { status: 'failed', error: { code: -32603, message: 'x' } }, Date.now(), 1000), version: 2 })).toBe(
      true,
    );
    expect(await a.ownedBy(dead)).toEqual([]);
    expect(await b.owners()).not.toContain(dead);
  });

  it('exactly one of several replicas claims an orphan', async () => {
    const { a, b } = await makePair();
    const dead = `dead-${randomUUID()}`;
    const task = record({ owner: dead, resumable: true });
    await a.create(task, LIMITS);
    const claims = await Promise.all(
      ['r1', 'r2', 'r3', 'r4'].map((claimant, i) =>
        updateTask(i % 2 ? a : b, task.taskId, (current) =>
          current.owner === dead ? { ...current, owner: claimant, attempt: current.attempt + 1 } : undefined,
        ),
      ),
    );
    const winners = claims.filter((claim) => claim !== undefined);
    expect(winners).toHaveLength(1);
    const stored = await b.get(task.taskId);
    expect(stored?.owner).toBe(winners[0]!.owner);
    expect(stored?.attempt).toBe(2);
    expect(await b.ownedBy(winners[0]!.owner!)).toEqual([task.taskId]);
    for (const loser of ['r1', 'r2', 'r3', 'r4'].filter((r) => r !== winners[0]!.owner)) expect(await a.ownedBy(loser)).toEqual([]);
  });

  it('unindex drops stale entries, and the owner with its last one', async () => {
    const { a, b } = await makePair();
    const owner = `o-${randomUUID()}`;
    const task = record({ owner });
    await a.create(task, LIMITS);
    await b.unindex(owner, [task.taskId]);
    expect(await a.ownedBy(owner)).toEqual([]);
    expect(await a.owners()).not.toContain(owner);
  });
});
