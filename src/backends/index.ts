import type { ServerConfig } from '../config.js';
import type { ServerObserver, StoreKind } from '../observability/observer.js';
import type { Backends } from './backends.js';
import { memoryBackends } from './memory/index.js';
import { postgresBackends } from './postgres/index.js';
import { redisBackends } from './redis/index.js';

export type { Backends } from './backends.js';

interface Backend {
  kind: StoreKind;
  /** Creates the backends when the config selects this backend; undefined when it does not. */
  selectedBy(config: ServerConfig): ((observer: ServerObserver) => Promise<Backends> | Backends) | undefined;
}

/** A backend the config selects by holding its settings. */
function backend<S>(
  kind: StoreKind,
  settingsOf: (config: ServerConfig) => S | undefined,
  create: (config: ServerConfig, settings: S, observer: ServerObserver) => Promise<Backends> | Backends,
): Backend {
  return {
    kind,
    selectedBy(config) {
      const settings = settingsOf(config);
      return settings === undefined ? undefined : (observer) => create(config, settings, observer);
    },
  };
}

/** One line per backend: the first the config selects serves the replica; memory when none does. */
const BACKENDS: readonly Backend[] = [
  backend('redis', (config) => config.redis, redisBackends),
  backend('postgres', (config) => config.postgres, postgresBackends),
];

/** In memory when the config selects no other backend. */
export async function createBackends(config: ServerConfig, observer: ServerObserver): Promise<Backends> {
  for (const { kind, selectedBy } of BACKENDS) {
    const create = selectedBy(config);
    if (!create) continue;
    // Before creating: a backend may run commands (connect, load, migrate) before it returns.
    observer.storeSelected(kind);
    return create(observer);
  }
  observer.storeSelected('memory');
  return memoryBackends(config, observer);
}
