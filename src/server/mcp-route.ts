import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceServer } from '../auth/resource-server.js';
import type { ServerConfig } from '../config.js';
import type { ServerObserver, StoreKind } from '../observability/observer.js';
import { newRequestCost, withRequestCost } from '../backends/request-cost.js';
import { withToolStoreFailures } from './tool-store-failures.js';
import { withErrorStatus } from '../http/error-status.js';
import { answerStart } from './answer-start.js';
import { eraOf } from './era.js';
import { checkOrigin, isValidHost, toOriginForm } from './http-guards.js';
import { MAX_JSON_DEPTH, parseJsonBody, TOO_DEEP } from './json-body.js';
import { ErrorCode, sendJsonRpcError } from './jsonrpc.js';
import type { SessionEndpoint } from './legacy/session-endpoint.js';
import type { ModernEndpoint } from './modern/modern-endpoint.js';
import { answerRequestError, createBodyReader, type RequestError } from './request-body.js';
import { methodLabel, setMethodLabel } from './request-labels.js';

export interface McpRouteDeps {
  config: ServerConfig;
  /** The 2025 leg: sessions, GET streams, registration replay. */
  legacy: SessionEndpoint;
  /** The 2026-07-28 leg: stateless requests, listen streams, multi round-trip requests. */
  modern: ModernEndpoint;
  /** The OAuth resource server in front of /mcp; undefined when authorization is off. */
  auth?: ResourceServer;
  observer: ServerObserver;
  storeKind: StoreKind;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * A request for the MCP endpoint, from start to answer, on plain node requests and responses:
 * the early-answer hold, Host and Origin, the token (before the body is read: a request without
 * a valid token costs no body buffering), the body, then the leg of its era.
 */
export function createMcpRoute({ config, legacy, modern, auth, observer, storeKind }: McpRouteDeps): RequestHandler {
  const start = answerStart(config);
  const readBody = createBodyReader(config.maxBodyBytes);
  // Anything thrown or rejected on the way is answered as the Express app answers it.
  const fail = (res: ServerResponse, error: unknown) => answerRequestError(res, (error ?? new Error('Rejected promise')) as RequestError, config.maxBodyBytes);
  const guarded = (res: ServerResponse, work: () => unknown): void => {
    try {
      const outcome = work();
      if (outcome instanceof Promise) outcome.catch((error: unknown) => fail(res, error));
    } catch (error) {
      fail(res, error);
    }
  };

  const serve = (req: IncomingMessage, res: ServerResponse, raw: Buffer | undefined): unknown => {
    const cost = newRequestCost();
    const started = performance.now();
    const body = raw === undefined ? undefined : parseJsonBody(raw);
    if (body === TOO_DEEP) {
      sendJsonRpcError(res, 400, ErrorCode.InvalidRequest, `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
      return;
    }
    const era = eraOf(req, body);
    res.once('close', () => {
      observer.requestFinished({
        era,
        method: methodLabel(res),
        httpStatus: res.statusCode,
        durationSeconds: (performance.now() - started) / 1000,
        storeCommands: cost.storeCommands,
        storeSeconds: cost.storeSeconds,
        store: storeKind,
      });
    });
    if (auth && !auth.authorize(req, res, body)) return;
    if (era === 'legacy') return withRequestCost(cost, () => withToolStoreFailures(() => legacy.handle(req, res, body)));
    setMethodLabel(res, modernMethodOf(body));
    return withRequestCost(cost, () => withToolStoreFailures(() => withErrorStatus(() => modern.handle(req, res, body))));
  };

  const withBody = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST') return guarded(res, () => serve(req, res, undefined));
    readBody(req, res, (raw) => guarded(res, () => serve(req, res, raw)));
  };

  return (req, res) =>
    guarded(res, () => {
      start(req, res);
      toOriginForm(req);
      // Node's own answer to a request without Host (HTTP/1.1 requires one) would have no body.
      if (!req.headers.host) return sendJsonRpcError(res, 400, ErrorCode.ServerError, 'Bad Request: the Host header is required');
      if (!isValidHost(req.headers.host)) return sendJsonRpcError(res, 400, ErrorCode.ServerError, 'Bad Request: the Host header is not a valid host[:port]');
      const refused = checkOrigin(req, config);
      if (refused) return sendJsonRpcError(res, refused.status, ErrorCode.ServerError, refused.message);
      if (!auth) return withBody(req, res);
      return auth.authenticate(req, res).then((ok) => ok && guarded(res, () => withBody(req, res)));
    });
}

function modernMethodOf(body: unknown): string {
  const method = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { method?: unknown }).method : undefined;
  return typeof method === 'string' ? method : 'response';
}
