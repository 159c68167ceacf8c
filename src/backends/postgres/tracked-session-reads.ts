import { SessionReadCache, type SessionReadCacheOptions } from '../../sessions/session-read-cache.js';
import type { PgListener } from './listener.js';
import { channelsOf } from './schema.js';
import type { PgSessionRead } from './session-store.js';

/**
 * A replica's session read cache kept coherent by the triggers' announcements (one notification per
 * changed session, `*` on TRUNCATE): enabled while the LISTEN connection holds the channel, each
 * announced session dropped, everything dropped when the connection is lost or the table truncated.
 */
export async function trackedSessionReads(
  listener: PgListener,
  schema: string,
  options: SessionReadCacheOptions,
  onTracking: (on: boolean) => void = () => {},
): Promise<SessionReadCache<PgSessionRead>> {
  const reads = new SessionReadCache<PgSessionRead>(options);
  const channel = channelsOf(schema).sessions;
  const onChange = (id: string) => {
    if (id !== '*') {
      reads.forget(id);
      return;
    }
    reads.disable();
    if (listener.ready) reads.enable();
  };
  const track = () => {
    listener.listen(channel, onChange).then(
      () => {
        reads.enable();
        onTracking(true);
      },
      () => {},
    );
  };
  listener.on({
    // The channel is LISTENed again with the connection; a fresh start has it listened here.
    ready: () => {
      if (!reads.active) track();
    },
    lost: () => {
      reads.disable();
      onTracking(false);
    },
  });
  if (listener.ready) track();
  return reads;
}
