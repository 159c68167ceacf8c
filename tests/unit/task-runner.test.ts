import { ProtocolError } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryTaskStore } from '../../src/backends/memory/task-store.js';
import { DRAIN_MESSAGE, OWNER_LOST_MESSAGE, TaskRunner, TaskRunnerLimitError, type TaskLiveness } from '../../src/tasks/task-runner.js';
import { DEFAULT_TASK_SETTINGS, type TaskSettings } from '../../src/tasks/task-settings.js';
import type { TaskRecord, TaskStatus, TaskStore } from '../../src/tasks/task-store.js';
import { needInput, type TaskToolDefinition } from '../../src/tasks/task-tool.js';
import { newTaskId } from '../../src/tasks/task-updates.js';

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

/** Blocks until aborted; records the abort reasons it saw. */
const aborts: unknown[] = [];
const blocking = (name: string, resumable: boolean): TaskToolDefinition => ({
  name,
  config: { description: name },
  taskSupport: 'optional',
  resumable,
  round: ({ signal }) =>
    new Promise((resolve, reject) => {
      if (resumable && released.has(name)) return resolve(text(`${name} finished elsewhere`));
      signal.addEventListener('abort', () => {
        aborts.push(signal.reason);
        reject(new Error('aborted'));
      });
    }),
});
const released = new Set<string>();

const TOOLS: TaskToolDefinition<any>[] = [
  { name: 'ok', config: {}, taskSupport: 'optional', round: async ({ args }) => text(`ok ${String(args.n)}`) },
  { name: 'tool_error', config: {}, taskSupport: 'optional', round: async () => ({ isError: true, content: [{ type: 'text', text: 'no' }] }) },
  {
    name: 'protocol_error',
    config: {},
    taskSupport: 'optional',
    round: async () => {
      throw new ProtocolError(-32099, 'broken', { why: 'test' });
    },
  },
  {
    name: 'two_rounds',
    config: {},
    taskSupport: 'optional',
    round: async ({ memory, answers, round }) => {
      if (round === 1) return needInput({ a: { method: 'elicitation/create' }, b: { method: 'elicitation/create' } } as any, { step: 1 });
      if (round === 2) return needInput({ a: { method: 'elicitation/create' } } as any, { step: 2, first: answers });
      return text(JSON.stringify({ memory, answers }));
    },
  },
  blocking('blocking', false),
  blocking('resumable', true),
];

class FakeLiveness implements TaskLiveness {
  static dead = new Set<string>();
  readonly livenessMs = 1000;
  constructor(readonly instanceId: string) {}
  async aliveAmong(ids: readonly string[]): Promise<Set<string>> {
    return new Set(ids.filter((id) => !FakeLiveness.dead.has(id)));
  }
}

const runners: TaskRunner[] = [];
afterEach(() => {
  for (const runner of runners.splice(0)) runner.close();
  FakeLiveness.dead.clear();
  released.clear();
  aborts.length = 0;
});

function replica(store: TaskStore, name: string, settings: Partial<TaskSettings> = {}): TaskRunner {
  const runner = new TaskRunner({ store, liveness: new FakeLiveness(name), tools: TOOLS, settings: { ...DEFAULT_TASK_SETTINGS, ...settings } });
  runners.push(runner);
  return runner;
}

const tool = (name: string) => TOOLS.find((t) => t.name === name)!;

async function until(store: TaskStore, taskId: string, status: TaskStatus): Promise<TaskRecord> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const record = await store.get(taskId);
    if (record?.status === status) return record;
    if (Date.now() > deadline) throw new Error(`task ${taskId} did not reach ${status}: ${JSON.stringify(record)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('TaskRunner', () => {
  it('ids are 128-bit base64url and distinct', () => {
    const ids = new Set(Array.from({ length: 1000 }, newTaskId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('a result ends completed (isError too); a JSON-RPC error ends failed with that error and no result', async () => {
    const store = new InMemoryTaskStore();
    const a = replica(store, 'a');
    const ok = await a.create(tool('ok'), { n: 7 }, '');
    expect(ok).toMatchObject({ status: 'working', owner: 'a', ttlMs: DEFAULT_TASK_SETTINGS.ttlMs, pollIntervalMs: DEFAULT_TASK_SETTINGS.pollIntervalMs });
    expect((await until(store, ok.taskId, 'completed')).result).toEqual(text('ok 7'));
    const toolError = await a.create(tool('tool_error'), {}, '');
    expect((await until(store, toolError.taskId, 'completed')).result).toMatchObject({ isError: true });
    const failed = await until(store, (await a.create(tool('protocol_error'), {}, '')).taskId, 'failed');
    expect(failed.error).toEqual({ code: -32099, message: 'broken', data: { why: 'test' } });
    expect(failed.result).toBeUndefined();
    expect(failed.owner).toBeUndefined();
  });

  it('input rounds park in the store; the replica receiving the answer that completes a round runs the next one', async () => {
    const store = new InMemoryTaskStore();
    const [a, b, c] = [replica(store, 'a'), replica(store, 'b'), replica(store, 'c')];
    const created = await a.create(tool('two_rounds'), {}, 'p');
    const parked = await until(store, created.taskId, 'input_required');
    expect(parked.owner).toBeUndefined();
    expect(Object.keys(parked.inputRequests ?? {}).sort()).toEqual(['a', 'b']);
    // Unknown keys are ignored; a partial answer leaves the rest outstanding.
    expect(await b.update(created.taskId, 'p', { zzz: 1, a: 'A1' })).toBe(true);
    const partial = await store.get(created.taskId);
    expect(partial).toMatchObject({ status: 'input_required', inputRequests: { b: expect.anything() } });
    expect(Object.keys(partial!.inputRequests!)).toEqual(['b']);
    expect(await c.update(created.taskId, 'p', { b: 'B1' })).toBe(true);
    const second = await until(store, created.taskId, 'input_required');
    expect(second.round).toBe(2);
    // Round 2's keys never repeat round 1's on the wire.
    expect(Object.keys(second.inputRequests ?? {})).toEqual(['a.r2']);
    await a.update(created.taskId, 'p', { 'a.r2': 'A2' });
    const done = await until(store, created.taskId, 'completed');
    expect(JSON.parse((done.result as any).content[0].text)).toEqual({ memory: { step: 2, first: { a: 'A1', b: 'B1' } }, answers: { a: 'A2' } });
  });

  it("another caller's task is answered like an unknown one", async () => {
    const store = new InMemoryTaskStore();
    const a = replica(store, 'a');
    const created = await a.create(tool('blocking'), {}, 'alice');
    expect(await a.get(created.taskId, 'bob')).toBeUndefined();
    expect(await a.update(created.taskId, 'bob', {})).toBe(false);
    expect(await a.cancel(created.taskId, 'bob')).toBe(false);
    expect(await a.get('unknown', 'alice')).toBeUndefined();
    expect((await a.get(created.taskId, 'alice'))?.status).toBe('working');
  });

  it("a cancel on another replica reaches the round's abort signal on its owner's next watch; the task ends cancelled", async () => {
    const store = new InMemoryTaskStore();
    const [a, b] = [replica(store, 'a'), replica(store, 'b')];
    const created = await a.create(tool('blocking'), {}, '');
    expect(await b.cancel(created.taskId, '')).toBe(true);
    expect((await store.get(created.taskId))?.cancelRequested).toBe(true);
    await a.watch();
    expect(aborts).toEqual(['cancel']);
    expect((await until(store, created.taskId, 'cancelled')).statusMessage).toMatch(/cancel/i);
    // A parked task is cancelled at once by whoever receives the cancel; a terminal one is left as it is.
    const parked = await a.create(tool('two_rounds'), {}, '');
    await until(store, parked.taskId, 'input_required');
    await b.cancel(parked.taskId, '');
    expect((await store.get(parked.taskId))?.status).toBe('cancelled');
    expect(await b.cancel(parked.taskId, '')).toBe(true);
  });

  it('owner death: exactly one surviving replica ends the task failed with the reason', async () => {
    const store = new InMemoryTaskStore();
    const [a, b, c] = [replica(store, 'a'), replica(store, 'b'), replica(store, 'c')];
    const created = await a.create(tool('blocking'), {}, '');
    FakeLiveness.dead.add('a');
    await Promise.all([b.sweep(), c.sweep()]);
    const failed = await store.get(created.taskId);
    expect(failed).toMatchObject({ status: 'failed', error: { code: -32603, message: OWNER_LOST_MESSAGE }, statusMessage: OWNER_LOST_MESSAGE });
    expect(await store.ownedBy('a')).toEqual([]);
  });

  it('owner death: a resumable task runs again on the claimant, within TASK_MAX_ATTEMPTS', async () => {
    const store = new InMemoryTaskStore();
    const [a, b, c] = [replica(store, 'a'), replica(store, 'b'), replica(store, 'c')];
    const created = await a.create(tool('resumable'), {}, '');
    FakeLiveness.dead.add('a');
    released.add('resumable');
    await Promise.all([b.sweep(), c.sweep()]);
    const done = await until(store, created.taskId, 'completed');
    expect(done.attempt).toBe(2);
    expect(done.result).toEqual(text('resumable finished elsewhere'));
    released.clear();
    const bounded = await a.create(tool('resumable'), {}, '');
    FakeLiveness.dead.add('a');
    const d = replica(store, 'd', { maxAttempts: 2 });
    await d.sweep();
    expect((await store.get(bounded.taskId))?.owner).toBe('d');
    FakeLiveness.dead.add('d');
    const e = replica(store, 'e', { maxAttempts: 2 });
    await e.sweep();
    expect(await store.get(bounded.taskId)).toMatchObject({ status: 'failed', error: { message: OWNER_LOST_MESSAGE } });
  });

  it('drain: a round still running at the deadline ends failed with the reason; a resumable one stays owned for a peer to re-run', async () => {
    const store = new InMemoryTaskStore();
    const a = replica(store, 'a');
    const plain = await a.create(tool('blocking'), {}, '');
    const resumable = await a.create(tool('resumable'), {}, '');
    await a.drain(0);
    expect(await store.get(plain.taskId)).toMatchObject({ status: 'failed', error: { message: DRAIN_MESSAGE } });
    expect(await store.get(resumable.taskId)).toMatchObject({ status: 'working', owner: 'a' });
    await expect(a.create(tool('ok'), {}, '')).rejects.toBeInstanceOf(TaskRunnerLimitError);
  });

  it('refuses a new task beyond TASKS_MAX_RUNNING_PER_REPLICA', async () => {
    const store = new InMemoryTaskStore();
    const a = replica(store, 'a', { maxRunningPerReplica: 1 });
    await a.create(tool('blocking'), {}, '');
    await expect(a.create(tool('ok'), {}, '')).rejects.toBeInstanceOf(TaskRunnerLimitError);
  });
});
