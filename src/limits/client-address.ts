import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The address a request came from: the socket's peer, or with `trustedHops` proxies in front (a
 * load balancer, an ingress controller) the X-Forwarded-For entry the nearest of them added;
 * entries further left are the client's own word and are not trusted.
 */
export function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustedHops === 0) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return hops[hops.length - trustedHops] ?? peer;
}

/** A bounded, key-safe name for an address (it goes into store keys). */
export function addressKey(address: string): string {
  return createHash('sha1').update(address).digest('base64url').slice(0, 16);
}
