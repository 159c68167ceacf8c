import type { IncomingMessage } from 'node:http';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';

export interface GuardFailure {
  status: number;
  message: string;
}

/** A request header's value; the first, when it came more than once. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

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

/** Whether the body is a plain stream of bytes whose length Content-Length gives, and that length. */
export function declaredBodyLength(req: IncomingMessage): number | undefined {
  const encoding = (header(req, 'content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' || req.headers['transfer-encoding'] !== undefined) return undefined;
  const length = Number(req.headers['content-length']);
  return Number.isSafeInteger(length) ? length : undefined;
}
