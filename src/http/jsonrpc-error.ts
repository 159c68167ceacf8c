import type { ServerResponse } from 'node:http';
import type { RequestId } from '@modelcontextprotocol/server';

/** JSON-RPC error codes the transport answers with (the MCP SDK uses the same). */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  InternalError: -32603,
  InvalidParams: -32602,
  /** Transport-level errors: bad headers, unknown session, store unavailable. */
  ServerError: -32000,
  SessionNotFound: -32001,
} as const;

export function sendJsonRpcError(
  res: ServerResponse,
  httpStatus: number,
  code: number,
  message: string,
  extraHeaders: Record<string, string> = {},
  id: RequestId | null = null,
): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id });
  res.writeHead(httpStatus, { 'Content-Type': 'application/json', ...extraHeaders });
  res.end(body);
}
