import type { ServerObserver } from '../../observability/observer.js';
import type { SessionRecord } from '../../sessions/session-store.js';
import { SessionRuntime, type RuntimeDeps } from './session-runtime.js';

/**
 * The sessions this replica holds a live runtime for. A runtime is a cache: it can be dropped at
 * any time (idle eviction, size bound) and rebuilt from the store on the next request. The map's
 * order is the order of last use, so the bound evicts the least recently used runtime, never one
 * still being built or with a request in flight.
 */
export class RuntimeCache {
  private readonly runtimes = new Map<string, Promise<SessionRuntime>>();
  private readonly built = new Map<string, SessionRuntime>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly deps: RuntimeDeps,
    private readonly observer: ServerObserver,
    private readonly idleMs = 10 * 60_000,
    private readonly maxEntries = 10_000,
  ) {
    this.sweeper = setInterval(() => void this.evictIdle(), Math.min(idleMs, 60_000));
    this.sweeper.unref();
  }

  /** The session's runtime when this replica has one built, without building it. */
  peek(sessionId: string): SessionRuntime | undefined {
    return this.built.get(sessionId);
  }

  has(sessionId: string): boolean {
    return this.runtimes.has(sessionId);
  }

  /** A fresh runtime for a session being initialized here. */
  async createFresh(sessionId: string): Promise<SessionRuntime> {
    const runtime = SessionRuntime.create(sessionId, this.deps);
    this.put(sessionId, runtime);
    return runtime;
  }

  /** The session's runtime, rebuilt from `record` when this replica has none. */
  async get(record: SessionRecord): Promise<SessionRuntime> {
    let runtime = this.runtimes.get(record.id);
    if (runtime) {
      this.runtimes.delete(record.id);
      this.runtimes.set(record.id, runtime);
    } else {
      runtime = SessionRuntime.create(record.id, this.deps).then(async (built) => {
        await built.restore(record);
        return built;
      });
      this.put(record.id, runtime);
    }
    try {
      const ready = await runtime;
      ready.lastUsed = Date.now();
      await ready.applyLogLevel(record.logLevel);
      return ready;
    } catch (error) {
      this.runtimes.delete(record.id);
      this.observer.cachedSessions(this.runtimes.size);
      throw error;
    }
  }

  async drop(sessionId: string): Promise<void> {
    const runtime = this.runtimes.get(sessionId);
    if (!runtime) return;
    this.runtimes.delete(sessionId);
    this.built.delete(sessionId);
    this.observer.cachedSessions(this.runtimes.size);
    await (await runtime.catch(() => undefined))?.close();
  }

  get size(): number {
    return this.runtimes.size;
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.runtimes.keys()].map((id) => this.drop(id)));
  }

  private put(sessionId: string, runtime: Promise<SessionRuntime>): void {
    this.runtimes.set(sessionId, runtime);
    runtime.then(
      (built) => {
        if (this.runtimes.get(sessionId) === runtime) this.built.set(sessionId, built);
      },
      () => {
        if (this.runtimes.get(sessionId) === runtime) this.runtimes.delete(sessionId);
      },
    );
    if (this.runtimes.size > this.maxEntries) this.evictLeastRecentlyUsed(sessionId);
    this.observer.cachedSessions(this.runtimes.size);
  }

  private evictLeastRecentlyUsed(keep: string): void {
    for (const id of this.runtimes.keys()) {
      const runtime = this.built.get(id);
      if (id === keep || runtime === undefined || runtime.transport.running > 0) continue;
      void this.drop(id);
      return;
    }
  }

  private async evictIdle(): Promise<void> {
    const cutoff = Date.now() - this.idleMs;
    for (const [id, pending] of [...this.runtimes]) {
      const runtime = await pending.catch(() => undefined);
      if (runtime && runtime.lastUsed < cutoff && runtime.transport.running === 0) await this.drop(id);
    }
  }
}
