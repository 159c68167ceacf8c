import type { IncomingMessage } from 'node:http';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import type { Era } from '../workload/types.js';
import { header } from './http-guards.js';
import { NOT_JSON } from './json-body.js';

/**
 * Which leg serves a request: the SDK's own classification (what `isLegacyRequest` runs), read
 * from the already parsed body so that no web Request has to be built for it. Everything without a
 * per-request `_meta` envelope claim is legacy (initialize, session requests, GET, DELETE, a body
 * that is not JSON); everything the modern path answers, its rejections included, is modern.
 */
export function eraOf(req: IncomingMessage, body: unknown): Era {
  const httpMethod = (req.method ?? 'GET').toUpperCase();
  if (httpMethod === 'POST' && (body === undefined || body === NOT_JSON)) return 'legacy';
  const outcome = classifyInboundRequest({
    httpMethod,
    protocolVersionHeader: header(req, 'mcp-protocol-version'),
    mcpMethodHeader: header(req, 'mcp-method'),
    mcpNameHeader: header(req, 'mcp-name'),
    body,
  });
  return outcome.kind === 'legacy' ? 'legacy' : 'modern';
}
