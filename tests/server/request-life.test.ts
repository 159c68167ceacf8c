import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InMemoryInFlightRegistry } from '../../src/backends/memory/inflight-registry.js';
import { InMemoryStreamManager } from '../../src/backends/memory/stream-manager.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { type RequestLife, RequestLives } from '../../src/server/legacy/request-life.js';
import { ResponseSink } from '../../src/server/legacy/response-sink.js';
import { startInProcess } from '../support/in-process-server.js';
import { initialize, PROTOCOL_VERSION, readAnswer, type RpcAnswer, startToolCall } from '../support/raw-mcp.js';

const streams = new InMemoryStreamManager({ retentionSeconds: 60, maxEntriesPerStream: 100, sessionExists: async () => true });
const inflight = new InMemoryInFlightRegistry(streams.instanceId, 60_000);
const servers: http.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});
afterAll(async () => {
  await inflight.close();
});

const result = (id: number): JSONRPCMessage => ({ jsonrpc: '2.0', id, result: { ok: id } });
const progress: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } };
const tick = () => new Promise((resolve) => setImmediate(resolve));

interface Served {
  life: RequestLife;
  sink: ResponseSink;
  /** What the client read, once the answer ends. */
  answer: Promise<RpcAnswer>;
}

/** A POST of a session carrying `ids`, as the endpoint starts one: a life, its answer writer, its requests. */
async function serve(lives: RequestLives, ids: number[], sessionId: string): Promise<Served> {
  let served: Omit<Served, 'answer'> | undefined;
  const server = http.createServer((_req, res) => {
    const life = lives.begin();
    const sink = new ResponseSink({
      res,
      life,
      session: { id: sessionId, streams },
      protocolVersion: PROTOCOL_VERSION,
      headers: { 'mcp-session-id': sessionId },
      retryMs: 750,
      keepAliveMs: 0,
      observer: NOOP_OBSERVER,
      forceSse: ids.length > 1,
    });
    life.carry(ids, sink, server, { id: sessionId, inflight });
    for (const id of ids) life.run(id);
    served = { life, sink };
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const answer = fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`).then(readAnswer);
  while (!served) await tick();
  return { ...served, answer };
}

const recordOf = async (sessionId: string) => [...(await inflight.recordsOf(sessionId)).values()][0]?.requestIds;

describe('a legacy request has one life', () => {
  it('a drain waits for the lives: one whose handler runs, then one whose client left with its request unanswered', async () => {
    const lives = new RequestLives();
    const handling = lives.begin();
    let drained: number | undefined;
    const drain = lives.drain(60_000, 'stopping').then((late) => (drained = late));
    await tick();
    expect(drained).toBeUndefined();
    handling.handlerReturned();
    await drain;
    expect(drained).toBe(0);

    const { life, sink, answer } = await serve(lives, [1], 'drain-session');
    await sink.write(progress);
    life.handlerReturned();
    drained = undefined;
    const second = lives.drain(60_000, 'stopping').then((late) => (drained = late));
    await tick();
    expect(drained).toBeUndefined();
    await sink.write(result(1));
    await second;
    expect(drained).toBe(0);
    expect((await answer).messages).toEqual([progress, result(1)]);
    expect(lives.size).toBe(0);
  });

  it('past the drain deadline an unanswered request is answered with the reason, and its late answer is ignored', async () => {
    const lives = new RequestLives();
    const { life, sink, answer } = await serve(lives, [1], 'deadline-session');
    await sink.write(progress);
    life.handlerReturned();
    expect(await lives.drain(10, 'stopping')).toBe(1);
    await sink.write(result(1));
    expect((await answer).messages).toEqual([progress, { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'stopping' } }]);
    expect(life.ended).toBe(true);
  });

  it('a cancel ends the request once: a second cancel, an abandon and the answer after it change nothing', async () => {
    const lives = new RequestLives();
    const { life, sink, answer } = await serve(lives, [1], 'cancel-session');
    let ends = 0;
    life.onEnd(() => ends++);
    life.handlerReturned();
    expect(life.cancel(1)).toBe(true);
    expect(life.cancel(1)).toBe(false);
    await life.abandon('stopping');
    await sink.write(result(1));
    const read = await answer;
    expect(read.headers.get('content-type')).toBe('text/event-stream');
    expect(read.messages).toEqual([]);
    expect(ends).toBe(1);
    expect(lives.running(servers[0]!, 1)).toBeUndefined();
  });

  it('a request cancelled in a batch: its answer is not sent and the fleet record names only the rest', async () => {
    const lives = new RequestLives();
    const { life, sink, answer } = await serve(lives, [1, 2], 'batch-session');
    await sink.write(progress);
    expect(await recordOf('batch-session')).toEqual([1, 2]);
    life.cancel(1);
    await sink.write(result(1));
    expect(await recordOf('batch-session')).toEqual([2]);
    await sink.write(result(2));
    life.handlerReturned();
    expect((await answer).messages).toEqual([progress, result(2)]);
    expect(await recordOf('batch-session')).toBeUndefined();
    expect(life.ended).toBe(true);
  });
});

describe('a legacy request has one life, over HTTP', () => {
  it('a session deleted while its request runs: the request ends with the session, and a stop does not wait for it', async () => {
    const replica = await startInProcess({ DRAIN_TIMEOUT_MS: '60000', SHUTDOWN_DELAY_MS: '0' });
    try {
      const session = await initialize(replica.url);
      const call = startToolCall(replica.url, session, 7, 'progress', { steps: 1000, delayMs: 100 });
      const deadline = Date.now() + 10_000;
      while (call.messages().length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(call.messages()[0]).toMatchObject({ method: 'notifications/progress' });
      const deleted = await fetch(replica.url, { method: 'DELETE', headers: { 'Mcp-Session-Id': session, 'MCP-Protocol-Version': PROTOCOL_VERSION } });
      expect(deleted.status).toBe(200);
      await call.done;
      expect(call.messages().some((m) => m.id === 7)).toBe(false);
    } finally {
      await replica.stop();
    }
  });
});
