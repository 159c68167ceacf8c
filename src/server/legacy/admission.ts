import type { IncomingMessage } from 'node:http';
import { principalKey, requestPrincipal } from '../../auth/principal.js';
import type { ServerConfig } from '../../config.js';
import { addressKey, clientAddress } from '../../limits/client-address.js';
import type { RateLimiter } from '../../limits/rate-limiter.js';
import type { SessionQuota } from '../../limits/session-quota.js';
import { ErrorCode } from '../jsonrpc.js';
import { HttpError } from './http-error.js';

export interface AdmissionDeps {
  config: ServerConfig;
  sessionRate: RateLimiter;
  sessionQuota: SessionQuota;
}

/** New sessions are limited per client address and second, per principal and in total (429 with Retry-After), fleet-wide. */
export async function admitNewSession(req: IncomingMessage, { config, sessionRate, sessionQuota }: AdmissionDeps): Promise<void> {
  if (config.newSessionsPerAddressPerSecond > 0 && !(await sessionRate.take(`sessions:${addressKey(clientAddress(req, config.trustedProxyHops))}`))) {
    throw new HttpError(
      429,
      ErrorCode.ServerError,
      `Too Many Requests: at most ${config.newSessionsPerAddressPerSecond} new sessions per second from one address`,
      {
        'Retry-After': '1',
      },
    );
  }
  const principal = requestPrincipal(req);
  const quotas: Array<[string, number, string]> = [
    ['total', config.maxSessionsTotal, 'the fleet'],
    ...(principal
      ? ([[`principal:${addressKey(principalKey(principal))}`, config.maxSessionsPerPrincipal, 'one principal']] as Array<[string, number, string]>)
      : []),
  ];
  for (const [key, limit, who] of quotas) {
    if (limit === 0) continue;
    const verdict = await sessionQuota.admit(key, limit);
    if (!verdict.admitted) {
      throw new HttpError(429, ErrorCode.ServerError, `Too Many Requests: ${who} may open at most ${limit} sessions within SESSION_TTL_SECONDS`, {
        'Retry-After': String(Math.ceil(verdict.retryAfterMs / 1000)),
      });
    }
  }
}
