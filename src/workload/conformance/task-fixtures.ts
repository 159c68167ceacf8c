import { inputRequired, ProtocolError, type McpServer } from '@modelcontextprotocol/server';
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { needInput, type TaskToolDefinition } from '../../tasks/task-tool.js';
import { sharedSchema } from '../shared-schema.js';
import type { WorkloadContext } from '../types.js';
import { acceptedText, askOnce } from './input-rounds.js';
import { errorResult, textResult } from './results.js';

/*
 * The fixtures of the conformance suite's tasks-* scenarios (ext-tasks, 2026-07-28): task tools
 * written as rounds (src/tasks/task-tool.ts), so any replica runs any of their rounds.
 */

const GREET_SCHEMA = sharedSchema(z.object({ name: z.string().describe('Who to greet') }));
const SLOW_SCHEMA = sharedSchema(
  z.object({
    seconds: z.number().min(0).max(3600).describe('How long to work (0: at once)'),
    label: z.string().optional().describe('A label echoed in the result'),
  }),
);
const FILENAME_SCHEMA = sharedSchema(z.object({ filename: z.string().describe('The file to delete') }));
const EMPTY_SCHEMA = sharedSchema(z.object({}));

const confirmQuestion = (filename: string) =>
  inputRequired.elicit({
    message: `Delete ${filename}?`,
    requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean' } }, required: ['confirm'] },
  });

const nameQuestion = (message: string) =>
  inputRequired.elicit({ message, requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } });

/** An elicitation answer (`{action, content}`) as the suite sends it in tasks/update. */
function accepted(answer: unknown): Record<string, unknown> | undefined {
  const value = answer as { action?: unknown; content?: unknown } | undefined;
  return value?.action === 'accept' && typeof value.content === 'object' && value.content !== null ? (value.content as Record<string, unknown>) : undefined;
}

const slowCompute: TaskToolDefinition = {
  name: 'slow_compute',
  config: {
    title: 'Slow computation (task)',
    description: 'Works for `seconds` seconds, then answers; run as a task for a client that declares the tasks extension',
    inputSchema: SLOW_SCHEMA,
  },
  taskSupport: 'optional',
  async round({ args, signal }) {
    const seconds = Number(args.seconds ?? 0);
    if (seconds > 0) await delay(seconds * 1000, undefined, { signal });
    return textResult(`Computed ${typeof args.label === 'string' ? `${args.label} ` : ''}after ${seconds} s`);
  },
};

/** Not a suite fixture: slow_compute declared safe to run again, for the fleet's owner-death tests. */
const resumableCompute: TaskToolDefinition = {
  ...slowCompute,
  name: 'resumable_compute',
  config: {
    ...slowCompute.config,
    title: 'Resumable slow computation (task)',
    description: 'As slow_compute, and run again on another replica if its replica dies',
  },
  resumable: true,
};

const failingJob: TaskToolDefinition = {
  name: 'failing_job',
  config: { title: 'Failing job (task only)', description: 'Fails with a tool error after about a second; only as a task', inputSchema: EMPTY_SCHEMA },
  taskSupport: 'required',
  async round({ signal }) {
    await delay(1000, undefined, { signal });
    return errorResult('The job failed (as it always does)');
  },
};

const protocolErrorJob: TaskToolDefinition = {
  name: 'protocol_error_job',
  config: { title: 'Protocol error job (task)', description: 'Ends with a JSON-RPC error, so its task fails', inputSchema: EMPTY_SCHEMA },
  taskSupport: 'optional',
  async round() {
    throw new ProtocolError(-32603, 'The job hit an internal error', { fixture: 'protocol_error_job' });
  },
};

const confirmDelete: TaskToolDefinition<{ filename: string }> = {
  name: 'confirm_delete',
  config: { title: 'Confirm delete (task)', description: 'Asks the user to confirm (one elicitation), then answers', inputSchema: FILENAME_SCHEMA },
  taskSupport: 'optional',
  async round({ args, memory, answers }) {
    const filename = String(args.filename);
    if (memory === undefined) return needInput({ confirm: confirmQuestion(filename) }, { filename });
    const content = accepted(answers.confirm);
    return textResult(content?.confirm === true ? `Deleted ${filename}` : `Kept ${filename}`);
  },
};

const multiInput: TaskToolDefinition<{ asked: true }> = {
  name: 'multi_input',
  config: { title: 'Two inputs (task)', description: 'Asks two questions at once, then answers with both', inputSchema: EMPTY_SCHEMA },
  taskSupport: 'optional',
  async round({ memory, answers }) {
    if (memory === undefined) return needInput({ first: nameQuestion('First name?'), second: nameQuestion('Second name?') }, { asked: true });
    return textResult(`first: ${String(accepted(answers.first)?.name)}, second: ${String(accepted(answers.second)?.name)}`);
  },
};

const TOOL_WITH_TASK = 'test_tool_with_task';

const toolWithTask: TaskToolDefinition<{ name: string }> = {
  name: TOOL_WITH_TASK,
  config: {
    title: 'Input, then a task',
    description: 'Asks for the user\'s name (key "user_name") synchronously, then works on it as a task',
    inputSchema: EMPTY_SCHEMA,
  },
  taskSupport: 'required',
  async prepare(request, ctx: WorkloadContext) {
    let name: string | undefined;
    const asked = await askOnce(ctx, request, TOOL_WITH_TASK, nameQuestion('What is your name?'), (retry) => {
      name = acceptedText(retry, TOOL_WITH_TASK, 'name');
      return name === undefined ? undefined : textResult(name);
    });
    return name === undefined ? (asked as Exclude<typeof asked, { content: unknown }>) : { memory: { name } };
  },
  async round({ memory }) {
    return textResult(`Hello, ${memory?.name ?? 'stranger'}! Your task is done.`);
  },
};

export const CONFORMANCE_TASK_TOOLS: readonly TaskToolDefinition<any>[] = [
  slowCompute,
  resumableCompute,
  failingJob,
  protocolErrorJob,
  confirmDelete,
  multiInput,
  toolWithTask,
];

/** The suite's one synchronous tool of the tasks scenarios. */
export function registerTaskScenarioTools(server: McpServer): void {
  server.registerTool('greet', { title: 'Greet', description: 'Says hello (never a task)', inputSchema: GREET_SCHEMA }, async ({ name }) =>
    textResult(`Hello, ${name}!`),
  );
}
