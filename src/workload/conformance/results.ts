import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { setTimeout as delay } from 'node:timers/promises';

/** What every request handler receives besides its arguments. */
export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export function textResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }] };
}

export function errorResult(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}

/** Waits, giving up (by rejecting) when the request is cancelled. */
export function pause(ms: number, extra: Extra): Promise<void> {
  return delay(ms, undefined, { signal: extra.signal });
}
