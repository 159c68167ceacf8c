import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import type { InFlightRegistry } from '../../inflight/inflight-registry.js';
import { log } from '../../log.js';
import type { StreamManager } from '../../streams/stream-manager.js';
import { ErrorCode } from '../jsonrpc.js';

export const ORPHANED_MESSAGE = 'The replica running this request stopped before answering it (its liveness lapsed, OWNER_LIVENESS_MS); retry the call';

interface Watched {
  sessionId: string;
  streamKey: string;
  /** Read once from the registry: a stream's owner never changes. */
  owner: string | undefined;
  /** Its owner was found gone and its record claimed, here or by another replica. */
  settled: boolean;
  watchers: number;
}

export interface OrphanWatchDeps {
  inflight: InFlightRegistry;
  streams: StreamManager;
  onOrphaned?: (requests: number) => void;
}

/**
 * Watches the POST streams resumed on this replica whose requests run on another instance. One
 * timer for all of them, each tick asking the registry which of their owners are still alive:
 * when one is not, the first replica to claim its record ends each unanswered request with a
 * JSON-RPC error in the stream's log (so every listener, here or elsewhere, gets it) and ends the
 * stream. Without it a resume of a dead owner's stream would carry keep-alives forever.
 */
export class OrphanWatch {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly deps: OrphanWatchDeps,
    private readonly intervalMs = Math.max(50, Math.floor(deps.inflight.livenessMs / 6)),
  ) {}

  /** Watches one resumed stream until the returned function is called (its listener closed). */
  watch(sessionId: string, streamKey: string): () => void {
    const key = `${sessionId}\u0000${streamKey}`;
    let entry = this.watched.get(key);
    if (!entry) this.watched.set(key, (entry = { sessionId, streamKey, owner: undefined, settled: false, watchers: 0 }));
    entry.watchers += 1;
    if (!this.timer) {
      this.timer = setInterval(() => void this.check(), this.intervalMs);
      this.timer.unref();
    }
    void this.check();
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      entry.watchers -= 1;
      if (entry.watchers === 0 && this.watched.get(key) === entry) this.watched.delete(key);
      if (this.watched.size === 0) this.stop();
    };
  }

  get size(): number {
    return this.watched.size;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check at a time: a slow store must not pile them up. */
  private check(): Promise<void> {
    this.checking ??= this.checkNow()
      .catch((error: unknown) => log.warn('could not check the owners of resumed streams', { reason: String(error instanceof Error ? error.message : error) }))
      .finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkNow(): Promise<void> {
    const entries = [...this.watched.values()].filter((e) => !e.settled);
    await Promise.all(
      entries.filter((e) => e.owner === undefined).map(async (e) => (e.owner = (await this.deps.inflight.ownerOf(e.sessionId, e.streamKey))?.instanceId)),
    );
    const owners = [...new Set(entries.flatMap((e) => (e.owner === undefined || e.owner === this.deps.inflight.instanceId ? [] : [e.owner])))];
    if (owners.length === 0) return;
    const alive = await this.deps.inflight.aliveAmong(owners);
    await Promise.all(entries.filter((e) => e.owner !== undefined && owners.includes(e.owner) && !alive.has(e.owner)).map((e) => this.endOrphan(e)));
  }

  private async endOrphan(entry: Watched): Promise<void> {
    const { inflight, streams } = this.deps;
    const record = await inflight.claimOrphan(entry.sessionId, entry.streamKey);
    // Claimed elsewhere (that replica writes the errors) or released meanwhile: the listener
    // gets the stream's end from its log either way, so this one needs no more checks.
    entry.settled = true;
    if (!record) return;
    log.warn('ending requests whose replica is gone', { session: entry.sessionId, requests: record.requestIds.length, owner: record.instanceId });
    for (const id of record.requestIds) {
      const error: JSONRPCMessage = { jsonrpc: '2.0', id, error: { code: ErrorCode.InternalError, message: ORPHANED_MESSAGE } };
      await streams.publish(entry.sessionId, entry.streamKey, error);
    }
    await streams.end(entry.sessionId, entry.streamKey);
    this.deps.onOrphaned?.(record.requestIds.length);
  }
}
