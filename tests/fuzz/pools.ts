export type PoolName = 'session' | 'eventId' | 'requestState' | 'serverRequestId';

const CAPACITY = 64;

/**
 * Values the fleet handed out during the campaign, so that later cases can send them back, right
 * or spoiled: the fuzzer's own sessions (never a bystander's), SSE event ids, sealed requestStates
 * and the ids of server-to-client requests. Each pool keeps its latest entries.
 */
export class Pools {
  private readonly pools = new Map<PoolName, string[]>();
  /** How many distinct values each pool has taken in (its latest CAPACITY are kept). */
  readonly learned: Record<PoolName, number> = { session: 0, eventId: 0, requestState: 0, serverRequestId: 0 };

  add(pool: PoolName, value: string): void {
    const entries = this.pools.get(pool) ?? [];
    if (entries.includes(value)) return;
    this.learned[pool]++;
    entries.push(value);
    if (entries.length > CAPACITY) entries.shift();
    this.pools.set(pool, entries);
  }

  pick(pool: PoolName, index: number): string | undefined {
    const entries = this.pools.get(pool);
    if (!entries || entries.length === 0) return undefined;
    return entries[index % entries.length];
  }

  size(pool: PoolName): number {
    return this.pools.get(pool)?.length ?? 0;
  }

  /** Learns what a response handed out: its session id, event ids, requestStates, server requests. */
  learn(headers: Map<string, string>, messages: unknown[], frameIds: string[]): void {
    const session = headers.get('mcp-session-id');
    if (session) this.add('session', session);
    for (const id of frameIds) this.add('eventId', id);
    for (const message of messages) {
      if (typeof message !== 'object' || message === null) continue;
      const m = message as { id?: unknown; method?: unknown; result?: { requestState?: unknown } };
      if (typeof m.method === 'string' && typeof m.id === 'string') this.add('serverRequestId', m.id);
      if (typeof m.result?.requestState === 'string') this.add('requestState', m.result.requestState);
    }
  }
}
