import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { InMemoryChangeEventBus } from '../../src/backends/memory/event-bus.js';
import { InMemoryTaskStore } from '../../src/backends/memory/task-store.js';
import { asksForTasks, type ListenResponse, TaskListen } from '../../src/server/task-listen.js';
import { principalKey } from '../../src/auth/principal.js';
import type { TaskRecord } from '../../src/tasks/task-store.js';

const LIMITS = { maxActivePerPrincipal: 100, maxStored: 100 };
const ALICE = { iss: 'https://issuer', sub: 'alice' };
const TASKS_META = { 'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } } };

function record(taskId: string, sub: string, overrides: Partial<TaskRecord> = {}): TaskRecord {
  const now = Date.now();
  return {
    taskId,
    principal: principalKey({ issuer: ALICE.iss, subject: sub }),
    tool: 't',
    args: {},
    status: 'working',
    createdAt: now,
    lastUpdatedAt: now,
    ttlMs: 60_000,
    pollIntervalMs: 1000,
    round: 1,
    attempt: 1,
    resumable: false,
    version: 1,
    ...overrides,
  };
}

/** What a client reads: the status, and each frame's JSON-RPC message. */
class Recorded implements ListenResponse {
  status = 0;
  ended = false;
  text = '';
  private readonly closeListeners: Array<() => void> = [];
  readonly destroyed = false;

  writeHead(status: number): unknown {
    this.status = status;
    return this;
  }

  write(chunk: string | Uint8Array): unknown {
    this.text += String(chunk);
    return true;
  }

  end(chunk?: string | Uint8Array): unknown {
    if (chunk !== undefined) this.text += String(chunk);
    this.ended = true;
    return this;
  }

  on(event: string, listener: () => void): unknown {
    if (event === 'close') this.closeListeners.push(listener);
    return this;
  }

  close(): void {
    for (const listener of this.closeListeners) listener();
  }

  get messages(): Array<Record<string, any>> {
    return this.text
      .split('\n\n')
      .map((frame) => frame.split('\n').find((line) => line.startsWith('data: ')))
      .filter((line): line is string => line !== undefined)
      .map((line) => JSON.parse(line.slice(6)));
  }
}

/** The SDK's listen stream for a filter it honors nothing of: its acknowledgement, then its graceful completion. */
const sdkHonoringNothing = (id: number) => async (sink: ListenResponse) => {
  sink.writeHead(200, { 'Content-Type': 'text/event-stream' });
  const meta = { 'io.modelcontextprotocol/subscriptionId': id };
  sink.write(
    `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: {}, _meta: meta } })}\n\n`,
  );
  sink.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: meta } })}\n\n`);
  sink.end();
};

const listenBody = (taskIds: unknown, meta: Record<string, unknown> = TASKS_META) => ({
  jsonrpc: '2.0',
  id: 7,
  method: 'subscriptions/listen',
  params: { notifications: { taskIds }, _meta: meta },
});

const asAlice = { auth: { token: 't', clientId: 'c', scopes: [], extra: ALICE } } as unknown as IncomingMessage;

async function setUp() {
  const store = new InMemoryTaskStore();
  const bus = new InMemoryChangeEventBus();
  const listen = new TaskListen({ bus, store, keepAliveMs: 0, maxStreams: 10 });
  return { store, bus, listen };
}

describe('task status notifications on listen streams', () => {
  it('knows a listen request that names task ids', () => {
    expect(asksForTasks(listenBody(['a']))).toBe(true);
    expect(asksForTasks({ method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true } } })).toBe(false);
  });

  it("honors the caller's own tasks only, starts with their state, outlives the SDK's completion and follows changes to the end", async () => {
    const { store, bus, listen } = await setUp();
    await store.create(record('mine', 'alice'), LIMITS);
    await store.create(record('theirs', 'bob'), LIMITS);
    const res = new Recorded();
    await listen.serve(asAlice, res, listenBody(['mine', 'theirs', 'unknown']), sdkHonoringNothing(7));
    expect(res.status).toBe(200);
    const [ack, first] = res.messages;
    expect(ack).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: { taskIds: ['mine'] } } });
    expect(first).toMatchObject({
      method: 'notifications/tasks',
      params: { taskId: 'mine', status: 'working', _meta: { 'io.modelcontextprotocol/subscriptionId': 7 } },
    });
    // The SDK's completion was dropped: the stream goes on.
    expect(res.messages).toHaveLength(2);
    expect(res.ended).toBe(false);

    const changes: Array<Partial<TaskRecord>> = [
      { status: 'completed', result: { content: [{ type: 'text', text: 'done' }] }, version: 2 },
      { status: 'failed', version: 2 },
    ];
    await store.compareAndSet({ ...record('mine', 'alice'), ...changes[0] });
    await store.compareAndSet({ ...record('theirs', 'bob'), ...changes[1] });
    bus.publish({ kind: 'task_status', taskId: 'theirs', version: 2 });
    bus.publish({ kind: 'task_status', taskId: 'mine', version: 2 });
    await expect.poll(() => res.messages.length).toBe(3);
    expect(res.messages[2]).toMatchObject({ params: { taskId: 'mine', status: 'completed', result: { content: [{ text: 'done' }] } } });
    // Terminal: nothing more is read for it.
    bus.publish({ kind: 'task_status', taskId: 'mine', version: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(res.messages).toHaveLength(3);
    res.close();
    listen.close();
  });

  it('answers -32021 without the extension declared, -32602 for malformed task ids, and ends with the SDK when nothing is honored', async () => {
    const { listen } = await setUp();
    const undeclared = new Recorded();
    await listen.serve(asAlice, undeclared, listenBody(['a'], {}), sdkHonoringNothing(7));
    expect(undeclared.status).toBe(400);
    expect(JSON.parse(undeclared.text)).toMatchObject({ id: 7, error: { code: -32021 } });
    const malformed = new Recorded();
    await listen.serve(asAlice, malformed, listenBody('a'), sdkHonoringNothing(7));
    expect(JSON.parse(malformed.text)).toMatchObject({ id: 7, error: { code: -32602 } });
    const nothing = new Recorded();
    await listen.serve(asAlice, nothing, listenBody(['unknown']), sdkHonoringNothing(7));
    expect(nothing.messages.map((m) => m.method ?? m.result?.resultType)).toEqual(['notifications/subscriptions/acknowledged', 'complete']);
    expect(nothing.messages[0]!.params.notifications.taskIds).toEqual([]);
    expect(nothing.ended).toBe(true);
    listen.close();
  });
});
