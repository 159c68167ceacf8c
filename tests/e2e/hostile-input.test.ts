import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import {
  callTool,
  initialize,
  MODERN_PROTOCOL_VERSION,
  modernRequest,
  post,
  POST_HEADERS,
  postModern,
  PROTOCOL_VERSION,
  rawHttp,
  request,
  toolJson,
} from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/**
 * Inputs a fuzz campaign found to hang, or to reach Redis and come back as a 503: each is now a
 * 4xx with a JSON-RPC body, answered before Redis sees it, and the replica keeps serving.
 */
let redis: RedisProcess;
let server: ServerProcess;

beforeAll(async () => {
  redis = await RedisProcess.start();
  server = await ServerProcess.start('hostile', { REDIS_URL: redis.url, MAX_SUBSCRIPTIONS_PER_SESSION: '3' });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  await redis?.dispose();
});

const rpcError = (answer: { status: number; messages: Array<Record<string, any>> }) => {
  expect(answer.messages).toHaveLength(1);
  return { status: answer.status, code: answer.messages[0]?.error?.code };
};

describe('hostile input', () => {
  it('answers an initialize sent without an id (a notification) with 400 instead of leaving the client waiting', async () => {
    const answer = await post(server.url, {
      jsonrpc: '2.0',
      method: 'initialize',
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    });
    expect(rpcError(answer)).toEqual({ status: 400, code: -32600 });
  });

  it('answers a Last-Event-ID past 64 bits, or at the largest id (a resume after it is refused by Redis), with 400, not a Redis error', async () => {
    const session = await initialize(server.url);
    for (const lastEventId of ['g.99999999999999999999-99999999999999999999', 'g.18446744073709551615-18446744073709551615']) {
      const response = await fetch(server.url, {
        headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': session, 'MCP-Protocol-Version': PROTOCOL_VERSION, 'Last-Event-ID': lastEventId },
      });
      expect(response.status, lastEventId).toBe(400);
      expect(await response.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
    }
  });

  it('answers 10,000 nested arrays with 400 before anything recurses into them', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const body = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"${PROTOCOL_VERSION}","capabilities":{"experimental":${deep}},"clientInfo":{"name":"x","version":"1"}}}`;
    expect(rpcError(await post(server.url, body))).toEqual({ status: 400, code: -32600 });
    expect(server.alive).toBe(true);
  });

  it('answers a request without Host with a JSON-RPC body', async () => {
    const body = JSON.stringify(request('tools/list'));
    const reply = await rawHttp(
      server.port,
      `POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    const json = JSON.parse(/\{.*\}/s.exec(reply.slice(reply.indexOf('\r\n\r\n') + 4))![0]) as Record<string, any>;
    expect(json).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/Host/) } });
  });

  it('answers a Host that is not a host[:port] with 400 in both eras (the modern leg failed to build its request URL from it: 500)', async () => {
    const modern = JSON.stringify(modernRequest('tools/list'));
    const legacy = JSON.stringify(request('tools/list'));
    for (const host of ['a b', 'localhost:99999', '127.0.0.1:1@evil', '[', '%']) {
      for (const [body, extra] of [
        [modern, `MCP-Protocol-Version: ${MODERN_PROTOCOL_VERSION}\r\nMcp-Method: tools/list\r\n`],
        [legacy, ''],
      ] as const) {
        const reply = await rawHttp(
          server.port,
          `POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${extra}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
        expect(reply.split('\r\n')[0], host).toBe('HTTP/1.1 400 Bad Request');
        expect(JSON.parse(/\{.*\}/s.exec(reply)![0])).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/Host/) } });
      }
    }
    expect(toolJson(await postModern(server.url, modernRequest('tools/call', { name: 'whoami', arguments: {} })))).toMatchObject({ replica: 'hostile' });
  });

  it('serves a request target in absolute-form (POST http://host:port/mcp) in both eras, as HTTP/1.1 servers must (the modern leg answered 500)', async () => {
    const authority = `127.0.0.1:${server.port}`;
    const send = (body: string, extra = '') =>
      rawHttp(
        server.port,
        `POST http://${authority}/mcp HTTP/1.1\r\nHost: ${authority}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${extra}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
    const modern = await send(
      JSON.stringify(modernRequest('tools/call', { name: 'whoami', arguments: {} })),
      `MCP-Protocol-Version: ${MODERN_PROTOCOL_VERSION}\r\nMcp-Method: tools/call\r\nMcp-Name: whoami\r\n`,
    );
    expect(modern.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(JSON.parse(/\{.*\}/s.exec(modern)![0])).toMatchObject({ result: { content: [{ type: 'text' }] } });
    // The legacy leg sees it as any request without a session.
    const legacy = await send(JSON.stringify(request('tools/list')));
    expect(legacy.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(JSON.parse(/\{.*\}/s.exec(legacy)![0])).toMatchObject({ error: { message: expect.stringMatching(/Mcp-Session-Id/) } });
  });

  it('writes no second answer after a close-delimited one when bytes that follow the request do not parse', async () => {
    // The 404 goes out at once; the parser then trips over the chunk size.
    const reply = await rawHttp(server.port, 'GET /elsewhere HTTP/1.0\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 404/);
    // HTTP/1.0: the body runs to the end of the connection, so another response would become part of it.
    expect(reply.match(/HTTP\/1\.1/g)).toHaveLength(1);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringMatching(/Not Found/) } });
  });

  it('answers a request whose id is already in progress in the session with an error, and the other as usual (one of them was never answered)', async () => {
    const session = await initialize(server.url);
    // Half a second of work: the second arrives while the first runs.
    const slow = { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'progress', arguments: { steps: 5, delayMs: 100 } } };
    const send = () =>
      fetch(server.url, {
        method: 'POST',
        signal: AbortSignal.timeout(10_000),
        headers: { ...POST_HEADERS, 'Mcp-Session-Id': session, 'MCP-Protocol-Version': PROTOCOL_VERSION },
        body: JSON.stringify(slow),
      }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const answers = await Promise.all([send(), send()]);
    expect(answers.find((a) => 'result' in a)).toMatchObject({ id: 8, result: { content: [{ type: 'text' }] } });
    expect(answers.find((a) => 'error' in a)).toMatchObject({ id: 8, error: { code: -32600, message: expect.stringMatching(/already in progress/) } });
    // logging/setLevel awaits Redis before it is dispatched: copies that wait together are answered too.
    const level = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'logging/setLevel', params: { level: 'debug' } });
    const levels = await Promise.all(
      Array.from({ length: 5 }, () =>
        fetch(server.url, {
          method: 'POST',
          signal: AbortSignal.timeout(10_000),
          headers: { ...POST_HEADERS, 'Mcp-Session-Id': session, 'MCP-Protocol-Version': PROTOCOL_VERSION },
          body: level,
        }).then((r) => r.json() as Promise<Record<string, unknown>>),
      ),
    );
    for (const answer of levels) expect(answer).toMatchObject({ id: 9 });
  });

  it('answers an Expect other than 100-continue with a 417 that has a JSON-RPC body', async () => {
    const body = JSON.stringify(request('tools/list'));
    const reply = await rawHttp(
      server.port,
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: nothing\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 417/);
    expect(JSON.parse(/\{.*\}/s.exec(reply)![0])).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/100-continue/) } });
  });

  it('refuses a session record larger than SESSION_RECORD_MAX_BYTES, so no later request reads megabytes from Redis', async () => {
    const answer = await post(
      server.url,
      request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'x'.repeat(3_000_000), version: '1' } }),
    );
    expect(rpcError(answer)).toEqual({ status: 400, code: -32602 });
    expect(answer.headers.get('mcp-session-id')).toBeNull();
  });

  it('bounds the subscriptions of a session and the length of a subscribed URI', async () => {
    const session = await initialize(server.url);
    for (let i = 0; i < 3; i++)
      expect((await post(server.url, request('resources/subscribe', { uri: `counter://s${i}` }), session)).messages[0]).toHaveProperty('result');
    expect((await post(server.url, request('resources/subscribe', { uri: 'counter://s0' }), session)).messages[0]).toHaveProperty('result');
    expect((await post(server.url, request('resources/subscribe', { uri: 'counter://s3' }), session)).messages[0]?.error).toMatchObject({ code: -32602 });
    expect((await post(server.url, request('resources/subscribe', { uri: `counter://${'u'.repeat(5000)}` }), session)).messages[0]?.error).toMatchObject({
      code: -32602,
    });
    expect(toolJson(await callTool(server.url, session, 'whoami'))).toMatchObject({ sessionId: session });
  });
});
