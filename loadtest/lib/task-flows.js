// One iteration of the tasks scenario (protocol 2026-07-28, the io.modelcontextprotocol/tasks
// extension), over the same injected context as flows.js: tasks created through the load balancer,
// polled with tasks/get wherever the balancer sends each poll, their question answered with
// tasks/update, each judged on the statuses its polls saw.

import { uniqueTag } from './flows.js';
import { ModernClient, TASKS_EXTENSION } from './modern-mcp.js';

export const TASK_TOOL = 'generate_report';
export const TERMINAL = ['completed', 'failed', 'cancelled'];
/** generate_report asks this once, mid-way; the flow says yes, so the report has an appendix. */
const APPENDIX_ANSWER = { action: 'accept', content: { appendix: true } };

const explained = {};

function explainOnce(ctx, cause, message) {
  if (explained[cause]) return;
  explained[cause] = true;
  ctx.log(message);
}

function isTerminal(status) {
  return TERMINAL.indexOf(status) >= 0;
}

/** A client that declares the tasks extension in every request's capabilities. */
export function taskClient(ctx) {
  const extensions = {};
  extensions[TASKS_EXTENSION] = {};
  return new ModernClient(ctx, { scenario: 'tasks' }, { extensions: extensions });
}

/**
 * What a task's polls saw, in order: the terminal states among them (each distinct one once),
 * and how often a poll saw it not terminal after a terminal one.
 */
export function judgeStatuses(statuses) {
  const terminals = [];
  let regressions = 0;
  let ended = false;
  for (const status of statuses) {
    if (isTerminal(status)) {
      ended = true;
      if (terminals.indexOf(status) < 0) terminals.push(status);
    } else if (ended) {
      regressions++;
    }
  }
  return { terminals: terminals, regressions: regressions, once: terminals.length === 1 && regressions === 0 };
}

/** tools/call of the task tool: the CreateTaskResult, or why there is none. */
async function createTask(ctx, client, topic) {
  const answer = await client.callTool(TASK_TOOL, { topic: topic, stepMs: ctx.config.taskStepMs });
  const result = answer.result || {};
  const created =
    answer.status === 200 && result.resultType === 'task' && typeof result.taskId === 'string' && result.taskId !== '' && !isTerminal(result.status);
  if (!created)
    explainOnce(
      ctx,
      'create',
      'tools/call ' + TASK_TOOL + ' did not answer a task: HTTP ' + answer.status + ' ' + (answer.error || JSON.stringify(answer.rpcError || answer.result)),
    );
  return { created: created, taskId: result.taskId, status: result.status, replica: answer.replica };
}

/** Answers each question of an input_required task that was not answered yet, through any replica. */
async function answerQuestions(ctx, client, taskId, inputRequests, answered) {
  const inputResponses = {};
  let count = 0;
  for (const key of Object.keys(inputRequests || {})) {
    if (answered[key]) continue;
    answered[key] = true;
    inputResponses[key] = APPENDIX_ANSWER;
    count++;
  }
  if (count === 0) return;
  const answer = await client.request('tasks/update', { taskId: taskId, inputResponses: inputResponses }, { op: 'tasks/update' });
  const ok = answer.status === 200 && answer.result !== undefined;
  ctx.metrics.check('tasks/update took the answers', ok);
  if (ok) ctx.metrics.add('mcp_task_questions_answered', count);
  else explainOnce(ctx, 'update', 'tasks/update failed: HTTP ' + answer.status + ' ' + (answer.error || JSON.stringify(answer.rpcError)));
}

/**
 * Polls one task with tasks/get until it is terminal (then taskRechecks times more, to see that it
 * stays so) or taskTimeoutMs passed, answering its questions on the way. Records every poll's
 * replica and status.
 */
async function pollTask(ctx, client, task) {
  const config = ctx.config;
  const statuses = [task.status];
  const pollReplicas = [];
  const answered = {};
  let last;
  let errors = 0;
  let rechecks = -1;
  const started = Date.now();
  while (rechecks < config.taskRechecks && Date.now() - started < config.taskTimeoutMs) {
    await ctx.http.delay(config.taskPollMs);
    const answer = await client.request('tasks/get', { taskId: task.taskId }, { op: 'tasks/get' });
    const replica = answer.replica || 'unknown';
    ctx.metrics.add('mcp_task_polls', 1, { replica: replica });
    const result = answer.result;
    if (answer.status !== 200 || result === undefined || typeof result.status !== 'string') {
      errors++;
      explainOnce(ctx, 'poll', 'tasks/get failed: HTTP ' + answer.status + ' ' + (answer.error || JSON.stringify(answer.rpcError)));
      continue;
    }
    pollReplicas.push(replica);
    statuses.push(result.status);
    last = result;
    if (isTerminal(result.status) || rechecks >= 0) rechecks++;
    else if (result.status === 'input_required') await answerQuestions(ctx, client, task.taskId, result.inputRequests, answered);
  }
  ctx.metrics.add('mcp_task_poll_errors', errors);
  return { statuses: statuses, pollReplicas: pollReplicas, last: last, errors: errors, durationMs: Date.now() - started };
}

function reportText(result) {
  const content = (result && result.content) || [];
  return content.length > 0 && typeof content[0].text === 'string' ? content[0].text : '';
}

/** One task: created through the balancer, polled to its end, judged. */
export async function runTask(ctx, client, topic) {
  const metrics = ctx.metrics;
  const task = await createTask(ctx, client, topic);
  metrics.add('mcp_task_created', task.created);
  metrics.check('tools/call answered a task', task.created);
  if (!task.created)
    return {
      ok: false,
      created: false,
      taskId: undefined,
      statuses: [],
      terminals: [],
      regressions: 0,
      pollReplicas: [],
      createReplica: task.replica,
      cross: false,
    };
  metrics.add('mcp_tasks_created', 1);
  const polled = await pollTask(ctx, client, task);
  const judged = judgeStatuses(polled.statuses);
  if (!judged.once) {
    const why =
      judged.terminals.length === 0
        ? 'never ended within K6_MCP_TASK_TIMEOUT_MS'
        : judged.terminals.length > 1
          ? 'ended in ' + judged.terminals.join(' and ')
          : 'was seen not terminal after it ended';
    explainOnce(ctx, 'once:' + why, 'a task ' + why + ': statuses polled ' + polled.statuses.join(' → '));
  }
  metrics.add('mcp_task_terminal_once', judged.once);
  metrics.add('mcp_task_regressions', judged.regressions);
  metrics.check('the task reached one terminal state, once', judged.once);
  const completed = judged.once && judged.terminals[0] === 'completed' && reportText(polled.last.result).indexOf('Appendix') >= 0;
  metrics.add('mcp_task_completed', completed);
  metrics.check('the report completed, with the appendix asked for', completed);
  if (completed) metrics.add('mcp_task_duration', polled.durationMs);
  const cross = task.replica !== undefined && polled.pollReplicas.some((replica) => replica !== task.replica);
  if (task.replica !== undefined && polled.pollReplicas.length > 0) metrics.add('mcp_task_cross_replica', cross);
  return {
    ok: judged.once && completed && polled.errors === 0,
    created: true,
    taskId: task.taskId,
    statuses: polled.statuses,
    terminals: judged.terminals,
    regressions: judged.regressions,
    pollReplicas: polled.pollReplicas,
    createReplica: task.replica,
    cross: cross,
  };
}

/** tasks: taskCount tasks at once, each created, polled to its end and judged. */
export async function tasksIteration(ctx) {
  const client = taskClient(ctx);
  const tag = uniqueTag('tk');
  const runs = [];
  for (let i = 0; i < ctx.config.taskCount; i++) runs.push(runTask(ctx, client, tag + ' part ' + i));
  const tasks = await Promise.all(runs);
  return { ok: tasks.every((t) => t.ok), tasks: tasks };
}
