import { inputRequired, inputResponse, ResourceTemplate } from '@modelcontextprotocol/server';
import type { CallToolResult, InputRequest, InputRequiredResult, InputResponseView, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Workload, WorkloadContext } from './types.js';
import { generateReport } from './reference-tasks.js';
import { sharedSchema } from './shared-schema.js';

const text = (value: unknown): CallToolResult => ({
  content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }],
});

/**
 * Multi round-trip input, written once for both eras: a modern client answers the returned
 * input_required result and retries (on any replica: the sealed requestState verifies everywhere);
 * for a legacy session the SDK sends the same request to the client and re-enters the handler.
 */
async function ask(ctx: WorkloadContext, request: ServerContext, tool: string, input: InputRequest): Promise<InputRequiredResult> {
  return inputRequired({ inputRequests: { [tool]: input }, requestState: await ctx.requestState.mint({ tool }, request) });
}

/** The client's answer, when this call is the retry of the round this tool asked for. */
function answerTo(request: ServerContext, tool: string): InputResponseView {
  const state = request.mcpReq.requestState<{ tool?: unknown }>();
  if (state?.tool !== tool) return { kind: 'missing' };
  return inputResponse(request.mcpReq.inputResponses, tool);
}
const counterKey = (name: string) => `counter:${name}`;

/**
 * The tools' and prompts' argument schemas, built once per process: `register` runs for every
 * session and every instance of the modern leg's pool, and a zod schema is costly to build and to keep (the SDK
 * holds the schema it is given, so every server instance can share one).
 */
const SCHEMAS = {
  none: sharedSchema(z.object({})),
  notify: sharedSchema(z.object({ message: z.string().max(10_000), count: z.number().int().min(1).max(1000).default(1) })),
  progress: sharedSchema(z.object({ steps: z.number().int().min(1).max(1000), delayMs: z.number().int().min(0).max(10_000).default(0) })),
  sample: sharedSchema(z.object({ prompt: z.string().max(100_000) })),
  elicit: sharedSchema(z.object({ question: z.string().max(10_000) })),
  bump: sharedSchema(z.object({ name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) })),
  fleetStatus: sharedSchema(z.object({ focus: z.string().optional() })),
};
const COUNTER_TEMPLATE = new ResourceTemplate('counter://{name}', { list: undefined });
const counterUri = (name: string) => `counter://${name}`;

function registerTools(server: McpServer, ctx: WorkloadContext): void {
  server.registerTool(
    'whoami',
    { description: 'Names the replica that served this call and the session it belongs to.', inputSchema: SCHEMAS.none },
    async () => text({ replica: ctx.replicaName, sessionId: ctx.sessionId ?? null }),
  );

  server.registerTool(
    'notify',
    {
      description:
        "Sends `count` logging notifications: to a legacy session's standalone GET stream (wherever it is held), or on a modern request's own stream (at the request's log level).",
      inputSchema: SCHEMAS.notify,
    },
    async ({ message, count }, request) => {
      for (let index = 0; index < count; index++) {
        const data = { message, index, count, replica: ctx.replicaName };
        if (ctx.era === 'modern') await request.mcpReq.log('info', data, 'notify');
        else await server.sendLoggingMessage({ level: 'info', logger: 'notify', data }, ctx.sessionId);
      }
      return text({ sent: count, replica: ctx.replicaName });
    },
  );

  server.registerTool(
    'progress',
    {
      description: "Reports `steps` progress notifications on the request's own stream, then returns.",
      inputSchema: SCHEMAS.progress,
    },
    async ({ steps, delayMs }, request) => {
      const progressToken = request.mcpReq._meta?.progressToken;
      for (let step = 1; step <= steps; step++) {
        if (request.mcpReq.signal.aborted) return text({ cancelledAt: step, replica: ctx.replicaName });
        if (progressToken !== undefined) {
          await request.mcpReq.notify({
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
    { description: 'Asks the client to sample an LLM with `prompt` and returns its answer.', inputSchema: SCHEMAS.sample },
    async ({ prompt }, request): Promise<CallToolResult | InputRequiredResult> => {
      const view = answerTo(request, 'sample');
      if (view.kind !== 'sampling') {
        return ask(
          ctx,
          request,
          'sample',
          inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 256 }),
        );
      }
      const content = Array.isArray(view.result.content) ? view.result.content[0] : view.result.content;
      const answer = content?.type === 'text' ? content.text : `[${content?.type ?? 'empty'}]`;
      return text({ answer, model: view.result.model, replica: ctx.replicaName });
    },
  );

  server.registerTool(
    'elicit',
    { description: 'Asks the user `question` through the client (elicitation) and returns the reply.', inputSchema: SCHEMAS.elicit },
    async ({ question }, request): Promise<CallToolResult | InputRequiredResult> => {
      const view = answerTo(request, 'elicit');
      if (view.kind !== 'elicit') {
        return ask(
          ctx,
          request,
          'elicit',
          inputRequired.elicit({
            message: question,
            requestedSchema: { type: 'object', properties: { answer: { type: 'string', title: 'Answer' } }, required: ['answer'] },
          }),
        );
      }
      return text({ action: view.action, content: view.content ?? null, replica: ctx.replicaName });
    },
  );

  server.registerTool(
    'roots',
    { description: "Lists the client's roots (a roots/list request to the client).", inputSchema: SCHEMAS.none },
    async (_args, request): Promise<CallToolResult | InputRequiredResult> => {
      const view = answerTo(request, 'roots');
      if (view.kind !== 'roots') return ask(ctx, request, 'roots', inputRequired.listRoots());
      return text({ roots: view.roots, replica: ctx.replicaName });
    },
  );

  server.registerTool(
    'bump',
    {
      description:
        'Increments the fleet-wide counter `counter://{name}` and notifies its subscribers on every replica (legacy sessions and modern listen streams); `notified` counts the legacy sessions it was sent to (listen streams are reached through the event bus and not counted).',
      inputSchema: SCHEMAS.bump,
    },
    async ({ name }) => {
      const value = await ctx.shared.increment(counterKey(name));
      const notified = await ctx.events.resourceUpdated(counterUri(name));
      return text({ name, value, notified, replica: ctx.replicaName });
    },
  );
}

function registerResources(server: McpServer, ctx: WorkloadContext): void {
  server.registerResource(
    'counter',
    COUNTER_TEMPLATE,
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
    { description: 'Asks the model to summarise which replicas served a session.', argsSchema: SCHEMAS.fleetStatus },
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
  instructions: 'mcp-fleet reference workload: whoami, notify, progress, sample, elicit, roots, bump, generate_report (a task); resource counter://{name}.',
  register(server, ctx) {
    registerTools(server, ctx);
    registerResources(server, ctx);
    registerPrompts(server);
  },
  taskTools: [generateReport],
};
