import type { IncomingMessage } from 'node:http';
import { ErrorCode } from '../jsonrpc.js';
import { type GuardFailure, header } from '../http-guards.js';

/** A refusal of the legacy leg: answered with this status and a JSON-RPC error body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Throws a header check's failure as an HttpError. */
export const fail = (failure: GuardFailure | undefined, code: number = ErrorCode.ServerError): void => {
  if (failure) throw new HttpError(failure.status, code, failure.message);
};

export const sessionIdOf = (req: IncomingMessage): string | undefined => header(req, 'mcp-session-id');

export const sessionHeaders = (sessionId: string | undefined): Record<string, string> => (sessionId === undefined ? {} : { 'mcp-session-id': sessionId });
