import { setTimeout as delay } from 'node:timers/promises';
import type { Printer } from './cli-answers.js';
import { CliError, type Options } from './cli-args.js';
import { describeTask, TaskRequests, TERMINAL, textOf } from './task-requests.js';

function jsonObject(text: string | undefined, what: string): Record<string, unknown> {
  if (text === undefined || text === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CliError(`${what} must be a JSON object, got ${text}`, 2);
}

/** The exit code of an ended task: 0 only for a result that is not an error. */
const exitCodeOf = (task: Record<string, unknown>): number =>
  task.status === 'completed' && (task.result as { isError?: unknown } | undefined)?.isError !== true ? 0 : 1;

/**
 * `call --task` and `task get|cancel|answer`: the tasks extension, without the SDK client (see
 * TaskRequests). `call --task` polls at the task's pollIntervalMs, printing each change of status
 * or message, until the task ends, or asks for input: answered with --elicit-answer when given,
 * otherwise printed with how to answer (exit 0, the task waits).
 */
export async function runTaskCommand(url: URL, command: string, rest: string[], options: Options, printer: Printer): Promise<number> {
  const tasks = new TaskRequests(url, options.headers);
  if (command === 'call') {
    const [name, args] = rest;
    if (!name) throw new CliError('call needs a tool name', 2);
    const created = await tasks.call(name, jsonObject(args, 'tool arguments'));
    if (created.resultType !== 'task') {
      printer.result(created, () => textOf(created));
      return (created as { isError?: unknown }).isError === true ? 1 : 0;
    }
    const taskId = String(created.taskId);
    const pollMs = Math.max(100, Number(created.pollIntervalMs) || 1000);
    let last = '';
    for (;;) {
      const task = await tasks.get(taskId);
      const seen = `${String(task.status)}\n${String(task.statusMessage ?? '')}`;
      if (seen !== last || TERMINAL.includes(String(task.status))) printer.result(task, () => describeTask(task));
      last = seen;
      if (TERMINAL.includes(String(task.status))) return exitCodeOf(task);
      if (task.status === 'input_required') {
        if (options.elicitAnswer === undefined) return 0;
        const content = jsonObject(options.elicitAnswer, '--elicit-answer');
        const keys = Object.keys((task.inputRequests ?? {}) as object);
        await tasks.update(taskId, Object.fromEntries(keys.map((key) => [key, { action: 'accept', content }])));
        printer.info(`answered ${keys.join(', ')} with --elicit-answer`);
      }
      await delay(pollMs);
    }
  }
  const [action, taskId, json] = rest;
  if (!taskId || !['get', 'cancel', 'answer'].includes(action ?? '')) throw new CliError('task get|cancel|answer <task id> [json]', 2);
  if (action === 'cancel') await tasks.cancel(taskId);
  if (action === 'answer') await tasks.update(taskId, jsonObject(json, 'the answers'));
  const task = await tasks.get(taskId);
  printer.result(task, () => describeTask(task));
  return 0;
}
