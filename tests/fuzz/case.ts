import type { Pools, PoolName } from './pools.js';

/** How a value taken from a pool is spoiled before it is sent. */
export type Mutation =
  | { kind: 'none' }
  | { kind: 'flip'; at: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'append'; text: string }
  | { kind: 'upper' };

/**
 * A value the server handed out earlier in the campaign (a session id, an event id, a
 * requestState, the id of a server-to-client request), picked and possibly spoiled when the case
 * is sent. Cases stay plain data, so fast-check can print and shrink them.
 */
export class Ref {
  constructor(
    readonly pool: PoolName,
    readonly pick: number,
    readonly mutation: Mutation = { kind: 'none' },
  ) {}

  toString(): string {
    return `Ref(${this.pool}#${this.pick}${this.mutation.kind === 'none' ? '' : ` ${JSON.stringify(this.mutation)}`})`;
  }
}

/** A stretch of body text too big or too deep to keep in the case: built when the case is sent. */
export class Splice {
  constructor(
    readonly kind: 'deep-array' | 'deep-object' | 'long-string' | 'long-number',
    readonly size: number,
  ) {}

  render(): string {
    switch (this.kind) {
      case 'deep-array':
        return '['.repeat(this.size) + ']'.repeat(this.size);
      case 'deep-object':
        return '{"a":'.repeat(this.size) + '1' + '}'.repeat(this.size);
      case 'long-string':
        return JSON.stringify('x'.repeat(this.size));
      case 'long-number':
        return '9'.repeat(this.size);
    }
  }

  toString(): string {
    return `Splice(${this.kind} ${this.size})`;
  }
}

export type Value = string | Ref;

export type Body =
  | { kind: 'none' }
  /** A JSON value whose leaves may be Ref or Splice. */
  | { kind: 'json'; value: unknown }
  /** Bytes as given: broken JSON, stray encodings, empty bodies. */
  | { kind: 'raw'; text: string; encoding: 'utf8' | 'latin1' | 'base64' };

export interface FuzzCase {
  /** Which family of generators made it (for the figures only). */
  family: 'legacy' | 'modern' | 'http';
  /** The load balancer, or one replica directly (what a balancer that forwards everything would let through). */
  target: 'balancer' | { replica: number };
  /** `socket` writes the request by hand; `fetch` falls back to it when fetch refuses the request. */
  transport: 'fetch' | 'socket';
  method: string;
  path: string;
  headers: Array<[string, Value]>;
  body: Body;
  /** Raw socket only: the request line's version, whether to leave out Host, how the body is framed. */
  httpVersion: '1.1' | '1.0';
  omitHost: boolean;
  framing: Framing;
}

/**
 * How a hand-written request frames its body: a right Content-Length, none at all, chunked (well
 * or badly), a Content-Length shorter than the body, or both headers at once. Never a length
 * longer than the body: that request is unfinished, and waiting for it is the client's doing.
 */
export type Framing = 'length' | 'none' | 'chunked' | 'chunked-bad' | 'length-short' | 'both';

/** The request exactly as it goes on the wire. */
export interface WireRequest {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body: Buffer | undefined;
}

function mutate(value: string, mutation: Mutation): string {
  switch (mutation.kind) {
    case 'none':
      return value;
    case 'flip': {
      if (value === '') return 'x';
      const at = mutation.at % value.length;
      const c = value[at]!;
      return value.slice(0, at) + (c === 'A' ? 'B' : 'A') + value.slice(at + 1);
    }
    case 'truncate':
      return value.slice(0, mutation.keep % (value.length + 1));
    case 'append':
      return value + mutation.text;
    case 'upper':
      return value.toUpperCase();
  }
}

function resolveRef(ref: Ref, pools: Pools): string {
  return mutate(pools.pick(ref.pool, ref.pick) ?? `missing-${ref.pool}`, ref.mutation);
}

/** A JSON value with its Ref leaves resolved and its Splice leaves rendered. */
export function renderJson(value: unknown, pools: Pools): string {
  const splices: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Ref) return resolveRef(v, pools);
    if (v instanceof Splice) {
      splices.push(v.render());
      return `\u0000splice${splices.length - 1}\u0000`;
    }
    return v;
  });
  if (text === undefined) return '';
  return splices.length === 0 ? text : text.replace(/"\\u0000splice(\d+)\\u0000"/g, (_m, i: string) => splices[Number(i)]!);
}

export function resolveCase(fuzzCase: FuzzCase, pools: Pools): WireRequest {
  const headers = fuzzCase.headers.map(([name, value]): [string, string] => [name, value instanceof Ref ? resolveRef(value, pools) : value]);
  const { body } = fuzzCase;
  let bytes: Buffer | undefined;
  if (body.kind === 'json') bytes = Buffer.from(renderJson(body.value, pools), 'utf8');
  else if (body.kind === 'raw') bytes = Buffer.from(body.text, body.encoding);
  return { method: fuzzCase.method, path: fuzzCase.path, headers, body: bytes };
}

/** The request as a reproduction: a short text a person can replay with curl or a socket. */
export function describeRequest(fuzzCase: FuzzCase, wire: WireRequest, via: string): string {
  const body =
    wire.body === undefined
      ? ''
      : wire.body.length > 600
        ? `${wire.body.subarray(0, 600).toString('latin1')}… (${wire.body.length} bytes)`
        : wire.body.toString('latin1');
  const target = fuzzCase.target === 'balancer' ? 'balancer' : `replica-${fuzzCase.target.replica}`;
  const flags =
    via === 'fetch'
      ? []
      : [
          fuzzCase.httpVersion === '1.0' ? 'HTTP/1.0' : '',
          fuzzCase.omitHost ? 'no Host' : '',
          fuzzCase.framing === 'length' ? '' : `framing ${fuzzCase.framing}`,
        ].filter(Boolean);
  // Values with control or non-ASCII characters are shown as JSON strings, so they can be replayed exactly.
  const shown = (v: string) => (/^[\x20-\x7e]*$/.test(v) ? v : JSON.stringify(v));
  const headers = wire.headers.map(([n, v]) => `${shown(n)}: ${v.length > 200 ? `${shown(v.slice(0, 200))}… (${v.length} chars)` : shown(v)}`);
  return [`${wire.method} ${wire.path} → ${target} via ${via}${flags.length ? ` (${flags.join(', ')})` : ''}`, ...headers, '', body].join('\n');
}
