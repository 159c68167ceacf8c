import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisProcess } from '../../src/fleet/redis-process.js';
import { initialize, post, SseStream, startToolCall } from '../support/raw-mcp.js';
import { ServerProcess } from '../support/server-process.js';

// Waits are bounded generously: a busy machine slows every step, and only the outcomes are asserted.
vi.setConfig({ testTimeout: 60_000 });

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

const waitFor = async (condition: () => boolean, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('cancellation', () => {
  for (const [where, target] of [
    ['on the same replica', () => A],
    ['on another replica', () => B],
  ] as const) {
    it(`stops the handler and ends its POST stream without a result when notifications/cancelled arrives ${where}`, async () => {
      const session = await initialize(A.url);
      // 60 s of progress: the cancellation must cut it short, however slow this machine is.
      const call = startToolCall(A.url, session, 41, 'progress', { steps: 600, delayMs: 100 });
      await waitFor(() => call.messages().length >= 2);
      expect((await post(target().url, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 41, reason: 'test' } }, session)).status).toBe(
        202,
      );
      await waitFor(() => call.ended);
      expect(call.messages().filter((m) => 'result' in m || 'error' in m)).toEqual([]);
      const progressed = call.messages().length;
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(call.messages().length).toBe(progressed);
      expect(progressed).toBeLessThan(600);
    });
  }
});

describe('an owner that is gone', () => {
  it('refuses an answer to a server-to-client request whose replica was killed with a JSON-RPC error, not 202', async () => {
    const E = await ServerProcess.start('own-e', { REDIS_URL: redis.url });
    const session = await initialize(E.url, { sampling: {} });
    const call = startToolCall(E.url, session, 71, 'sample', { prompt: 'lost' });
    await waitFor(() => call.messages().some((m) => m.method === 'sampling/createMessage'));
    const asked = call.messages().find((m) => m.method === 'sampling/createMessage')!;
    await E.stop('SIGKILL');
    const answer = await post(
      B.url,
      { jsonrpc: '2.0', id: asked.id, result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'late' } } },
      session,
    );
    expect(answer.status).toBe(409);
    expect(answer.messages[0]).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringMatching(/gone/) } });
  });
});

describe("a resume of a dead owner's stream", () => {
  it('ends with a JSON-RPC error for the request once the owner stops beating (default OWNER_LIVENESS_MS), not keep-alives forever', async () => {
    const F = await ServerProcess.start('own-f', { REDIS_URL: redis.url });
    const session = await initialize(F.url, { sampling: {} });
    const call = startToolCall(F.url, session, 81, 'sample', { prompt: 'orphaned' });
    await waitFor(() => call.messages().some((m) => m.method === 'sampling/createMessage'));
    const resumeFrom = call.frames.filter((f) => f.id !== undefined).at(-1)!.id!;
    await F.stop('SIGKILL');
    const killedAt = Date.now();
    const resumed = await SseStream.open(B.url, session, resumeFrom);
    expect(resumed.status).toBe(200);
    await resumed.waitFor((s) => s.messages.some((m) => m.id === 81), 20_000);
    // About OWNER_LIVENESS_MS (3 s) plus a check interval on an idle machine; a busy one only delays it.
    console.log(`orphaned request ended ${Date.now() - killedAt} ms after its owner was killed`);
    expect(resumed.messages.find((m) => m.id === 81)).toMatchObject({
      jsonrpc: '2.0',
      error: { code: -32603, message: expect.stringMatching(/stopped before answering/) },
    });
    await resumed.waitFor((s) => s.ended, 10_000);
    // A second resume (any replica) replays the same error from the log and ends at once.
    const again = await SseStream.open(A.url, session, resumeFrom);
    await again.waitFor((s) => s.ended, 10_000);
    expect(again.messages.filter((m) => m.id === 81)).toHaveLength(1);
  });

  it('leaves a resume of a live owner alone: the answer posted to a third replica completes it', async () => {
    // The owner's heartbeat runs on its event loop, which a busy machine can stall: a window of
    // 6 s counts it gone only after a stall of 4 s (two thirds of it), while B watches the resume
    // for 3 s, six of its checks (every sixth of its own 3 s window).
    const G = await ServerProcess.start('own-g', { REDIS_URL: redis.url, OWNER_LIVENESS_MS: '6000' });
    try {
      const session = await initialize(G.url, { sampling: {} });
      const call = startToolCall(G.url, session, 91, 'sample', { prompt: 'alive' });
      await waitFor(() => call.messages().some((m) => m.method === 'sampling/createMessage'));
      const asked = call.messages().find((m) => m.method === 'sampling/createMessage')!;
      const resumeFrom = call.frames.filter((f) => f.id !== undefined).at(-1)!.id!;
      call.abort.abort();
      const resumed = await SseStream.open(B.url, session, resumeFrom);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(resumed.messages.filter((m) => m.id === 91)).toEqual([]);
      expect(resumed.ended).toBe(false);
      const answer = await post(
        A.url,
        { jsonrpc: '2.0', id: asked.id, result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'here' } } },
        session,
      );
      expect(answer.status).toBe(202);
      await resumed.waitFor((s) => s.messages.some((m) => m.id === 91), 15_000);
      expect(resumed.messages.find((m) => m.id === 91)).toHaveProperty('result');
      resumed.close();
    } finally {
      await G.stop('SIGKILL');
    }
  });
});

describe('drain', () => {
  it('lets a detached request finish on SIGTERM and logs its result, which a resume on another replica gets', async () => {
    const C = await ServerProcess.start('own-c', { REDIS_URL: redis.url, DRAIN_TIMEOUT_MS: '10000' });
    const session = await initialize(C.url);
    const call = startToolCall(C.url, session, 51, 'progress', { steps: 10, delayMs: 150 });
    await waitFor(() => call.frames.some((f) => f.id !== undefined) && call.messages().length >= 1);
    const resumeFrom = call.frames.filter((f) => f.id !== undefined).at(-1)!.id!;
    call.abort.abort();
    const exited = C.stop('SIGTERM');
    const resumed = await SseStream.open(B.url, session, resumeFrom);
    expect(resumed.status).toBe(200);
    await resumed.waitFor((s) => s.messages.some((m) => m.id === 51), 20_000);
    expect(resumed.messages.find((m) => m.id === 51)?.result?.content?.[0]?.text).toContain('"steps":10');
    expect(await exited).toBe(0);
    resumed.close();
  });

  it('past DRAIN_TIMEOUT_MS ends an unfinished request with an error response, never silently', async () => {
    const D = await ServerProcess.start('own-d', { REDIS_URL: redis.url, DRAIN_TIMEOUT_MS: '300' });
    const session = await initialize(D.url);
    const call = startToolCall(D.url, session, 61, 'progress', { steps: 50, delayMs: 100 });
    await waitFor(() => call.frames.some((f) => f.id !== undefined) && call.messages().length >= 1);
    const resumeFrom = call.frames.filter((f) => f.id !== undefined).at(-1)!.id!;
    call.abort.abort();
    await D.stop('SIGTERM');
    const resumed = await SseStream.open(B.url, session, resumeFrom);
    await resumed.waitFor((s) => s.messages.some((m) => m.id === 61), 15_000);
    expect(resumed.messages.find((m) => m.id === 61)).toMatchObject({ error: { code: -32603, message: expect.stringMatching(/shutting down/) } });
    resumed.close();
  });
});
