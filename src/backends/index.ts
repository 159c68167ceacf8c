import type { FleetConfig } from '../config.js';
import type { FleetObserver } from '../observability/observer.js';
import type { Backends } from './backends.js';
import { memoryBackends } from './memory/index.js';
import { redisBackends } from './redis/index.js';

export type { Backends } from './backends.js';

type Pick = (config: FleetConfig, observer: FleetObserver) => Promise<Backends> | undefined;

/** One line per backend: the first whose settings the config holds serves the replica. */
const BACKENDS: readonly Pick[] = [
  (config, observer) => (config.redis ? redisBackends(config, config.redis, observer) : undefined),
];

/** In memory by default; Redis when REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES is set. */
export async function createBackends(config: FleetConfig, observer: FleetObserver): Promise<Backends> {
  for (const pick of BACKENDS) {
    const backends = pick(config, observer);
    if (backends) return backends;
  }
  return memoryBackends(config, observer);
}
