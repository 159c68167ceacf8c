#!/usr/bin/env node
// The SDK's own stock server for the benchmark: createMcpHandler on its default posture, wrapped
// once with toNodeHandler on plain node:http, serving whoami and bump (counter://{name} updates on
// its in-process listen bus). Stateless: nothing shared between processes.
// Environment: PORT, HOST (127.0.0.1), POD_NAME.
import http from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import { z } from 'zod';

const replica = process.env.POD_NAME ?? 'sdk-stock';
const counters = new Map();
const text = (value) => ({ content: [{ type: 'text', text: JSON.stringify(value) }] });

function buildServer() {
  const server = new McpServer({ name: 'sdk-stock-bench', version: '1.0.0' }, { capabilities: { resources: { subscribe: true } } });
  server.registerTool('whoami', { description: 'Names the replica that served this call.', inputSchema: z.object({}) }, async () =>
    text({ replica, sessionId: null }),
  );
  server.registerTool(
    'bump',
    { description: 'Increments counter://{name} and notifies its listeners.', inputSchema: z.object({ name: z.string() }) },
    async ({ name }) => {
      const value = (counters.get(name) ?? 0) + 1;
      counters.set(name, value);
      handler.notify.resourceUpdated(`counter://${name}`);
      return text({ name, value, replica });
    },
  );
  server.registerResource('counter', new ResourceTemplate('counter://{name}', { list: undefined }), { mimeType: 'application/json' }, async (uri, { name }) => ({
    contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ name, value: counters.get(String(name)) ?? 0 }) }],
  }));
  return server;
}

const handler = createMcpHandler(buildServer);
const serve = toNodeHandler(handler);

http
  .createServer((req, res) => {
    if (req.url === '/readyz' || req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    void serve(req, res);
  })
  .listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
