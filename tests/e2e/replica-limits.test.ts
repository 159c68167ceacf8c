import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, initialize, PROTOCOL_VERSION, SseStream, toolJson } from '../support/raw-mcp.js';
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
        socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\n\r\n`);
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
