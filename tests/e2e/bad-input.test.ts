import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import {
  callTool,
  initialize,
  initializeOnly,
  post,
  POST_HEADERS,
  PROTOCOL_VERSION,
  rawHttp,
  readAnswer,
  request,
  SseStream,
  toolJson,
} from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

let redis: RedisProcess;
let server: ServerProcess;
let bystander: string;

beforeAll(async () => {
  redis = await RedisProcess.start();
  server = await ServerProcess.start('bad-input', { REDIS_URL: redis.url, MAX_BODY_BYTES: '65536' });
  bystander = await initialize(server.url);
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  await redis?.dispose();
});

const expectRpcError = (answer: { status: number; messages: Array<Record<string, any>> }, status: number, code: number) => {
  expect(answer.status).toBe(status);
  expect(answer.messages).toHaveLength(1);
  expect(answer.messages[0]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code, message: expect.any(String) } });
};

describe('bad input gets its spec status and a JSON-RPC error body', () => {
  it('malformed JSON: 400 parse error', async () => {
    expectRpcError(await post(server.url, '{"jsonrpc": "2.0", "method": ', bystander), 400, -32700);
  });

  it('JSON that is not JSON-RPC: 400 invalid request', async () => {
    expectRpcError(await post(server.url, { hello: 'world' }, bystander), 400, -32600);
    expectRpcError(await post(server.url, [], bystander), 400, -32600);
    expectRpcError(await post(server.url, 42, bystander), 400, -32600);
  });

  it('a batch where the negotiated revision forbids them: 400', async () => {
    const answer = await post(server.url, [request('tools/list'), request('prompts/list')], bystander);
    expectRpcError(answer, 400, -32600);
    expect(answer.messages[0]!.error.message).toMatch(/batch/i);
  });

  it('initialize inside a batch: 400', async () => {
    const init = request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'x', version: '1' } });
    expectRpcError(await post(server.url, [init, request('tools/list')]), 400, -32600);
  });

  it('wrong Accept: 406; wrong Content-Type: 415', async () => {
    expectRpcError(await post(server.url, request('tools/list'), bystander, { Accept: 'application/json' }), 406, -32000);
    expectRpcError(await post(server.url, request('tools/list'), bystander, { 'Content-Type': 'text/plain' }), 415, -32000);
    const get = await SseStream.open(server.url, bystander);
    get.close();
    const noSse = await fetch(server.url, { headers: { Accept: 'application/json', 'Mcp-Session-Id': bystander } });
    expectRpcError(await readAnswer(noSse), 406, -32000);
  });

  it('an oversized body: 413', async () => {
    const huge = JSON.stringify(request('tools/call', { name: 'notify', arguments: { message: 'x'.repeat(100_000), count: 1 } }));
    expectRpcError(await post(server.url, huge, bystander), 413, -32000);
  });

  it('session ids full of Redis glob characters: 404, and no other session is touched', async () => {
    for (const id of ['*', '?', '[a-z]*', `${bystander}*`, 'mcp-fleet:session:{*}']) {
      expectRpcError(await callTool(server.url, id, 'whoami'), 404, -32001);
      expect((await fetch(server.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': id } })).status).toBe(404);
    }
    expect(toolJson(await callTool(server.url, bystander, 'whoami')).sessionId).toBe(bystander);
  });

  it('a newline inside the session header: 400 with a JSON-RPC body, and the server stays up', async () => {
    const body = JSON.stringify(request('tools/list'));
    const reply = await rawHttp(
      server.port,
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: abc\nFLUSHALL\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } });
    expect(toolJson(await callTool(server.url, bystander, 'whoami')).sessionId).toBe(bystander);
  });

  it('an unsupported protocol version: 400', async () => {
    const answer = await post(server.url, request('tools/list'), bystander, { 'MCP-Protocol-Version': '1999-01-01' });
    expectRpcError(answer, 400, -32000);
    expect(answer.messages[0]!.error.message).toMatch(/protocol version/i);
  });

  it('a Last-Event-ID that is not one of ours: 400', async () => {
    const stream = await SseStream.open(server.url, bystander, 'not-an-event-id');
    expect(stream.status).toBe(400);
    expect(JSON.parse(stream.errorBody)).toMatchObject({ error: { code: -32000 } });
  });

  it('an unsupported HTTP method: 405 with Allow', async () => {
    const response = await fetch(server.url, { method: 'PUT', headers: POST_HEADERS, body: '{}' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST, DELETE');
    expect(await response.json()).toMatchObject({ error: { code: -32000 } });
  });

  it('a browser Origin that is not allowed: 403', async () => {
    expectRpcError(await post(server.url, request('tools/list'), bystander, { Origin: 'http://evil.example' }), 403, -32000);
    expect((await post(server.url, request('tools/list'), bystander, { Origin: 'http://localhost:6274' })).status).toBe(200);
  });

  it('an unknown JSON-RPC method: 200 with a method-not-found error for that id', async () => {
    const answer = await post(server.url, { jsonrpc: '2.0', id: 77, method: 'no/such/method' }, bystander);
    expect(answer.status).toBe(200);
    expect(answer.messages[0]).toMatchObject({ id: 77, error: { code: -32601 } });
  });

  it('after all of it, the bystander session and its stream still work', async () => {
    const stream = await SseStream.open(server.url, bystander);
    await callTool(server.url, bystander, 'notify', { message: 'still here', count: 1 });
    await stream.waitFor((s) => s.messages.length === 1);
    stream.close();
    expect(server.alive).toBe(true);
  });
});

describe('Redis unavailable', () => {
  it('answers 503 with a reason and Retry-After, reports not ready, and recovers by itself when Redis returns', async () => {
    // Not read yet, so not in the replica's cache: the call must reach Redis.
    const session = await initializeOnly(server.url);
    await redis.stop();
    const started = Date.now();
    const answer = await callTool(server.url, session, 'whoami');
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(answer.messages[0]).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/Redis/) } });
    // Redis stays away until restarted below: a hang would never end; the bound leaves room for a busy machine.
    expect(Date.now() - started).toBeLessThan(10_000);
    const readiness = await fetch(`${server.base}/readyz`);
    expect(readiness.status).toBe(503);
    expect(((await readiness.json()) as { reason: string }).reason).toMatch(/Redis/);
    expect((await fetch(`${server.base}/healthz`)).status).toBe(200);
    // The liveness heartbeat fails every second while Redis is away: said once, not every beat.
    const before = server.output.split("could not refresh this instance's liveness").length;
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(server.output.split("could not refresh this instance's liveness").length - before).toBeLessThanOrEqual(1);

    await redis.restart();
    await expect.poll(async () => (await fetch(`${server.base}/readyz`)).status, { timeout: 10_000 }).toBe(200);
    // The restarted Redis kept nothing: the old session is gone (404) and a new one works.
    expect((await callTool(server.url, session, 'whoami')).status).toBe(404);
    const fresh = await initialize(server.url);
    expect(toolJson(await callTool(server.url, fresh, 'whoami')).sessionId).toBe(fresh);
    bystander = fresh;
  });

  it('answers a slow Redis with a timeout error, not a hang, and does not crash; a session it has read is still served', async () => {
    const cached = await initialize(server.url);
    const session = await initializeOnly(server.url);
    // Paused until the answers are in, however slow this machine: a 503 can only come from the command timeout.
    redis.freeze();
    try {
      expect((await callTool(server.url, cached, 'whoami')).status).toBe(200);
      const answer = await callTool(server.url, session, 'whoami');
      expect(answer.status).toBe(503);
      expect(answer.messages[0]!.error.message).toMatch(/did not answer in time/);
    } finally {
      redis.thaw();
    }
    expect(server.alive).toBe(true);
    await expect.poll(async () => (await callTool(server.url, session, 'whoami')).status, { timeout: 10_000 }).toBe(200);
  });
});
