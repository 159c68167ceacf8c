import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { RequestLives } from '../../src/server/legacy/request-life.js';
import { ResponseSink, type SinkOptions } from '../../src/server/legacy/response-sink.js';
import { InMemoryStreamManager } from '../../src/backends/memory/stream-manager.js';
import { InMemoryInFlightRegistry } from '../../src/backends/memory/inflight-registry.js';
import { parseEventId } from '../../src/streams/event-id.js';
import { readAnswer } from '../support/raw-mcp.js';
import { StoreUnavailableError } from '../../src/backends/store-errors.js';
import { notingSharedState, withToolStoreFailures } from '../../src/server/tool-store-failures.js';
import type { SharedState } from '../../src/workload/types.js';

const servers: http.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

const streams = new InMemoryStreamManager({ retentionSeconds: 60, maxEntriesPerStream: 100, sessionExists: async () => true });
const inflight = new InMemoryInFlightRegistry(streams.instanceId, 3000);
const result = (id: number): JSONRPCMessage => ({ jsonrpc: '2.0', id, result: { ok: id } });
const progress: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } };

/** Serves one request with a sink built from `options`, driven by `drive`; returns what the client read. */
async function serve({ requestIds = [1], ...options }: Partial<SinkOptions> & { requestIds?: number[] }, drive: (sink: ResponseSink) => Promise<void>) {
  const server = http.createServer((_req, res) => {
    const life = new RequestLives().begin();
    const sink = new ResponseSink({
      res,
      life,
      session: { id: 'session-1', streams },
      protocolVersion: '2025-11-25',
      headers: { 'mcp-session-id': 'session-1' },
      retryMs: 750,
      keepAliveMs: 0,
      observer: NOOP_OBSERVER,
      forceSse: false,
      ...options,
    });
    life.carry(requestIds, sink, {}, options.session === undefined && 'session' in options ? undefined : { id: 'session-1', inflight });
    void drive(sink);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return readAnswer(await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`));
}

const refusing: SharedState = {
  get: async () => undefined,
  set: async () => {
    throw new StoreUnavailableError('Redis error: OOM command not allowed');
  },
  increment: async () => 1,
};
const toolError = (id: number): JSONRPCMessage => ({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'failed' }], isError: true } });

describe('ResponseSink', () => {
  it("answers a tool's store failure with the store's 503 and reason, not a 200 tool error", async () => {
    const answer = await serve({}, (sink) =>
      withToolStoreFailures(async () => {
        await notingSharedState(refusing)
          .set('k', 'v')
          .catch(() => {});
        await sink.write(toolError(1));
      }),
    );
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(answer.headers.get('mcp-session-id')).toBe('session-1');
    expect(answer.messages).toEqual([{ jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'Service Unavailable: Redis error: OOM command not allowed' } }]);
  });

  it('keeps a 200 when the tool got past its store failure (its result is no error)', async () => {
    const answer = await serve({}, (sink) =>
      withToolStoreFailures(async () => {
        await notingSharedState(refusing)
          .set('k', 'v')
          .catch(() => {});
        await sink.write(result(1));
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.messages).toEqual([result(1)]);
  });

  it('answers with plain JSON when the response is the first message out', async () => {
    const answer = await serve({}, (sink) => sink.write(result(1)));
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.headers.get('mcp-session-id')).toBe('session-1');
    expect(answer.messages).toEqual([result(1)]);
  });

  it('turns into SSE when a notification comes first: priming event with retry, then logged events', async () => {
    const answer = await serve({}, async (sink) => {
      await sink.write(progress);
      await sink.write(result(1));
    });
    expect(answer.headers.get('content-type')).toBe('text/event-stream');
    expect(answer.frames[0]).toMatchObject({ data: '', retry: 750 });
    expect(parseEventId(answer.frames[0]!.id!)?.entryId).toBe('0-0');
    expect(answer.messages).toEqual([progress, result(1)]);
    const ids = answer.frames.slice(1).map((f) => parseEventId(f.id!));
    expect(ids.every((id) => id?.streamKey === parseEventId(answer.frames[0]!.id!)?.streamKey)).toBe(true);
  });

  it('sends no priming event to clients older than 2025-11-25, nor to stateless requests', async () => {
    const old = await serve({ protocolVersion: '2025-06-18' }, async (sink) => {
      await sink.write(progress);
      await sink.write(result(1));
    });
    expect(old.frames.every((f) => f.data !== '')).toBe(true);
    const stateless = await serve({ session: undefined }, async (sink) => {
      await sink.write(progress);
      await sink.write(result(1));
    });
    expect(stateless.frames.map((f) => f.id)).toEqual([undefined, undefined]);
  });

  it('waits for every response of a batch, in SSE', async () => {
    const answer = await serve({ requestIds: [1, 2], forceSse: true }, async (sink) => {
      await sink.write(result(2));
      await sink.write(result(1));
    });
    expect(answer.headers.get('content-type')).toBe('text/event-stream');
    expect(answer.messages).toEqual([result(2), result(1)]);
  });

  it('closes the stream early on closeStream and keeps logging for the resume, ending the log', async () => {
    let key = '';
    const answer = await serve({}, async (sink) => {
      sink.closeStream();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await sink.write(result(1));
    });
    expect(answer.messages).toEqual([]);
    key = parseEventId(answer.frames[0]!.id!)!.streamKey;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const resumed = await streams.listen('session-1', key, { after: '0-0', listenerId: 'r', exclusive: false }, () => {});
    expect(resumed.backlog.map((e) => e.type)).toEqual(['message', 'end']);
    await resumed.close();
  });

  it('ignores closeStream when the client could not resume (no priming event)', async () => {
    const answer = await serve({ protocolVersion: '2025-03-26' }, async (sink) => {
      sink.closeStream();
      await sink.write(result(1));
    });
    expect(answer.messages).toEqual([result(1)]);
  });

  it('records its requests in the fleet once it becomes a stream, names only the unanswered ones, and forgets them when answered', async () => {
    const seen: Array<Array<string | number> | undefined> = [];
    const snapshot = async () => [...(await inflight.recordsOf('session-1')).values()][0]?.requestIds;
    const answer = await serve({ requestIds: [1, 2], forceSse: true }, async (sink) => {
      seen.push(await snapshot());
      await sink.write(progress);
      seen.push(await snapshot());
      await sink.write(result(1));
      seen.push(await snapshot());
      await sink.write(result(2));
      seen.push(await snapshot());
    });
    expect(answer.messages).toEqual([progress, result(1), result(2)]);
    expect(seen).toEqual([undefined, [1, 2], [2], undefined]);
  });

  it('records nothing for a request answered with plain JSON: nothing else can reach it', async () => {
    let recorded: number | undefined;
    await serve({}, async (sink) => {
      const pending = sink.write(result(1));
      recorded = (await inflight.recordsOf('session-1')).size;
      await pending;
    });
    expect(recorded).toBe(0);
    expect((await inflight.recordsOf('session-1')).size).toBe(0);
  });
});
