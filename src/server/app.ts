import type { RequestListener } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { answerStart } from './answer-start.js';
import { ErrorCode, sendJsonRpcError } from './jsonrpc.js';
import { createMcpRoute, type McpRouteDeps, type RequestHandler } from './mcp-route.js';
import { mcpPathMatcher } from './mcp-path.js';
import { answerRequestError, type RequestError } from './request-body.js';

export interface AppDeps extends McpRouteDeps {
  /** undefined when ready, else why not. */
  notReadyReason: () => Promise<string | undefined>;
}

export interface HttpSurface {
  /** Everything but the MCP endpoint's usual requests: /healthz, /readyz, OAuth metadata, the 404. */
  app: express.Express;
  /** What the HTTP server calls: a request for the MCP endpoint goes straight to its route, past Express. */
  listener: RequestListener;
}

/** The HTTP surface: /mcp, /healthz, /readyz; every response names the replica that served it. */
export function createHttpSurface(deps: AppDeps): HttpSurface {
  const mcp = createMcpRoute(deps);
  const app = createApp(deps, mcp);
  const isMcpPath = mcpPathMatcher(deps.config.mcpPath);
  return { app, listener: (req, res) => (isMcpPath(req.url) === true ? mcp(req, res) : app(req, res)) };
}

function createApp({ config, auth, observer, storeKind, notReadyReason }: AppDeps, mcp: RequestHandler): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  // The MCP endpoint for the request targets only the router can match (absolute-form, odd
  // characters, route syntax in MCP_PATH); the route does all of its own work.
  app.all(config.mcpPath, (req, res) => mcp(req, res));

  const start = answerStart(config);
  app.use((req, res, next) => {
    start(req, res);
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', replica: config.replicaName });
  });

  app.get('/readyz', async (_req, res) => {
    const reason = await notReadyReason();
    observer.readiness(reason === undefined);
    res
      .status(reason === undefined ? 200 : 503)
      .json({ status: reason === undefined ? 'ready' : 'not ready', reason, replica: config.replicaName, store: storeKind });
  });

  if (auth) app.use(auth.metadataRouter);

  app.use((_req, res) => {
    sendJsonRpcError(res, 404, ErrorCode.ServerError, `Not Found: the MCP endpoint is ${config.mcpPath}`);
  });

  app.use((error: RequestError, _req: Request, res: Response, _next: NextFunction) => {
    answerRequestError(res, error, config.maxBodyBytes);
  });
  return app;
}
