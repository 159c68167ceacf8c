import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  ListRootsResultSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Workload, WorkloadContext } from './types.js';

const text = (value: unknown): CallToolResult => ({
  content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }],
});

const counterKey = (name: string) => `counter:${name}`;
const counterUri = (name: string) => `counter://${name}`;

function registerTools(server: McpServer, ctx: WorkloadContext): void {
  server.registerTool(
    'whoami',
    { description: 'Names the replica that served this call and the session it belongs to.', inputSchema: {} },
    async () => text({ replica: ctx.replicaName, sessionId: ctx.sessionId ?? null }),
  );

  server.registerTool(
    'notify',
    {
      description: "Sends `count` logging notifications to the session's standalone GET stream, wherever it is held.",
      inputSchema: { message: z.string().max(10_000), count: z.number().int().min(1).max(1000).default(1) },
    },
    async ({ message, count }) => {
      for (let index = 0; index < count; index++) {
        await server.sendLoggingMessage(
          { level: 'info', logger: 'notify', data: { message, index, count, replica: ctx.replicaName } },
          ctx.sessionId,
        );
      }
      return text({ sent: count, replica: ctx.replicaName });
    },
  );

  server.registerTool(
    'progress',
    {
      description: "Reports `steps` progress notifications on the request's own stream, then returns.",
      inputSchema: { steps: z.number().int().min(1).max(1000), delayMs: z.number().int().min(0).max(10_000).default(0) },
    },
    async ({ steps, delayMs }, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (let step = 1; step <= steps; step++) {
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: step, total: steps, message: `step ${step} of ${steps}` },
          });
        }
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      return text({ steps, replica: ctx.replicaName });
    },
  );

  server.registerTool(
    'sample',
    { description: 'Asks the client to sample an LLM with `prompt` and returns its answer.', inputSchema: { prompt: z.string().max(100_000) } },
    async ({ prompt }, extra) => {
      const result = await extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 256 },
        },
        CreateMessageResultSchema,
      );
      const answer = result.content.type === 'text' ? result.content.text : `[${result.content.type}]`;
      return text({ answer, model: result.model, replica: ctx.replicaName });
    },
  );

  server.registerTool(
    'elicit',
    { description: 'Asks the user `question` through the client (elicitation) and returns the reply.', inputSchema: { question: z.string().max(10_000) } },
    async ({ question }, extra) => {
      const result = await extra.sendRequest(
        {
          method: 'elicitation/create',
          params: {
            message: question,
            requestedSchema: { type: 'object', properties: { answer: { type: 'string', title: 'Answer' } }, required: ['answer'] },
          },
        },
        ElicitResultSchema,
      );
      return text({ action: result.action, content: result.content ?? null, replica: ctx.replicaName });
    },
  );

  server.registerTool(
    'roots',
    { description: "Lists the client's roots (a roots/list request to the client).", inputSchema: {} },
    async (_args, extra) => {
      const result = await extra.sendRequest({ method: 'roots/list' }, ListRootsResultSchema);
      return text({ roots: result.roots, replica: ctx.replicaName });
    },
  );

  server.registerTool(
    'bump',
    {
      description: 'Increments the fleet-wide counter `counter://{name}` and notifies every session subscribed to it.',
      inputSchema: { name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) },
    },
    async ({ name }) => {
      const value = await ctx.shared.increment(counterKey(name));
      const notified = await ctx.resources.notifyUpdated(counterUri(name));
      return text({ name, value, notified, replica: ctx.replicaName });
    },
  );
}

function registerResources(server: McpServer, ctx: WorkloadContext): void {
  server.registerResource(
    'counter',
    new ResourceTemplate('counter://{name}', { list: undefined }),
    { description: 'A fleet-wide counter, incremented by the bump tool.', mimeType: 'application/json' },
    async (uri, { name }) => {
      const counter = String(name);
      const value = Number((await ctx.shared.get(counterKey(counter))) ?? '0');
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ name: counter, value }) }] };
    },
  );
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt(
    'fleet-status',
    { description: 'Asks the model to summarise which replicas served a session.', argsSchema: { focus: z.string().optional() } },
    ({ focus }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: `Call whoami a few times and summarise which replicas served this session${focus ? `, focusing on ${focus}` : ''}.`,
          },
        },
      ],
    }),
  );
}

/** The tools, resources and prompts that exercise every cross-replica path; load tests rely on their names. */
export const referenceWorkload: Workload = {
  name: 'reference',
  instructions: 'mcp-fleet reference workload: whoami, notify, progress, sample, elicit, roots, bump; resource counter://{name}.',
  register(server, ctx) {
    registerTools(server, ctx);
    registerResources(server, ctx);
    registerPrompts(server);
  },
};
