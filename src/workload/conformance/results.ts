import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { setTimeout as delay } from 'node:timers/promises';

/** What every request handler receives besides its arguments. */
export type Extra = ServerContext;

export function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

export function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** Waits, giving up (by rejecting) when the request is cancelled. */
export function pause(ms: number, extra: Extra): Promise<void> {
  return delay(ms, undefined, { signal: extra.mcpReq.signal });
}
