import { describe, expect, it } from 'vitest';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { connectRedis, createRedisClient } from '../../src/backends/redis/connection.js';
import { LuaScript } from '../../src/backends/redis/lua-script.js';
import { newRequestCost, withRequestCost } from '../../src/backends/request-cost.js';
import { useRedisServer } from '../support/redis.js';
import { redisSettings } from '../support/redis-settings.js';

const redisServer = useRedisServer();

describe('Redis instrumentation', () => {
  it('attributes each command to the request whose async context issued it, and names scripts', async () => {
    const operations: string[] = [];
    const client = createRedisClient({
      settings: redisSettings(redisServer().url),
      observer: { ...NOOP_OBSERVER, storeCommand: (op) => operations.push(op) },
      name: 'cost',
    });
    await connectRedis(client);
    const script = new LuaScript('test_echo', 'reads', 'return ARGV[1]');
    const [first, second] = [newRequestCost(), newRequestCost()];
    await Promise.all([
      withRequestCost(first, async () => {
        await client.set('k', '1');
        await new Promise((resolve) => setTimeout(resolve, 5));
        await client.get('k');
      }),
      withRequestCost(second, async () => {
        await script.run(client, [], ['hello']);
      }),
    ]);
    expect(first.storeCommands).toBe(2);
    expect(first.storeSeconds).toBeGreaterThan(0);
    // The script's first run on this server: EVALSHA (NOSCRIPT), then EVAL.
    expect(second.storeCommands).toBe(2);
    expect(await script.run(client, [], ['again'])).toBe('again');
    expect(operations).toEqual(expect.arrayContaining(['set', 'get', 'test_echo', 'eval']));
    client.disconnect();
  });

  it('sends the commands of concurrent requests in one write and still charges each request its own', async () => {
    const client = createRedisClient({ settings: redisSettings(redisServer().url), observer: NOOP_OBSERVER, name: 'batch' });
    await connectRedis(client);
    // What the socket hands the kernel: one _write or _writev per flush.
    const socket = (client as unknown as { stream: Record<'_write' | '_writev', (...args: unknown[]) => unknown> }).stream;
    let writes = 0;
    for (const method of ['_write', '_writev'] as const) {
      const flush = socket[method].bind(socket);
      socket[method] = (...args: unknown[]) => {
        writes += 1;
        return flush(...args);
      };
    }
    const costs = Array.from({ length: 20 }, () => newRequestCost());
    await Promise.all(costs.map((cost, i) => withRequestCost(cost, () => (i % 2 ? client.get(`k${i}`) : client.hgetall(`h${i}`)))));
    expect(writes).toBe(1);
    expect(costs.map((c) => c.storeCommands)).toEqual(costs.map(() => 1));
    expect(costs.every((c) => c.storeSeconds > 0)).toBe(true);
    client.disconnect();
  });
});
