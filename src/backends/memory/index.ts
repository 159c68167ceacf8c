import type { ServerConfig } from '../../config.js';
import type { ServerObserver } from '../../observability/observer.js';
import { busOptionsOf, stateLimitsOf, type Backends } from '../backends.js';
import { InMemoryChangeEventBus } from './event-bus.js';
import { InMemoryInFlightRegistry } from './inflight-registry.js';
import { InMemoryRateLimiter } from './rate-limiter.js';
import { InMemorySessionQuota } from './session-quota.js';
import { InMemorySessionSlots } from './session-slots.js';
import { InMemorySessionStore } from './session-store.js';
import { InMemorySharedState } from './shared-state.js';
import { InMemoryStreamManager } from './stream-manager.js';
import { InMemoryTaskStore } from './task-store.js';

/** One process, nothing shared: the default, for a single replica and for tests. */
export function memoryBackends(config: ServerConfig, observer: ServerObserver): Backends {
  const store = new InMemorySessionStore(config.sessionTtlSeconds, () => observer.sessionExpired());
  const streams = new InMemoryStreamManager({
    retentionSeconds: config.eventRetentionSeconds,
    maxEntriesPerStream: config.eventMaxPerStream,
    sessionExists: (id) => store.exists(id),
  });
  const bus = new InMemoryChangeEventBus(busOptionsOf(observer));
  const inflight = new InMemoryInFlightRegistry(streams.instanceId, config.ownerLivenessMs);
  return {
    store,
    streams,
    inflight,
    tasks: new InMemoryTaskStore(),
    shared: new InMemorySharedState(stateLimitsOf(config)),
    sessionRate: new InMemoryRateLimiter(config.newSessionsPerAddressPerSecond),
    sessionQuota: new InMemorySessionQuota(config.sessionTtlSeconds * 1000),
    sessionSlots: new InMemorySessionSlots(),
    bus,
    unavailableReason: async () => undefined,
    close: async () => {
      await inflight.close();
      await bus.close();
      await streams.close();
      await store.close();
    },
  };
}
