import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';

export interface GuardFailure {
  status: number;
  message: string;
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function acceptsPost(req: IncomingMessage): GuardFailure | undefined {
  const accept = header(req, 'accept') ?? '';
  if (accept.includes('application/json') && accept.includes('text/event-stream')) return undefined;
  return { status: 406, message: 'Not Acceptable: Client must accept both application/json and text/event-stream' };
}

export function acceptsEventStream(req: IncomingMessage): GuardFailure | undefined {
  if ((header(req, 'accept') ?? '').includes('text/event-stream')) return undefined;
  return { status: 406, message: 'Not Acceptable: Client must accept text/event-stream' };
}

export function hasJsonBody(req: IncomingMessage): GuardFailure | undefined {
  const type = (header(req, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return undefined;
  return { status: 415, message: 'Unsupported Media Type: Content-Type must be application/json' };
}

export function protocolVersionOf(req: IncomingMessage): string | undefined {
  return header(req, 'mcp-protocol-version');
}

export function checkProtocolVersion(req: IncomingMessage): GuardFailure | undefined {
  const version = protocolVersionOf(req);
  if (version === undefined || SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
  return {
    status: 400,
    message: `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
  };
}

/**
 * RFC 9112 §3.2.2: a server must accept a request target in absolute-form (`POST http://host/mcp`);
 * it is served as its path and query, with the target's authority as Host (§3.2.3). The modern leg
 * builds its request URL from Host and the target.
 */
export function toOriginForm(req: IncomingMessage): void {
  if (req.url === undefined || req.url.startsWith('/') || !URL.canParse(req.url)) return;
  const target = new URL(req.url);
  req.url = `${target.pathname}${target.search}`;
  req.headers.host = target.host;
}

/** host[:port] as RFC 3986 spells it: a bracketed IP literal or a reg-name (no userinfo, path, query, space). */
const HOST_SHAPE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(:\d*)?$/;

/** Verdicts on Host values seen lately: a fleet sees a handful, and parsing one as a URL on every request costs more than the rest of the check. */
const hostVerdicts = new Map<string, boolean>();
const HOST_VERDICTS_MAX = 256;

/** Whether a Host header names a host (RFC 9112 §3.2: anything else is a 400); the modern leg builds its request URL from it. */
export function isValidHost(host: string): boolean {
  let valid = hostVerdicts.get(host);
  if (valid === undefined) {
    valid = HOST_SHAPE.test(host) && URL.canParse(`http://${host}/`);
    // Bounded: a client sending a new Host each time only ever finds the map full and starts it anew.
    if (hostVerdicts.size >= HOST_VERDICTS_MAX) hostVerdicts.clear();
    hostVerdicts.set(host, valid);
  }
  return valid;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function hostnameOf(hostHeader: string): string {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return hostHeader.toLowerCase();
  }
}

export interface OriginPolicy {
  allowedOrigins: string[];
  allowedHosts: string[];
}

/**
 * DNS-rebinding protection. With ALLOWED_HOSTS set, the Host header must name one of them; with
 * ALLOWED_ORIGINS set, a browser's Origin must be one of them. Without ALLOWED_ORIGINS, only loopback
 * origins are accepted: under DNS rebinding the attacker's Origin names the very host the request
 * was sent to, so "same host" proves nothing. Requests without Origin (non-browser clients) pass.
 */
export function checkOrigin(req: IncomingMessage, policy: OriginPolicy): GuardFailure | undefined {
  const host = header(req, 'host');
  if (policy.allowedHosts.length > 0) {
    const name = host === undefined ? '' : hostnameOf(host);
    const ok = policy.allowedHosts.some((allowed) => allowed.toLowerCase() === host?.toLowerCase() || allowed.toLowerCase() === name);
    if (!ok) return { status: 403, message: `Forbidden: Host header ${JSON.stringify(host ?? '')} is not allowed` };
  }
  const origin = header(req, 'origin');
  if (origin === undefined) return undefined;
  if (policy.allowedOrigins.length > 0) {
    if (policy.allowedOrigins.includes(origin) || policy.allowedOrigins.includes('*')) return undefined;
    return { status: 403, message: `Forbidden: Origin ${origin} is not allowed` };
  }
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return { status: 403, message: `Forbidden: Origin ${JSON.stringify(origin)} is not a valid origin` };
  }
  if (LOOPBACK_HOSTS.has(hostnameOf(originHost))) return undefined;
  return { status: 403, message: `Forbidden: Origin ${origin} is not allowed (set ALLOWED_ORIGINS)` };
}

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

/** Whether the body is a plain stream of bytes whose length Content-Length gives, and that length. */
export function declaredBodyLength(req: IncomingMessage): number | undefined {
  const encoding = (header(req, 'content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' || req.headers['transfer-encoding'] !== undefined) return undefined;
  const length = Number(req.headers['content-length']);
  return Number.isSafeInteger(length) ? length : undefined;
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
