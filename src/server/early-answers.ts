import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How much of a request body the server still reads, and throws away, after answering before it
 * read the body, so that the answer reaches the client instead of being destroyed by a reset.
 */
export interface DiscardBounds {
  /** Body bytes read after the answer; a body longer than this is cut (the connection is closed). */
  maxBytes: number;
  /** How long after the answer the rest of the body may take to arrive; then the same. */
  maxMs: number;
}

/**
 * Twice MAX_BODY_BYTES, so that a body of any acceptable size (refused for its Origin, its Host, a
 * missing token) and one moderately over the limit (a 413) are read to their end; within
 * BODY_READ_TIMEOUT_MS, the time any request body may take.
 */
export function discardBoundsOf(config: { maxBodyBytes: number; bodyReadTimeoutMs: number }): DiscardBounds {
  return { maxBytes: 2 * config.maxBodyBytes, maxMs: config.bodyReadTimeoutMs };
}

/** Whether the request says a body follows its head (HTTP/1.x requests have no close-delimited bodies). */
export function announcesBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  return Number(req.headers['content-length'] ?? 0) > 0;
}

type EndArguments = { chunk: string | Uint8Array | undefined; encoding: BufferEncoding | undefined; callback: (() => void) | undefined };

function endArguments(args: unknown[]): EndArguments {
  const [first, second, third] = args;
  if (typeof first === 'function') return { chunk: undefined, encoding: undefined, callback: first as () => void };
  const chunk = first === null || first === undefined ? undefined : (first as string | Uint8Array);
  if (typeof second === 'function') return { chunk, encoding: undefined, callback: second as () => void };
  return { chunk, encoding: second as BufferEncoding | undefined, callback: third as (() => void) | undefined };
}

/**
 * Reads the rest of a request body and drops each piece as it comes (nothing is kept or parsed),
 * until its end (`whole`), more than `maxBytes`, `maxMs`, or the client going away.
 */
function discardBody(req: IncomingMessage, bounds: DiscardBounds, done: (whole: boolean) => void): () => void {
  let read = 0;
  let settled = false;
  const settle = (whole: boolean) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onClose);
    done(whole);
  };
  const onData = (chunk: Buffer) => {
    read += chunk.length;
    if (read > bounds.maxBytes) settle(false);
  };
  const onEnd = () => settle(true);
  const onClose = () => settle(req.complete);
  const timer = setTimeout(() => settle(false), bounds.maxMs);
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('close', onClose);
  req.resume();
  return () => settle(req.complete);
}

/** Answers whose end waits for the rest of their request body: how to end each at once. */
const held = new WeakMap<ServerResponse, () => void>();

/**
 * Ends an answer held by holdEarlyAnswer now, when the connection cannot be read any further
 * (Node's parser failed on bytes after the request); false when `res` is not one.
 */
export function releaseEarlyAnswer(res: ServerResponse): boolean {
  const release = held.get(res);
  release?.();
  return release !== undefined;
}

/**
 * An answer given before the request body was read (a refused Host or Origin, an Expect the server
 * does not know, a body over MAX_BODY_BYTES, a missing token, a path that is not the endpoint)
 * would otherwise be followed at once by the close of a connection whose body is still arriving:
 * the kernel then answers the unread bytes with a reset, which destroys the answer on its way,
 * at the client or at the load balancer in between. Instead the answer says `Connection: close`,
 * goes out at once, and its end waits until the rest of the body has been read and dropped, within
 * `bounds`; then the connection closes cleanly. A body beyond the bounds is cut: the connection is
 * closed with it unread, and the answer may still be lost to the reset.
 *
 * Installed on every request that announces a body; it does nothing to an answer given once the
 * body has been read, as every answer after the body parser is.
 */
export function holdEarlyAnswer(req: IncomingMessage, res: ServerResponse, bounds: DiscardBounds): void {
  if (!announcesBody(req)) return;
  const unread = () => !req.complete && !req.destroyed;
  const { writeHead, end } = res;
  const restore = () => {
    res.writeHead = writeHead;
    res.end = end;
  };
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (unread() && !this.headersSent) this.setHeader('Connection', 'close');
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['writeHead'];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    restore();
    if (!unread() || this.writableEnded) return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    const { chunk, encoding, callback } = endArguments(args);
    if (!this.headersSent) {
      this.setHeader('Connection', 'close');
      // Framed by its length, the answer is whole at the client before the connection closes.
      if (chunk !== undefined && !this.hasHeader('content-length') && !this.hasHeader('transfer-encoding')) {
        this.setHeader('Content-Length', typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : chunk.byteLength);
      }
    }
    if (chunk !== undefined) this.write(chunk, encoding ?? 'utf8');
    const socket = req.socket;
    const release = discardBody(req, bounds, (whole) => {
      held.delete(this);
      this.end(() => {
        callback?.();
        if (!whole) socket.destroy();
      });
    });
    held.set(this, release);
    return this;
  } as ServerResponse['end'];
}

/**
 * The same for an answer written straight to the socket (a request Node's parser refused): the
 * connection is read, and what arrives dropped, until the client closes its side or the bounds
 * are passed.
 */
export function discardAfterAnswer(socket: Socket, bounds: DiscardBounds): void {
  const start = socket.bytesRead;
  const timer = setTimeout(() => socket.destroy(), bounds.maxMs);
  socket.on('data', () => {
    if (socket.bytesRead - start > bounds.maxBytes) socket.destroy();
  });
  socket.once('end', () => socket.destroySoon());
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
}
