import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.js';
import { redisCall } from './errors.js';
import { LuaScript } from './lua-script.js';
import { expiresAt, isTerminal, TaskLimitError, type TaskRecord, type TaskStore, type TaskStoreLimits } from '../../tasks/task-store.js';

/** Takes a place in a sorted set of live ids (score = expiry) unless it holds `limit` already. */
const RESERVE = new LuaScript(
  'task_reserve',
  'writes',
  `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return 1`,
);

/**
 * The record's hash: v (version), s (status), o (owner), r (JSON). Replaced only from version
 * ARGV[1], never once terminal; answers the previous owner ('' for none), or false.
 */
const COMPARE_AND_SET = new LuaScript(
  'task_cas',
  'writes',
  `local current = redis.call('HMGET', KEYS[1], 'v', 's', 'o')
if not current[1] or current[1] ~= ARGV[1] then return false end
if current[2] == 'completed' or current[2] == 'failed' or current[2] == 'cancelled' then return false end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 's', ARGV[3], 'o', ARGV[4], 'r', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return current[3] or ''`,
);

/** Owner index, both keys in one slot: drops ids and, once empty, the owner itself. */
const UNINDEX = new LuaScript(
  'task_unindex',
  'frees',
  `for i = 2, #ARGV do redis.call('SREM', KEYS[2], ARGV[i]) end
if redis.call('SCARD', KEYS[2]) == 0 then redis.call('SREM', KEYS[1], ARGV[1]) end
return 1`,
);

const INDEX = new LuaScript(
  'task_index',
  'writes',
  `redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1`,
);

/**
 * Records as one hash per task (`task:{<id>}`, PEXPIRE at its purge time), compared and set by a
 * Lua script on that one key, so it works the same on a Cluster. Limits: a sorted set of live ids
 * per principal (`tasks-active:{<principal hash>}`) and one for the fleet (`tasks-stored`), both
 * scored by expiry and trimmed on each reservation. Owner index: `{tasks-index}owners` and
 * `{tasks-index}owned:<instance>`, in one slot so that an owner leaves the set only with its last
 * task. The index is written before the record names an owner and cleaned after, so it never
 * misses a task its owner runs (a stale entry is harmless: the sweeper drops it).
 */
export class RedisTaskStore implements TaskStore {
  readonly kind = 'redis' as const;

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  private recordKey(taskId: string): string {
    return `${this.prefix}task:{${taskId}}`;
  }

  private activeKey(principal: string): string {
    return `${this.prefix}tasks-active:{${createHash('sha256').update(principal).digest('base64url')}}`;
  }

  private get storedKey(): string {
    return `${this.prefix}tasks-stored`;
  }

  private get ownersKey(): string {
    return `${this.prefix}{tasks-index}owners`;
  }

  private ownedKey(owner: string): string {
    return `${this.prefix}{tasks-index}owned:${owner}`;
  }

  private async index(owner: string | undefined, taskId: string): Promise<void> {
    if (owner === undefined) return;
    await redisCall(() => INDEX.run(this.redis, [this.ownersKey, this.ownedKey(owner)], [owner, taskId]));
  }

  private async reserve(key: string, taskId: string, limit: number, record: TaskRecord): Promise<boolean> {
    const now = this.now();
    const reserved = await redisCall(() => RESERVE.run(this.redis, [key], [now, limit, taskId, expiresAt(record), Math.max(1, expiresAt(record) - now)]));
    return reserved === 1;
  }

  async create(record: TaskRecord, limits: TaskStoreLimits): Promise<void> {
    const ttl = expiresAt(record) - this.now();
    if (ttl <= 0) throw new Error('a task must not be created expired');
    if (!(await this.reserve(this.storedKey, record.taskId, limits.maxStored, record))) throw new TaskLimitError('stored', limits.maxStored);
    const active = this.activeKey(record.principal);
    if (!(await this.reserve(active, record.taskId, limits.maxActivePerPrincipal, record))) {
      await redisCall(() => this.redis.zrem(this.storedKey, record.taskId));
      throw new TaskLimitError('active_per_principal', limits.maxActivePerPrincipal);
    }
    await this.index(record.owner, record.taskId);
    const stored = { ...record, version: 1 };
    await redisCall(() =>
      this.redis
        .multi()
        .hset(this.recordKey(record.taskId), 'v', '1', 's', stored.status, 'o', stored.owner ?? '', 'r', JSON.stringify(stored))
        .pexpire(this.recordKey(record.taskId), ttl)
        .exec(),
    );
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    const raw = await redisCall(() => this.redis.hget(this.recordKey(taskId), 'r'));
    return raw === null ? undefined : decode(raw);
  }

  async getMany(taskIds: readonly string[]): Promise<Array<TaskRecord | undefined>> {
    // One key per task, each in its own Cluster slot: asked one by one (ioredis pipelines them).
    return Promise.all(taskIds.map((id) => this.get(id)));
  }

  async compareAndSet(next: TaskRecord): Promise<boolean> {
    const ttl = expiresAt(next) - this.now();
    if (ttl <= 0) return false;
    await this.index(next.owner, next.taskId);
    const previous = await redisCall(() =>
      COMPARE_AND_SET.run(
        this.redis,
        [this.recordKey(next.taskId)],
        [next.version - 1, next.version, next.status, next.owner ?? '', JSON.stringify(next), ttl],
      ),
    );
    if (typeof previous !== 'string') {
      if (next.owner !== undefined) await this.unindexIfNotOwner(next.owner, next.taskId);
      return false;
    }
    if (previous !== '' && previous !== next.owner) await this.unindex(previous, [next.taskId]);
    if (isTerminal(next.status)) await redisCall(() => this.redis.zrem(this.activeKey(next.principal), next.taskId));
    return true;
  }

  /** After a lost compare-and-set: the index entry written for it stays only if the owner is right anyway. */
  private async unindexIfNotOwner(owner: string, taskId: string): Promise<void> {
    const current = await redisCall(() => this.redis.hget(this.recordKey(taskId), 'o'));
    if (current !== owner) await this.unindex(owner, [taskId]);
  }

  async owners(): Promise<string[]> {
    return redisCall(() => this.redis.smembers(this.ownersKey));
  }

  async ownedBy(owner: string): Promise<string[]> {
    return redisCall(() => this.redis.smembers(this.ownedKey(owner)));
  }

  async unindex(owner: string, taskIds: readonly string[]): Promise<void> {
    if (taskIds.length === 0) return;
    await redisCall(() => UNINDEX.run(this.redis, [this.ownersKey, this.ownedKey(owner)], [owner, ...taskIds]));
  }

  async countActive(principal: string): Promise<number> {
    const key = this.activeKey(principal);
    return redisCall(() => this.redis.zcount(key, `(${this.now()}`, '+inf'));
  }

  async close(): Promise<void> {}
}

/** A record written by this code; anything else (a foreign or damaged value) counts as none. */
function decode(raw: string): TaskRecord | undefined {
  try {
    const value = JSON.parse(raw) as TaskRecord;
    return typeof value.taskId === 'string' && typeof value.version === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}
