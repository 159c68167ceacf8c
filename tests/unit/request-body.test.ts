import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdEarlyAnswer } from '../../src/server/early-answers.js';
import { createBodyReader } from '../../src/server/request-body.js';

const LIMIT = 1000;
const read = createBodyReader(LIMIT);

/** What the server saw of each request: the body handed over, or that its response was destroyed. */
const seen: Array<{ body?: Buffer | undefined; destroyed?: boolean }> = [];
let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    holdEarlyAnswer(req, res, { maxBytes: 2 * LIMIT, maxMs: 1000 });
    const record: (typeof seen)[number] = {};
    seen.push(record);
    res.once('close', () => {
      if (!res.writableFinished) record.destroyed = true;
    });
    read(req, res, (body) => {
      record.body = body;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(body ?? 'none');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

interface Reply {
  status: number;
  body: string;
}

function post(headers: Record<string, string | number>, chunks: Array<Buffer | string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/mcp', headers, agent: false }, (response) => {
      const parts: Buffer[] = [];
      response.on('data', (part: Buffer) => parts.push(part));
      response.on('end', () => resolve({ status: response.statusCode!, body: Buffer.concat(parts).toString() }));
    });
    request.on('error', reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

const errorOf = (reply: Reply) => (JSON.parse(reply.body) as { error: { code: number; message: string } }).error;

describe('the request body reader', () => {
  it('hands over a plain body whole, by length and chunked', async () => {
    expect(await post({ 'Content-Length': 11 }, ['hello world'])).toEqual({ status: 200, body: 'hello world' });
    expect(await post({ 'Transfer-Encoding': 'chunked' }, ['hello ', 'chunked ', 'world'])).toEqual({ status: 200, body: 'hello chunked world' });
  });

  it('hands over nothing for a request without a body, an empty buffer for an empty one', async () => {
    // Node's client gives every POST a length or chunks: this one is written by hand.
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end('POST /mcp HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
      let text = '';
      socket.on('data', (part: Buffer) => (text += part.toString()));
      socket.on('close', () => resolve(text));
    });
    expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
    expect(reply).toMatch(/\r\n\r\n(4\r\n)?none/);
    expect(seen.at(-1)!.body).toBeUndefined();
    expect((await post({ 'Content-Length': 0 }, [])).status).toBe(200);
    expect(seen.at(-1)!.body).toEqual(Buffer.alloc(0));
  });

  it('answers a chunked body past the limit with 413', async () => {
    const reply = await post({ 'Transfer-Encoding': 'chunked' }, [Buffer.alloc(600, 'x'), Buffer.alloc(600, 'x')]);
    expect(reply.status).toBe(413);
    expect(errorOf(reply)).toEqual({ code: -32000, message: `Payload Too Large: the body exceeds ${LIMIT} bytes` });
    expect(seen.at(-1)!.body).toBeUndefined();
  });

  it('answers a declared length over the limit with 413 before reading the body', async () => {
    const reply = await new Promise<number>((resolve, reject) => {
      // The body is never sent: the answer cannot wait for it.
      const request = http.request(
        { port, host: '127.0.0.1', method: 'POST', path: '/mcp', headers: { 'Content-Length': LIMIT + 1 }, agent: false },
        (response) => {
          resolve(response.statusCode!);
          request.destroy();
        },
      );
      request.on('error', reject);
      request.flushHeaders();
    });
    expect(reply).toBe(413);
  });

  it('destroys the response of a request whose client went away inside its body', async () => {
    const before = seen.length;
    const request = http.request({ port, host: '127.0.0.1', method: 'POST', path: '/mcp', headers: { 'Content-Length': 500 }, agent: false });
    request.on('error', () => {});
    request.write(Buffer.alloc(100, 'x'));
    await until(() => seen.length > before);
    request.destroy();
    await until(() => seen[before]!.destroyed === true);
    expect(seen[before]!.body).toBeUndefined();
  });

  it('inflates a compressed body (body-parser reads it) and refuses an encoding it does not know with 415', async () => {
    const text = JSON.stringify({ jsonrpc: '2.0', method: 'ping', id: 1 });
    const zipped = gzipSync(text);
    expect(await post({ 'Content-Encoding': 'gzip', 'Content-Length': zipped.length }, [zipped])).toEqual({ status: 200, body: text });
    const big = gzipSync(Buffer.alloc(LIMIT + 1, 'x'));
    const tooLarge = await post({ 'Content-Encoding': 'gzip', 'Content-Length': big.length }, [big]);
    expect(tooLarge.status).toBe(413);
    const unknown = await post({ 'Content-Encoding': 'compress', 'Content-Length': 4 }, ['abcd']);
    expect(unknown.status).toBe(415);
    expect(errorOf(unknown).message).toBe('Unsupported Media Type: unsupported content encoding "compress"');
  });

  it('answers a body shorter than its Content-Length with 400, as body-parser does', async () => {
    // Node's parser never ends a body before its length: a stream stands in for the request.
    const req = Object.assign(Readable.from([Buffer.from('hello')], { objectMode: false }), {
      headers: { 'content-length': '10' },
      socket: { readable: true },
    }) as unknown as IncomingMessage;
    const answer = fakeResponse();
    read(req, answer.res, () => expect.unreachable('no body is handed over'));
    await until(() => answer.status !== undefined);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body!)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Bad Request: request size did not match content length' },
      id: null,
    });
  });
});

function fakeResponse() {
  const answer: { status?: number; body?: string; res: ServerResponse } = {
    res: {
      headersSent: false,
      writeHead(status: number) {
        answer.status = status;
        return this;
      },
      end(body: string) {
        answer.body = body;
      },
    } as unknown as ServerResponse,
  };
  return answer;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}
