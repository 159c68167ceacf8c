import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetStore } from '../../src/fleet/index.js';
import { FLEET_STORES, startStore } from '../support/fleet-stores.js';
import { callTool, initialize, post, request, SseStream, toolJson } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

let A: ServerProcess;
let B: ServerProcess;
let C: ServerProcess;

interface Routed {
  method: string;
  replica: string | null;
}

/**
 * A fetch for the SDK client that sends each request to the replica the rule picks, and records
 * which replica served it (from X-MCP-Replica).
 */
function routedFetch(pick: (method: string, body: Record<string, unknown> | undefined) => ServerProcess, log: Routed[]) {
  return async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined;
    const method = init?.method ?? 'GET';
    const label = method === 'POST' ? String(body?.method ?? 'response') : method;
    const target = new URL(String(input));
    target.port = String(pick(method, body).port);
    const response = await fetch(target, init);
    log.push({ method: label, replica: response.headers.get('x-mcp-replica') });
    return response;
  };
}

async function connectClient(pick: Parameters<typeof routedFetch>[0], log: Routed[]) {
  const client = new Client({ name: 'multi-replica-test', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {}, roots: {} } });
  client.setRequestHandler('sampling/createMessage', async (req) => ({
    role: 'assistant',
    model: 'test-model',
    content: { type: 'text', text: `echo: ${(req.params.messages[0]!.content as { text: string }).text}` },
  }));
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { answer: 'forty-two' } }));
  client.setRequestHandler('roots/list', async () => ({ roots: [{ uri: 'file:///work', name: 'work' }] }));
  const transport = new StreamableHTTPClientTransport(new URL(A.url), { fetch: routedFetch(pick, log) });
  await client.connect(transport);
  return { client, transport };
}

/** initialize on A, tools/call on B, the GET stream on C, client answers on C, DELETE on A. */
const spreadRule = (method: string, body: Record<string, unknown> | undefined): ServerProcess => {
  if (method === 'GET') return C;
  if (method === 'DELETE') return A;
  if (body && !('method' in body)) return C;
  if (body?.method === 'initialize' || body?.method === 'notifications/initialized') return A;
  return B;
};

describe.each(FLEET_STORES)('one session served by three replica processes sharing one store: %s', (store: FleetStore) => {
  let stopStore: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const started = await startStore(store);
    stopStore = () => started.dispose();
    const replicas = await Promise.all(['replica-a', 'replica-b', 'replica-c'].map((name) => ServerProcess.start(name, started.env)));
    [A, B, C] = replicas as [ServerProcess, ServerProcess, ServerProcess];
  });

  afterAll(async () => {
    await Promise.all([A, B, C].map((s) => s?.stop('SIGKILL')));
    await stopStore?.();
  });

  it('spreads one session over every replica and rebuilds it where it was never initialized', async () => {
    const log: Routed[] = [];
    const { client, transport } = await connectClient(spreadRule, log);
    const whoami = JSON.parse(((await client.callTool({ name: 'whoami', arguments: {} })).content as Array<{ text: string }>)[0]!.text);
    expect(whoami).toEqual({ replica: 'replica-b', sessionId: transport.sessionId });
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['whoami', 'notify', 'sample', 'elicit', 'bump']));
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toContain('fleet-status');
    await transport.terminateSession();
    await client.close();
    expect(log.find((r) => r.method === 'initialize')?.replica).toBe('replica-a');
    expect(log.find((r) => r.method === 'tools/call')?.replica).toBe('replica-b');
    expect(log.find((r) => r.method === 'DELETE')?.replica).toBe('replica-a');
    expect(new Set(log.map((r) => r.replica))).toEqual(new Set(['replica-a', 'replica-b', 'replica-c']));
  });

  it('delivers notify sent through B to the GET stream held by C, in order, once each', async () => {
    const log: Routed[] = [];
    const { client, transport } = await connectClient(spreadRule, log);
    const received: number[] = [];
    client.setNotificationHandler('notifications/message', (n) => {
      received.push((n.params.data as { index: number }).index);
    });
    await expect.poll(() => log.some((r) => r.method === 'GET' && r.replica === 'replica-c')).toBe(true);
    await client.callTool({ name: 'notify', arguments: { message: 'hello', count: 25 } });
    await expect.poll(() => received.length).toBe(25);
    expect(received).toEqual([...Array(25).keys()]);
    await transport.terminateSession();
    await client.close();
  });

  it('answers sampling, elicitation and roots requests sent from B through a POST that lands on C', async () => {
    const log: Routed[] = [];
    const { client, transport } = await connectClient(spreadRule, log);
    const text = async (name: string, args: Record<string, unknown>) =>
      JSON.parse(((await client.callTool({ name, arguments: args })).content as Array<{ text: string }>)[0]!.text);
    expect(await text('sample', { prompt: 'ping' })).toMatchObject({ answer: 'echo: ping', model: 'test-model', replica: 'replica-b' });
    expect(await text('elicit', { question: 'meaning?' })).toMatchObject({ action: 'accept', content: { answer: 'forty-two' }, replica: 'replica-b' });
    expect(await text('roots', {})).toMatchObject({ roots: [{ uri: 'file:///work', name: 'work' }], replica: 'replica-b' });
    // The tool's result can reach the client before the 202 that acknowledges its answer's POST.
    await expect.poll(() => log.filter((r) => r.method === 'response').map((r) => r.replica)).toEqual(['replica-c', 'replica-c', 'replica-c']);
    await transport.terminateSession();
    await client.close();
  });

  it('notifies every subscriber of a resource changed on another replica', async () => {
    const uri = `counter://sub-${Date.now()}`;
    const subscribers = await Promise.all(
      [0, 1].map(async () => {
        const log: Routed[] = [];
        const connected = await connectClient(spreadRule, log);
        const updates: string[] = [];
        connected.client.setNotificationHandler('notifications/resources/updated', (n) => {
          updates.push(n.params.uri);
        });
        await expect.poll(() => log.some((r) => r.method === 'GET')).toBe(true);
        return { ...connected, updates };
      }),
    );
    // subscribed through B, bumped through C by a third session
    for (const s of subscribers) await s.client.subscribeResource({ uri });
    const bumper = await initialize(C.url);
    const bumped = toolJson(await callTool(C.url, bumper, 'bump', { name: uri.slice('counter://'.length) }));
    expect(bumped).toMatchObject({ value: 1, notified: 2, replica: 'replica-c' });
    for (const s of subscribers) await expect.poll(() => s.updates).toEqual([uri]);
    const read = await subscribers[0]!.client.readResource({ uri });
    expect(JSON.parse((read.contents[0] as { text: string }).text)).toEqual({ name: uri.slice('counter://'.length), value: 1 });
    await subscribers[1]!.client.unsubscribeResource({ uri });
    expect(toolJson(await callTool(A.url, bumper, 'bump', { name: uri.slice('counter://'.length) })).notified).toBe(1);
    for (const s of subscribers) {
      await s.transport.terminateSession();
      await s.client.close();
    }
  });

  it('replays missed events to a GET stream reconnected with Last-Event-ID on a replica that never held it', async () => {
    const session = await initialize(A.url);
    const first = await SseStream.open(C.url, session);
    expect(first.status).toBe(200);
    await callTool(B.url, session, 'notify', { message: 'before', count: 3 });
    await first.waitFor((s) => s.messages.length === 3);
    const cursor = first.lastEventId!;
    first.close();
    await callTool(B.url, session, 'notify', { message: 'missed', count: 4 });
    const resumed = await SseStream.open(A.url, session, cursor);
    await resumed.waitFor((s) => s.messages.length === 4);
    await callTool(C.url, session, 'notify', { message: 'live', count: 2 });
    await resumed.waitFor((s) => s.messages.length === 6);
    expect(resumed.messages.map((m) => `${m.params.data.message}#${m.params.data.index}`)).toEqual([
      'missed#0',
      'missed#1',
      'missed#2',
      'missed#3',
      'live#0',
      'live#1',
    ]);
    resumed.close();
  });

  it('replays a POST stream from its priming event id through GET on another replica, ending after the result', async () => {
    const session = await initialize(A.url);
    const answer = post(B.url, request('tools/call', { name: 'progress', arguments: { steps: 3, delayMs: 100 }, _meta: { progressToken: 'p1' } }), session);
    const done = await answer;
    expect(done.headers.get('content-type')).toMatch(/text\/event-stream/);
    const priming = done.frames[0]!;
    expect(priming).toMatchObject({ data: '' });
    expect(priming.id).toMatch(/^p[\w-]+\.0-0$/);
    expect(priming.retry).toBeGreaterThan(0);
    // Replaying from the priming event on another replica yields the same stream, ending with the result.
    const replay = await SseStream.open(C.url, session, priming.id);
    await replay.waitFor((s) => s.ended);
    expect(replay.messages.map((m) => m.method ?? 'result')).toEqual(['notifications/progress', 'notifications/progress', 'notifications/progress', 'result']);
  });

  it('keeps one GET stream per session: a newer one, on any replica, takes over', async () => {
    const session = await initialize(A.url);
    const older = await SseStream.open(B.url, session);
    const newer = await SseStream.open(C.url, session);
    await older.waitFor((s) => s.ended);
    await callTool(A.url, session, 'notify', { message: 'x', count: 1 });
    await newer.waitFor((s) => s.messages.length === 1);
    expect(older.messages).toEqual([]);
    newer.close();
  });

  it('applies a log level set on one replica to notifications sent from another', async () => {
    const session = await initialize(A.url);
    const stream = await SseStream.open(C.url, session);
    expect((await post(A.url, request('logging/setLevel', { level: 'error' }), session)).status).toBe(200);
    await callTool(B.url, session, 'notify', { message: 'filtered', count: 3 });
    await post(B.url, request('resources/subscribe', { uri: 'counter://level-marker' }), session);
    await callTool(C.url, session, 'bump', { name: 'level-marker' });
    await stream.waitFor((s) => s.messages.some((m) => m.method === 'notifications/resources/updated'));
    expect(stream.messages.filter((m) => m.method === 'notifications/message')).toEqual([]);
    stream.close();
  });

  it('terminates a session everywhere on DELETE: 404 on every replica, its GET stream closed', async () => {
    const session = await initialize(A.url);
    const stream = await SseStream.open(C.url, session);
    expect(toolJson(await callTool(B.url, session, 'whoami')).sessionId).toBe(session);
    const deleted = await fetch(A.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': session } });
    expect(deleted.status).toBe(200);
    await stream.waitFor((s) => s.ended);
    for (const replica of [A, B, C]) {
      const answer = await callTool(replica.url, session, 'whoami');
      expect(answer.status).toBe(404);
      expect(answer.messages[0]).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
    }
    expect((await fetch(B.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': session } })).status).toBe(404);
  });

  it('answers 404 for an unknown session and 400 for a missing one', async () => {
    const unknown = await callTool(B.url, '6f1c1f7e-5a2b-4c3d-8e9f-0a1b2c3d4e5f', 'whoami');
    expect(unknown.status).toBe(404);
    const missing = await post(B.url, request('tools/list'));
    expect(missing.status).toBe(400);
    expect(missing.messages[0]).toMatchObject({ error: { code: -32000, message: expect.stringMatching(/Mcp-Session-Id/) } });
  });

  it('issues session ids with at least 122 random bits (UUIDv4), never twice', async () => {
    const ids = await Promise.all([...Array(20)].map(() => initialize([A, B, C][Math.floor(Math.random() * 3)]!.url)));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
