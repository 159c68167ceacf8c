import express, { type NextFunction, type Request, type Response } from 'express';
import type { FleetConfig } from '../config.js';
import type { FleetObserver, StoreKind } from '../observability/observer.js';
import { newRequestCost, withRequestCost } from '../redis/request-cost.js';
import { checkOrigin } from './http-guards.js';
import { ErrorCode, sendJsonRpcError } from './jsonrpc.js';
import { methodLabel, type McpEndpoint } from './mcp-endpoint.js';

export interface AppDeps {
  config: FleetConfig;
  endpoint: McpEndpoint;
  observer: FleetObserver;
  storeKind: StoreKind;
  /** undefined when ready, else why not. */
  notReadyReason: () => Promise<string | undefined>;
}

/** The HTTP surface: /mcp, /healthz, /readyz; every response names the replica that served it. */
export function createApp({ config, endpoint, observer, storeKind, notReadyReason }: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

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

  app.all(config.mcpPath, (req, res, next) => {
    const refused = checkOrigin(req, config);
    if (refused) sendJsonRpcError(res, refused.status, ErrorCode.ServerError, refused.message);
    else next();
  });

  const readBody = express.raw({ type: () => true, limit: config.maxBodyBytes });
  app.all(config.mcpPath, (req, res, next) => (req.method === 'POST' ? readBody(req, res, next) : next()));

  app.all(config.mcpPath, (req, res) => {
    const cost = newRequestCost();
    const started = performance.now();
    res.once('close', () => {
      observer.requestFinished({
        method: methodLabel(res),
        httpStatus: res.statusCode,
        durationSeconds: (performance.now() - started) / 1000,
        redisCommands: cost.redisCommands,
        redisSeconds: cost.redisSeconds,
        store: storeKind,
      });
    });
    const body = req.method === 'POST' && Buffer.isBuffer(req.body) ? req.body : undefined;
    return withRequestCost(cost, () => endpoint.handle(req, res, body));
  });

  app.use((_req, res) => {
    sendJsonRpcError(res, 404, ErrorCode.ServerError, `Not Found: the MCP endpoint is ${config.mcpPath}`);
  });

  app.use((error: { type?: string; status?: number } & Error, _req: Request, res: Response, _next: NextFunction) => {
    if (error.type === 'entity.too.large') {
      sendJsonRpcError(res, 413, ErrorCode.ServerError, `Payload Too Large: the body exceeds ${config.maxBodyBytes} bytes`);
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
