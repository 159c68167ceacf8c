import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ref, renderJson, Splice } from './case.js';
import { exchange, socketPayload, type Outcome } from './exchange.js';
import { Pools } from './pools.js';
import { judgeAnswer, lostThroughBalancer } from './properties.js';
import { ChunkedDecoder } from './raw-http.js';

/** The fuzz campaign's own parts: what it sends, how it reads answers, what it calls a violation. */
const answer = (fields: Partial<Outcome>): Outcome => ({
  via: 'fetch',
  status: 200,
  headers: new Map([['x-mcp-replica', 'replica-0']]),
  body: '',
  eventStream: false,
  closedByTest: undefined,
  timedOut: undefined,
  failure: undefined,
  cut: false,
  elapsedMs: 1,
  messages: [],
  unparsable: false,
  frameIds: [],
  ...fields,
});

const kinds = (judged: ReturnType<typeof judgeAnswer>) => judged.map((v) => v.kind);
const rpcError = { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null };

describe('the properties of one answer', () => {
  it('flags a 5xx, a hang, a connection closed without an answer, an error without a JSON-RPC body, a body that does not parse', () => {
    expect(kinds(judgeAnswer('POST', answer({ status: 500, messages: [rpcError] })))).toEqual(['5xx']);
    expect(kinds(judgeAnswer('POST', answer({ status: 503, messages: [rpcError] })))).toEqual(['5xx']);
    expect(kinds(judgeAnswer('POST', answer({ status: undefined, timedOut: 'head' })))).toEqual(['hang']);
    expect(kinds(judgeAnswer('POST', answer({ timedOut: 'body', messages: [{}] })))).toEqual(['hang']);
    expect(kinds(judgeAnswer('POST', answer({ status: undefined, failure: 'closed' })))).toEqual(['no-answer']);
    expect(kinds(judgeAnswer('POST', answer({ status: 400 })))).toEqual(['bodiless-error']);
    expect(kinds(judgeAnswer('POST', answer({ status: 404, messages: [{ error: 'Not found' }] })))).toEqual(['bodiless-error']);
    expect(kinds(judgeAnswer('POST', answer({ status: 400, messages: [{ jsonrpc: '2.0', error: { code: '1', message: 'x' } }] })))).toEqual(['bodiless-error']);
    expect(kinds(judgeAnswer('POST', answer({ status: 200, unparsable: true })))).toEqual(['malformed-answer']);
  });

  it('accepts a JSON-RPC error, a HEAD answer (bodiless by definition) and the balancer refusing a request it cannot parse', () => {
    expect(kinds(judgeAnswer('POST', answer({ status: 400, messages: [rpcError] })))).toEqual([]);
    expect(kinds(judgeAnswer('HEAD', answer({ status: 405 })))).toEqual([]);
    const page = '<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n';
    expect(kinds(judgeAnswer('GET', answer({ status: 400, headers: new Map(), body: page })))).toEqual([]);
    // The same page with a replica's name on it is a replica's answer, and not a JSON-RPC one.
    expect(kinds(judgeAnswer('GET', answer({ status: 400, body: page })))).toEqual(['bodiless-error']);
  });

  it('flags an answer lost or cut short by its connection whatever the size of the request (a large one was once let off as a known reset)', () => {
    expect(kinds(judgeAnswer('POST', answer({ status: undefined, failure: 'closed' })))).toEqual(['no-answer']);
    expect(kinds(judgeAnswer('POST', answer({ status: 400, cut: true, body: '{"jsonrpc":"2.0","err' })))).toEqual(['malformed-answer', 'bodiless-error']);
    expect(kinds(judgeAnswer('POST', answer({ status: 200, cut: true, messages: [{}] })))).toEqual(['malformed-answer']);
  });

  it('tells an answer lost through the balancer from one lost on a replica or one that came', () => {
    const lost = answer({ status: undefined, failure: 'EPIPE' });
    expect(lostThroughBalancer('balancer', lost)).toBe(true);
    expect(lostThroughBalancer({ replica: 0 }, lost)).toBe(false);
    expect(lostThroughBalancer('balancer', answer({ status: 400, cut: true }))).toBe(false);
  });
});

describe('building requests', () => {
  it('renders pool references (spoiled as asked) and splices giants into the JSON text', () => {
    const pools = new Pools();
    pools.add('session', 'abc');
    const text = renderJson(
      { a: new Ref('session', 7), b: new Ref('session', 0, { kind: 'append', text: '!' }), deep: new Splice('deep-array', 3), s: new Splice('long-string', 4) },
      pools,
    );
    expect(text).toBe('{"a":"abc","b":"abc!","deep":[[[]]],"s":"xxxx"}');
    expect(renderJson({ missing: new Ref('requestState', 0) }, pools)).toBe('{"missing":"missing-requestState"}');
  });

  it('writes each body framing by hand, and never announces more bytes than it sends', () => {
    const request = {
      method: 'POST',
      path: '/mcp',
      headers: [
        ['X-A', '1'],
        ['X-A', '2'],
      ] as Array<[string, string]>,
      body: Buffer.from('{"a":1}'),
    };
    const endpoint = { host: '127.0.0.1', port: 1 };
    const wire = (framing: Parameters<typeof socketPayload>[2]['framing'], omitHost = false) =>
      socketPayload(endpoint, request, { httpVersion: '1.1', omitHost, framing }).toString();
    expect(wire('length')).toBe('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:1\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"a":1}');
    expect(wire('chunked', true)).toBe(
      'POST /mcp HTTP/1.1\r\nX-A: 1\r\nX-A: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n7\r\n{"a":1}\r\n0\r\n\r\n',
    );
    expect(wire('length-short')).toContain('Content-Length: 3\r\n');
    expect(wire('both')).toContain('Content-Length: 7\r\nTransfer-Encoding: chunked\r\n');
    expect(wire('none')).not.toMatch(/Content-Length|Transfer-Encoding/);
  });

  it('decodes a chunked body however it is split', () => {
    const body = Buffer.from('5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n');
    for (let cut = 1; cut < body.length; cut++) {
      const decoder = new ChunkedDecoder();
      const out = [...decoder.push(body.subarray(0, cut)), ...decoder.push(body.subarray(cut))];
      expect(Buffer.concat(out).toString()).toBe('hello world');
      expect(decoder.done).toBe(true);
    }
  });
});

describe('reading answers', () => {
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write('id: g.1-0\ndata: \n\n');
      } else if (req.url === '/asks-client') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', id: 'abc~1', method: 'sampling/createMessage', params: {} })}\n\n`);
      } else if (req.url === '/cut') {
        res.writeHead(400, { 'Content-Type': 'application/json', 'Content-Length': '100' });
        res.write('{"jsonrpc":', () => res.destroy());
      } else if (req.url === '/stalls') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(': nothing yet\n\n');
      } else {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(rpcError));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });
  const endpoint = () => ({ host: '127.0.0.1', port });
  const get = (path: string, socket = false) =>
    exchange(
      endpoint(),
      { method: 'GET', path, headers: [], body: undefined },
      socket ? { httpVersion: '1.1', omitHost: false, framing: 'length' } : undefined,
    );

  it('reads a JSON answer whole, by fetch and by hand', async () => {
    for (const socket of [false, true]) {
      const outcome = await get('/error', socket);
      expect(outcome).toMatchObject({ status: 400, via: socket ? 'socket' : 'fetch', messages: [rpcError], timedOut: undefined, closedByTest: undefined });
    }
  });

  it('tells an answer cut short by the connection from a whole one, by fetch and by hand', async () => {
    for (const socket of [false, true]) {
      const outcome = await get('/cut', socket);
      expect(outcome, socket ? 'socket' : 'fetch').toMatchObject({ status: 400, cut: true, body: '{"jsonrpc":' });
      expect(kinds(judgeAnswer('GET', outcome))).toContain('malformed-answer');
      expect((await get('/error', socket)).cut).toBe(false);
    }
  });

  it('closes a GET stream after its first event, keeping its event id for later cases', async () => {
    const outcome = await get('/stream');
    expect(outcome).toMatchObject({ status: 200, eventStream: true, closedByTest: 'open-stream', frameIds: ['g.1-0'] });
  });

  it('closes a POST stream that waits for this client to answer a server request', async () => {
    const outcome = await exchange(endpoint(), { method: 'POST', path: '/asks-client', headers: [], body: Buffer.from('{}') }, undefined);
    expect(outcome).toMatchObject({ status: 200, closedByTest: 'awaiting-client', timedOut: undefined });
  });

  it('gives up on a POST stream that neither ends nor asks anything, and calls it a hang', async () => {
    const outcome = await exchange(endpoint(), { method: 'POST', path: '/stalls', headers: [], body: Buffer.from('{}') }, undefined, 300);
    expect(outcome).toMatchObject({ status: 200, timedOut: 'body' });
    expect(kinds(judgeAnswer('POST', outcome))).toEqual(['hang']);
  });

  it('goes by hand when fetch refuses the request (a method fetch will not send)', async () => {
    const outcome = await exchange(endpoint(), { method: 'TRACE', path: '/x', headers: [], body: undefined }, undefined);
    expect(outcome).toMatchObject({ via: 'socket', status: 400 });
  });
});
