import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, initialize, modernRequest, post, POST_HEADERS, postModern, PROTOCOL_VERSION, request, SseStream, toolJson } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/** Bounds a replica keeps on what clients make it hold: slow bodies, cached session runtimes. */
let server: ServerProcess;

beforeAll(async () => {
  server = await ServerProcess.start('limits', { BODY_READ_TIMEOUT_MS: '1000', RUNTIME_CACHE_MAX_SESSIONS: '2' });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
});

describe('replica limits', () => {
  it('answers a body sent a byte at a time with 408 and a JSON-RPC body once BODY_READ_TIMEOUT_MS has passed', async () => {
    const started = Date.now();
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, '127.0.0.1');
      let text = '';
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      socket.on('connect', () => {
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
        );
        let sent = 0;
        const drip = setInterval(() => (sent < body.length ? socket.write(body[sent++]!) : clearInterval(drip)), 300);
        socket.on('close', () => clearInterval(drip));
      });
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } });
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('keeps a GET stream open past BODY_READ_TIMEOUT_MS: the bound is on receiving requests, not on responses', async () => {
    const session = await initialize(server.url);
    const stream = await SseStream.open(server.url, session);
    expect(stream.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(stream.ended).toBe(false);
    await callTool(server.url, session, 'notify', { message: 'still here', count: 1 });
    await stream.waitFor((s) => s.messages.some((m) => m.params?.data?.message === 'still here'));
    stream.close();
  });

  it('never evicts a session runtime with a request in flight: the least recently used idle one goes instead', async () => {
    const busy = await initialize(server.url);
    const call = callTool(server.url, busy, 'progress', { steps: 5, delayMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    for (let i = 0; i < 3; i++) await initialize(server.url);
    const answer = await call;
    expect(answer.status).toBe(200);
    expect(toolJson(answer)).toMatchObject({ steps: 5 });
    expect(answer.headers.get('mcp-session-id')).toBe(busy);
    expect(PROTOCOL_VERSION).toBe('2025-11-25');
  });
});

describe('per-client limits', () => {
  let limited: ServerProcess;
  beforeAll(async () => {
    limited = await ServerProcess.start('per-client', {
      NEW_SESSIONS_PER_ADDRESS_PER_SECOND: '3',
      TRUSTED_PROXY_HOPS: '1',
      MAX_PENDING_CLIENT_REQUESTS: '1',
      MAX_LISTEN_STREAMS: '1',
    });
  });
  afterAll(async () => {
    await limited?.stop('SIGKILL');
  });

  const initializeFrom = (address: string) =>
    post(
      limited.url,
      request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: { sampling: {} }, clientInfo: { name: 'x', version: '1' } }),
      undefined,
      { 'X-Forwarded-For': `203.0.113.9, ${address}` },
    );

  it('answers new sessions past NEW_SESSIONS_PER_ADDRESS_PER_SECOND from one address with 429 and Retry-After, others unaffected', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await initializeFrom('198.51.100.1'));
    expect(answers.slice(0, 3).map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers[3]!.status).toBe(429);
    expect(answers[3]!.headers.get('retry-after')).toBe('1');
    expect(answers[3]!.messages[0]).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/Too Many Requests/) } });
    expect((await initializeFrom('198.51.100.2')).status).toBe(200);
  });

  it('refuses a server-to-client request past MAX_PENDING_CLIENT_REQUESTS with a tool error, and keeps the first one', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const session = (await initializeFrom('198.51.100.3')).headers.get('mcp-session-id')!;
    const first = fetch(limited.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'Mcp-Session-Id': session, 'MCP-Protocol-Version': PROTOCOL_VERSION },
      body: JSON.stringify(request('tools/call', { name: 'sample', arguments: { prompt: 'one' } })),
    });
    const reader = (await first).body!.getReader();
    let text = '';
    while (!text.includes('sampling/createMessage')) text += new TextDecoder().decode((await reader.read()).value);
    const second = await callTool(limited.url, session, 'sample', { prompt: 'two' });
    expect(second.messages.at(-1)?.result).toMatchObject({ isError: true });
    expect(JSON.stringify(second.messages.at(-1))).toMatch(/waits for 1 answers/);
    await reader.cancel();
  });

  it("refuses a listen stream past MAX_LISTEN_STREAMS with the spec's in-band error", async () => {
    const listen = () => postModern(limited.url, modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } }));
    const open = fetch(limited.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'subscriptions/listen' },
      body: JSON.stringify(modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } })),
    });
    const reader = (await open).body!.getReader();
    await reader.read();
    const refused = await listen();
    expect(refused.messages.at(-1)?.error).toMatchObject({ code: -32603, message: expect.stringMatching(/limit/i) });
    await reader.cancel();
  });
});

describe('sessions in total', () => {
  it('answers a session past MAX_SESSIONS_TOTAL within the session TTL with 429 and Retry-After', async () => {
    const capped = await ServerProcess.start('capped', { MAX_SESSIONS_TOTAL: '2', SESSION_TTL_SECONDS: '30' });
    try {
      await initialize(capped.url);
      await initialize(capped.url);
      const refused = await post(
        capped.url,
        request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'x', version: '1' } }),
      );
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.messages[0]).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/at most 2 sessions/) } });
    } finally {
      await capped.stop('SIGKILL');
    }
  });
});

describe('slow SSE clients', () => {
  let replica: ServerProcess;
  beforeAll(async () => {
    replica = await ServerProcess.start('backpressure', { SSE_MAX_UNSENT_BYTES: String(1024 * 1024), EVENT_MAX_PER_STREAM: '100' });
  });
  afterAll(async () => {
    await replica?.stop('SIGKILL');
  });

  it('drops a GET stream whose client stopped reading once 1 MiB is unsent: 50 MB published grow the replica by at most 64 MiB', async () => {
    const session = await initialize(replica.url);
    const socket = net.connect({ port: replica.port, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    let received = '';
    let receivedBytes = 0;
    socket.on('data', (chunk) => {
      if (received === '') received = chunk.toString();
      receivedBytes += chunk.length;
      socket.pause();
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${session}\r\nMCP-Protocol-Version: ${PROTOCOL_VERSION}\r\n\r\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    const before = replica.rssBytes();
    const message = 'x'.repeat(10_000);
    for (let i = 0; i < 5; i++) expect((await callTool(replica.url, session, 'notify', { message, count: 1000 })).status).toBe(200);
    const growth = replica.rssBytes() - before;
    socket.resume();
    await closed;
    expect(receivedBytes).toBeLessThan(20 * 1024 * 1024);
    expect(growth).toBeLessThan(64 * 1024 * 1024);
    expect(replica.alive).toBe(true);
  });
});
