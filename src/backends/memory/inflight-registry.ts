import type { RequestId } from '@modelcontextprotocol/server';
import type { InFlightRecord, InFlightRegistry } from '../../inflight/inflight-registry.js';

/** One process: every record is this instance's, alive until closed. */
export class InMemoryInFlightRegistry implements InFlightRegistry {
  private readonly records = new Map<string, Map<string, InFlightRecord>>();
  private closed = false;

  constructor(
    readonly instanceId: string,
    readonly livenessMs: number,
  ) {}

  async start(): Promise<void> {}

  async record(sessionId: string, streamKey: string, requestIds: RequestId[]): Promise<void> {
    let streams = this.records.get(sessionId);
    if (!streams) this.records.set(sessionId, (streams = new Map()));
    streams.set(streamKey, { instanceId: this.instanceId, requestIds: [...requestIds], since: Date.now() });
  }

  async release(sessionId: string, streamKey: string): Promise<void> {
    const streams = this.records.get(sessionId);
    streams?.delete(streamKey);
    if (streams?.size === 0) this.records.delete(sessionId);
  }

  async ownerOf(sessionId: string, streamKey: string): Promise<InFlightRecord | undefined> {
    return this.records.get(sessionId)?.get(streamKey);
  }

  async recordsOf(sessionId: string): Promise<Map<string, InFlightRecord>> {
    return new Map(this.records.get(sessionId) ?? []);
  }

  async aliveAmong(instanceIds: readonly string[]): Promise<Set<string>> {
    return new Set(instanceIds.filter((id) => id === this.instanceId && !this.closed));
  }

  async claimOrphan(sessionId: string, streamKey: string): Promise<InFlightRecord | undefined> {
    const record = this.records.get(sessionId)?.get(streamKey);
    if (!record || (record.instanceId === this.instanceId && !this.closed)) return undefined;
    void this.release(sessionId, streamKey);
    return record;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
