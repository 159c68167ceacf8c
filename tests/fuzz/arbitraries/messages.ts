import fc from 'fast-check';
import { Splice } from '../case.js';
import { anyJson, logLevel, mostly, oddString, ref, requestId, resourceUri, SAMPLING_ANSWER, splice, toolArguments, toolName } from './values.js';

/** JSON-RPC messages of either era: requests with their params, notifications, answers to the server. */
const jsonrpc = mostly(fc.constant('2.0'), fc.constantFrom('1.0', '2', 2, null, undefined));

export const message = (fields: fc.Arbitrary<Record<string, unknown>>) =>
  fc.tuple(jsonrpc, fields).map(([version, rest]) => (version === undefined ? rest : { jsonrpc: version, ...rest }));

export const capabilities: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom({}, { sampling: {}, elicitation: {}, roots: { listChanged: true } }, { sampling: {} }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: splice.map((s) => ({ experimental: s })) },
);

export const clientInfo: fc.Arbitrary<unknown> = mostly(
  fc.record({ name: fc.string({ maxLength: 20 }), version: fc.string({ maxLength: 8 }) }),
  fc.oneof(
    fc.constant(undefined),
    anyJson,
    fc.constantFrom(1_000, 20_000, 3_000_000).map((n) => ({ name: new Splice('long-string', n), version: '1' })),
  ),
  3,
);

/** The params of each request method of a session, mostly well-formed. */
export const requestParams: fc.Arbitrary<{ method: string; params: unknown }> = fc.oneof(
  {
    weight: 6,
    arbitrary: toolName.chain((name) =>
      fc.record({
        method: fc.constant('tools/call'),
        params: fc.record(
          { name: fc.constant(name), arguments: toolArguments(name), _meta: fc.record({ progressToken: fc.oneof(fc.nat(), fc.string(), anyJson) }) },
          { requiredKeys: ['name'] },
        ),
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      method: fc.constantFrom('resources/read', 'resources/subscribe', 'resources/unsubscribe'),
      params: fc.record({ uri: resourceUri }, { requiredKeys: [] }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      method: fc.constantFrom('tools/list', 'resources/list', 'resources/templates/list', 'prompts/list', 'ping'),
      params: fc.option(fc.record({ cursor: oddString }), { nil: undefined }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      method: fc.constant('prompts/get'),
      params: fc.record(
        { name: mostly(fc.constant('fleet-status'), oddString, 2), arguments: mostly(fc.record({ focus: fc.string({ maxLength: 20 }) }), anyJson, 2) },
        { requiredKeys: [] },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ method: fc.constant('logging/setLevel'), params: fc.record({ level: logLevel }, { requiredKeys: [] }) }) },
  { weight: 1, arbitrary: fc.record({ method: fc.constant('completion/complete'), params: anyJson }) },
  {
    weight: 1,
    arbitrary: fc.record({
      method: fc.oneof(oddString, fc.constantFrom('initialize', 'rpc.discover', 'tasks/list', 'subscriptions/listen', 'sampling/createMessage')),
      params: anyJson,
    }),
  },
);

export const request = message(
  fc.tuple(requestId, requestParams).map(([id, { method, params }]) => ({ id, method, ...(params === undefined ? {} : { params }) })),
);

export const notification = message(
  fc.oneof(
    fc.record({ method: fc.constantFrom('notifications/initialized', 'notifications/roots/list_changed') }),
    fc.record({
      method: fc.constant('notifications/cancelled'),
      params: fc.record({ requestId: mostly(ref('serverRequestId'), requestId, 1), reason: oddString }, { requiredKeys: [] }),
    }),
    fc.record({ method: fc.constant('notifications/progress'), params: fc.record({ progressToken: anyJson, progress: anyJson }) }),
    fc.record({ method: oddString, params: anyJson }, { requiredKeys: ['method'] }),
  ),
);

/** Ids a client may answer with: the server's own (`<instance>~<n>`), look-alikes and hostile ones. */
export const responseId: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: ref('serverRequestId') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{12}~[A-Za-z0-9_-]{1,16}$/) },
  { weight: 1, arbitrary: fc.constantFrom('*~1', 'a\r\nFLUSHALL~1', '~', '~~~', 'instance:x~1', '{slot}~1', `${'x'.repeat(10_000)}~1`) },
  { weight: 1, arbitrary: oddString.map((s) => `${s}~1`) },
  { weight: 1, arbitrary: requestId },
);

export const response = message(
  fc.record(
    {
      id: responseId,
      result: mostly(fc.constantFrom(SAMPLING_ANSWER, { action: 'accept', content: { answer: 'x' } }, { roots: [] }), anyJson, 2),
      error: fc.record({ code: mostly(fc.integer(), anyJson), message: mostly(fc.string(), anyJson) }, { requiredKeys: [] }),
    },
    { requiredKeys: ['id'] },
  ),
);
