import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createRedisClient, type RedisClient } from '../../src/backends/redis/connection.js';
import { InMemorySharedState } from '../../src/backends/memory/shared-state.js';
import { RedisSharedState } from '../../src/backends/redis/shared-state.js';
import { StateLimitError, type StateLimits } from '../../src/state/state-limits.js';
import { StoreInputError } from '../../src/backends/store-errors.js';
import type { SharedState } from '../../src/workload/types.js';
import { useRedisServer } from '../support/redis.js';
import { redisSettings } from '../support/redis-settings.js';
import { openPostgresReplica, usePostgresServer } from '../support/postgres.js';
import { PgSharedState } from '../../src/backends/postgres/shared-state.js';

const redisServer = useRedisServer();
const postgresServer = usePostgresServer();
const postgresCleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of postgresCleanups.splice(0)) await cleanup();
});

async function postgresState(limits: StateLimits): Promise<SharedState> {
  const connections = await openPostgresReplica(postgresServer().url);
  postgresCleanups.push(() => connections.close());
  return new PgSharedState(connections.db, connections.schema, limits);
}
const clients: RedisClient[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

async function redisState(limits: StateLimits): Promise<SharedState> {
  const client = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'state-contract' });
  clients.push(client);
  await connectRedis(client);
  return new RedisSharedState(client, `state-${randomUUID().slice(0, 8)}:`, limits);
}

const implementations: Array<[string, (limits: StateLimits) => Promise<SharedState> | SharedState]> = [
  ['InMemorySharedState', (limits) => new InMemorySharedState(limits)],
  ['RedisSharedState', redisState],
  ['PgSharedState', postgresState],
];

describe.each(implementations)('SharedState contract: %s', (_name, make) => {
  it('refuses to increment a value that is no integer (StoreInputError: the input is at fault), and keeps it', async () => {
    const state = await make({ ttlSeconds: 60, maxKeys: 10 });
    await state.set('word', 'abc');
    await expect(state.increment('word')).rejects.toBeInstanceOf(StoreInputError);
    expect(await state.get('word')).toBe('abc');
  });

  it('reads back what was set and counts increments', async () => {
    const state = await make({ ttlSeconds: 60, maxKeys: 10 });
    await state.set('a', 'x');
    expect(await state.get('a')).toBe('x');
    expect(await state.increment('n')).toBe(1);
    expect(await state.increment('n', 4)).toBe(5);
    expect(await state.get('missing')).toBeUndefined();
  });

  it('forgets a key its TTL after its last write, and slides the TTL on each write', async () => {
    // Writes 700 ms apart keep a 2 s TTL alive with room for a stalled test process; 2.8 s in all pass it.
    const state = await make({ ttlSeconds: 2, maxKeys: 10 });
    await state.set('idle', 'x');
    await state.increment('busy');
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 700));
      await state.increment('busy');
    }
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await state.get('idle')).toBeUndefined();
    expect(await state.get('busy')).toBe('4');
  });

  it('refuses new keys past the cap, keeps writing existing ones, and admits new ones once others expire', async () => {
    const state = await make({ ttlSeconds: 1, maxKeys: 2 });
    await state.increment('c1');
    await state.increment('c2');
    await expect(state.increment('c3')).rejects.toBeInstanceOf(StateLimitError);
    expect(await state.increment('c1')).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await state.increment('c3')).toBe(1);
  });
});
