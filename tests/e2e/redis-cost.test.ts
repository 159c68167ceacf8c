import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentRequestCost } from '../../src/backends/request-cost.js';
import { loadConfig } from '../../src/config.js';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { NOOP_OBSERVER, type ServerObserver, type RequestFinished } from '../../src/observability/observer.js';
import { createFleetServer, type FleetServer } from '../../src/server/fleet-server.js';
import { referenceWorkload } from '../../src/workload/reference.js';
import { callTool, initialize, modernRequest, post, postModern, request, toolJson, untilForgotten } from '../support/raw-mcp.js';
import { TEST_REQUEST_STATE_KEY } from '../support/server-process.js';

/**
 * Counts, not timings: how many Redis commands each kind of request costs, as the metrics seam
 * reports them. These are the figures the Redis path is chosen on.
 */
let redis: RedisProcess;
const servers: FleetServer[] = [];
const finished: Array<RequestFinished & { replica: string }> = [];
/** Commands an HTTP request issued (not a timer's: heartbeat, readiness, reconnection). */
const operations: string[] = [];

async function replica(name: string): Promise<string> {
  const observer: ServerObserver = {
    ...NOOP_OBSERVER,
    requestFinished: (event) => finished.push({ ...event, replica: name }),
    storeCommand: (operation) => {
      if (currentRequestCost()) operations.push(operation);
    },
  };
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    POD_NAME: name,
    REDIS_URL: redis.url,
    METRICS_PORT: '0',
    REQUEST_STATE_KEYS: TEST_REQUEST_STATE_KEY,
  });
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
  it('initialize: one command; a replica reads a session once, then serves its calls with none until Redis announces a change', async () => {
    const [a, b] = [await replica('cost-a'), await replica('cost-b')];
    const session = await post(a, request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'cost', version: '1' } }));
    const id = session.headers.get('mcp-session-id')!;
    expect(finished.find((f) => f.method === 'initialize')!.storeCommands).toBe(1);

    await callTool(a, id, 'whoami');
    const cold = await lastCost();
    expect(cold).toMatchObject({ method: 'tools/call', httpStatus: 200, storeCommands: 1, store: 'redis' });
    expect(cold.storeSeconds).toBeGreaterThan(0);
    await callTool(a, id, 'whoami');
    expect(await lastCost()).toMatchObject({ method: 'tools/call', httpStatus: 200, storeCommands: 0, replica: 'cost-a' });

    await callTool(b, id, 'whoami');
    expect(await lastCost()).toMatchObject({ method: 'tools/call', storeCommands: 1, replica: 'cost-b' });
    await callTool(b, id, 'whoami');
    expect(await lastCost()).toMatchObject({ method: 'tools/call', storeCommands: 0, replica: 'cost-b' });

    // A change made through A (the log level) is announced to B, which reads the session again once.
    // Polled within 2 s, well under SESSION_CACHE_MAX_AGE_MS (5 s), after which B would read it anyway.
    await post(a, request('logging/setLevel', { level: 'error' }), id);
    await expect
      .poll(
        async () => {
          await callTool(b, id, 'whoami');
          return (await lastCost()).storeCommands;
        },
        { timeout: 2000, interval: 50 },
      )
      .toBe(1);
  });

  it('a deleted session is unknown on a replica that had it cached as soon as Redis announces it, well within SESSION_CACHE_MAX_AGE_MS', async () => {
    const [a, b] = [await replica('cost-g'), await replica('cost-h')];
    const session = await initialize(a);
    expect((await callTool(b, session, 'whoami')).status).toBe(200);
    expect((await callTool(b, session, 'whoami')).status).toBe(200);
    const deleted = await fetch(a, { method: 'DELETE', headers: { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } });
    expect(deleted.status).toBe(200);
    // Without the announcement B would serve its copy for SESSION_CACHE_MAX_AGE_MS (5 s).
    await untilForgotten([b], session, 1000);
  });

  it('a notify of N messages costs N commands on a replica that has the session cached: each message is one atomic append-and-publish', async () => {
    const a = await replica('cost-c');
    const session = await initialize(a);
    operations.length = 0;
    await callTool(a, session, 'notify', { message: 'x', count: 5 });
    expect((await lastCost()).storeCommands).toBe(5);
    expect(operations.filter((op) => op === 'stream_publish')).toHaveLength(5);
    expect(operations.filter((op) => op === 'hgetall')).toHaveLength(0);
  });

  it('an unknown session costs one command and a 404', async () => {
    const a = await replica('cost-d');
    await post(a, request('tools/list'), '0e6a5f7c-1b2d-4e3f-9a8b-7c6d5e4f3a2b');
    expect(await lastCost()).toMatchObject({ httpStatus: 404, storeCommands: 1 });
  });

  it('a 2026-07-28 tools/call costs no Redis command at all, on any replica', async () => {
    const [a, b] = [await replica('cost-e'), await replica('cost-f')];
    operations.length = 0;
    for (const url of [a, b, a]) {
      const answer = await postModern(url, modernRequest('tools/call', { name: 'whoami', arguments: {} }));
      expect(answer.status).toBe(200);
      expect(answer.headers.get('mcp-session-id')).toBeNull();
      expect(toolJson(answer)).toMatchObject({ sessionId: null });
      expect(await lastCost()).toMatchObject({ era: 'modern', method: 'tools/call', httpStatus: 200, storeCommands: 0 });
    }
    expect(operations).toEqual([]);
  });
});
