import fc from 'fast-check';
import { Ref, Splice, type Mutation, type Value } from '../case.js';
import type { PoolName } from '../pools.js';

/** `often` most of the time, `rarely` otherwise. */
export const mostly = <A, B>(often: fc.Arbitrary<A>, rarely: fc.Arbitrary<B>, weight = 6): fc.Arbitrary<A | B> =>
  fc.oneof({ weight, arbitrary: often as fc.Arbitrary<A | B> }, { weight: 1, arbitrary: rarely as fc.Arbitrary<A | B> });

/** Strings that break parsers, validators and key builders. */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\t',
    'null',
    'undefined',
    '0',
    '-1',
    '[]',
    '{}',
    '%00',
    '\u0000',
    '\r\nX-Injected: 1',
    'a\r\nFLUSHALL',
    'é',
    '☃',
    '\ud800',
    '../../etc/passwd',
    '*',
    '?',
    '{a}',
    "' OR 1=1 --",
    '\\',
    '~',
    '~~',
    'instance:*',
    '__proto__',
    'constructor',
    '\u202e',
    '0x10',
    '1e309',
  ),
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.integer({ min: 1, max: 12 }).map((n) => 'a'.repeat(2 ** n)),
);

export const mutation: fc.Arbitrary<Mutation> = mostly(
  fc.constant({ kind: 'none' as const }),
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
    fc.record({ kind: fc.constant('append' as const), text: oddString }),
    fc.constant({ kind: 'upper' as const }),
  ),
  3,
);

export const ref = (pool: PoolName): fc.Arbitrary<Ref> => fc.tuple(fc.nat(), mutation).map(([pick, m]) => new Ref(pool, pick, m));

/** Values nested, long or huge enough to hit depth, size and record limits. */
export const splice: fc.Arbitrary<Splice> = fc.oneof(
  fc
    .tuple(fc.constantFrom('deep-array' as const, 'deep-object' as const), fc.constantFrom(8, 40, 63, 64, 65, 200, 10_000, 100_000))
    .map(([k, n]) => new Splice(k, n)),
  fc.constantFrom(1_000, 17_000, 100_000, 1_000_000, 5_000_000).map((n) => new Splice('long-string', n)),
  fc.constantFrom(30, 400, 10_000).map((n) => new Splice('long-number', n)),
);

/** Any JSON, now and then with a spliced giant inside. */
export const anyJson: fc.Arbitrary<unknown> = mostly(fc.jsonValue({ maxDepth: 3 }), splice, 8);

export const PROTOCOL_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25', '2026-07-28'] as const;
export const LEGACY_VERSIONS = ['2025-03-26', '2025-06-18', '2025-11-25'] as const;

export const protocolVersion: fc.Arbitrary<string> = mostly(
  fc.constantFrom(...PROTOCOL_VERSIONS),
  fc.oneof(fc.constantFrom('2099-01-01', '2025-13-45', 'latest', 'draft', '2025-11-25, 2026-07-28', ' 2025-11-25'), oddString),
  4,
);

export const requestId: fc.Arbitrary<unknown> = mostly(
  fc.oneof(fc.nat(), fc.string({ minLength: 1, maxLength: 12 })),
  fc.oneof(fc.constantFrom(null, -1, 0, 1.5, 2 ** 53 + 2, 1e308, true, '', [], {}), oddString, fc.constant(new Splice('long-string', 100_000))),
);

export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
export const logLevel: fc.Arbitrary<unknown> = mostly(fc.constantFrom(...LOG_LEVELS), fc.oneof(oddString, fc.jsonValue({ maxDepth: 1 })), 3);

export const TOOLS = ['whoami', 'notify', 'progress', 'sample', 'elicit', 'roots', 'bump'] as const;
export const toolName: fc.Arbitrary<string> = mostly(fc.constantFrom(...TOOLS), oddString, 5);

/** Counters the fuzzer may bump: never a bystander's. */
export const counterName: fc.Arbitrary<unknown> = mostly(fc.constantFrom('fz-a', 'fz-b'), fc.oneof(oddString, fc.jsonValue({ maxDepth: 1 })), 3);

export const resourceUri: fc.Arbitrary<unknown> = mostly(
  fc.constantFrom('counter://fz-a', 'counter://fz-b'),
  fc.oneof(
    fc.constantFrom('counter://', 'counter://fz-a/../..', 'counter://*', 'file:///etc/passwd', 'http://127.0.0.1:6379/', '', 'counter://a\r\nPUBLISH x y'),
    oddString.map((s) => `counter://${s}`),
    fc.constant(new Splice('long-string', 6000)),
    fc.jsonValue({ maxDepth: 1 }),
  ),
  3,
);

/** Well-typed, small arguments for each reference tool (a valid call finishes quickly). */
const VALID_ARGUMENTS: Record<string, fc.Arbitrary<unknown>> = {
  whoami: fc.constant({}),
  notify: fc.record({ message: fc.string({ maxLength: 30 }), count: fc.integer({ min: 1, max: 5 }) }, { requiredKeys: ['message'] }),
  progress: fc.record({ steps: fc.integer({ min: 1, max: 5 }), delayMs: fc.integer({ min: 0, max: 10 }) }, { requiredKeys: ['steps'] }),
  sample: fc.record({ prompt: fc.string({ maxLength: 30 }) }),
  elicit: fc.record({ question: fc.string({ maxLength: 30 }) }),
  roots: fc.constant({}),
  bump: fc.record({ name: fc.constantFrom('fz-a', 'fz-b') }),
};

export const validToolArguments = (tool: string): fc.Arbitrary<unknown> => (Object.hasOwn(VALID_ARGUMENTS, tool) ? VALID_ARGUMENTS[tool]! : fc.constant({}));

/** Arguments for each reference tool: mostly valid, sometimes wrong in type, range or size. */
export function toolArguments(tool: string): fc.Arbitrary<unknown> {
  const wrong = fc.oneof(
    fc.record(
      {
        count: fc.constantFrom(0, -1, 1001, 1.5, 'many', 1e9),
        steps: fc.constantFrom(0, 1001, 'x'),
        delayMs: fc.constantFrom(-1, 10_001),
        message: fc.constantFrom(null, 5),
      },
      { requiredKeys: [] },
    ),
    fc.record({ message: fc.constant(new Splice('long-string', 20_000)) }),
    fc.record({ name: counterName }),
    anyJson,
  );
  return mostly(validToolArguments(tool), wrong, 4);
}

export const SAMPLING_ANSWER = { role: 'assistant', model: 'fuzz-model', content: { type: 'text', text: 'fuzz' } };

export const headerValue = (often: fc.Arbitrary<Value>): fc.Arbitrary<Value> => mostly(often, oddString, 5);
