import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { callTool, initialize, modernRequest, postModern, toolJson } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/** The least-privilege Redis user SECURITY.md recommends is enough for both eras. */
let redis: RedisProcess;
let server: ServerProcess;

beforeAll(async () => {
  redis = await RedisProcess.start();
  await redis.command(
    'ACL',
    'SETUSER',
    'mcp-fleet',
    'on',
    '>acl-test-password',
    '~mcp-fleet:*',
    '&mcp-fleet:*',
    '&__redis__:invalidate',
    '+@read',
    '+@write',
    '+@stream',
    '+@pubsub',
    '+@scripting',
    '+@connection',
    '-@dangerous',
    '+info',
  );
  server = await ServerProcess.start('acl', { REDIS_URL: redis.url, REDIS_USERNAME: 'mcp-fleet', REDIS_PASSWORD: 'acl-test-password' });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  await redis?.dispose();
});

describe('a fleet on a least-privilege Redis ACL user', () => {
  it('serves legacy sessions (store, notify, subscriptions) and modern calls', async () => {
    const session = await initialize(server.url);
    expect(toolJson(await callTool(server.url, session, 'notify', { message: 'acl', count: 2 }))).toMatchObject({ sent: 2 });
    expect(toolJson(await callTool(server.url, session, 'bump', { name: 'acl' }))).toMatchObject({ value: 1 });
    const modern = await postModern(server.url, modernRequest('tools/call', { name: 'bump', arguments: { name: 'acl' } }));
    expect(toolJson(modern)).toMatchObject({ value: 2 });
    expect(server.output).not.toMatch(/NOPERM/);
  });

  it('lets the replica cache session reads: repeated calls of one session do not read it again', async () => {
    const session = await initialize(server.url);
    await callTool(server.url, session, 'whoami');
    const reads = async () => Number(/cmdstat_hgetall:calls=(\d+)/.exec(String(await redis.command('INFO', 'commandstats')))?.[1] ?? 0);
    const before = await reads();
    for (let i = 0; i < 5; i += 1) expect((await callTool(server.url, session, 'whoami')).status).toBe(200);
    expect(await reads()).toBe(before);
    expect(server.output).not.toMatch(/session cache off/);
  });
});
