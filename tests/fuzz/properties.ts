import type { Outcome } from './exchange.js';

export type ViolationKind = '5xx' | 'hang' | 'bodiless-error' | 'malformed-answer' | 'no-answer' | 'foreign-key-or-channel' | 'bystander-error' | 'replica-down';

/**
 * A known defect, counted but not failed on until it is fixed: a replica that answers before it has
 * read the request body (no Host, a refused Origin, an Expect it does not know, a body over
 * MAX_BODY_BYTES, a request Node's parser refuses) closes the connection with the body unread, and
 * the reset that follows can destroy its answer (more often the larger the body: about 1% of
 * refusals at 64 KB through the balancer, 10-40% at 1-3 MB). Small bodies are read whole by the
 * kernel first and never lose their answer.
 */
export const LOST_EARLY_ANSWER = 'lost-early-answer';
const EARLY_ANSWER_SAFE_BYTES = 16 * 1024;

export interface Violation {
  kind: ViolationKind;
  detail: string;
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
export function judgeAnswer(method: string, requestBodyBytes: number, outcome: Outcome): Violation[] | typeof LOST_EARLY_ANSWER {
  const found: Violation[] = [];
  const status = outcome.status;
  if (outcome.timedOut) found.push({ kind: 'hang', detail: `no ${outcome.timedOut === 'head' ? 'response' : 'end of the response body'} within the limit` });
  if (outcome.failure !== undefined) {
    if (requestBodyBytes > EARLY_ANSWER_SAFE_BYTES) return LOST_EARLY_ANSWER;
    found.push({ kind: 'no-answer', detail: outcome.failure });
  }
  if (status === undefined) return found;
  if (status >= 500) found.push({ kind: '5xx', detail: `${status} ${outcome.body.slice(0, 300)}` });
  if (status >= 400 && method !== 'HEAD' && !refusedByBalancer(outcome) && !outcome.timedOut && !isJsonRpcError(outcome.messages[0])) {
    found.push({ kind: 'bodiless-error', detail: `${status} with ${outcome.body === '' ? 'an empty body' : `body ${JSON.stringify(outcome.body.slice(0, 300))}`} (${outcome.headers.get('content-type') ?? 'no content-type'})` });
  }
  if (outcome.unparsable) found.push({ kind: 'malformed-answer', detail: `${status} ${outcome.headers.get('content-type')} body does not parse: ${JSON.stringify(outcome.body.slice(0, 300))}` });
  return found;
}
