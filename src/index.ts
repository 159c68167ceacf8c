/**
 * mcp-fleet as a library: the public API, in one place (README "Your own tools", docs/your-tools.md).
 *
 * - A workload: `Workload`, `defineWorkload` (a module's default export, for `mcp-fleet serve --workload`).
 * - `runFleetServer`: what `mcp-fleet serve` runs for any workload (settings, JSON logs, /metrics,
 *   readiness, a bounded SIGTERM/SIGINT drain).
 * - `createFleetServer`: the server alone, for a process that manages its own lifecycle.
 */
export { defineWorkload } from './workload/define-workload.js';
export { sharedSchema } from './workload/shared-schema.js';
export type { Era, ChangeEvents, SharedState, Workload, WorkloadContext } from './workload/types.js';
export { loadWorkload, isWorkload, WorkloadLoadError, BUILT_IN_WORKLOADS } from './workload/load-workload.js';
export { referenceWorkload } from './workload/reference.js';
export { conformanceWorkload } from './workload/conformance.js';
export { runFleetServer, CLOSE_BOUND_MS, type RunFleetServerOptions, type RunningFleetServer } from './run/run-fleet-server.js';
export { loadConfig, ConfigError, settingNames, type ServerConfig, type RedisSettings } from './config.js';
export { createFleetServer, type FleetServer, type FleetServerOptions } from './server/fleet-server.js';
export { NOOP_OBSERVER, type ServerObserver, type RequestFinished } from './observability/observer.js';
export { PrometheusObserver, startMetricsServer } from './metrics/index.js';
export type { SessionStore, SessionRecord, NewSession } from './sessions/session-store.js';
export { InMemorySessionStore } from './backends/memory/session-store.js';
export { RedisSessionStore } from './backends/redis/session-store.js';
export type { StreamManager, StreamEvent, StreamListener, InstanceEnvelope } from './streams/stream-manager.js';
export { InMemoryStreamManager } from './backends/memory/stream-manager.js';
export { RedisStreamManager } from './backends/redis/stream-manager.js';
