import type { IncomingMessage } from 'node:http';
import { classifyInboundRequest, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import type { Era } from '../workload/types.js';
import { header } from './http-guards.js';
import { NOT_JSON } from './json-body.js';

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A request or notification (not initialize, not a response) whose `_meta` carries the 2026-07-28
 * protocol-version claim: the SDK classifies it modern or rejects it on the modern path, whatever
 * the rest of it holds, and its modern leg classifies and validates it again anyway. So it goes
 * there without a first pass here (that pass validates the envelope: a tenth of a call's work).
 */
function claimsModern(body: unknown): boolean {
  if (!isPlainObject(body) || 'result' in body || 'error' in body) return false;
  if (typeof body.method !== 'string' || body.method === 'initialize') return false;
  const meta = isPlainObject(body.params) ? body.params._meta : undefined;
  return isPlainObject(meta) && PROTOCOL_VERSION_META_KEY in meta;
}

/**
 * Which leg serves a request: the SDK's own classification (what `isLegacyRequest` runs), read
 * from the already parsed body so that no web Request has to be built for it. Everything without a
 * per-request `_meta` envelope claim is legacy (initialize, session requests, GET, DELETE, a body
 * that is not JSON); everything the modern path answers, its rejections included, is modern.
 */
export function eraOf(req: IncomingMessage, body: unknown): Era {
  const httpMethod = (req.method ?? 'GET').toUpperCase();
  if (httpMethod === 'POST' && (body === undefined || body === NOT_JSON)) return 'legacy';
  if (httpMethod === 'POST' && claimsModern(body)) return 'modern';
  const outcome = classifyInboundRequest({
    httpMethod,
    protocolVersionHeader: header(req, 'mcp-protocol-version'),
    mcpMethodHeader: header(req, 'mcp-method'),
    mcpNameHeader: header(req, 'mcp-name'),
    body,
  });
  return outcome.kind === 'legacy' ? 'legacy' : 'modern';
}
