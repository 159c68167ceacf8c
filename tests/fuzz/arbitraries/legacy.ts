import fc from 'fast-check';
import type { Value } from '../case.js';
import { framed, lastEventId, sessionId, type Draft } from './frame.js';
import { capabilities, clientInfo, message, notification, request, response } from './messages.js';
import { anyJson, LEGACY_VERSIONS, mostly, protocolVersion, requestId } from './values.js';

const POST: Array<[string, Value]> = [
  ['Content-Type', 'application/json'],
  ['Accept', 'application/json, text/event-stream'],
];

const initializeBody = message(
  fc.record(
    {
      id: requestId,
      method: mostly(fc.constant('initialize'), fc.constantFrom('Initialize', 'initialize ', 'notifications/initialized')),
      params: mostly(
        fc.record(
          { protocolVersion: mostly(fc.constantFrom(...LEGACY_VERSIONS), fc.oneof(protocolVersion, anyJson), 3), capabilities, clientInfo },
          { requiredKeys: [] },
        ),
        anyJson,
      ),
    },
    { requiredKeys: ['method'] },
  ),
);

const initialize: fc.Arbitrary<Draft> = initializeBody.map((body) => ({
  family: 'legacy',
  method: 'POST',
  headers: [...POST],
  body: { kind: 'json', value: body },
}));

const sessionHeaders = (extra: Array<[string, Value]>) =>
  fc
    .tuple(sessionId, mostly(fc.constantFrom(...LEGACY_VERSIONS), protocolVersion, 4))
    .map(([id, version]): Array<[string, Value]> => [...extra, ['Mcp-Session-Id', id], ['MCP-Protocol-Version', version]]);

const sessionPost = (body: fc.Arbitrary<unknown>): fc.Arbitrary<Draft> =>
  fc.tuple(sessionHeaders(POST), body).map(([headers, value]) => ({ family: 'legacy', method: 'POST', headers, body: { kind: 'json', value } }));

const batch: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.oneof(request, notification, response, anyJson), { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.constantFrom(100, 101).map((n) => Array.from({ length: n }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' }))) },
);

const getStream: fc.Arbitrary<Draft> = fc
  .tuple(sessionHeaders([['Accept', 'text/event-stream']]), fc.option(lastEventId, { nil: undefined, freq: 2 }))
  .map(([headers, resume]) => ({
    family: 'legacy',
    method: 'GET',
    headers: resume === undefined ? headers : [...headers, ['Last-Event-ID', resume]],
    body: { kind: 'none' },
  }));

const deleteSession: fc.Arbitrary<Draft> = sessionHeaders([]).map((headers) => ({ family: 'legacy', method: 'DELETE', headers, body: { kind: 'none' } }));

/** 2025-era traffic: initialize, requests and notifications of a session, answers to the server, batches, GET streams, DELETE. */
export const legacyCase = framed(
  fc.oneof(
    { weight: 3, arbitrary: initialize },
    { weight: 8, arbitrary: sessionPost(request) },
    { weight: 2, arbitrary: sessionPost(notification) },
    { weight: 2, arbitrary: sessionPost(response) },
    { weight: 2, arbitrary: sessionPost(batch) },
    { weight: 3, arbitrary: getStream },
    { weight: 1, arbitrary: deleteSession },
  ),
);
