/** mcp-fleet as a library: build a replica-agnostic MCP server around your own workload. */
export { loadConfig, ConfigError, type FleetConfig, type RedisSettings } from './config.js';
export { createFleetServer, type FleetServer, type FleetServerOptions } from './server/fleet-server.js';
export type { Era, FleetEvents, SharedState, Workload, WorkloadContext } from './workload/types.js';
export { referenceWorkload } from './workload/reference.js';
export { conformanceWorkload } from './workload/conformance.js';
export { NOOP_OBSERVER, type FleetObserver, type RequestFinished } from './observability/observer.js';
export { PrometheusObserver, startMetricsServer } from './metrics/index.js';
export type { SessionStore, SessionRecord, NewSession } from './sessions/session-store.js';
export { InMemorySessionStore } from './backends/memory/session-store.js';
export { RedisSessionStore } from './backends/redis/session-store.js';
export type { StreamManager, StreamEvent, StreamListener, InstanceEnvelope } from './streams/stream-manager.js';
export { InMemoryStreamManager } from './backends/memory/stream-manager.js';
export { RedisStreamManager } from './backends/redis/stream-manager.js';
