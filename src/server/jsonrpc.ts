import { isJSONRPCResponse, type JSONRPCMessage, type JSONRPCResponse, type RequestId } from '@modelcontextprotocol/server';

/** The server's modules take these from here; they live in src/http/, below both the server and authorization. */
export { ErrorCode, sendJsonRpcError } from '../http/jsonrpc-error.js';

/** The SDK's response guard, narrowed to responses that name their request (an error response may not). */
export function isAnswer(message: JSONRPCMessage): message is JSONRPCResponse & { id: RequestId } {
  return isJSONRPCResponse(message) && message.id !== undefined;
}
