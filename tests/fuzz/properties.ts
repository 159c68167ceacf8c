import type { Outcome } from './exchange.js';

export type ViolationKind =
  | '5xx'
  | 'hang'
  | 'bodiless-error'
  | 'malformed-answer'
  | 'no-answer'
  | 'foreign-key-or-channel'
  | 'bystander-error'
  | 'replica-down';

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

/**
 * A request the balancer cannot parse (bad chunked framing, a header broken by a CR, LF, NUL or
 * tab, an empty target, a body with no framing read as a next request, ...) is refused by HAProxy
 * itself, before any replica sees it. HAProxy closes at once with the rest of the bytes unread, so
 * its own 400 page (and any answer before it on that connection) is now and then lost to the reset
 * (no-answer). No replica can change that: an answer lost through the balancer while HAProxy counted
 * that many requests of its own refused (its frontend's `ereq`), or lost with a body sent without
 * framing (bytes of a next request left unread when the connection closes), is counted
 * (figures.lostBalancerRefusals), not failed on. Every other lost answer is a violation.
 */
export function lostThroughBalancer(target: 'balancer' | { replica: number }, outcome: Outcome): boolean {
  return target === 'balancer' && outcome.status === undefined && outcome.failure !== undefined;
}

/** HAProxy's own error page: a request the balancer refused never reached a replica. */
const BALANCER_PAGE = /^<html><body><h1>\d{3} /;

/** Whether a 4xx came from the load balancer itself, not from a replica. */
export function refusedByBalancer(outcome: Outcome): boolean {
  return outcome.status !== undefined && outcome.status < 500 && !outcome.headers.has('x-mcp-replica') && BALANCER_PAGE.test(outcome.body);
}

export function isJsonRpcError(message: unknown): boolean {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as { jsonrpc?: unknown; error?: { code?: unknown; message?: unknown } };
  return m.jsonrpc === '2.0' && typeof m.error === 'object' && m.error !== null && Number.isInteger(m.error.code) && typeof m.error.message === 'string';
}

/**
 * The properties of one answer: it came (no failed or silently closed connection), within the
 * limit, without a 5xx; an error (4xx) carries a JSON-RPC error body (a HEAD answer has no body by
 * definition, and the balancer's own refusals are its business); a JSON or SSE body parses.
 */
export function judgeAnswer(method: string, outcome: Outcome): Violation[] {
  const found: Violation[] = [];
  const status = outcome.status;
  if (outcome.timedOut) found.push({ kind: 'hang', detail: `no ${outcome.timedOut === 'head' ? 'response' : 'end of the response body'} within the limit` });
  if (outcome.failure !== undefined) found.push({ kind: 'no-answer', detail: outcome.failure });
  if (status === undefined) return found;
  if (outcome.cut) found.push({ kind: 'malformed-answer', detail: `${status} cut short after ${outcome.body.length} characters` });
  if (status >= 500) found.push({ kind: '5xx', detail: `${status} ${outcome.body.slice(0, 300)}` });
  if (status >= 400 && method !== 'HEAD' && !refusedByBalancer(outcome) && !outcome.timedOut && !isJsonRpcError(outcome.messages[0])) {
    found.push({
      kind: 'bodiless-error',
      detail: `${status} with ${outcome.body === '' ? 'an empty body' : `body ${JSON.stringify(outcome.body.slice(0, 300))}`} (${outcome.headers.get('content-type') ?? 'no content-type'})`,
    });
  }
  if (outcome.unparsable)
    found.push({
      kind: 'malformed-answer',
      detail: `${status} ${outcome.headers.get('content-type')} body does not parse: ${JSON.stringify(outcome.body.slice(0, 300))}`,
    });
  return found;
}
