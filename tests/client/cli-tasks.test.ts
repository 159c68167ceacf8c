import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess } from '../support/server-process.js';

/** The built CLI's task commands against a real server (reference workload: generate_report). */
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/client/cli.js');
let server: ServerProcess;

const run = (...args: string[]) => {
  const result = spawnSync(process.execPath, [CLI, server.url, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
};

beforeAll(async () => {
  server = await ServerProcess.start('cli-tasks', { TASK_POLL_INTERVAL_MS: '100' });
});

afterAll(async () => {
  await server?.stop('SIGKILL');
});

describe('mcp-fleet-client task commands', () => {
  it('call --task follows the task through its steps, answers its question with --elicit-answer and prints the result', () => {
    const out = run('call', '--task', 'generate_report', '{"topic":"load","stepMs":0}', '--elicit-answer', '{"appendix":true}');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/: input_required/);
    expect(out.stdout).toContain('Report on load:\n1. Sources on load\n2. Findings on load\n3. Appendix: raw figures');
    expect(out.stderr).toContain('answered appendix with --elicit-answer');
  });

  it('call --task without an answer leaves the task waiting; task answer and task get finish it; task cancel of an ended task is harmless', () => {
    const asked = run('call', '--task', 'generate_report', '{"topic":"cost","stepMs":0}', '--json');
    expect(asked.code).toBe(0);
    const tasks = asked.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const parked = tasks.at(-1);
    expect(parked).toMatchObject({ status: 'input_required', inputRequests: { appendix: expect.anything() } });
    const answered = run('task', 'answer', parked.taskId, '{"appendix":{"action":"decline"}}', '--json');
    expect(answered.code).toBe(0);
    let task = JSON.parse(answered.stdout);
    for (let i = 0; i < 100 && task.status !== 'completed'; i += 1) task = JSON.parse(run('task', 'get', parked.taskId, '--json').stdout);
    expect(task.result.content[0].text).toBe('Report on cost:\n1. Sources on cost\n2. Findings on cost');
    expect(run('task', 'cancel', parked.taskId).code).toBe(0);
  });

  it("task get of an unknown task fails with the server's error", () => {
    const out = run('task', 'get', 'no-such-task');
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/-32602/);
  });
});
