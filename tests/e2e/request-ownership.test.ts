import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { initialize, parseSse, post, POST_HEADERS, PROTOCOL_VERSION, SseStream, type SseFrame } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

/** Who owns a legacy request from arrival to answer, cancellation or abandonment, across replicas. */
let redis: RedisProcess;
let A: ServerProcess;
let B: ServerProcess;

beforeAll(async () => {
  redis = await RedisProcess.start();
  [A, B] = (await Promise.all(['own-a', 'own-b'].map((name) => ServerProcess.start(name, { REDIS_URL: redis.url })))) as [ServerProcess, ServerProcess];
});

afterAll(async () => {
  await Promise.all([A, B].map((server) => server?.stop('SIGKILL')));
  await redis?.dispose();
});

/** Starts a tools/call on `server` and reads its SSE frames as they come. */
function startCall(server: ServerProcess, session: string, id: number, name: string, args: Record<string, unknown>) {
  const abort = new AbortController();
  const frames: SseFrame[] = [];
  let ended = false;
  const done = (async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'Mcp-Session-Id': session, 'MCP-Protocol-Version': PROTOCOL_VERSION },
      body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: { progressToken: `t${id}` } } }),
      signal: abort.signal,
    });
    let buffer = '';
    try {
      for await (const chunk of response.body!) {
        buffer += Buffer.from(chunk).toString();
        const cut = buffer.lastIndexOf('\n\n');
        if (cut >= 0) {
          frames.push(...parseSse(buffer.slice(0, cut + 2)));
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch {
      // aborted by the test
    }
    ended = true;
  })();
  const messages = () => frames.filter((f) => f.data !== '').map((f) => JSON.parse(f.data) as Record<string, any>);
  return { abort, frames, messages, done, get ended() { return ended; } };
}

const waitFor = async (condition: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('cancellation', () => {
  for (const [where, target] of [['on the same replica', () => A], ['on another replica', () => B]] as const) {
    it(`stops the handler and ends its POST stream without a result within 1 s when notifications/cancelled arrives ${where}`, async () => {
      const session = await initialize(A.url);
      const call = startCall(A, session, 41, 'progress', { steps: 30, delayMs: 100 });
      await waitFor(() => call.messages().length >= 2);
      const cancelledAt = Date.now();
      expect((await post(target().url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 41, reason: 'test' } }, session)).status).toBe(202);
      await waitFor(() => call.ended, 1000);
      expect(Date.now() - cancelledAt).toBeLessThan(1000);
      expect(call.messages().filter((m) => 'result' in m || 'error' in m)).toEqual([]);
      const progressed = call.messages().length;
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(call.messages().length).toBe(progressed);
      expect(progressed).toBeLessThan(30);
    });
  }
});

describe('an owner that is gone', () => {
  it('refuses an answer to a server-to-client request whose replica was killed with a JSON-RPC error, not 202', async () => {
    const E = await ServerProcess.start('own-e', { REDIS_URL: redis.url });
    const session = await initialize(E.url, { sampling: {} });
    const call = startCall(E, session, 71, 'sample', { prompt: 'lost' });
    await waitFor(() => call.messages().some((m) => m.method === 'sampling/createMessage'));
    const asked = call.messages().find((m) => m.method === 'sampling/createMessage')!;
    await E.stop('SIGKILL');
    const answer = await post(B.url, { jsonrpc: '2.0', id: asked.id, result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'late' } } }, session);
    expect(answer.status).toBe(409);
    expect(answer.messages[0]).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/gone/) } });
  });
});

describe('drain', () => {
  it('lets a detached request finish on SIGTERM and logs its result, which a resume on another replica gets', async () => {
    const C = await ServerProcess.start('own-c', { REDIS_URL: redis.url, DRAIN_TIMEOUT_MS: '10000' });
    const session = await initialize(C.url);
    const call = startCall(C, session, 51, 'progress', { steps: 10, delayMs: 150 });
    await waitFor(() => call.frames.some((f) => f.id !== undefined) && call.messages().length >= 1);
    const resumeFrom = call.frames.filter((f) => f.id !== undefined).at(-1)!.id!;
    call.abort.abort();
    const exited = C.stop('SIGTERM');
    const resumed = await SseStream.open(B.url, session, resumeFrom);
    expect(resumed.status).toBe(200);
    await resumed.waitFor((s) => s.messages.some((m) => m.id === 51), 10_000);
    expect(resumed.messages.find((m) => m.id === 51)?.result?.content?.[0]?.text).toContain('"steps":10');
    expect(await exited).toBe(0);
    resumed.close();
  });

  it('past DRAIN_TIMEOUT_MS ends an unfinished request with an error response, never silently', async () => {
    const D = await ServerProcess.start('own-d', { REDIS_URL: redis.url, DRAIN_TIMEOUT_MS: '300' });
    const session = await initialize(D.url);
    const call = startCall(D, session, 61, 'progress', { steps: 50, delayMs: 100 });
    await waitFor(() => call.frames.some((f) => f.id !== undefined) && call.messages().length >= 1);
    const resumeFrom = call.frames.filter((f) => f.id !== undefined).at(-1)!.id!;
    call.abort.abort();
    await D.stop('SIGTERM');
    const resumed = await SseStream.open(B.url, session, resumeFrom);
    await resumed.waitFor((s) => s.messages.some((m) => m.id === 61), 5000);
    expect(resumed.messages.find((m) => m.id === 61)).toMatchObject({ error: { code: -32603, message: expect.stringMatching(/shutting down/) } });
    resumed.close();
  });
});

