import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';

/** Who a verified token speaks for: its issuer and subject (`iss`, `sub`). */
export interface Principal {
  issuer: string;
  subject: string;
}

/** A request after the bearer-token check: the SDK's node adapter reads `auth` the same way. */
export type AuthenticatedRequest = IncomingMessage & { auth?: AuthInfo };

export function principalOf(authInfo: AuthInfo | undefined): Principal | undefined {
  const extra = authInfo?.extra;
  if (typeof extra?.iss !== 'string' || typeof extra.sub !== 'string') return undefined;
  return { issuer: extra.iss, subject: extra.sub };
}

export function requestPrincipal(req: IncomingMessage): Principal | undefined {
  return principalOf((req as AuthenticatedRequest).auth);
}

/** Both absent (authorization off), or the same issuer and subject. */
export function samePrincipal(a: Principal | undefined, b: Principal | undefined): boolean {
  return a?.issuer === b?.issuer && a?.subject === b?.subject;
}

/** An unambiguous string for a principal (issuer and subject may contain any character). */
export function principalKey(principal: Principal): string {
  return JSON.stringify([principal.issuer, principal.subject]);
}
