import type { ChangeEventBus } from '../bus/event-bus.js';
import type { ServerConfig } from '../config.js';
import type { InFlightRegistry } from '../inflight/inflight-registry.js';
import type { RateLimiter } from '../limits/rate-limiter.js';
import type { SessionQuota } from '../limits/session-quota.js';
import type { SessionSlots } from '../limits/session-slots.js';
import { log } from '../log.js';
import type { DeliveryPath, ServerObserver } from '../observability/observer.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { StateLimits } from '../state/state-limits.js';
import type { StreamManager } from '../streams/stream-manager.js';
import type { TaskStore } from '../tasks/task-store.js';
import type { SharedState } from '../workload/types.js';

/** Every seam, implemented by one backend; the server sees only this. */
export interface Backends {
  store: SessionStore;
  streams: StreamManager;
  shared: SharedState;
  /** New sessions per client address and second. */
  sessionRate: RateLimiter;
  /** Sessions opened per principal and in total within one session TTL. */
  sessionQuota: SessionQuota;
  /** A legacy session's server-to-client requests waiting for answers, counted fleet-wide. */
  sessionSlots: SessionSlots;
  /** Change events for modern listen streams on every replica. */
  bus: ChangeEventBus;
  /** Which instance runs which in-flight requests, and which instances are alive. */
  inflight: InFlightRegistry;
  /** MCP Tasks (io.modelcontextprotocol/tasks) records, readable by every replica. */
  tasks: TaskStore;
  /** Why the backends cannot serve now, or undefined when they can. */
  unavailableReason(): Promise<string | undefined>;
  /** Closes every seam once (the store included). */
  close(): Promise<void>;
}

/** Shared state's bounds, the same on every backend. */
export const stateLimitsOf = (config: ServerConfig): StateLimits => ({ ttlSeconds: config.stateTtlSeconds, maxKeys: config.stateMaxKeys });

/** The event bus's reports, the same on every backend. */
export function busOptionsOf(observer: ServerObserver) {
  return {
    onError: (error: Error) => log.warn('event bus problem', { reason: error.message }),
    onDelivered: (path: DeliveryPath, latencySeconds: number) => observer.delivered('event', path, latencySeconds),
  };
}
