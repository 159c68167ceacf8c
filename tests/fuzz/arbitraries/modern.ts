import fc from 'fast-check';
import { Splice, type Value } from '../case.js';
import { framed, type Draft } from './frame.js';
import { capabilities, clientInfo, message, requestParams, response } from './messages.js';
import { anyJson, logLevel, mostly, oddString, protocolVersion, ref, requestId, resourceUri, SAMPLING_ANSWER, toolArguments } from './values.js';

const MODERN = '2026-07-28';
const KEY = 'io.modelcontextprotocol';

/** The per-request `_meta` envelope: mostly right, sometimes with a key missing or spoiled. */
const envelope: fc.Arbitrary<unknown> = mostly(
  fc.record(
    {
      [`${KEY}/protocolVersion`]: mostly(fc.constant(MODERN), fc.oneof(protocolVersion, anyJson), 6),
      [`${KEY}/clientInfo`]: mostly(fc.constant({ name: 'fuzz', version: '1' }), clientInfo, 4),
      [`${KEY}/clientCapabilities`]: mostly(fc.constantFrom({}, { sampling: {}, elicitation: {}, roots: {} }), capabilities, 4),
      [`${KEY}/logLevel`]: logLevel,
      progressToken: fc.oneof(fc.nat(), fc.string({ maxLength: 8 })),
    },
    { requiredKeys: [`${KEY}/protocolVersion`] },
  ),
  fc.oneof(fc.constantFrom(null, 'meta', [], {}), anyJson),
  8,
);

/** What a retry of a multi round-trip call carries: a requestState (issued, spoiled or invented) and answers. */
const retryFields = fc.record(
  {
    requestState: fc.oneof(
      { weight: 4, arbitrary: ref('requestState') },
      { weight: 1, arbitrary: fc.oneof(oddString, fc.base64String({ maxLength: 200 }), fc.constant(new Splice('long-string', 200_000)), anyJson) },
    ),
    inputResponses: fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          { sample: SAMPLING_ANSWER },
          { elicit: { action: 'accept', content: { answer: 'x' } } },
          { roots: { roots: [{ uri: 'file:///x' }] } },
        ),
      },
      { weight: 2, arbitrary: fc.dictionary(fc.constantFrom('sample', 'elicit', 'roots', 'other'), anyJson, { maxKeys: 3 }) },
      { weight: 1, arbitrary: anyJson },
    ),
  },
  { requiredKeys: [] },
);

const filter: fc.Arbitrary<unknown> = mostly(
  fc.record(
    {
      toolsListChanged: mostly(fc.boolean(), anyJson, 4),
      promptsListChanged: fc.boolean(),
      resourcesListChanged: fc.boolean(),
      resourceSubscriptions: mostly(
        fc.array(resourceUri, { maxLength: 4 }),
        fc.oneof(
          fc.constantFrom(200, 5000).map((n) => Array.from({ length: n }, (_, i) => `counter://fz-${i}`)),
          anyJson,
        ),
        4,
      ),
    },
    { requiredKeys: [] },
  ),
  anyJson,
  4,
);

const call: fc.Arbitrary<{ method: string; params: Record<string, unknown> }> = fc.oneof(
  {
    weight: 6,
    arbitrary: requestParams.map(({ method, params }) => ({
      method,
      params: typeof params === 'object' && params !== null && !Array.isArray(params) ? (params as Record<string, unknown>) : { value: params },
    })),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('sample', 'elicit', 'roots'), retryFields)
      .chain(([name, retry]) => toolArguments(name).map((args) => ({ method: 'tools/call', params: { name, arguments: args, ...retry } }))),
  },
  { weight: 3, arbitrary: filter.map((notifications) => ({ method: 'subscriptions/listen', params: { notifications } })) },
  { weight: 1, arbitrary: fc.constantFrom('server/discover', 'tasks/list', 'tasks/get', 'initialize').map((method) => ({ method, params: {} })) },
);

/** A modern request's headers: MCP-Protocol-Version, Mcp-Method and Mcp-Name, mostly agreeing with the body. */
function headersFor(method: string, params: Record<string, unknown>): fc.Arbitrary<Array<[string, Value]>> {
  const name = typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined;
  const named = ['tools/call', 'prompts/get', 'resources/read'].includes(method) && name !== undefined;
  return fc
    .record({
      version: mostly(fc.constant(MODERN), protocolVersion, 6),
      method: mostly(fc.constant(method), fc.oneof(oddString, fc.constantFrom('tools/list', 'subscriptions/listen')), 6),
      name: named ? mostly(fc.constant(name), oddString, 6) : fc.constant(undefined),
    })
    .map(
      ({ version, method: m, name: n }): Array<[string, Value]> => [
        ['Content-Type', 'application/json'],
        ['Accept', 'application/json, text/event-stream'],
        ['MCP-Protocol-Version', version],
        ['Mcp-Method', m],
        ...(n === undefined ? [] : ([['Mcp-Name', n]] as Array<[string, Value]>)),
      ],
    );
}

const modernRequest: fc.Arbitrary<Draft> = fc.tuple(requestId, call, envelope).chain(([id, { method, params }, meta]) =>
  fc.tuple(headersFor(method, params), message(fc.constant({ id, method, params: { ...params, _meta: meta } }))).map(
    ([headers, body]): Draft => ({
      family: 'modern',
      method: 'POST',
      headers,
      body: { kind: 'json', value: body },
    }),
  ),
);

/** What a 2026-07-28 client may post besides requests: notifications and stray answers, with an envelope. */
const modernOther: fc.Arbitrary<Draft> = fc
  .tuple(
    fc.oneof(
      response,
      message(
        fc.record({
          method: fc.constantFrom('notifications/cancelled', 'notifications/initialized', 'notifications/roots/list_changed'),
          params: fc.record({ requestId: fc.oneof(fc.constant('listen:0'), requestId) }, { requiredKeys: [] }),
        }),
      ),
    ),
    envelope,
  )
  .map(([body, meta]) => ({
    family: 'modern',
    method: 'POST',
    headers: [
      ['Content-Type', 'application/json'],
      ['Accept', 'application/json, text/event-stream'],
      ['MCP-Protocol-Version', MODERN],
    ],
    body: { kind: 'json', value: { ...(body as Record<string, unknown>), params: { ...((body as { params?: object }).params ?? {}), _meta: meta } } },
  }));

/** 2026-07-28 traffic: stateless requests with their envelope, multi round-trip retries, listen streams. */
export const modernCase = framed(fc.oneof({ weight: 8, arbitrary: modernRequest }, { weight: 1, arbitrary: modernOther }));
