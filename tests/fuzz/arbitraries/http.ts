import fc from 'fast-check';
import type { Body, Value } from '../case.js';
import { framed, PATHS, type Draft } from './frame.js';
import { request } from './messages.js';
import { anyJson, mostly, oddString } from './values.js';

const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'FOO', 'get', 'PROPFIND', 'M-SEARCH'];

const body: fc.Arbitrary<Body> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  anyJson.map((value) => ({ kind: 'json' as const, value })),
  request.map((value) => ({ kind: 'json' as const, value })),
  fc
    .oneof(
      fc.constantFrom(
        '',
        '{',
        '{"jsonrpc":"2.0",',
        '[',
        'null',
        '"x"',
        '1',
        '{}{}',
        '\ufeff{"jsonrpc":"2.0","id":1,"method":"ping"}',
        '{"__proto__":{"x":1},"jsonrpc":"2.0","id":1,"method":"ping"}',
        '{"jsonrpc":"2.0","id":1,"method":"ping","id":2}',
      ),
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
    )
    .map((text) => ({ kind: 'raw' as const, text, encoding: 'utf8' as const })),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ kind: 'raw' as const, text: Buffer.from(bytes).toString('base64'), encoding: 'base64' as const })),
);

const header: fc.Arbitrary<[string, Value]> = fc.tuple(
  mostly(
    fc.constantFrom('Content-Type', 'Accept', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Mcp-Method', 'Last-Event-ID', 'Origin', 'X-Custom'),
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
    3,
  ),
  oddString,
);

const draft: fc.Arbitrary<Draft> = fc
  .record({
    method: fc.constantFrom(...METHODS),
    headers: fc.array(header, { maxLength: 4 }),
    body,
    standard: fc.boolean(),
  })
  .map(({ method, headers, body: b, standard }) => ({
    family: 'http' as const,
    method,
    headers: standard ? [['Content-Type', 'application/json'], ['Accept', 'application/json, text/event-stream'], ...headers] : headers,
    body: b,
  }));

/** Anything HTTP: odd methods, paths and headers, bodies that are not JSON-RPC or not JSON at all. */
export const httpCase = framed(draft, mostly(fc.constant('/mcp'), fc.oneof(fc.constantFrom(...PATHS), fc.webPath()), 2));
