import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { callTool, initialize, post, PROTOCOL_VERSION, request, toolJson } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/**
 * Redis out of memory with noeviction: every write is refused, and the replica answers each
 * request that needs one with the same 503 and reason, tool calls included, writing nothing.
 */
let redis: RedisProcess;
let server: ServerProcess;

beforeAll(async () => {
  redis = await RedisProcess.start();
  server = await ServerProcess.start('oom', { REDIS_URL: redis.url });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  await redis?.dispose();
});

/** How many keys hold `fragment` in their name (the raw reply of KEYS starts with its count). */
const keysNamed = async (fragment: string) => Number(/^\*(\d+)/.exec(await redis.command('KEYS', `*${fragment}*`))?.[1]);

describe('Redis out of memory (maxmemory reached, noeviction)', () => {
  it('refuses a bump of a new counter with the same 503 and reason as an initialize, and writes no key', async () => {
    const session = await initialize(server.url);
    await redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    await redis.command('CONFIG', 'SET', 'maxmemory', '1');
    try {
      const refused = await post(
        server.url,
        request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'oom', version: '1' } }),
      );
      expect(refused.status).toBe(503);
      const reason = refused.messages[0]?.error?.message as string;
      expect(reason).toMatch(/OOM/);

      const bump = await callTool(server.url, session, 'bump', { name: 'never-written' });
      expect(bump.status).toBe(503);
      expect(bump.headers.get('retry-after')).toBe('1');
      expect(bump.messages[0]).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: reason } });
      expect(await keysNamed('never-written')).toBe(0);
    } finally {
      await redis.command('CONFIG', 'SET', 'maxmemory', '0');
    }
    // Memory back: the same call writes.
    const bump = await callTool(server.url, session, 'bump', { name: 'never-written' });
    expect(bump.status).toBe(200);
    expect(toolJson(bump)).toMatchObject({ value: 1 });
    expect(await keysNamed('never-written')).toBe(1);
  });
});
