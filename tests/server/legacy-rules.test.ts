import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcessServer } from '../support/in-process-server.js';
import { callTool, initialize, initializeOnly, post, POST_HEADERS, PROTOCOL_VERSION, request, SseStream, startToolCall, toolJson } from '../support/raw-mcp.js';

/** README's "The MCP rules it keeps", legacy rows, on a server built in this process. */
let replica: InProcessServer;

beforeAll(async () => {
  replica = await startInProcess({ MAX_PENDING_CLIENT_REQUESTS: '2', MAX_SUBSCRIPTIONS_PER_SESSION: '2', SESSION_RECORD_MAX_BYTES: '2048' });
});

afterAll(async () => {
  await replica?.stop();
});

const raw = (init: RequestInit & { headers?: Record<string, string> }) => fetch(replica.url, init);

describe('sessions', () => {
  it('initialize creates a session, answered as JSON with its Mcp-Session-Id', async () => {
    const answer = await post(
      replica.url,
      request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 't', version: '1' } }),
    );
    expect(answer.status).toBe(200);
    expect(answer.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.messages[0]).toMatchObject({ result: { protocolVersion: PROTOCOL_VERSION } });
  });

  it('serves a tool call of the session', async () => {
    const session = await initialize(replica.url);
    expect(toolJson(await callTool(replica.url, session, 'whoami'))).toMatchObject({ replica: 'in-process', sessionId: session });
  });

  it('unknown, malformed or deleted session id: 404 with -32001', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-session-id']) {
      const answer = await post(replica.url, request('tools/list'), id);
      expect(answer.status).toBe(404);
      expect(answer.messages[0]).toMatchObject({ error: { code: -32001 } });
    }
  });

  it('no Mcp-Session-Id on a request other than initialize: 400', async () => {
    const answer = await post(replica.url, request('tools/list'));
    expect(answer.status).toBe(400);
    expect(answer.messages[0]!.error.message).toMatch(/Mcp-Session-Id/);
  });

  it('DELETE: 200, then the session is gone (404) and its GET stream closed', async () => {
    const session = await initialize(replica.url);
    const stream = await SseStream.open(replica.url, session);
    expect(stream.status).toBe(200);
    const deleted = await raw({ method: 'DELETE', headers: { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': PROTOCOL_VERSION } });
    expect(deleted.status).toBe(200);
    await stream.waitFor((s) => s.ended, 10_000);
    expect((await post(replica.url, request('tools/list'), session)).status).toBe(404);
    const again = await raw({ method: 'DELETE', headers: { 'Mcp-Session-Id': session } });
    expect(again.status).toBe(404);
    expect((await raw({ method: 'DELETE' })).status).toBe(400);
  });

  it('a verb other than GET, POST, DELETE: 405 with Allow', async () => {
    const answer = await raw({ method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET, POST, DELETE');
  });
});

describe('headers', () => {
  it('unsupported MCP-Protocol-Version: 400', async () => {
    const session = await initialize(replica.url);
    const answer = await post(replica.url, request('tools/list'), session, { 'MCP-Protocol-Version': '1999-01-01' });
    expect(answer.status).toBe(400);
    expect(answer.messages[0]!.error.message).toMatch(/Unsupported protocol version/);
  });

  it('a browser Origin that is not loopback: 403', async () => {
    const answer = await post(replica.url, request('tools/list'), undefined, { Origin: 'https://evil.example' });
    expect(answer.status).toBe(403);
  });

  it('Accept without both JSON and SSE on POST, without SSE on GET: 406', async () => {
    const session = await initialize(replica.url);
    const posted = await raw({
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(request('ping')),
    });
    expect(posted.status).toBe(406);
    const got = await raw({ method: 'GET', headers: { Accept: 'application/json', 'Mcp-Session-Id': session } });
    expect(got.status).toBe(406);
  });

  it('Content-Type not JSON: 415', async () => {
    const answer = await raw({ method: 'POST', headers: { ...POST_HEADERS, 'Content-Type': 'text/plain' }, body: JSON.stringify(request('ping')) });
    expect(answer.status).toBe(415);
  });

  it("a Last-Event-ID that is not one of this server's event ids: 400", async () => {
    const session = await initialize(replica.url);
    const stream = await SseStream.open(replica.url, session, 'not-an-event-id');
    expect(stream.status).toBe(400);
  });
});

describe('bodies', () => {
  it('invalid JSON: 400 with -32700; not JSON-RPC: 400 with -32600', async () => {
    const session = await initialize(replica.url);
    const garbled = await post(replica.url, '{"jsonrpc":', session);
    expect(garbled.status).toBe(400);
    expect(garbled.messages[0]).toMatchObject({ error: { code: -32700 } });
    const foreign = await post(replica.url, { hello: 'world' }, session);
    expect(foreign.status).toBe(400);
    expect(foreign.messages[0]).toMatchObject({ error: { code: -32600 } });
  });

  it('a batch in 2025-06-18 or later: 400; an empty batch: 400', async () => {
    const session = await initialize(replica.url);
    expect((await post(replica.url, [request('ping'), request('ping')], session)).status).toBe(400);
    expect((await post(replica.url, [], session)).status).toBe(400);
  });

  it('JSON nested deeper than 64 levels: 400', async () => {
    const session = await initialize(replica.url);
    const answer = await post(replica.url, `${'['.repeat(100)}${']'.repeat(100)}`, session);
    expect(answer.status).toBe(400);
    expect(answer.messages[0]!.error.message).toMatch(/nested deeper/);
  });

  it('initialize without an id: 400 (-32600); sent with other messages: 400', async () => {
    const params = { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 't', version: '1' } };
    const noId = await post(replica.url, { jsonrpc: '2.0', method: 'initialize', params });
    expect(noId.status).toBe(400);
    expect(noId.messages[0]).toMatchObject({ error: { code: -32600 } });
    const batched = await post(replica.url, [{ jsonrpc: '2.0', id: 1, method: 'initialize', params }, request('ping')]);
    expect(batched.status).toBe(400);
  });

  it('capabilities and clientInfo over SESSION_RECORD_MAX_BYTES: 400 (-32602)', async () => {
    const answer = await post(
      replica.url,
      request('initialize', {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: { experimental: { big: { blob: 'x'.repeat(4096) } } },
        clientInfo: { name: 't', version: '1' },
      }),
    );
    expect(answer.status).toBe(400);
    expect(answer.messages[0]).toMatchObject({ error: { code: -32602 } });
  });

  it('notifications and responses alone: 202 with no body', async () => {
    const session = await initializeOnly(replica.url);
    const answer = await post(replica.url, { jsonrpc: '2.0', method: 'notifications/initialized' }, session);
    expect(answer.status).toBe(202);
    expect(answer.messages).toEqual([]);
  });
});

describe('requests of a session', () => {
  it('an invalid logging/setLevel level: -32602, and the session keeps working', async () => {
    const session = await initialize(replica.url);
    const refused = await post(replica.url, request('logging/setLevel', { level: 'loud' }), session);
    expect(refused.messages[0]).toMatchObject({ error: { code: -32602 } });
    expect((await post(replica.url, request('logging/setLevel', { level: 'debug' }), session)).messages[0]).toHaveProperty('result');
    expect((await callTool(replica.url, session, 'whoami')).status).toBe(200);
  });

  it('a subscription over MAX_SUBSCRIPTIONS_PER_SESSION or a URI over 2,048 characters: -32602', async () => {
    const session = await initialize(replica.url);
    for (const name of ['a', 'b'])
      expect((await post(replica.url, request('resources/subscribe', { uri: `counter://${name}` }), session)).messages[0]).toHaveProperty('result');
    expect((await post(replica.url, request('resources/subscribe', { uri: 'counter://c' }), session)).messages[0]).toMatchObject({ error: { code: -32602 } });
    expect((await post(replica.url, request('resources/subscribe', { uri: `counter://${'x'.repeat(2100)}` }), session)).messages[0]).toMatchObject({
      error: { code: -32602 },
    });
    expect((await post(replica.url, request('resources/unsubscribe', { uri: 'counter://a' }), session)).messages[0]).toHaveProperty('result');
  });

  it('a subscribed resource changed: notifications/resources/updated on the GET stream', async () => {
    const session = await initialize(replica.url);
    await post(replica.url, request('resources/subscribe', { uri: 'counter://watched' }), session);
    const stream = await SseStream.open(replica.url, session);
    await stream.waitFor((s) => s.frames.length > 0, 10_000);
    await callTool(replica.url, session, 'bump', { name: 'watched' });
    await stream.waitFor((s) => s.messages.some((m) => m.method === 'notifications/resources/updated'), 10_000);
    stream.close();
  });

  it('notify sends logging notifications to the GET stream', async () => {
    const session = await initialize(replica.url);
    const stream = await SseStream.open(replica.url, session);
    await stream.waitFor((s) => s.frames.length > 0, 10_000);
    expect(toolJson(await callTool(replica.url, session, 'notify', { message: 'hello', count: 3 }))).toMatchObject({ sent: 3 });
    await stream.waitFor((s) => s.messages.filter((m) => m.method === 'notifications/message').length === 3, 10_000);
    stream.close();
  });

  it('progress streams its notifications as SSE, with event ids a resume continues from', async () => {
    const session = await initialize(replica.url);
    const call = startToolCall(replica.url, session, 7, 'progress', { steps: 4, delayMs: 10 });
    await call.done;
    const messages = call.messages();
    expect(messages.filter((m) => m.method === 'notifications/progress')).toHaveLength(4);
    expect(messages.at(-1)).toMatchObject({ id: 7, result: {} });
    const second = call.frames.filter((f) => f.id !== undefined)[1]!.id!;
    const resumed = await SseStream.open(replica.url, session, second);
    await resumed.waitFor((s) => s.ended || s.messages.some((m) => m.id === 7), 10_000);
    expect(resumed.messages.some((m) => m.id === 7)).toBe(true);
    resumed.close();
  });

  it('a request id already in progress in the session: -32600 for the second', async () => {
    const session = await initialize(replica.url);
    const first = startToolCall(replica.url, session, 9, 'progress', { steps: 50, delayMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await post(replica.url, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, session);
    expect(second.messages.find((m) => m.id === 9)).toMatchObject({ error: { code: -32600 } });
    first.abort.abort();
  });

  it('notifications/cancelled stops a running request: its stream ends without a result', async () => {
    const session = await initialize(replica.url);
    const call = startToolCall(replica.url, session, 11, 'progress', { steps: 500, delayMs: 20 });
    const deadline = Date.now() + 10_000;
    while (call.messages().length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await post(replica.url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 11 } }, session)).status).toBe(202);
    await call.done;
    expect(call.messages().filter((m) => 'result' in m || 'error' in m)).toEqual([]);
  });

  it('sampling: the server-to-client request goes out on the call stream, the answer posted back completes the call', async () => {
    const session = await initialize(replica.url, { sampling: {} });
    const call = startToolCall(replica.url, session, 13, 'sample', { prompt: 'hi' });
    const deadline = Date.now() + 10_000;
    while (!call.messages().some((m) => m.method === 'sampling/createMessage') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const asked = call.messages().find((m) => m.method === 'sampling/createMessage')!;
    const answered = await post(
      replica.url,
      { jsonrpc: '2.0', id: asked.id, result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'sampled' } } },
      session,
    );
    expect(answered.status).toBe(202);
    await call.done;
    expect(JSON.stringify(call.messages().find((m) => m.id === 13))).toContain('sampled');
  });

  it('MAX_PENDING_CLIENT_REQUESTS: past the limit the tool answers with an error', async () => {
    const session = await initialize(replica.url, { sampling: {} });
    const calls = [21, 22].map((id) => startToolCall(replica.url, session, id, 'sample', { prompt: String(id) }));
    const deadline = Date.now() + 10_000;
    while (!calls.every((c) => c.messages().some((m) => m.method === 'sampling/createMessage')) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const third = await callTool(replica.url, session, 'sample', { prompt: 'one too many' });
    expect(JSON.stringify(third.messages.at(-1))).toMatch(/isError/);
    for (const call of calls) call.abort.abort();
  });

  it('an answer naming another replica that is gone: 409', async () => {
    const session = await initialize(replica.url, { sampling: {} });
    const answer = await post(replica.url, { jsonrpc: '2.0', id: 'AAAAAAAAAAAA~nothing', result: {} }, session);
    expect(answer.status).toBe(409);
  });
});

describe('sessionless mode (SESSION_MODE=stateless)', () => {
  let sessionless: InProcessServer;
  beforeAll(async () => {
    sessionless = await startInProcess({ SESSION_MODE: 'stateless' });
  });
  afterAll(async () => {
    await sessionless?.stop();
  });

  it('initialize gives no session id; requests need none; GET and DELETE: 405', async () => {
    const init = await post(
      sessionless.url,
      request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 't', version: '1' } }),
    );
    expect(init.status).toBe(200);
    expect(init.headers.get('mcp-session-id')).toBeNull();
    const call = await post(sessionless.url, request('tools/call', { name: 'whoami', arguments: {} }), undefined, { 'MCP-Protocol-Version': PROTOCOL_VERSION });
    expect(call.status).toBe(200);
    expect((await fetch(sessionless.url, { headers: { Accept: 'text/event-stream' } })).status).toBe(405);
    expect((await fetch(sessionless.url, { method: 'DELETE' })).status).toBe(405);
  });

  it('a tool that needs client input answers with a tool error at once: there is no session to ask', async () => {
    const answer = await post(sessionless.url, request('tools/call', { name: 'sample', arguments: { prompt: 'x' } }));
    expect(answer.messages.at(-1)?.result).toMatchObject({ isError: true });
  });
});

describe('drain', () => {
  it('a stop lets a running request finish, and closes GET streams with a retry hint', async () => {
    const draining = await startInProcess({ DRAIN_TIMEOUT_MS: '10000' });
    const session = await initialize(draining.url);
    const stream = await SseStream.open(draining.url, session);
    const call = startToolCall(draining.url, session, 31, 'progress', { steps: 5, delayMs: 50 });
    const deadline = Date.now() + 10_000;
    while (call.messages().length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await draining.stop();
    await call.done;
    expect(call.messages().find((m) => m.id === 31)).toHaveProperty('result');
    await stream.waitFor((s) => s.ended, 10_000);
    expect(stream.frames.some((f) => f.retry !== undefined)).toBe(true);
  });

  it('past DRAIN_TIMEOUT_MS an unfinished request ends with an error response', async () => {
    const draining = await startInProcess({ DRAIN_TIMEOUT_MS: '200' });
    const session = await initialize(draining.url);
    const call = startToolCall(draining.url, session, 41, 'progress', { steps: 500, delayMs: 50 });
    const deadline = Date.now() + 10_000;
    while (call.messages().length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    await draining.stop();
    await call.done;
    expect(call.messages().find((m) => m.id === 41)).toMatchObject({ error: { code: -32603, message: expect.stringMatching(/shutting down/) } });
  });
});
