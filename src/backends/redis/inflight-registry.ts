import type { RequestId } from '@modelcontextprotocol/server';
import type { RedisClient } from './connection.js';
import { redisCall } from './errors.js';
import { LuaScript } from './lua-script.js';
import type { InFlightRecord, InFlightRegistry } from '../../inflight/inflight-registry.js';

const RECORD = new LuaScript(
  'inflight_record',
  'writes',
  `redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1`,
);

/** Deletes a record only if it is still the one read: a claim races other replicas' claims. */
const CLAIM = new LuaScript(
  'inflight_claim',
  'frees',
  `if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1`,
);

export interface RedisInFlightOptions {
  redis: RedisClient;
  prefix: string;
  instanceId: string;
  livenessMs: number;
  /** How long a record outlives its last write: as long as the stream's log it points into. */
  recordTtlMs: number;
  onHeartbeatError?: (error: Error) => void;
}

/**
 * Records in one hash per session (`inflight:{<session>}`, field = stream key, with the session's
 * hash tag so a Cluster keeps them in its slot); liveness as one key per instance
 * (`instance-alive:<instance>`) rewritten with a PX TTL by a heartbeat every third of the window.
 */
export class RedisInFlightRegistry implements InFlightRegistry {
  readonly instanceId: string;
  readonly livenessMs: number;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: RedisInFlightOptions) {
    this.instanceId = options.instanceId;
    this.livenessMs = options.livenessMs;
  }

  private recordsKey(sessionId: string): string {
    return `${this.options.prefix}inflight:{${sessionId}}`;
  }

  private aliveKey(instanceId: string): string {
    return `${this.options.prefix}instance-alive:${instanceId}`;
  }

  /** Beats at once and then every third of the window; a failed beat is reported and retried on the next. */
  async start(): Promise<void> {
    if (!this.heartbeat) {
      this.heartbeat = setInterval(
        () => {
          this.beat().catch((error: unknown) => this.options.onHeartbeatError?.(error instanceof Error ? error : new Error(String(error))));
        },
        Math.max(50, Math.floor(this.livenessMs / 3)),
      );
      this.heartbeat.unref();
    }
    await this.beat();
  }

  private async beat(): Promise<void> {
    await redisCall(() => this.options.redis.set(this.aliveKey(this.instanceId), String(Date.now()), 'PX', this.livenessMs));
  }

  async record(sessionId: string, streamKey: string, requestIds: RequestId[]): Promise<void> {
    const value = encode({ instanceId: this.instanceId, requestIds, since: Date.now() });
    await redisCall(() => RECORD.run(this.options.redis, [this.recordsKey(sessionId)], [streamKey, value, this.options.recordTtlMs]));
  }

  async release(sessionId: string, streamKey: string): Promise<void> {
    await redisCall(() => this.options.redis.hdel(this.recordsKey(sessionId), streamKey));
  }

  async ownerOf(sessionId: string, streamKey: string): Promise<InFlightRecord | undefined> {
    const raw = await redisCall(() => this.options.redis.hget(this.recordsKey(sessionId), streamKey));
    return raw === null ? undefined : decode(raw);
  }

  async recordsOf(sessionId: string): Promise<Map<string, InFlightRecord>> {
    const fields = await redisCall(() => this.options.redis.hgetall(this.recordsKey(sessionId)));
    const records = new Map<string, InFlightRecord>();
    for (const [streamKey, raw] of Object.entries(fields)) {
      const record = decode(raw);
      if (record) records.set(streamKey, record);
    }
    return records;
  }

  async aliveAmong(instanceIds: readonly string[]): Promise<Set<string>> {
    const unique = [...new Set(instanceIds)];
    // One key per instance, each in its own Cluster slot: asked one by one (ioredis pipelines them).
    const found = await redisCall(() => Promise.all(unique.map((id) => this.options.redis.exists(this.aliveKey(id)))));
    return new Set(unique.filter((_, index) => found[index] === 1));
  }

  async claimOrphan(sessionId: string, streamKey: string): Promise<InFlightRecord | undefined> {
    const key = this.recordsKey(sessionId);
    const raw = await redisCall(() => this.options.redis.hget(key, streamKey));
    if (raw === null) return undefined;
    const record = decode(raw);
    if (record && (await this.aliveAmong([record.instanceId])).size > 0) return undefined;
    const claimed = await redisCall(() => CLAIM.run(this.options.redis, [key], [streamKey, raw]));
    return claimed === 1 ? (record ?? { instanceId: '', requestIds: [], since: 0 }) : undefined;
  }

  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await redisCall(() => this.options.redis.del(this.aliveKey(this.instanceId))).catch(() => {});
  }
}

const encode = (record: InFlightRecord): string => JSON.stringify({ i: record.instanceId, r: record.requestIds, t: record.since });

/** A record written by this code; anything else (a foreign or damaged value) counts as none. */
function decode(raw: string): InFlightRecord | undefined {
  try {
    const value = JSON.parse(raw) as { i?: unknown; r?: unknown; t?: unknown };
    if (typeof value.i !== 'string' || !Array.isArray(value.r) || typeof value.t !== 'number') return undefined;
    const requestIds = value.r.filter((id): id is RequestId => typeof id === 'string' || typeof id === 'number');
    return { instanceId: value.i, requestIds, since: value.t };
  } catch {
    return undefined;
  }
}
