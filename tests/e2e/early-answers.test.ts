import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../../src/fleet/index.js';
import { skipFleet } from '../fleet/available.js';
import { exchange, type Outcome, type SocketOptions } from '../fuzz/exchange.js';
import { MODERN_PROTOCOL_VERSION, modernRequest, POST_HEADERS } from '../support/raw-mcp.js';

/**
 * Answers a replica gives before it has read a large request body (a refused Origin, no Host, an
 * Expect it does not know, a body over MAX_BODY_BYTES, a request its parser refuses) used to be
 * followed at once by the close of a connection whose body was still arriving: the reset that
 * follows destroyed the answer on its way, at the client or at HAProxy in between. And HAProxy
 * now and then cut a large answer sent after a replica's `100 Continue` after its first buffer.
 * Each request is written whole at once, as a client that does not wait for an answer does, and
 * sent many times: every answer must arrive whole, with its JSON-RPC error.
 */
const MAX_BODY_BYTES = 512 * 1024;
const BODY = Buffer.alloc(1_000_000, 'x');
const TIMES = 30;

let fleet: Fleet;

beforeAll(async () => {
  if (skipFleet) return;
  fleet = await startFleet({ replicas: 1, env: { LOG_LEVEL: 'warn', MAX_BODY_BYTES: String(MAX_BODY_BYTES) } });
});

afterAll(async () => {
  await fleet?.stop();
});

const byHand = (options: Partial<SocketOptions> = {}): SocketOptions => ({ httpVersion: '1.1', omitHost: false, framing: 'length', ...options });

type Target = 'replica' | 'balancer';
const endpoint = (target: Target) => ({ host: '127.0.0.1', port: target === 'balancer' ? fleet.lbPort : fleet.replicas[0]!.port });

/** What came back, in one word: whole (status and JSON-RPC error code), or how it was lost. */
function verdict(outcome: Outcome): string {
  if (outcome.failure !== undefined) return 'lost';
  if (outcome.cut) return `${outcome.status} cut`;
  const message = outcome.messages[0] as { error?: { code?: unknown } } | undefined;
  if (outcome.unparsable || message?.error === undefined) return `${outcome.status} not a JSON-RPC error`;
  return `${outcome.status} ${String(message.error.code)}`;
}

async function tally(times: number, send: () => Promise<Outcome>): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < times; i++) {
    const key = verdict(await send());
    seen[key] = (seen[key] ?? 0) + 1;
  }
  return seen;
}

const headers = (...extra: Array<[string, string]>): Array<[string, string]> => [...Object.entries(POST_HEADERS), ...extra];

describe.skipIf(skipFleet)('an answer given before a 1 MB body is read reaches the client whole', () => {
  for (const target of ['replica', 'balancer'] as const) {
    it(`a refused Origin: ${TIMES} × 403, directly and by fetch (${target})`, async () => {
      const request = { method: 'POST', path: '/mcp', headers: headers(['Origin', 'https://evil.example']), body: BODY };
      expect(await tally(TIMES, () => exchange(endpoint(target), request, byHand()))).toEqual({ '403 -32000': TIMES });
      expect(await tally(TIMES, () => exchange(endpoint(target), request, undefined))).toEqual({ '403 -32000': TIMES });
    });

    it(`a body over MAX_BODY_BYTES: ${TIMES} × 413, by length and chunked (${target})`, async () => {
      const request = { method: 'POST', path: '/mcp', headers: headers(), body: BODY };
      expect(await tally(TIMES, () => exchange(endpoint(target), request, byHand()))).toEqual({ '413 -32000': TIMES });
      expect(await tally(TIMES, () => exchange(endpoint(target), request, byHand({ framing: 'chunked' })))).toEqual({ '413 -32000': TIMES });
    });

    it(`an Expect other than 100-continue: ${TIMES} × 417 (${target})`, async () => {
      const request = { method: 'POST', path: '/mcp', headers: headers(['Expect', 'nothing']), body: BODY };
      expect(await tally(TIMES, () => exchange(endpoint(target), request, byHand()))).toEqual({ '417 -32000': TIMES });
    });

    it(`no Host, and a path that is not the endpoint: ${TIMES} × 400 and 404 (${target})`, async () => {
      const request = { method: 'POST', path: '/mcp', headers: headers(), body: BODY };
      expect(await tally(TIMES, () => exchange(endpoint(target), request, byHand({ omitHost: true })))).toEqual({ '400 -32000': TIMES });
      expect(await tally(TIMES, () => exchange(endpoint(target), { ...request, path: '/elsewhere' }, byHand()))).toEqual({ '404 -32000': TIMES });
    });
  }

  it(`a chunk size Node's parser refuses: ${TIMES} × 400 from the replica`, async () => {
    const request = { method: 'POST', path: '/mcp', headers: headers(), body: BODY };
    expect(await tally(TIMES, () => exchange(endpoint('replica'), request, byHand({ framing: 'chunked-bad' })))).toEqual({ '400 -32600': TIMES });
  });
});

describe.skipIf(skipFleet)('bounds on the body read after an early answer', () => {
  it('closes the connection of a refused request whose body goes on past twice MAX_BODY_BYTES, rather than read it all', async () => {
    const port = fleet.replicas[0]!.port;
    const total = 64 * 1024 * 1024;
    const socket = net.connect(port, '127.0.0.1');
    let written = 0;
    await new Promise<void>((resolve) => {
      socket.on('error', () => {});
      socket.on('close', () => resolve());
      socket.write(
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: https://evil.example\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`,
      );
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (!socket.destroyed && written < total) {
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        // All of it went: the replica read the whole body.
        if (written >= total) socket.end();
      };
      pump();
    });
    // What the kernel buffers on both sides comes on top of the bound, but nowhere near 64 MB.
    expect(written).toBeLessThan(total / 2);
  });
});

describe.skipIf(skipFleet)('a large 2026-07-28 error sent with Expect: 100-continue through the balancer', () => {
  it('arrives whole every time: a 400 that echoes a 100 KB id, 100 times', async () => {
    const id = 'i'.repeat(100_000);
    // The body names another method than the Mcp-Method header: a 400 that carries the request's id.
    const body = Buffer.from(JSON.stringify({ ...modernRequest('tools/list'), id }));
    const request = {
      method: 'POST',
      path: '/mcp',
      headers: headers(['MCP-Protocol-Version', MODERN_PROTOCOL_VERSION], ['Mcp-Method', 'tools/call'], ['Expect', '100-continue']),
      body,
    };
    const seen: Record<string, number> = {};
    for (let i = 0; i < 100; i++) {
      const outcome = await exchange(endpoint('balancer'), request, byHand());
      const message = outcome.messages[0] as { id?: unknown; error?: { code?: unknown } } | undefined;
      const key =
        message?.id === id ? `${outcome.status} ${String(message.error?.code)} with its id` : `${outcome.status} cut after ${outcome.body.length} characters`;
      seen[key] = (seen[key] ?? 0) + 1;
    }
    expect(seen).toEqual({ '400 -32020 with its id': 100 });
  });
});
