import { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecoveringTransport, versionNegotiation, type SessionChange } from '../../src/client/index.js';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { callTool, untilForgotten } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/** A 2025-era client on the recovering transport, counting the initializes it sends (the server sees the same). */
async function recoveringClient(url: string, rewrite?: (method: string, body: string) => Response | undefined) {
  const initializes = { count: 0 };
  const changes: SessionChange[] = [];
  const notes: Array<{ message: string; index: number }> = [];
  const streamsOpened: Array<string | undefined> = [];
  const countingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = typeof init?.body === 'string' ? init.body : '';
    if (body.includes('"method":"initialize"')) initializes.count += 1;
    const rewritten = rewrite?.(init?.method ?? 'GET', body);
    return rewritten ?? fetch(input, init);
  };
  const transport = new RecoveringTransport(new URL(url), {
    fetch: countingFetch,
    onSessionChange: (change) => changes.push(change),
    onStreamOpen: (sessionId) => streamsOpened.push(sessionId),
    reconnectionOptions: { initialReconnectionDelay: 50, maxReconnectionDelay: 500, reconnectionDelayGrowFactor: 1.5, maxRetries: 20 },
  });
  const client = new Client({ name: 'recovery-test', version: '1.0.0' }, { capabilities: { sampling: {} }, versionNegotiation: versionNegotiation('legacy') });
  client.setNotificationHandler('notifications/message', (n) => {
    notes.push(n.params.data as { message: string; index: number });
  });
  await client.connect(transport);
  const whoami = async () =>
    JSON.parse(((await client.callTool({ name: 'whoami', arguments: {} })).content as Array<{ text: string }>)[0]!.text) as { sessionId: string };
  return { client, transport, initializes, changes, notes, streamsOpened, whoami };
}

let redis: RedisProcess;
let onRedis: ServerProcess;
let shortTtl: ServerProcess;
let inMemory: ServerProcess;

beforeAll(async () => {
  redis = await RedisProcess.start();
  [onRedis, shortTtl, inMemory] = await Promise.all([
    ServerProcess.start('client-redis', { REDIS_URL: redis.url }),
    ServerProcess.start('client-ttl', { SESSION_TTL_SECONDS: '1' }),
    ServerProcess.start('client-memory', {}),
  ]);
});

afterAll(async () => {
  await Promise.all([onRedis, shortTtl, inMemory].map((s) => s?.stop('SIGKILL')));
  await redis?.dispose();
});

describe('transparent 404 recovery', () => {
  it('after TTL expiry: the next call resolves in a new session, counted once, reported old -> new', async () => {
    const c = await recoveringClient(shortTtl.url);
    expect(c.transport.era).toBe('legacy');
    const first = c.transport.sessionId!;
    await new Promise((resolve) => setTimeout(resolve, 1600));
    expect((await c.whoami()).sessionId).toBe(c.transport.sessionId);
    expect(c.transport.sessionId).not.toBe(first);
    expect(c.transport.recoveries).toBe(1);
    expect(c.changes).toEqual([{ previousSessionId: first, sessionId: c.transport.sessionId, cause: expect.stringMatching(/404/) }]);
    await c.client.close();
  });

  it('after a Redis flush', async () => {
    const c = await recoveringClient(onRedis.url);
    await c.whoami();
    const flushed = c.transport.sessionId!;
    await redis.flushAll();
    await untilForgotten([onRedis.url], flushed);
    expect((await c.whoami()).sessionId).toBe(c.transport.sessionId);
    expect(c.transport.recoveries).toBe(1);
    await c.client.close();
  });

  it('after a DELETE from a second client', async () => {
    const c = await recoveringClient(onRedis.url);
    const first = c.transport.sessionId!;
    expect((await fetch(onRedis.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': first } })).status).toBe(200);
    expect((await c.whoami()).sessionId).not.toBe(first);
    expect(c.transport.recoveries).toBe(1);
    await c.client.close();
  });

  it('after the replica restarted and lost its in-memory sessions', async () => {
    const c = await recoveringClient(inMemory.url);
    await c.whoami();
    await inMemory.stop('SIGTERM');
    await inMemory.start();
    expect((await c.whoami()).sessionId).toBe(c.transport.sessionId);
    expect(c.transport.recoveries).toBe(1);
    await c.client.close();
  });

  it('ten concurrent calls on a dead session cause exactly one initialize', async () => {
    const c = await recoveringClient(onRedis.url);
    expect(c.initializes.count).toBe(1);
    await fetch(onRedis.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': c.transport.sessionId! } });
    const results = await Promise.all(Array.from({ length: 10 }, () => c.whoami()));
    expect(new Set(results.map((r) => r.sessionId))).toEqual(new Set([c.transport.sessionId]));
    expect(c.initializes.count).toBe(2);
    expect(c.transport.recoveries).toBe(1);
    await c.client.close();
  });

  it('re-opens the GET stream on the new session: notifications keep coming', async () => {
    const c = await recoveringClient(onRedis.url);
    const first = c.transport.sessionId!;
    await c.transport.whenStreamOpen();
    await fetch(onRedis.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': first } });
    await c.whoami();
    await c.transport.whenStreamOpen();
    expect(c.streamsOpened).toEqual([first, c.transport.sessionId]);
    await c.client.callTool({ name: 'notify', arguments: { message: 'after-recovery', count: 3 } });
    await expect.poll(() => c.notes.filter((n) => n.message === 'after-recovery').length).toBe(3);
    await c.client.close();
  });

  it('a 404 straight after recovery is a real error, not a loop', async () => {
    const notFound = () =>
      new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }), {
        status: 404,
        headers: { 'Content-Type': 'application/json' },
      });
    let breakSessions = false;
    const c = await recoveringClient(onRedis.url, (method, body) =>
      breakSessions && method === 'POST' && body.includes('tools/call') ? notFound() : undefined,
    );
    breakSessions = true;
    await expect(c.client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow(/404|Session not found/);
    expect(c.initializes.count).toBe(2);
    expect(c.transport.recoveries).toBe(1);
    await c.client.close();
  });
});

describe('GET stream reconnection', () => {
  it('resumes with Last-Event-ID when the server closes the stream: notifications sent meanwhile arrive once each', async () => {
    const polling = await ServerProcess.start('client-polling', { REDIS_URL: redis.url, GET_STREAM_MAX_MS: '300', SSE_RETRY_MS: '100' });
    try {
      const c = await recoveringClient(polling.url);
      // A GET stream without Last-Event-ID starts live: notifying before it opened would lose the first ones.
      await c.transport.whenStreamOpen();
      for (let round = 0; round < 8; round++) {
        await callTool(polling.url, c.transport.sessionId!, 'notify', { message: 'poll', count: 5 });
        await new Promise((resolve) => setTimeout(resolve, 90));
      }
      await expect.poll(() => c.notes.filter((n) => n.message === 'poll').length, { timeout: 10_000 }).toBe(40);
      const indexes = c.notes.filter((n) => n.message === 'poll').map((n) => n.index);
      expect(indexes).toEqual(Array.from({ length: 40 }, (_, i) => i % 5));
      expect(c.transport.recoveries).toBe(0);
      await c.client.close();
    } finally {
      await polling.stop('SIGKILL');
    }
  });
});
