import type { IncomingMessage } from 'node:http';
import { isLegacyRequest } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { eraOf } from '../../src/server/era.js';
import { NOT_JSON, parseJsonBody } from '../../src/server/json-body.js';
import { modernRequest, request } from '../support/raw-mcp.js';

interface Case {
  name: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

const json = (value: unknown) => JSON.stringify(value);
const MODERN = { 'mcp-protocol-version': '2026-07-28' };
const CLAIM = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const CASES: Case[] = [
  {
    name: 'initialize',
    method: 'POST',
    headers: {},
    body: json(request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } })),
  },
  {
    name: 'a 2025 session request',
    method: 'POST',
    headers: { 'mcp-protocol-version': '2025-11-25', 'mcp-session-id': 'x' },
    body: json(request('tools/list')),
  },
  { name: 'a posted response', method: 'POST', headers: {}, body: json({ jsonrpc: '2.0', id: 'a~1', result: {} }) },
  { name: 'a body that is not JSON', method: 'POST', headers: {}, body: '{oops' },
  { name: 'GET', method: 'GET', headers: {} },
  { name: 'DELETE', method: 'DELETE', headers: {} },
  {
    name: 'a 2026-07-28 tools/call',
    method: 'POST',
    headers: { ...MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'whoami' },
    body: json(modernRequest('tools/call', { name: 'whoami' })),
  },
  { name: 'server/discover', method: 'POST', headers: { ...MODERN, 'mcp-method': 'server/discover' }, body: json(modernRequest('server/discover')) },
  { name: 'a modern header without the envelope', method: 'POST', headers: MODERN, body: json(request('tools/list')) },
  {
    name: 'an envelope naming an unsupported revision',
    method: 'POST',
    headers: {},
    body: json(request('tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } })),
  },
  // What a claim alone decides, and where it does not (the SDK's own answer must agree).
  {
    name: 'initialize carrying the claim',
    method: 'POST',
    headers: {},
    body: json(request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' }, _meta: CLAIM })),
  },
  { name: 'a response carrying a method and the claim', method: 'POST', headers: {}, body: json({ ...request('tools/list', { _meta: CLAIM }), result: {} }) },
  {
    name: 'an error response carrying a method and the claim',
    method: 'POST',
    headers: {},
    body: json({ ...request('tools/list', { _meta: CLAIM }), error: { code: 1, message: 'x' } }),
  },
  {
    name: 'a notification carrying the claim',
    method: 'POST',
    headers: {},
    body: json({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: CLAIM } }),
  },
  {
    name: 'a claim naming no string',
    method: 'POST',
    headers: {},
    body: json(request('tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': 7 } })),
  },
  { name: 'a claim with a bad id', method: 'POST', headers: {}, body: json({ jsonrpc: '2.0', id: { a: 1 }, method: 'tools/list', params: { _meta: CLAIM } }) },
  { name: 'a claim without jsonrpc', method: 'POST', headers: {}, body: json({ id: 1, method: 'tools/list', params: { _meta: CLAIM } }) },
  { name: 'a claim in a batch', method: 'POST', headers: {}, body: json([request('tools/list', { _meta: CLAIM })]) },
  {
    name: 'a claim with a method that is not a string',
    method: 'POST',
    headers: {},
    body: json({ jsonrpc: '2.0', id: 1, method: 5, params: { _meta: CLAIM } }),
  },
  {
    name: '_meta that is not an object',
    method: 'POST',
    headers: {},
    body: json(request('tools/list', { _meta: ['io.modelcontextprotocol/protocolVersion'] })),
  },
];

describe('eraOf', () => {
  it.each(CASES)('routes $name as the SDK does (isLegacyRequest)', async ({ method, headers, body }) => {
    const parsed = body === undefined ? undefined : parseJsonBody(Buffer.from(body));
    const webRequest = new Request('http://localhost/mcp', { method, headers: { 'content-type': 'application/json', ...headers }, body });
    const legacy = await isLegacyRequest(webRequest);
    expect(eraOf({ method, headers } as unknown as IncomingMessage, parsed)).toBe(legacy ? 'legacy' : 'modern');
  });

  it('covers both eras in its table', async () => {
    const eras = CASES.map(({ method, headers, body }) =>
      eraOf({ method, headers } as unknown as IncomingMessage, body === undefined ? undefined : parseJsonBody(Buffer.from(body))),
    );
    expect(new Set(eras)).toEqual(new Set(['legacy', 'modern']));
    expect(parseJsonBody(Buffer.from(''))).toBe(NOT_JSON);
  });
});
