import type { JSONRPCMessage, JSONRPCResponse, RequestId } from '@modelcontextprotocol/server';

/** The server's modules take these from here; they live in src/http/, below both the server and authorization. */
export { ErrorCode, sendJsonRpcError } from '../http/jsonrpc-error.js';

/**
 * A response that names its request (an error response may not). The messages asked about are
 * already valid JSON-RPC (parsed by the SDK's schemas, or written by the SDK), so their shape
 * decides: the SDK's own guard re-parses the whole message with zod, which cost a warm legacy call
 * about 20 µs (a request fails that parse, and a failed zod parse builds its issues).
 */
export function isAnswer(message: JSONRPCMessage): message is JSONRPCResponse & { id: RequestId } {
  return !('method' in message) && ('result' in message || 'error' in message) && message.id !== undefined;
}
