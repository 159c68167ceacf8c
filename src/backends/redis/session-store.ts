import { createHash } from 'node:crypto';
import type { LoggingLevel } from '@modelcontextprotocol/server';
import type { RedisClient } from './connection.js';
import { redisCall } from './errors.js';
import { LuaScript } from './lua-script.js';
import type { SessionReadCache } from '../../sessions/session-read-cache.js';
import { decodeSessionRecord, encodeSessionFields } from '../../sessions/session-record-codec.js';
import { SubscriptionLimitError, type NewSession, type SessionRecord, type SessionStore } from '../../sessions/session-store.js';

const CREATE = new LuaScript(
  'session_create',
  'writes',
  `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'subs', '[]', 'slidAt', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`,
);

/**
 * Slides a session's TTL and records when (`slidAt`, the sliding replica's clock), so that a touch
 * can tell from the hash alone whether a slide is due. PEXPIRE first: a session deleted or expired
 * meanwhile is not brought back as a hash holding only `slidAt`.
 */
const SLIDE = new LuaScript(
  'session_slide',
  'writes',
  `if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'slidAt', ARGV[2])
return 1`,
);

const SET_FIELD = new LuaScript(
  'session_set',
  'writes',
  `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`,
);

const EDIT_SUBSCRIPTIONS = new LuaScript(
  'session_subscriptions',
  'writes',
  `local current = redis.call('HGET', KEYS[1], 'subs')
if not current then return 0 end
local subs = cjson.decode(current)
local kept = {}
for _, uri in ipairs(subs) do
  if uri ~= ARGV[2] then table.insert(kept, uri) end
end
if ARGV[1] == 'add' then
  if #kept == #subs and #kept >= tonumber(ARGV[4]) then return -1 end
  table.insert(kept, ARGV[2])
  redis.call('HSET', KEYS[1], 'subsRefreshedAt', ARGV[3])
end
redis.call('HSET', KEYS[1], 'subs', #kept == 0 and '[]' or cjson.encode(kept))
return 1`,
);

const DELETE = new LuaScript(
  'session_delete',
  'frees',
  `local subs = redis.call('HGET', KEYS[1], 'subs')
if not subs then return false end
redis.call('DEL', KEYS[1])
return subs`,
);

/** The session id in a key made by RedisSessionStore.sessionKey: `<prefix>session:{<id>}`. */
export function sessionIdOfKey(key: string, sessionKeyPrefix: string): string {
  return key.slice(sessionKeyPrefix.length + 1, -1);
}

/** What a touch needs of the hash: the record less lastAccessAt, and when its TTL and index were last renewed. */
export interface SessionRead {
  record: Omit<SessionRecord, 'lastAccessAt'>;
  slidAt: number;
  subsRefreshedAt: number;
}

/**
 * Sessions as Redis hashes with a sliding TTL. Keys carry the session id in a hash tag so that one
 * session's keys share a Cluster slot. Each operation is one command or one script, so one round
 * trip; a touch is a plain HGETALL, and the rare slide it finds due a second command that the
 * request does not wait for.
 */
export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis' as const;

  /** Sessions whose slide is on its way: concurrent touches that find it due send one. */
  private readonly sliding = new Set<string>();
  /** Likewise for the subscriber index's renewal. */
  private readonly refreshing = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
    /** Session reads kept on this replica while Redis announces changes to them; none: every touch reads. */
    private readonly cache?: SessionReadCache<SessionRead>,
  ) {}

  sessionKey(id: string): string {
    return `${this.prefix}session:{${id}}`; // sessionIdOfKey reads it back
  }

  private indexKey(uri: string): string {
    return `${this.prefix}subscribers:${createHash('sha1').update(uri).digest('hex')}`;
  }

  private get ttlMs(): number {
    return this.ttlSeconds * 1000;
  }

  /** How much of the TTL may pass before a touch slides it again: a tenth, at most a minute. */
  private get slideSlackMs(): number {
    return Math.min(60_000, Math.floor(this.ttlMs / 10));
  }

  async create(session: NewSession): Promise<boolean> {
    const at = this.now();
    const created = await redisCall(() => CREATE.run(this.redis, [this.sessionKey(session.id)], [encodeSessionFields(session, at), at, this.ttlMs]));
    return created === 1;
  }

  /**
   * One HGETALL, or none where this replica's read cache holds the session (Redis announces every
   * change to a session key to every replica, so a deleted or expired session is seen at once,
   * whichever replica asks). The TTL slides when the hash says the last slide is `slideSlackMs` old,
   * so a session still expires between `ttl - slack` and `ttl` after its last request. `slidAt` is
   * the clock of the replica that slid: a skew δ between replicas' clocks lowers that bound to
   * `ttl - slack - δ`, and a replica whose clock is behind by the slack or more slides at once
   * instead of waiting for it.
   */
  async touch(id: string): Promise<SessionRecord | undefined> {
    const cached = this.cache?.get(id, this.now());
    const read = cached ?? (await this.read(id));
    if (read === undefined) return undefined;
    const now = this.now();
    if (Math.abs(now - read.slidAt) >= this.slideSlackMs) this.slide(id, now);
    const { subscriptions } = read.record;
    if (subscriptions.length > 0 && now - read.subsRefreshedAt > this.ttlMs / 2) this.refreshSubscriberIndex(id, subscriptions);
    return { ...read.record, lastAccessAt: now };
  }

  private async read(id: string): Promise<SessionRead | undefined> {
    const ticket = this.cache?.beginRead(id);
    let hash: Record<string, string>;
    try {
      hash = await redisCall(() => this.redis.hgetall(this.sessionKey(id)));
    } catch (error) {
      this.cache?.abandonRead(id, ticket);
      throw error;
    }
    if (hash.v === undefined) {
      this.cache?.abandonRead(id, ticket);
      return undefined;
    }
    const read: SessionRead = {
      record: decodeSessionRecord(id, hash.v, { logLevel: hash.logLevel, subscriptions: JSON.parse(hash.subs ?? '[]') as string[] }),
      slidAt: Number(hash.slidAt ?? 0),
      subsRefreshedAt: Number(hash.subsRefreshedAt ?? 0),
    };
    // Kept no longer than the key can live without another slide, which announces itself anyway.
    this.cache?.finishRead(id, ticket, read, read.slidAt + this.ttlMs, this.now());
    return read;
  }

  /** Not awaited: a slide that fails is found due again by the next touch, with the slack to spare. */
  private slide(id: string, now: number): void {
    if (this.sliding.has(id)) return;
    this.sliding.add(id);
    void redisCall(() => SLIDE.run(this.redis, [this.sessionKey(id)], [this.ttlMs, now]))
      .catch(() => {})
      .finally(() => {
        this.sliding.delete(id);
        this.cache?.forget(id);
      });
  }

  /**
   * The subscriber index lives in other keys (other Cluster slots) than the session, so its TTL
   * cannot slide in the session's own script: an active subscribed session renews it here, at most
   * once per half TTL, so it never outlives its subscriptions' index. Not awaited, once at a time.
   */
  private refreshSubscriberIndex(id: string, uris: string[]): void {
    if (this.refreshing.has(id)) return;
    this.refreshing.add(id);
    void redisCall(() =>
      Promise.all([
        ...uris.flatMap((uri) => [this.redis.sadd(this.indexKey(uri), id), this.redis.pexpire(this.indexKey(uri), this.ttlMs)]),
        SET_FIELD.run(this.redis, [this.sessionKey(id)], ['subsRefreshedAt', this.now()]),
      ]),
    )
      .catch(() => {})
      .finally(() => {
        this.refreshing.delete(id);
        this.cache?.forget(id);
      });
  }

  async setLogLevel(id: string, level: LoggingLevel): Promise<boolean> {
    const done = await this.writing(id, () => SET_FIELD.run(this.redis, [this.sessionKey(id)], ['logLevel', level]));
    return done === 1;
  }

  async subscribe(id: string, uri: string, limit = Number.MAX_SAFE_INTEGER): Promise<boolean> {
    const [edited] = await this.writing(id, () =>
      Promise.all([
        EDIT_SUBSCRIPTIONS.run(this.redis, [this.sessionKey(id)], ['add', uri, this.now(), limit]),
        this.redis.sadd(this.indexKey(uri), id),
        this.redis.pexpire(this.indexKey(uri), this.ttlMs),
      ]),
    );
    if (edited !== 1) await redisCall(() => this.redis.srem(this.indexKey(uri), id));
    if (edited === -1) throw new SubscriptionLimitError(limit);
    return edited === 1;
  }

  async unsubscribe(id: string, uri: string): Promise<boolean> {
    const [edited] = await this.writing(id, () =>
      Promise.all([EDIT_SUBSCRIPTIONS.run(this.redis, [this.sessionKey(id)], ['remove', uri]), this.redis.srem(this.indexKey(uri), id)]),
    );
    return edited === 1;
  }

  async subscribers(uri: string): Promise<string[]> {
    return redisCall(() => this.redis.smembers(this.indexKey(uri)));
  }

  /** Drops ids found dead while notifying (expired sessions leave their index entries behind). */
  async forgetSubscribers(uri: string, ids: string[]): Promise<void> {
    if (ids.length > 0) await redisCall(() => this.redis.srem(this.indexKey(uri), ...ids));
  }

  async delete(id: string): Promise<boolean> {
    const subs = await this.writing(id, () => DELETE.run(this.redis, [this.sessionKey(id)], []));
    if (typeof subs !== 'string') return false;
    const uris = JSON.parse(subs) as string[];
    await redisCall(() => Promise.all(uris.map((uri) => this.redis.srem(this.indexKey(uri), id))));
    return true;
  }

  /**
   * A write to the session from this replica: its cached copy goes before (no touch serves it while
   * the write is under way) and after (Redis's announcement of the change may come later than the
   * write's own answer, which the request that follows must not beat).
   */
  private async writing<R>(id: string, write: () => Promise<R>): Promise<R> {
    this.cache?.forget(id);
    try {
      return await redisCall(write);
    } finally {
      this.cache?.forget(id);
    }
  }

  async ping(): Promise<void> {
    await redisCall(() => this.redis.ping());
  }

  async close(): Promise<void> {}
}
