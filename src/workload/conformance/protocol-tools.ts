import type { McpServer } from "@modelcontextprotocol/server";
import { z } from 'zod';
import type { WorkloadContext } from '../types.js';
import { SHARED_KEYS, URIS } from './fixtures.js';
import { pause, textResult, type Extra } from './results.js';

/** Pause between the notifications of the logging and progress tools, so they arrive apart. */
const STEP_MS = 50;

/** How long test_reconnection keeps working after closing its stream, so the result is sent while the client is away. */
const RECONNECT_WORK_MS = 200;

const JSON_SCHEMA_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

const ADDRESS_JSON_SCHEMA = {
  type: 'object',
  properties: { street: { type: 'string' }, city: { type: 'string' } },
};

/**
 * The input of json_schema_2020_12_tool. The metadata makes the advertised schema a JSON Schema
 * 2020-12 document with `$schema`, `$defs` and a `$ref` into them (the SDK would otherwise emit
 * draft-07), while the Zod schema itself still validates the arguments.
 */
const JSON_SCHEMA_2020_12_INPUT = z
  .strictObject({
    name: z.string().optional(),
    address: z
      .unknown()
      .pipe(z.object({ street: z.string().optional(), city: z.string().optional() }))
      .optional()
      .meta({ $ref: '#/$defs/address' }),
  })
  .meta({ $schema: JSON_SCHEMA_2020_12, $defs: { address: ADDRESS_JSON_SCHEMA } });

async function log(extra: Extra, data: string): Promise<void> {
  await extra.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', logger: 'conformance', data } });
}

/** Tools about the protocol around a call: notifications during it, stream polling, schemas, shared resources. */
export function registerProtocolTools(server: McpServer, ctx: WorkloadContext): void {
  server.registerTool(
    'test_tool_with_logging',
    { title: 'Logging', description: 'Sends three info log notifications while it runs' },
    async (extra) => {
      await log(extra, 'Tool execution started');
      await pause(STEP_MS, extra);
      await log(extra, 'Tool processing data');
      await pause(STEP_MS, extra);
      await log(extra, 'Tool execution completed');
      return textResult('Tool with logging executed successfully');
    },
  );

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
      description:
        'Closes its SSE stream mid-call and sends the result after the client reconnects with Last-Event-ID (SEP-1699)',
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
      description: 'Tool with JSON Schema 2020-12 features ($schema, $defs, $ref, additionalProperties: false)',
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
