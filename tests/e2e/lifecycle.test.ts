import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { callTool, initialize, modernRequest, post, request, SseStream, toolJson } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

let redis: RedisProcess;

beforeAll(async () => {
  redis = await RedisProcess.start();
});

afterAll(async () => {
  await redis?.dispose();
});

describe('stateless mode', () => {
  it('serves requests with no session id, issues none, and refuses GET and DELETE', async () => {
    const server = await ServerProcess.start('stateless', { SESSION_MODE: 'stateless', REDIS_URL: redis.url });
    try {
      const init = await post(server.url, request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } }));
      expect(init.status).toBe(200);
      expect(init.headers.get('mcp-session-id')).toBeNull();
      const whoami = await post(server.url, request('tools/call', { name: 'whoami', arguments: {} }));
      expect(whoami.status).toBe(200);
      expect(toolJson(whoami)).toEqual({ replica: 'stateless', sessionId: null });
      expect((await fetch(server.url, { headers: { Accept: 'text/event-stream' } })).status).toBe(405);
      expect((await fetch(server.url, { method: 'DELETE' })).status).toBe(405);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe('SSE polling of the standalone stream', () => {
  it('closes a GET stream after GET_STREAM_MAX_MS with a retry hint; the client resumes without loss', async () => {
    const server = await ServerProcess.start('polling', { REDIS_URL: redis.url, GET_STREAM_MAX_MS: '400', SSE_RETRY_MS: '250' });
    try {
      const session = await initialize(server.url);
      const first = await SseStream.open(server.url, session);
      await first.waitFor((s) => s.frames.length >= 1);
      expect(first.frames[0]).toMatchObject({ data: '', retry: 250 });
      await callTool(server.url, session, 'notify', { message: 'a', count: 2 });
      await first.waitFor((s) => s.ended);
      expect(first.frames.at(-1)).toMatchObject({ retry: 250 });
      await callTool(server.url, session, 'notify', { message: 'b', count: 2 });
      const second = await SseStream.open(server.url, session, first.lastEventId);
      // A starved replica may close the first stream before a0/a1 reach it: the resume replays them then.
      await second.waitFor((s) => first.messages.length + s.messages.length >= 4);
      expect([...first.messages, ...second.messages].map((m) => `${m.params.data.message}${m.params.data.index}`)).toEqual(['a0', 'a1', 'b0', 'b1']);
      second.close();
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe('SIGTERM', () => {
  it('drains: not ready, GET streams closed with a retry hint, in-flight calls finish, then exit 0', async () => {
    const server = await ServerProcess.start('draining', { REDIS_URL: redis.url, SSE_RETRY_MS: '500', DRAIN_TIMEOUT_MS: '5000' });
    const session = await initialize(server.url);
    const stream = await SseStream.open(server.url, session);
    const inFlight = callTool(server.url, session, 'progress', { steps: 5, delayMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const exit = server.stop('SIGTERM');
    await stream.waitFor((s) => s.ended);
    expect(stream.frames.at(-1)).toMatchObject({ retry: 500 });
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(toolJson(answer)).toMatchObject({ steps: 5 });
    expect(await exit).toBe(0);

    // The session outlives the replica: another one serves it.
    const successor = await ServerProcess.start('successor', { REDIS_URL: redis.url });
    try {
      expect(toolJson(await callTool(successor.url, session, 'whoami'))).toEqual({ replica: 'successor', sessionId: session });
    } finally {
      await successor.stop('SIGKILL');
    }
  });
});

describe('modern listen streams the server ends', () => {
  const listenBody = () => ({ ...modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } }), id: 'listen-7' });
  const graceful = { jsonrpc: '2.0', id: 'listen-7', result: { resultType: 'complete', _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-7' } } };

  it("end the spec's graceful way on SIGTERM: a complete result to the listen request, then the end", async () => {
    const server = await ServerProcess.start('listen-drain', { REDIS_URL: redis.url });
    const stream = await SseStream.listen(server.url, listenBody());
    await stream.waitFor((s) => s.messages.length >= 1);
    const exit = server.stop('SIGTERM');
    await stream.waitFor((s) => s.ended, 5000);
    expect(stream.messages.at(-1)).toEqual(graceful);
    expect(await exit).toBe(0);
  });

  it('end the same way at LISTEN_STREAM_MAX_MS', async () => {
    const server = await ServerProcess.start('listen-max-age', { REDIS_URL: redis.url, LISTEN_STREAM_MAX_MS: '400' });
    try {
      const stream = await SseStream.listen(server.url, listenBody());
      await stream.waitFor((s) => s.ended, 5000);
      expect(stream.messages.map((m) => m.method ?? 'result')).toEqual(['notifications/subscriptions/acknowledged', 'result']);
      expect(stream.messages.at(-1)).toEqual(graceful);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe('SIGTERM with SHUTDOWN_DELAY_MS', () => {
  it('turns not ready at once but keeps serving new requests and GET streams for the delay, then drains', async () => {
    const server = await ServerProcess.start('leaving', { REDIS_URL: redis.url, SSE_RETRY_MS: '500', SHUTDOWN_DELAY_MS: '3000' });
    const session = await initialize(server.url);
    const stream = await SseStream.open(server.url, session);
    const signalled = Date.now();
    const exit = server.stop('SIGTERM');
    await expect.poll(() => fetch(`${server.base}/readyz`).then((r) => r.status), { timeout: 1000, interval: 20 }).toBe(503);
    // A load balancer that has not yet seen the failed check still sends requests: they are served.
    const answer = await callTool(server.url, session, 'whoami');
    expect(answer.status).toBe(200);
    await callTool(server.url, session, 'notify', { message: 'still-here', count: 1 });
    await stream.waitFor((s) => s.messages.length === 1);
    expect(stream.ended).toBe(false);
    await stream.waitFor((s) => s.ended);
    expect(Date.now() - signalled).toBeGreaterThanOrEqual(2900);
    expect(stream.frames.at(-1)).toMatchObject({ retry: 500 });
    expect(await exit).toBe(0);
  });
});

describe('configuration', () => {
  it('refuses to start on a bad value, naming it', async () => {
    const error = await ServerProcess.start('misconfigured', { SESSION_TTL_SECONDS: 'soon', REDIS_URL: 'http://nope' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/SESSION_TTL_SECONDS="soon" is not a whole number/);
    expect((error as Error).message).toMatch(/REDIS_URL must use redis: or rediss:/);
  });
});
