import fc from 'fast-check';
import type { Body, Framing, FuzzCase, Value } from '../case.js';
import { headerValue, mostly, oddString, protocolVersion, ref } from './values.js';

/** What a generator of one era decides: the request; the frame around it is drawn here. */
export interface Draft {
  family: FuzzCase['family'];
  method: string;
  headers: Array<[string, Value]>;
  body: Body;
}

export const sessionId: fc.Arbitrary<Value> = mostly(
  ref('session'),
  fc.oneof(fc.uuid(), fc.constantFrom('', '00000000-0000-0000-0000-000000000000', 'x'.repeat(300), '../session'), oddString),
  5,
);

export const lastEventId: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: ref('eventId') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'g.99999999999999999999-99999999999999999999',
      'g.0-0',
      'g.18446744073709551615-18446744073709551615',
      'g.-1',
      'g.',
      '.',
      'p.1-1',
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^(g|p[A-Za-z0-9_-]{16,32}|[a-z]{1,4})\.\d{1,22}-\d{1,22}$/) },
  { weight: 1, arbitrary: oddString },
);

const VALUES: Record<string, fc.Arbitrary<Value>> = {
  'Mcp-Session-Id': sessionId,
  'MCP-Protocol-Version': protocolVersion,
  'Last-Event-ID': lastEventId,
  'Mcp-Method': headerValue(fc.constantFrom('tools/call', 'tools/list', 'subscriptions/listen', 'initialize', 'ping', 'server/discover')),
  'Mcp-Name': headerValue(fc.constantFrom('whoami', 'bump', 'sample', 'counter://fz-a', 'fleet-status')),
  'Content-Type': headerValue(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'APPLICATION/JSON',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json-rpc',
      'text/event-stream',
      'application/json;',
    ),
  ),
  Accept: headerValue(
    fc.constantFrom(
      'application/json, text/event-stream',
      'text/event-stream, application/json',
      'application/json',
      'text/event-stream',
      '*/*',
      'text/html',
      'APPLICATION/JSON, TEXT/EVENT-STREAM',
      'application/json;q=0, text/event-stream;q=0',
    ),
  ),
  Origin: headerValue(
    fc.constantFrom(
      'http://localhost',
      'http://localhost:3000',
      'http://127.0.0.1:8080',
      'http://[::1]',
      'https://evil.example',
      'null',
      'file://',
      'not a url',
      'http://localhost.evil.example',
    ),
  ),
  Host: headerValue(fc.constantFrom('localhost', '127.0.0.1', 'evil.example', '', 'localhost:99999', '[::1]:80', 'a b', 'x'.repeat(300), '127.0.0.1:1@evil')),
  'Content-Encoding': headerValue(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'zstd', 'gzip, gzip')),
  Expect: headerValue(fc.constantFrom('100-continue', 'nothing')),
  Authorization: headerValue(fc.constantFrom('Bearer x', 'Bearer ', 'Basic Zm9vOmJhcg==', 'Bearer ' + 'a'.repeat(5000))),
  Connection: headerValue(fc.constantFrom('keep-alive', 'close', 'Upgrade', 'Mcp-Session-Id')),
  Upgrade: headerValue(fc.constantFrom('websocket', 'h2c', 'HTTP/2.0')),
  'X-Forwarded-For': headerValue(fc.constantFrom('1.2.3.4', '::1, 10.0.0.1', 'unknown')),
  Cookie: headerValue(fc.constantFrom('a=b', 'session=' + 'x'.repeat(100))),
};
const NAMES = Object.keys(VALUES);

type Perturbation = { op: 'drop'; name: string } | { op: 'set' | 'add'; name: string; value: Value } | { op: 'rename'; name: string; to: string };

const perturbation: fc.Arbitrary<Perturbation> = fc.constantFrom(...NAMES).chain((name) =>
  fc.oneof(
    fc.constant({ op: 'drop' as const, name }),
    VALUES[name]!.map((value) => ({ op: 'set' as const, name, value })),
    VALUES[name]!.map((value) => ({ op: 'add' as const, name, value })),
    fc.constantFrom(name.toLowerCase(), name.toUpperCase(), `${name} `, `${name}\t`, `X-${name}`).map((to) => ({ op: 'rename' as const, name, to })),
  ),
);

function perturb(headers: Array<[string, Value]>, changes: Perturbation[]): Array<[string, Value]> {
  let out = [...headers];
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  for (const change of changes) {
    if (change.op === 'drop') out = out.filter(([n]) => !same(n, change.name));
    else if (change.op === 'add') out.push([change.name, change.value]);
    else if (change.op === 'rename') out = out.map(([n, v]) => [same(n, change.name) ? change.to : n, v]);
    else {
      const at = out.findIndex(([n]) => same(n, change.name));
      if (at >= 0) out[at] = [out[at]![0], change.value];
      else out.push([change.name, change.value]);
    }
  }
  return out;
}

export const PATHS = [
  '/mcp/',
  '/MCP',
  '/mcp?x=1',
  '/mcp?sessionId=1',
  '/',
  '/healthz',
  '/readyz',
  '/metrics',
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp',
  '//mcp',
  '/mcp/../mcp',
  '/%6dcp',
  '/mcp%00',
  '/mcp;x',
  '*',
  'http://127.0.0.1/mcp',
  'mcp',
  '/mcp#x',
];
export const path: fc.Arbitrary<string> = fc.oneof(
  { weight: 20, arbitrary: fc.constant('/mcp') },
  { weight: 2, arbitrary: fc.constantFrom(...PATHS) },
  { weight: 1, arbitrary: fc.webPath() },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 14 }).map((n) => `/${'a'.repeat(2 ** n)}`) },
);

const framing: fc.Arbitrary<Framing> = mostly(
  fc.constant('length' as const),
  fc.constantFrom('none' as const, 'chunked' as const, 'chunked-bad' as const, 'length-short' as const, 'both' as const),
  3,
);

/**
 * The frame around a draft: where it goes, how it is written, and up to three spoiled headers; a
 * `clean` draft goes out as it is, by fetch to /mcp, so that well-formed traffic reaches every handler.
 */
export function framed(draft: fc.Arbitrary<Draft>, paths: fc.Arbitrary<string> = path, clean = false): fc.Arbitrary<FuzzCase> {
  const none = <T>(value: T) => fc.constant(value);
  return fc
    .record({
      draft,
      path: clean ? none('/mcp') : paths,
      target: fc.oneof({ weight: 8, arbitrary: fc.constant('balancer' as const) }, { weight: 1, arbitrary: fc.nat(2).map((replica) => ({ replica })) }),
      socket: clean
        ? none(undefined)
        : mostly(
            fc.constant(undefined),
            fc.record({
              httpVersion: mostly(fc.constant('1.1' as const), fc.constant('1.0' as const)),
              omitHost: mostly(fc.constant(false), fc.constant(true)),
              framing,
            }),
            4,
          ),
      changes: clean
        ? none<Perturbation[]>([])
        : fc.oneof({ weight: 3, arbitrary: fc.constant<Perturbation[]>([]) }, { weight: 2, arbitrary: fc.array(perturbation, { minLength: 1, maxLength: 3 }) }),
    })
    .map(({ draft: d, path: p, target, socket, changes }) => ({
      family: d.family,
      target,
      transport: socket ? ('socket' as const) : ('fetch' as const),
      method: d.method,
      path: p,
      headers: perturb(d.headers, changes),
      body: d.body,
      httpVersion: socket?.httpVersion ?? '1.1',
      omitHost: socket?.omitHost ?? false,
      framing: socket?.framing ?? 'length',
    }));
}
