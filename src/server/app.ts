import express, { type NextFunction, type Request, type Response } from 'express';
import type { ResourceServer } from '../auth/resource-server.js';
import type { FleetConfig } from '../config.js';
import type { FleetObserver, StoreKind } from '../observability/observer.js';
import { newRequestCost, withRequestCost } from '../redis/request-cost.js';
import { checkOrigin, declaredBodyLength, discardBoundsOf, holdEarlyAnswer, isValidHost, toOriginForm } from './http-guards.js';
import { ErrorCode, sendJsonRpcError } from './jsonrpc.js';
import { eraOf } from './era.js';
import { MAX_JSON_DEPTH, parseJsonBody, TOO_DEEP } from './json-body.js';
import type { McpEndpoint } from './legacy/session-endpoint.js';
import type { ModernEndpoint } from './modern/modern-endpoint.js';
import { methodLabel, setMethodLabel } from './request-labels.js';

export interface AppDeps {
  config: FleetConfig;
  /** The 2025 leg: sessions, GET streams, registration replay. */
  legacy: McpEndpoint;
  /** The 2026-07-28 leg: stateless requests, listen streams, multi round-trip requests. */
  modern: ModernEndpoint;
  /** The OAuth resource server in front of /mcp; undefined when authorization is off. */
  auth?: ResourceServer;
  observer: FleetObserver;
  storeKind: StoreKind;
  /** undefined when ready, else why not. */
  notReadyReason: () => Promise<string | undefined>;
}

/** The HTTP surface: /mcp, /healthz, /readyz; every response names the replica that served it. */
export function createApp({ config, legacy, modern, auth, observer, storeKind, notReadyReason }: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  const discardBounds = discardBoundsOf(config);
  // Every answer given before the body is read (below: Host, Origin, the token, the size, the
  // path) reaches the client whole: the rest of the body is read and dropped before the close.
  app.use((req, res, next) => {
    holdEarlyAnswer(req, res, discardBounds);
    next();
  });

  app.use((_req, res, next) => {
    if (config.replicaHeader) res.setHeader('X-MCP-Replica', config.replicaName);
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', replica: config.replicaName });
  });

  app.get('/readyz', async (_req, res) => {
    const reason = await notReadyReason();
    observer.readiness(reason === undefined);
    res.status(reason === undefined ? 200 : 503).json({ status: reason === undefined ? 'ready' : 'not ready', reason, replica: config.replicaName, store: storeKind });
  });

  if (auth) app.use(auth.metadataRouter);

  app.all(config.mcpPath, (req, res, next) => {
    toOriginForm(req);
    // Node's own answer to a request without Host (HTTP/1.1 requires one) would have no body.
    if (!req.headers.host) return sendJsonRpcError(res, 400, ErrorCode.ServerError, 'Bad Request: the Host header is required');
    if (!isValidHost(req.headers.host)) return sendJsonRpcError(res, 400, ErrorCode.ServerError, 'Bad Request: the Host header is not a valid host[:port]');
    const refused = checkOrigin(req, config);
    if (refused) sendJsonRpcError(res, refused.status, ErrorCode.ServerError, refused.message);
    else next();
  });
  // Before the body is read: a request without a valid token costs no body buffering.
  if (auth) app.all(config.mcpPath, auth.authenticate);

  const readBody = express.raw({ type: () => true, limit: config.maxBodyBytes });
  const tooLarge = (res: Response) => sendJsonRpcError(res, 413, ErrorCode.ServerError, `Payload Too Large: the body exceeds ${config.maxBodyBytes} bytes`);
  app.all(config.mcpPath, (req, res, next) => {
    if (req.method !== 'POST') return next();
    // Refused unread (the body parser would read all of it first, however long), then read and
    // dropped only within the discard bounds.
    if ((declaredBodyLength(req) ?? 0) > config.maxBodyBytes) return tooLarge(res);
    readBody(req, res, next);
  });

  app.all(config.mcpPath, (req, res) => {
    const cost = newRequestCost();
    const started = performance.now();
    const body = req.method === 'POST' && Buffer.isBuffer(req.body) ? parseJsonBody(req.body) : undefined;
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
        redisCommands: cost.redisCommands,
        redisSeconds: cost.redisSeconds,
        store: storeKind,
      });
    });
    if (auth && !auth.authorize(req, res, body)) return;
    if (era === 'legacy') return withRequestCost(cost, () => legacy.handle(req, res, body));
    setMethodLabel(res, modernMethodOf(body));
    return withRequestCost(cost, () => modern.handle(req, res, body));
  });

  app.use((_req, res) => {
    sendJsonRpcError(res, 404, ErrorCode.ServerError, `Not Found: the MCP endpoint is ${config.mcpPath}`);
  });

  app.use((error: { type?: string; status?: number } & Error, _req: Request, res: Response, _next: NextFunction) => {
    if (error.type === 'entity.too.large') {
      tooLarge(res);
    } else if (error.type === 'encoding.unsupported' || error.type === 'charset.unsupported') {
      sendJsonRpcError(res, 415, ErrorCode.ServerError, `Unsupported Media Type: ${error.message}`);
    } else if (error.type === 'request.aborted') {
      res.destroy();
    } else {
      sendJsonRpcError(res, error.status && error.status < 500 ? error.status : 400, ErrorCode.ParseError, `Bad Request: ${error.message}`);
    }
  });
  return app;
}

function modernMethodOf(body: unknown): string {
  const method = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as { method?: unknown }).method : undefined;
  return typeof method === 'string' ? method : 'response';
}
