import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type DiscardBounds, discardAfterAnswer, releaseEarlyAnswer } from './early-answers.js';

/**
 * Requests Node's HTTP parser rejects (a newline inside a header, oversized headers, a request not
 * received within requestTimeout) still get a JSON-RPC error body, written straight to the socket,
 * and never take the process down.
 */
export function answerParserRefusals(server: http.Server, discardBounds: DiscardBounds): void {
  // Connections answered here, still read (and what arrives dropped) before the close.
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // The parser keeps failing on what follows the refused request: those bytes are being dropped.
    if (answered.has(socket)) return;
    // As Node's own handler does: nothing is written where a response has begun on this connection
    // (bytes after a request that Node cannot parse), which another answer would corrupt.
    const current = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
    // An answer given before its body was read, whose end waited for the rest of the body: that
    // body is over or cannot be read further (the parser failed after or inside it): it ends now.
    if (current && releaseEarlyAnswer(current)) {
      answered.add(socket);
      return;
    }
    if (!socket.writable || current?.headersSent) return socket.destroy();
    socket.end(rawAnswer(error));
    answered.add(socket);
    discardAfterAnswer(socket as Socket, discardBounds);
  });
}

/** The whole HTTP/1.1 answer to a refused request: 431 for oversized headers, 408 for a timeout, else 400. */
function rawAnswer(error: NodeJS.ErrnoException): string {
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const reason =
    status === 408 ? 'Request Timeout: the request was not received in time' : `Bad Request: malformed HTTP request (${error.code ?? 'parse error'})`;
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message: reason }, id: null });
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
