import fc from 'fast-check';
import { Ref, type Value } from '../case.js';
import { framed, type Draft } from './frame.js';
import { LEGACY_VERSIONS, SAMPLING_ANSWER, TOOLS, validToolArguments } from './values.js';

/**
 * Well-formed traffic of both eras, sent as it is: sessions that start, calls that run, answers to
 * the server's own requests, retries with the requestStates it sealed, resumes from its event ids.
 * It reaches every handler, and fills the pools the spoiling generators draw from.
 */
const POST: Array<[string, Value]> = [
  ['Content-Type', 'application/json'],
  ['Accept', 'application/json, text/event-stream'],
];
const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'fuzz', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': { sampling: {}, elicitation: {}, roots: {} },
};
/** The answer each input-asking tool expects, by tool (legacy: to the server's request; modern: in inputResponses). */
const ANSWERS: Record<string, unknown> = {
  sample: SAMPLING_ANSWER,
  elicit: { action: 'accept', content: { answer: 'fuzz' } },
  roots: { roots: [{ uri: 'file:///fuzz', name: 'fuzz' }] },
};
const ASKING = Object.keys(ANSWERS);

const post = (family: Draft['family'], headers: Array<[string, Value]>, value: unknown): Draft => ({
  family,
  method: 'POST',
  headers: [...POST, ...headers],
  body: { kind: 'json', value },
});
const inSession = (pick: number, version: string): Array<[string, Value]> => [
  ['Mcp-Session-Id', new Ref('session', pick)],
  ['MCP-Protocol-Version', version],
];

const initialize = fc.record({ id: fc.nat(), version: fc.constantFrom(...LEGACY_VERSIONS), full: fc.boolean() }).map(({ id, version, full }) =>
  post('legacy', [], {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: {
      protocolVersion: version,
      capabilities: full ? { sampling: {}, elicitation: {}, roots: { listChanged: true } } : {},
      clientInfo: { name: 'fuzz', version: '1' },
    },
  }),
);

const legacyCall = fc
  .record({ tool: fc.constantFrom(...TOOLS), id: fc.nat(), pick: fc.nat(), version: fc.constantFrom(...LEGACY_VERSIONS) })
  .chain(({ tool, id, pick, version }) =>
    validToolArguments(tool).map((args) =>
      post('legacy', inSession(pick, version), { jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args } }),
    ),
  );

const legacyOther = fc
  .record({
    id: fc.nat(),
    pick: fc.nat(),
    version: fc.constantFrom(...LEGACY_VERSIONS),
    method: fc.constantFrom('tools/list', 'resources/subscribe', 'resources/read', 'prompts/get', 'logging/setLevel', 'ping'),
  })
  .map(({ id, pick, version, method }) => {
    const params =
      {
        'resources/subscribe': { uri: 'counter://fz-a' },
        'resources/read': { uri: 'counter://fz-b' },
        'prompts/get': { name: 'fleet-status' },
        'logging/setLevel': { level: 'debug' },
      }[method as string] ?? {};
    return post('legacy', inSession(pick, version), { jsonrpc: '2.0', id, method, params });
  });

/** The client's answer to one of the server's real requests (whichever tool asked, in whichever session). */
const legacyAnswer = fc
  .record({ pick: fc.nat(), request: fc.nat(), tool: fc.constantFrom(...ASKING), version: fc.constantFrom(...LEGACY_VERSIONS) })
  .map(({ pick, request, tool, version }) =>
    post('legacy', inSession(pick, version), { jsonrpc: '2.0', id: new Ref('serverRequestId', request), result: ANSWERS[tool] }),
  );

const resume = fc.record({ pick: fc.nat(), event: fc.option(fc.nat(), { nil: undefined }), version: fc.constantFrom(...LEGACY_VERSIONS) }).map(
  ({ pick, event, version }): Draft => ({
    family: 'legacy',
    method: 'GET',
    headers: [
      ['Accept', 'text/event-stream'],
      ...inSession(pick, version),
      ...(event === undefined ? [] : ([['Last-Event-ID', new Ref('eventId', event)]] as Array<[string, Value]>)),
    ],
    body: { kind: 'none' },
  }),
);

const modernHeaders = (method: string, name?: string): Array<[string, Value]> => [
  ['MCP-Protocol-Version', MODERN],
  ['Mcp-Method', method],
  ...(name === undefined ? [] : ([['Mcp-Name', name]] as Array<[string, Value]>)),
];

const modernCall = fc
  .record({ tool: fc.constantFrom(...TOOLS), id: fc.nat() })
  .chain(({ tool, id }) =>
    validToolArguments(tool).map((args) =>
      post('modern', modernHeaders('tools/call', tool), { jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args, _meta: ENVELOPE } }),
    ),
  );

/** A retry of a multi round-trip call with a requestState the fleet sealed, and the answer it asked for. */
const modernRetry = fc.record({ tool: fc.constantFrom(...ASKING), id: fc.nat(), state: fc.nat() }).chain(({ tool, id, state }) =>
  validToolArguments(tool).map((args) =>
    post('modern', modernHeaders('tools/call', tool), {
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: tool, arguments: args, requestState: new Ref('requestState', state), inputResponses: { [tool]: ANSWERS[tool] }, _meta: ENVELOPE },
    }),
  ),
);

const modernOther = fc
  .record({ id: fc.nat(), method: fc.constantFrom('server/discover', 'tools/list', 'resources/read', 'prompts/get', 'subscriptions/listen') })
  .map(({ id, method }) => {
    const params =
      {
        'resources/read': { uri: 'counter://fz-a' },
        'prompts/get': { name: 'fleet-status' },
        'subscriptions/listen': { notifications: { resourceSubscriptions: ['counter://fz-a'], toolsListChanged: true } },
      }[method as string] ?? {};
    const name = (params as { uri?: string; name?: string }).uri ?? (params as { name?: string }).name;
    return post('modern', modernHeaders(method, method === 'subscriptions/listen' ? undefined : name), {
      jsonrpc: '2.0',
      id,
      method,
      params: { ...params, _meta: ENVELOPE },
    });
  });

export const validCase = framed(
  fc.oneof(
    { weight: 2, arbitrary: initialize },
    { weight: 3, arbitrary: legacyCall },
    { weight: 1, arbitrary: legacyOther },
    { weight: 2, arbitrary: legacyAnswer },
    { weight: 1, arbitrary: resume },
    { weight: 3, arbitrary: modernCall },
    { weight: 2, arbitrary: modernRetry },
    { weight: 1, arbitrary: modernOther },
  ),
  undefined,
  true,
);
