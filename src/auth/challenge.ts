import type { ServerResponse } from 'node:http';
import type { RequestId } from '@modelcontextprotocol/server';
import { ErrorCode, sendJsonRpcError } from '../http/jsonrpc-error.js';

export interface Challenge {
  /** RFC 6750 error code; absent when the request carried no token at all. */
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  description?: string;
  scopes: readonly string[];
  resourceMetadataUrl: string;
}

/** An RFC 7230 quoted-string: `\` and `"` escaped, anything a header cannot carry replaced. */
const quoted = (value: string): string => `"${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7E]/g, ' ')}"`;

/** `WWW-Authenticate: Bearer ...` (RFC 6750 §3, RFC 9728 §5.1). */
export function bearerChallenge({ error, description, scopes, resourceMetadataUrl }: Challenge): string {
  const params: string[] = [];
  if (error !== undefined) params.push(`error=${quoted(error)}`);
  if (error !== undefined && description !== undefined) params.push(`error_description=${quoted(description)}`);
  if (scopes.length > 0) params.push(`scope=${quoted(scopes.join(' '))}`);
  params.push(`resource_metadata=${quoted(resourceMetadataUrl)}`);
  return `Bearer ${params.join(', ')}`;
}

const STATUS: Record<NonNullable<Challenge['error']> | 'none', { status: number; reason: string }> = {
  none: { status: 401, reason: 'Unauthorized' },
  invalid_request: { status: 400, reason: 'Bad Request' },
  invalid_token: { status: 401, reason: 'Unauthorized' },
  insufficient_scope: { status: 403, reason: 'Forbidden' },
};

/** The challenge as an HTTP answer with a JSON-RPC error body. */
export function sendChallenge(res: ServerResponse, challenge: Challenge, id: RequestId | null = null): void {
  const { status, reason } = STATUS[challenge.error ?? 'none'];
  const detail = challenge.description ?? (challenge.error === undefined ? 'a bearer token is required' : challenge.error);
  sendJsonRpcError(res, status, ErrorCode.ServerError, `${reason}: ${detail}`, { 'WWW-Authenticate': bearerChallenge(challenge) }, id);
}
