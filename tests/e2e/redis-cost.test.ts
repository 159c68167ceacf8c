import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { NOOP_OBSERVER, type FleetObserver, type RequestFinished } from '../../src/observability/observer.js';
import { createFleetServer, type FleetServer } from '../../src/server/fleet-server.js';
import { referenceWorkload } from '../../src/workload/reference.js';
import { callTool, initialize, modernRequest, post, postModern, request, toolJson } from '../support/raw-mcp.js';
import { TEST_REQUEST_STATE_KEY } from '../support/server-process.js';

/**
 * Counts, not timings: how many Redis commands each kind of request costs, as the metrics seam
 * reports them. These are the figures the Redis path is chosen on.
 */
let redis: RedisProcess;
const servers: FleetServer[] = [];
const finished: Array<RequestFinished & { replica: string }> = [];
const operations: string[] = [];

async function replica(name: string): Promise<string> {
  const observer: FleetObserver = {
    ...NOOP_OBSERVER,
    requestFinished: (event) => finished.push({ ...event, replica: name }),
    redisCommand: (operation) => operations.push(operation),
  };
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', POD_NAME: name, REDIS_URL: redis.url, METRICS_PORT: '0', REQUEST_STATE_KEYS: TEST_REQUEST_STATE_KEY });
  const server = await createFleetServer({ config, workload: referenceWorkload, observer });
  servers.push(server);
  const port = await server.listen();
  const url = `http://127.0.0.1:${port}/mcp`;
  await expect.poll(async () => (await fetch(url.replace('/mcp', '/readyz'))).status, { timeout: 10_000 }).toBe(200);
  return url;
}

/** Redis commands of the last finished request, waiting for its 'close' to be reported. */
async function lastCost(): Promise<RequestFinished> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return finished.at(-1)!;
}

beforeAll(async () => {
  redis = await RedisProcess.start();
});

afterAll(async () => {
  for (const server of servers) await server.shutdown();
  await redis?.dispose();
});

describe('Redis round trips per request', () => {
  it('initialize: one command; a tools/call on a warm replica: one; on a replica that never saw the session: one', async () => {
    const [a, b] = [await replica('cost-a'), await replica('cost-b')];
    const session = await initialize(a);
    expect(finished.find((f) => f.method === 'initialize')!.redisCommands).toBe(1);

    await callTool(a, session, 'whoami');
    const warm = await lastCost();
    expect(warm).toMatchObject({ method: 'tools/call', httpStatus: 200, redisCommands: 1, store: 'redis' });
    expect(warm.redisSeconds).toBeGreaterThan(0);

    await callTool(b, session, 'whoami');
    expect(await lastCost()).toMatchObject({ method: 'tools/call', redisCommands: 1, replica: 'cost-b' });
  });

  it('a notify of N messages costs 1 + N commands: each message is one atomic append-and-publish', async () => {
    const a = await replica('cost-c');
    const session = await initialize(a);
    operations.length = 0;
    await callTool(a, session, 'notify', { message: 'x', count: 5 });
    expect((await lastCost()).redisCommands).toBe(6);
    expect(operations.filter((op) => op === 'stream_publish')).toHaveLength(5);
    expect(operations.filter((op) => op === 'hgetall')).toHaveLength(1);
  });

  it('an unknown session costs one command and a 404', async () => {
    const a = await replica('cost-d');
    await post(a, request('tools/list'), '0e6a5f7c-1b2d-4e3f-9a8b-7c6d5e4f3a2b');
    expect(await lastCost()).toMatchObject({ httpStatus: 404, redisCommands: 1 });
  });

  it('a 2026-07-28 tools/call costs no Redis command at all, on any replica', async () => {
    const [a, b] = [await replica('cost-e'), await replica('cost-f')];
    operations.length = 0;
    for (const url of [a, b, a]) {
      const answer = await postModern(url, modernRequest('tools/call', { name: 'whoami', arguments: {} }));
      expect(answer.status).toBe(200);
      expect(answer.headers.get('mcp-session-id')).toBeNull();
      expect(toolJson(answer)).toMatchObject({ sessionId: null });
      expect(await lastCost()).toMatchObject({ era: 'modern', method: 'tools/call', httpStatus: 200, redisCommands: 0 });
    }
    expect(operations).toEqual([]);
  });
});
