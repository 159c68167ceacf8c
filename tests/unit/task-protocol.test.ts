import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemoryTaskStore } from '../../src/backends/memory/task-store.js';
import { StoreUnavailableError } from '../../src/backends/store-errors.js';
import { guardTaskTools, registerTaskMethods, registerTaskTool, TASKS_CAPABILITY } from '../../src/tasks/task-protocol.js';
import { TaskRunner } from '../../src/tasks/task-runner.js';
import { DEFAULT_TASK_SETTINGS } from '../../src/tasks/task-settings.js';
import type { TaskStore } from '../../src/tasks/task-store.js';
import type { TaskToolDefinition } from '../../src/tasks/task-tool.js';
import type { WorkloadContext } from '../../src/workload/types.js';

const TOOLS: TaskToolDefinition[] = [
  { name: 'maybe', config: { description: 'optional' }, taskSupport: 'optional', round: async () => ({ content: [{ type: 'text', text: 'done' }] }) },
  { name: 'always', config: { description: 'required' }, taskSupport: 'required', round: async () => ({ content: [{ type: 'text', text: 'done' }] }) },
];
const runners: TaskRunner[] = [];
afterEach(() => runners.splice(0).forEach((runner) => runner.close()));

function endpoint(store: TaskStore, settings = DEFAULT_TASK_SETTINGS) {
  const liveness = { instanceId: 'a', livenessMs: 1000, aliveAmong: async (ids: readonly string[]) => new Set(ids) };
  const runner = new TaskRunner({ store, liveness, tools: TOOLS, settings });
  runners.push(runner);
  const ctx = { era: 'modern', requestState: { mint: async () => 'state', verify: async () => ({}) } } as unknown as WorkloadContext;
  const handler = createMcpHandler(
    () => {
      const server = new McpServer({ name: 't', version: '1' }, { capabilities: { tools: {}, ...TASKS_CAPABILITY } });
      for (const tool of TOOLS) registerTaskTool(server, ctx, tool, runner);
      registerTaskMethods(server, runner);
      guardTaskTools(server, TOOLS);
      return server;
    },
    { legacy: 'reject' },
  );
  return async (method: string, params: Record<string, unknown>, declares = true) => {
    const name = (params.taskId ?? params.name) as string | undefined;
    const capabilities = declares ? { extensions: { 'io.modelcontextprotocol/tasks': {} } } : {};
    const response = await handler.fetch(
      new Request('http://localhost/mcp', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'MCP-Protocol-Version': '2026-07-28',
          'Mcp-Method': method,
          ...(name !== undefined ? { 'Mcp-Name': name } : {}),
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method,
          params: {
            ...params,
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientInfo': { name: 'x', version: '1' },
              'io.modelcontextprotocol/clientCapabilities': capabilities,
            },
          },
        }),
      }),
    );
    return { status: response.status, body: (await response.json()) as { result?: any; error?: any } };
  };
}

describe('tasks protocol on a server instance', () => {
  it('creates a task for a declaring client; runs an optional tool synchronously and refuses a required one (-32021) otherwise', async () => {
    const call = endpoint(new InMemoryTaskStore());
    expect((await call('tools/call', { name: 'maybe', arguments: {} })).body.result).toMatchObject({ resultType: 'task', status: 'working' });
    expect((await call('tools/call', { name: 'maybe', arguments: {} }, false)).body.result).toMatchObject({ content: [{ text: 'done' }] });
    const refused = await call('tools/call', { name: 'always', arguments: {} }, false);
    expect(refused.body.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { extensions: { 'io.modelcontextprotocol/tasks': {} } } } });
    expect((await call('tasks/get', { taskId: 'x' }, false)).body.error.code).toBe(-32021);
  });

  it('answers a task creation refused by a limit with a JSON-RPC error naming the limit, not a tool result', async () => {
    const call = endpoint(new InMemoryTaskStore(), { ...DEFAULT_TASK_SETTINGS, maxStored: 0 });
    const refused = await call('tools/call', { name: 'maybe', arguments: {} });
    expect(refused.body.result).toBeUndefined();
    expect(refused.body.error).toMatchObject({
      code: -32000,
      message: expect.stringMatching(/^Too Many Requests: Too many tasks stored/),
      data: { limit: 'stored', max: 0 },
    });
    const perCaller = endpoint(new InMemoryTaskStore(), { ...DEFAULT_TASK_SETTINGS, maxActivePerPrincipal: 0 });
    expect((await perCaller('tools/call', { name: 'always', arguments: {} })).body.error).toMatchObject({ data: { limit: 'active_per_principal', max: 0 } });
  });

  it('answers an unknown task -32602, and a store outage with a JSON-RPC error naming it', async () => {
    const store = new InMemoryTaskStore();
    const call = endpoint(store);
    expect((await call('tasks/get', { taskId: 'nope' })).body.error.code).toBe(-32602);
    store.get = async () => {
      throw new StoreUnavailableError('Redis is unreachable');
    };
    for (const method of ['tasks/get', 'tasks/cancel']) {
      expect((await call(method, { taskId: 'any' })).body.error).toMatchObject({
        code: -32000,
        message: 'Service Unavailable: Redis is unreachable',
      });
    }
  });
});
