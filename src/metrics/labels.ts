/**
 * Label folding: every label value the metrics layer emits comes from a bounded set, whatever the
 * server (or a client, through it) passes in. Unknown values become OTHER.
 */
export const OTHER = 'other';

/** MCP methods (and the pseudo-methods the server reports for other requests) kept as labels. */
export const METHOD_LABELS = [
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  // 2026-07-28 only
  'server/discover',
  'subscriptions/listen',
  'notification',
  'response',
  'GET',
  'DELETE',
  'batch',
] as const;

const METHODS: ReadonlySet<string> = new Set(METHOD_LABELS);

/**
 * A modern POST of a notification reports its own method (`notifications/cancelled`); legacy POSTs
 * already report `notification`. Both land on the one label.
 */
export function foldMethod(method: string): string {
  if (METHODS.has(method)) return method;
  return method.startsWith('notifications/') ? 'notification' : OTHER;
}

export const ERA_LABELS = ['legacy', 'modern'] as const;
export const DELIVERY_KIND_LABELS = ['notification', 'request', 'response', 'event'] as const;
export const DELIVERY_PATH_LABELS = ['local', 'store'] as const;
export const STREAM_KIND_LABELS = ['get', 'post', 'listen'] as const;
export const INPUT_PHASE_LABELS = ['requested', 'resumed'] as const;
export const TASK_STATUS_LABELS = ['completed', 'failed', 'cancelled'] as const;
export const TASK_END_REASON_LABELS = ['ok', 'tool_error', 'protocol_error', 'cancelled', 'owner_lost', 'ttl', 'drain', 'result_too_large'] as const;
export const TASK_ORPHAN_OUTCOME_LABELS = ['failed', 'rerun', 'cancelled'] as const;
export const TASK_LIMIT_LABELS = ['active_per_principal', 'stored', 'running_per_replica'] as const;

const STORE_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/** A store kind as a label: the backends name themselves (an open set, chosen by code), so any well-formed name passes. */
export function foldStore(kind: string): string {
  return STORE_NAME.test(kind) && kind !== OTHER ? kind : OTHER;
}

/** Folds a value to one of `allowed`, or OTHER. For labels whose TypeScript type is already a union. */
export function foldTo(allowed: readonly string[], value: string): string {
  return allowed.includes(value) ? value : OTHER;
}

/** An HTTP status code as a label ("200", "404"), or OTHER when it is not one. */
export function foldStatus(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : OTHER;
}

/**
 * Redis commands the server may issue. They are always kept as labels and do not count against
 * the cap on other operation names (script names, other stores' operations).
 */
export const KNOWN_REDIS_OPERATIONS: readonly string[] = [
  'get',
  'set',
  'setex',
  'psetex',
  'getex',
  'getdel',
  'del',
  'unlink',
  'exists',
  'expire',
  'pexpire',
  'expireat',
  'ttl',
  'pttl',
  'persist',
  'incr',
  'incrby',
  'decr',
  'mget',
  'mset',
  'hget',
  'hset',
  'hsetnx',
  'hmget',
  'hmset',
  'hgetall',
  'hdel',
  'hexists',
  'hincrby',
  'hlen',
  'sadd',
  'srem',
  'smembers',
  'sismember',
  'scard',
  'zadd',
  'zrem',
  'zrange',
  'zrangebyscore',
  'zremrangebyscore',
  'zremrangebyrank',
  'zcard',
  'lpush',
  'rpush',
  'lpop',
  'rpop',
  'lrange',
  'ltrim',
  'llen',
  'xadd',
  'xrange',
  'xrevrange',
  'xread',
  'xtrim',
  'xlen',
  'xdel',
  'publish',
  'spublish',
  'subscribe',
  'unsubscribe',
  'psubscribe',
  'punsubscribe',
  'ssubscribe',
  'sunsubscribe',
  'eval',
  'evalsha',
  'evalsha_ro',
  'eval_ro',
  'fcall',
  'fcall_ro',
  'script',
  'multi',
  'exec',
  'watch',
  'unwatch',
  'ping',
  'info',
  'scan',
  'sscan',
  'hscan',
  'zscan',
  'type',
  'time',
  'auth',
  'hello',
  'select',
  'client',
  'cluster',
  'readonly',
  'quit',
  'pipeline',
];

const OPERATION_NAME = /^[a-z][a-z0-9_:-]{0,31}$/;

/** Maximum distinct operation names outside KNOWN_REDIS_OPERATIONS (e.g. script names). */
export const DEFAULT_MAX_OTHER_OPERATIONS = 64;

/**
 * Folds store operation names: known commands pass, other well-formed names (script names the
 * server passes, e.g. `append_event`) pass until `maxOther` distinct ones have been seen, and
 * anything else becomes OTHER. Case is ignored (`HSET` is `hset`).
 */
export class OperationFolder {
  private readonly known = new Set(KNOWN_REDIS_OPERATIONS);
  private readonly admitted = new Set<string>();

  constructor(private readonly maxOther: number = DEFAULT_MAX_OTHER_OPERATIONS) {}

  fold(operation: string): string {
    const name = operation.toLowerCase();
    if (this.known.has(name) || this.admitted.has(name)) return name;
    if (!OPERATION_NAME.test(name) || name === OTHER) return OTHER;
    if (this.admitted.size >= this.maxOther) return OTHER;
    this.admitted.add(name);
    return name;
  }
}
