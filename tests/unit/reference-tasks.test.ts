import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryTaskStore } from '../../src/backends/memory/task-store.js';
import { TaskRunner } from '../../src/tasks/task-runner.js';
import { DEFAULT_TASK_SETTINGS } from '../../src/tasks/task-settings.js';
import type { TaskRecord, TaskStatus, TaskStore } from '../../src/tasks/task-store.js';
import { generateReport } from '../../src/workload/reference-tasks.js';

const runners: TaskRunner[] = [];
afterEach(() => runners.splice(0).forEach((runner) => runner.close()));

function replica(store: TaskStore, name: string): TaskRunner {
  const liveness = { instanceId: name, livenessMs: 1000, aliveAmong: async (ids: readonly string[]) => new Set(ids) };
  const runner = new TaskRunner({ store, liveness, tools: [generateReport], settings: DEFAULT_TASK_SETTINGS });
  runners.push(runner);
  return runner;
}

async function until(store: TaskStore, taskId: string, status: TaskStatus): Promise<TaskRecord> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const record = await store.get(taskId);
    if (record?.status === status) return record;
    if (Date.now() > deadline) throw new Error(`task did not reach ${status}: ${JSON.stringify(record)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('reference workload: generate_report', () => {
  it('reports its steps, asks once mid-way, and finishes on the replica that got the answer', async () => {
    const store = new InMemoryTaskStore();
    const [a, b] = [replica(store, 'a'), replica(store, 'b')];
    const created = await a.create(generateReport, { topic: 'latency', stepMs: 0 }, '');
    const asked = await until(store, created.taskId, 'input_required');
    expect(asked.statusMessage).toBe('Drafting the sections (2/4)');
    expect(Object.keys(asked.inputRequests ?? {})).toEqual(['appendix']);
    await b.update(created.taskId, '', { appendix: { action: 'accept', content: { appendix: true } } });
    const done = await until(store, created.taskId, 'completed');
    expect(done.statusMessage).toBe('Assembling the report (4/4)');
    expect((done.result as any).content[0].text).toBe('Report on latency:\n1. Sources on latency\n2. Findings on latency\n3. Appendix: raw figures');
  });
});
