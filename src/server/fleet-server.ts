import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import type { ServerConfig } from '../config.js';
import { log } from '../log.js';
import { NOOP_OBSERVER, type ServerObserver } from '../observability/observer.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { StreamManager } from '../streams/stream-manager.js';
import type { Workload } from '../workload/types.js';
import { createHttpSurface } from './app.js';
import { answerStart } from './answer-start.js';
import { createBackends } from '../backends/index.js';
import { TaskRunner } from '../tasks/task-runner.js';
import { notingTaskStore, taskEventsOf } from './task-events.js';
import { discardBoundsOf } from './early-answers.js';
import { answerParserRefusals } from './parser-refusals.js';
import { ErrorCode, sendJsonRpcError } from './jsonrpc.js';
import { SessionEndpoint } from './legacy/session-endpoint.js';
import { PendingClientRequests } from './legacy/pending-client-requests.js';
import { ResourceUpdatePublisher } from './legacy/resource-events.js';
import { ChangeEventPublisher } from './change-events.js';
import { ModernEndpoint } from './modern/modern-endpoint.js';
import type { ServerBuildDeps } from './mcp-server-factory.js';
import { bindToMethodAndPrincipal, createKeyRingCodec, ephemeralKey } from '../request-state/key-ring.js';
import { ResourceServer } from '../auth/resource-server.js';
import { withToolVisibility } from '../auth/tool-visibility.js';
import { RuntimeCache } from './legacy/runtime-cache.js';
import { RequestLives } from './legacy/request-life.js';

export interface FleetServerOptions {
  config: ServerConfig;
  workload: Workload;
  observer?: ServerObserver;
}

export interface FleetServer {
  readonly config: ServerConfig;
  readonly app: express.Express;
  readonly store: SessionStore;
  readonly streams: StreamManager;
  /** Starts listening on config.host:config.port; resolves with the bound port. */
  listen(): Promise<number>;
  /**
   * Turns not ready, keeps serving for config.shutdownDelayMs, then drains (GET streams closed with
   * a retry hint, in-flight requests finished) and stops.
   */
  shutdown(): Promise<void>;
}

export async function createFleetServer({ config, workload, observer = NOOP_OBSERVER }: FleetServerOptions): Promise<FleetServer> {
  const backends = await createBackends(config, observer);
  const { store, streams, shared, bus } = backends;
  // A slot outlives a replica that died holding it by as long as its request could have waited.
  const pending = new PendingClientRequests(streams.instanceId, { slots: backends.sessionSlots, slotTtlMs: config.clientRequestTimeoutMs + 60_000 });
  const auth = config.auth ? new ResourceServer(config.auth, config.mcpPath) : undefined;
  if (!auth) log.warn('authorization is off: any client that reaches this server may use it (set AUTH_ISSUER for anything public)');
  const tasks = new TaskRunner({
    store: notingTaskStore(backends.tasks),
    liveness: backends.inflight,
    tools: workload.taskTools ?? [],
    settings: config.tasks,
    events: taskEventsOf(observer, bus),
  });
  tasks.start();
  const build: ServerBuildDeps = {
    workload: auth && auth.policy.toolScopes.size > 0 ? withToolVisibility(workload, auth.policy) : workload,
    replicaName: config.replicaName,
    shared,
    events: new ChangeEventPublisher(bus, config.sessionMode === 'stateful' ? new ResourceUpdatePublisher(store, streams) : undefined),
    requestState: createKeyRingCodec({ keys: requestStateKeys(config), ttlSeconds: config.requestStateTtlSeconds, bind: bindToMethodAndPrincipal }),
    observer,
    clientRequestTimeoutMs: config.clientRequestTimeoutMs,
    tasks,
  };
  const lives = new RequestLives();
  const runtimeDeps = {
    build,
    lives,
    store,
    maxSubscriptionsPerSession: config.maxSubscriptionsPerSession,
    maxPendingClientRequests: config.maxPendingClientRequests,
    streams: config.sessionMode === 'stateful' ? streams : undefined,
    pending,
  };
  const runtimes = new RuntimeCache(runtimeDeps, observer, config.runtimeIdleSeconds * 1000, config.runtimeCacheMaxSessions);
  const legacy = new SessionEndpoint({
    config,
    store,
    streams,
    inflight: backends.inflight,
    runtimes,
    runtimeDeps,
    pending,
    lives,
    observer,
    sessionRate: backends.sessionRate,
    sessionQuota: backends.sessionQuota,
  });
  const modern = new ModernEndpoint({ config, build, bus, observer });
  let draining = false;
  const { app, listener } = createHttpSurface({
    config,
    legacy,
    modern,
    auth,
    observer,
    storeKind: store.kind,
    notReadyReason: async () => (draining ? 'draining' : backends.unavailableReason()),
  });
  // mcp_fleet_ready follows the backends even when nothing probes /readyz.
  const readinessTimer = setInterval(() => {
    void backends.unavailableReason().then((reason) => observer.readiness(!draining && reason === undefined));
  }, 5000);
  readinessTimer.unref();
  // Host is checked by the MCP route, which answers its absence with a JSON-RPC body.
  const server = http.createServer(
    // How often Node looks for requests past requestTimeout: often enough for the bound to hold.
    { requireHostHeader: false, connectionsCheckingInterval: Math.min(5000, Math.max(100, Math.floor(config.bodyReadTimeoutMs / 4))) },
    listener,
  );
  // Bounds receiving the request only (headers and body), not the SSE response that follows.
  server.requestTimeout = config.bodyReadTimeoutMs;
  // Node checks requestTimeout only when it is at least headersTimeout.
  server.headersTimeout = Math.min(30_000, config.bodyReadTimeoutMs);
  server.keepAliveTimeout = 65_000;
  answerParserRefusals(server, discardBoundsOf(config));
  // Node's own answer to an Expect other than 100-continue is a 417 without a body.
  const start = answerStart(config);
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    start(req, res);
    sendJsonRpcError(res, 417, ErrorCode.ServerError, 'Expectation Failed: the only expectation supported is 100-continue');
  });

  return {
    config,
    app,
    store,
    streams,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => resolve((server.address() as AddressInfo).port));
      }),
    async shutdown() {
      if (draining) return;
      draining = true;
      clearInterval(readinessTimer);
      observer.readiness(false);
      if (config.shutdownDelayMs > 0) {
        // Closing the listener while a load balancer still sends requests here would reset
        // connections it has already delivered a request on: it cannot retry those.
        log.info('leaving rotation', { delayMs: config.shutdownDelayMs });
        await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
      }
      log.info('draining', { timeoutMs: config.drainTimeoutMs });
      server.close();
      server.closeIdleConnections();
      await Promise.all([legacy.drain(config.drainTimeoutMs), modern.drain(config.drainTimeoutMs), tasks.drain(config.drainTimeoutMs)]);
      tasks.close();
      server.closeAllConnections();
      await runtimes.closeAll();
      pending.close();
      await backends.close();
    },
  };
}

function requestStateKeys(config: ServerConfig): string[] {
  if (config.requestStateKeys.length > 0) return config.requestStateKeys;
  // Only in memory mode (config refuses a shared store without keys): no other process verifies these states.
  log.warn('REQUEST_STATE_KEYS is not set: sealing requestState with a random key of this process only');
  return [ephemeralKey()];
}
