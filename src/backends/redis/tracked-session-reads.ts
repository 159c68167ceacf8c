import type { Redis } from 'ioredis';
import { KeyInvalidations } from './key-invalidations.js';
import { sessionIdOfKey, type SessionRead } from './session-store.js';
import { SessionReadCache, type SessionReadCacheOptions } from '../../sessions/session-read-cache.js';

export interface TrackedSessionReads {
  /** Give to RedisSessionStore: its touches are served from here while Redis announces changes. */
  reads: SessionReadCache<SessionRead>;
  /** start() connects the invalidation connection it was given; stop() closes it. */
  invalidations: KeyInvalidations;
}

/**
 * A replica's session read cache wired to Redis's announcements of changes to session keys (under
 * `keyPrefix`): enabled while Redis tracks them for this replica, each changed session dropped, all
 * of them when tracking is lost or the database is flushed.
 */
export function trackedSessionReads(
  commands: Redis,
  invalidationConnection: Redis,
  keyPrefix: string,
  options: SessionReadCacheOptions,
  onTracking: (on: boolean) => void = () => {},
): TrackedSessionReads {
  const reads = new SessionReadCache<SessionRead>(options);
  const sessionKeyPrefix = `${keyPrefix}session:`;
  const invalidations = new KeyInvalidations(commands, invalidationConnection, [sessionKeyPrefix], {
    tracking: () => {
      reads.enable();
      onTracking(true);
    },
    lost: () => {
      reads.disable();
      onTracking(false);
    },
    invalidated: (keys) => {
      if (keys === undefined) {
        reads.disable();
        if (invalidations.tracking) reads.enable();
        return;
      }
      for (const key of keys) {
        if (key.startsWith(sessionKeyPrefix)) reads.forget(sessionIdOfKey(key, sessionKeyPrefix));
      }
    },
  });
  return { reads, invalidations };
}
