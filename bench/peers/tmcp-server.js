#!/usr/bin/env node
// The tmcp reference server for the benchmark: the same whoami / notify / bump workload as
// mcp-fleet's reference workload, on tmcp's HTTP transport (both eras on one endpoint), with
// tmcp's in-memory session managers, or its Redis ones when REDIS_URL is set.
// Configured as tmcp's own documentation shows (node_modules/@tmcp/transport-http/README.md,
// @tmcp/transport-http 0.9.0): "Usage › Basic Setup" ("Example with Node.js built-in server +
// @remix-run/", createRequestListener around transport.respond, 404 when it answers null),
// "With Custom Configuration" (path '/mcp' set explicitly, as its note asks), "HttpTransport ›
// Constructor" (allowedOrigins: true "to explicitly allow every origin without a warning"; the
// clients send no Origin), and "Session Management › Redis Sessions (Multi-Server/Serverless)"
// (RedisStreamSessionManager + RedisInfoSessionManager + RedisSubscriptionManager on one URL; the
// same in @tmcp/session-manager-redis's README, "Using with Transport Layers › HTTP Transport").
// Environment: PORT, HOST (127.0.0.1), POD_NAME, REDIS_URL.
import http from 'node:http';
import { createRequestListener } from '@remix-run/node-fetch-server';
import { ZodJsonSchemaAdapter } from '@tmcp/adapter-zod';
import { HttpTransport } from '@tmcp/transport-http';
import { McpServer } from 'tmcp';
import { z } from 'zod';

const replica = process.env.POD_NAME ?? 'tmcp';
const redisUrl = process.env.REDIS_URL;

const server = new McpServer(
  { name: 'tmcp-bench', version: '1.0.0', description: 'benchmark reference' },
  {
    adapter: new ZodJsonSchemaAdapter(),
    capabilities: { tools: {}, logging: {}, resources: { subscribe: true } },
  },
);

const text = (value) => ({ content: [{ type: 'text', text: JSON.stringify(value) }] });
let counter = 0;

server.tool({ name: 'whoami', description: 'Names the replica that served this call and its session.' }, async () =>
  text({ replica, sessionId: server.ctx.sessionId ?? null }),
);

server.tool(
  {
    name: 'notify',
    description: 'Sends `count` logging notifications to the session.',
    schema: z.object({ message: z.string(), count: z.number().int().min(1).max(1000).default(1) }),
  },
  async ({ message, count }) => {
    for (let index = 0; index < count; index++) server.log('info', { message, index, count, replica }, 'notify');
    return text({ sent: count, replica });
  },
);

// One static resource: tmcp keeps updates of template-matched URIs off legacy GET streams.
server.resource({ name: 'bench counter', description: 'A counter bumped by the bump tool.', uri: 'counter://bench' }, async (uri) => ({
  contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ name: 'bench', value: counter }) }],
}));

server.tool(
  { name: 'bump', description: 'Increments counter://bench and notifies its subscribers.', schema: z.object({ name: z.string() }) },
  async () => {
    counter++;
    server.changed('resource', 'counter://bench');
    return text({ name: 'bench', value: counter, replica });
  },
);

async function managers() {
  if (!redisUrl) return {};
  const { RedisInfoSessionManager, RedisStreamSessionManager, RedisSubscriptionManager } = await import('@tmcp/session-manager-redis');
  return {
    sessionManager: { streams: new RedisStreamSessionManager(redisUrl), info: new RedisInfoSessionManager(redisUrl) },
    subscriptionManager: new RedisSubscriptionManager(redisUrl),
  };
}

const transport = new HttpTransport(server, { path: '/mcp', allowedOrigins: true, ...(await managers()) });
const listener = createRequestListener(async (request) => (await transport.respond(request)) ?? new Response('not found', { status: 404 }));

http
  .createServer((req, res) => {
    if (req.url === '/readyz' || req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    listener(req, res);
  })
  .listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
