import { fromJsonSchema } from '@modelcontextprotocol/server';
import type { McpServer } from '@modelcontextprotocol/server';
import type { WorkloadContext } from '../types.js';
import { SHARED_KEYS, URIS } from './fixtures.js';
import { pause, textResult, type Extra } from './results.js';

/** Pause between the notifications of the logging and progress tools, so they arrive apart. */
const STEP_MS = 50;

/** How long test_reconnection keeps working after closing its stream, so the result is sent while the client is away. */
const RECONNECT_WORK_MS = 200;

/**
 * The input of json_schema_2020_12_tool, advertised exactly as written: a JSON Schema 2020-12
 * document with `$schema`, `$defs` (one with an `$anchor`), a `$ref` into them, composition
 * (`allOf`/`anyOf`) and conditional (`if`/`then`/`else`) keywords, and `additionalProperties: false`.
 * The SDK validates the arguments against the same document.
 */
const JSON_SCHEMA_2020_12_INPUT = fromJsonSchema<Record<string, unknown>>({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
});

function log(extra: Extra, data: string): Promise<void> {
  return extra.mcpReq.log('info', data, 'conformance');
}

/** Tools about the protocol around a call: notifications during it, stream polling, schemas, shared resources. */
export function registerProtocolTools(server: McpServer, ctx: WorkloadContext): void {
  server.registerTool('test_tool_with_logging', { title: 'Logging', description: 'Sends three info log notifications while it runs' }, async (extra) => {
    await log(extra, 'Tool execution started');
    await pause(STEP_MS, extra);
    await log(extra, 'Tool processing data');
    await pause(STEP_MS, extra);
    await log(extra, 'Tool execution completed');
    return textResult('Tool with logging executed successfully');
  });

  server.registerTool(
    'test_tool_with_progress',
    { title: 'Progress', description: 'Reports progress 0, 50 and 100 of 100 when the request carries a progress token' },
    async (extra) => {
      const progressToken = extra.mcpReq._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progress > 0) await pause(STEP_MS, extra);
        if (progressToken !== undefined) {
          await extra.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100, message: `Completed ${progress}%` },
          });
        }
      }
      return textResult('Tool with progress executed successfully');
    },
  );

  server.registerTool(
    'test_reconnection',
    {
      title: 'Stream reconnection',
      description: 'Closes its SSE stream mid-call and sends the result after the client reconnects with Last-Event-ID (SEP-1699)',
    },
    async (extra) => {
      const closed = extra.http?.closeSSE !== undefined;
      extra.http?.closeSSE?.();
      await pause(RECONNECT_WORK_MS, extra);
      return textResult(
        closed
          ? 'Reconnection test completed: the stream was closed mid-call and this result was delivered after the client reconnected.'
          : 'Reconnection test completed on the original stream (this request cannot be resumed, so it was not closed).',
      );
    },
  );

  server.registerTool(
    'json_schema_2020_12_tool',
    {
      title: 'JSON Schema 2020-12',
      description: 'Tool with JSON Schema 2020-12 features ($schema, $defs with $anchor, $ref, allOf/anyOf, if/then/else, additionalProperties: false)',
      inputSchema: JSON_SCHEMA_2020_12_INPUT,
    },
    (args) => textResult(`Received arguments: ${JSON.stringify(args)}`),
  );

  server.registerTool(
    'test_update_watched_resource',
    {
      title: 'Update the watched resource',
      description: `Changes ${URIS.watched} and notifies every session subscribed to it, on any replica`,
    },
    async () => {
      const version = await ctx.shared.increment(SHARED_KEYS.watchedVersion);
      const notified = await ctx.events.resourceUpdated(URIS.watched);
      return textResult(`${URIS.watched} is now at version ${version}; ${notified} subscribed session(s) notified.`);
    },
  );
}
