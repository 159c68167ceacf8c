import os from 'node:os';
import { SCHEMA_NAME, type PostgresSettings } from './backends/postgres/settings.js';
import { isScopeToken, parseToolScopes, splitScopes } from './scope-syntax.js';
import { DEFAULT_TASK_SETTINGS, type TaskSettings } from './tasks/task-settings.js';

/** Every setting the server reads, from environment variables. See README "Configuration". */
export interface ServerConfig {
  port: number;
  host: string;
  mcpPath: string;
  /** Separate listener for /metrics; 0 disables it. */
  metricsPort: number;
  replicaName: string;
  replicaHeader: boolean;
  sessionMode: 'stateful' | 'stateless';
  sessionTtlSeconds: number;
  redis: RedisSettings | undefined;
  /** PostgreSQL as the store (DATABASE_URL); never together with Redis. */
  postgres: PostgresSettings | undefined;
  allowedOrigins: string[];
  allowedHosts: string[];
  maxBodyBytes: number;
  /** A request whose headers and body have not all arrived after this long is answered 408 (slow-body clients). */
  bodyReadTimeoutMs: number;
  /** Upper bound on what a legacy session keeps of its initialize (capabilities, clientInfo). */
  sessionRecordMaxBytes: number;
  /** Legacy session runtimes a replica keeps built (least recently used evicted first) and how long an idle one stays. */
  runtimeCacheMaxSessions: number;
  runtimeIdleSeconds: number;
  /**
   * On Redis (single or Sentinel), the longest a replica serves a session record from its own read
   * cache, which Redis keeps coherent by announcing every change (client tracking); 0 reads the
   * session from Redis on every request.
   */
  sessionCacheMaxAgeMs: number;
  /** Server-to-client requests (sampling, elicitation, roots) one legacy session may have waiting at once. */
  maxPendingClientRequests: number;
  /** Legacy sessions one principal, and the whole fleet, may open within one session TTL (0 = no limit). */
  maxSessionsPerPrincipal: number;
  maxSessionsTotal: number;
  /** New legacy sessions one client address may open per second, fleet-wide (0 = no limit). */
  newSessionsPerAddressPerSecond: number;
  /** Proxies in front of the replicas whose X-Forwarded-For entry names the client (0: the socket's peer). */
  trustedProxyHops: number;
  /** Open subscriptions/listen streams one replica serves at once. */
  maxListenStreams: number;
  /** Resource subscriptions one legacy session may hold. */
  maxSubscriptionsPerSession: number;
  /** A replica closes a standalone GET stream after this long (0 = never), after sending `retry`. */
  getStreamMaxMs: number;
  /**
   * A replica ends a modern `subscriptions/listen` stream after this long (0 = never). Unlike a GET
   * stream it cannot be resumed: events published before the client listens again are not sent.
   */
  listenStreamMaxMs: number;
  /** The `retry` hint (ms) sent on SSE streams so clients reconnect through the load balancer. */
  sseRetryMs: number;
  sseKeepAliveMs: number;
  /** Unsent bytes an SSE stream may pile up for a client that does not read before it is dropped (the client resumes). */
  sseMaxUnsentBytes: number;
  /** A modern listen stream whose client has not drained it for this long is dropped (it listens again). */
  sseStallTimeoutMs: number;
  eventRetentionSeconds: number;
  eventMaxPerStream: number;
  drainTimeoutMs: number;
  /** An instance whose heartbeat is older than this is gone: its unanswered requests end with an error. */
  ownerLivenessMs: number;
  /**
   * SIGTERM: how long a replica keeps serving, already not ready, before it stops accepting
   * connections, so that a load balancer that health-checks it takes it out of rotation first.
   */
  shutdownDelayMs: number;
  workload: string;
  /** Workload state (`ctx.shared`): keys expire this long after their last write, at most stateMaxKeys of them. */
  stateTtlSeconds: number;
  stateMaxKeys: number;
  /**
   * HMAC keys sealing the multi round-trip `requestState`: the first signs, all verify. Empty in
   * memory mode means a random per-process key (Redis mode refuses to start without keys).
   */
  requestStateKeys: string[];
  requestStateTtlSeconds: number;
  /** MCP Tasks: TTLs, poll interval, limits (docs/tasks.md). */
  tasks: TaskSettings;
  /** How long a legacy session's server-to-client request (sampling, elicitation, roots) waits for the client's answer. */
  clientRequestTimeoutMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** OAuth 2.1 resource server settings; undefined (authorization off) unless AUTH_ISSUER is set. */
  auth: AuthSettings | undefined;
}

/** See docs/auth.md. */
export interface AuthSettings {
  /** The authorization server's issuer identifier: tokens must carry it as `iss`. */
  issuer: string;
  /** This server's canonical URL (RFC 8707 resource indicator), advertised in its metadata. */
  resourceUrl: string;
  /** `aud` values accepted: the resource URL unless AUTH_AUDIENCE says otherwise. */
  audiences: string[];
  /** undefined: the `jwks_uri` of the issuer's metadata. */
  jwksUrl: string | undefined;
  requiredScopes: string[];
  /** tools/call of a tool named here needs these scopes too (and tools/list shows it only then). */
  toolScopes: Map<string, string[]>;
  clockToleranceSeconds: number;
  /** Bound on each fetch of the issuer's metadata or key set. */
  fetchTimeoutMs: number;
}

export interface RedisSettings {
  url: string | undefined;
  sentinels: Array<{ host: string; port: number }>;
  sentinelName: string | undefined;
  clusterNodes: Array<{ host: string; port: number }>;
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
}

/** HMAC-SHA256 keys shorter than its output weaken it; the SDK's codec refuses them too. */
export const MIN_REQUEST_STATE_KEY_BYTES = 32;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  /** Every setting asked for, set or not. */
  readonly names = new Set<string>();
  constructor(readonly env: Env) {}

  raw(name: string): string | undefined {
    this.names.add(name);
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) {
      this.problems.push(`${name}=${JSON.stringify(value)} is not a whole number`);
      return fallback;
    }
    const n = Number(value);
    if (n < min || n > max) {
      this.problems.push(`${name}=${n} is out of range (${min} to ${max})`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name}=${JSON.stringify(value)} is not a boolean (use true or false)`);
    return fallback;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}=${JSON.stringify(value)} must be one of ${allowed.join(', ')}`);
    return fallback;
  }

  list(name: string): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  hostPorts(name: string): Array<{ host: string; port: number }> {
    return this.list(name).flatMap((entry) => {
      const match = /^(.+):(\d{1,5})$/.exec(entry);
      if (!match || Number(match[2]) > 65535) {
        this.problems.push(`${name}: ${JSON.stringify(entry)} is not host:port`);
        return [];
      }
      return [{ host: match[1]!, port: Number(match[2]) }];
    });
  }

  url(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')} (got ${parsed.protocol})`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return value;
  }
}

function readPostgres(r: Reader): PostgresSettings | undefined {
  const url = r.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const listenUrl = r.url('DATABASE_LISTEN_URL', ['postgres:', 'postgresql:']);
  const settings: PostgresSettings = {
    url: url ?? '',
    listenUrl,
    schema: r.string('DATABASE_SCHEMA', 'mcp_fleet'),
    poolSize: r.int('DATABASE_POOL_SIZE', 10, 1, 1000),
    statementTimeoutMs: r.int('DATABASE_STATEMENT_TIMEOUT_MS', 2000, 10, 60_000),
    connectTimeoutMs: r.int('DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 120_000),
  };
  if (url === undefined) {
    const others = ['DATABASE_LISTEN_URL', 'DATABASE_SCHEMA', 'DATABASE_POOL_SIZE'].filter((name) => r.raw(name) !== undefined);
    if (others.length > 0) r.problems.push(`${others.join(', ')} set without DATABASE_URL`);
    return undefined;
  }
  if (!SCHEMA_NAME.test(settings.schema)) r.problems.push('DATABASE_SCHEMA may use only lowercase letters, digits and _ (not first), at most 24');
  const redisSettings = Object.keys(r.env).filter((name) => name.startsWith('REDIS_') && (r.env[name] ?? '').trim() !== '');
  if (redisSettings.length > 0) r.problems.push(`DATABASE_URL and ${redisSettings.join(', ')} are both set: choose one store (PostgreSQL or Redis)`);
  return settings;
}

function readRedis(r: Reader): RedisSettings | undefined {
  const url = r.url('REDIS_URL', ['redis:', 'rediss:']);
  const sentinels = r.hostPorts('REDIS_SENTINELS');
  const clusterNodes = r.hostPorts('REDIS_CLUSTER_NODES');
  const modes = [url, sentinels.length > 0, clusterNodes.length > 0].filter(Boolean).length;
  const settings: RedisSettings = {
    url,
    sentinels,
    sentinelName: r.raw('REDIS_SENTINEL_NAME'),
    clusterNodes,
    username: r.raw('REDIS_USERNAME'),
    password: r.raw('REDIS_PASSWORD'),
    tls: r.bool('REDIS_TLS', url?.startsWith('rediss:') ?? false),
    keyPrefix: r.string('REDIS_KEY_PREFIX', 'mcp-fleet:'),
    commandTimeoutMs: r.int('REDIS_COMMAND_TIMEOUT_MS', 2000, 10, 60_000),
    connectTimeoutMs: r.int('REDIS_CONNECT_TIMEOUT_MS', 5000, 100, 120_000),
  };
  if (modes === 0) return undefined;
  if (modes > 1) {
    r.problems.push('set only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES');
  }
  if (sentinels.length > 0 && settings.sentinelName === undefined) {
    r.problems.push('REDIS_SENTINELS needs REDIS_SENTINEL_NAME (the master group name)');
  }
  if (!/^[A-Za-z0-9:_.-]{0,64}$/.test(settings.keyPrefix)) {
    r.problems.push('REDIS_KEY_PREFIX may use only letters, digits and : _ . - (at most 64)');
  }
  return settings;
}

const isLoopback = (hostname: string): boolean => hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);

function readAuth(r: Reader): AuthSettings | undefined {
  const issuer = r.url('AUTH_ISSUER', ['https:', 'http:']);
  const others = ['AUTH_RESOURCE_URL', 'AUTH_AUDIENCE', 'AUTH_JWKS_URL', 'AUTH_REQUIRED_SCOPES', 'AUTH_TOOL_SCOPES'].filter(
    (name) => r.raw(name) !== undefined,
  );
  if (issuer === undefined) {
    if (others.length > 0) r.problems.push(`${others.join(', ')} set without AUTH_ISSUER: authorization is on only with an issuer`);
    return undefined;
  }
  const resourceUrl = r.url('AUTH_RESOURCE_URL', ['https:', 'http:']);
  const jwksUrl = r.url('AUTH_JWKS_URL', ['https:', 'http:']);
  const { toolScopes, problems } = parseToolScopes(r.raw('AUTH_TOOL_SCOPES'));
  r.problems.push(...problems);
  const settings: AuthSettings = {
    issuer,
    resourceUrl: resourceUrl ?? '',
    audiences: r.list('AUTH_AUDIENCE'),
    jwksUrl,
    requiredScopes: splitScopes(r.raw('AUTH_REQUIRED_SCOPES') ?? ''),
    toolScopes,
    clockToleranceSeconds: r.int('AUTH_CLOCK_TOLERANCE_SECONDS', 5, 0, 300),
    fetchTimeoutMs: r.int('AUTH_FETCH_TIMEOUT_MS', 3000, 100, 60_000),
  };
  if (resourceUrl === undefined) r.problems.push('AUTH_RESOURCE_URL is required with AUTH_ISSUER: the public URL of the MCP endpoint, as clients reach it');
  else if (URL.canParse(resourceUrl) && new URL(resourceUrl).hash !== '') r.problems.push('AUTH_RESOURCE_URL must not have a fragment');
  if (settings.audiences.length === 0 && resourceUrl !== undefined) settings.audiences = [resourceUrl];
  for (const [name, url] of [
    ['AUTH_ISSUER', issuer],
    ['AUTH_JWKS_URL', jwksUrl],
  ] as const) {
    if (url === undefined || !URL.canParse(url)) continue;
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && !isLoopback(parsed.hostname)) r.problems.push(`${name} must use https (http only on a loopback address)`);
  }
  if (URL.canParse(issuer) && (new URL(issuer).search !== '' || new URL(issuer).hash !== '')) r.problems.push('AUTH_ISSUER must not have a query or fragment');
  const bad = settings.requiredScopes.filter((s) => !isScopeToken(s));
  if (bad.length > 0) r.problems.push(`AUTH_REQUIRED_SCOPES: ${bad.map((s) => JSON.stringify(s)).join(', ')} is not a valid scope`);
  return settings;
}

/** The metrics port when METRICS_PORT is unset: PORT + 6464 (9464 for the default 3000), so replicas on different PORTs do not collide. */
export function defaultMetricsPort(port: number): number {
  return port > 0 && port + 6464 <= 65535 ? port + 6464 : 9464;
}

/** The replica name when POD_NAME is unset: the host name, with the port, so replicas on one host differ. */
function defaultReplicaName(port: number): string {
  return port > 0 ? `${os.hostname()}:${port}` : `${os.hostname()}:pid-${process.pid}`;
}

function readConfig(r: Reader): ServerConfig {
  const port = r.int('PORT', 3000, 0, 65535);
  return {
    port,
    host: r.string('HOST', '0.0.0.0'),
    mcpPath: r.string('MCP_PATH', '/mcp'),
    metricsPort: r.int('METRICS_PORT', defaultMetricsPort(port), 0, 65535),
    replicaName: r.string('POD_NAME', defaultReplicaName(port)),
    replicaHeader: r.bool('REPLICA_HEADER', true),
    sessionMode: r.oneOf('SESSION_MODE', 'stateful', ['stateful', 'stateless'] as const),
    sessionTtlSeconds: r.int('SESSION_TTL_SECONDS', 3600, 1, 30 * 24 * 3600),
    redis: readRedis(r),
    postgres: readPostgres(r),
    allowedOrigins: r.list('ALLOWED_ORIGINS'),
    allowedHosts: r.list('ALLOWED_HOSTS'),
    maxBodyBytes: r.int('MAX_BODY_BYTES', 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    sessionRecordMaxBytes: r.int('SESSION_RECORD_MAX_BYTES', 16 * 1024, 512, 1024 * 1024),
    maxSubscriptionsPerSession: r.int('MAX_SUBSCRIPTIONS_PER_SESSION', 100, 1, 100_000),
    maxPendingClientRequests: r.int('MAX_PENDING_CLIENT_REQUESTS', 16, 1, 10_000),
    maxListenStreams: r.int('MAX_LISTEN_STREAMS', 1024, 1, 1_000_000),
    maxSessionsPerPrincipal: r.int('MAX_SESSIONS_PER_PRINCIPAL', 0, 0, 10_000_000),
    maxSessionsTotal: r.int('MAX_SESSIONS_TOTAL', 0, 0, 100_000_000),
    newSessionsPerAddressPerSecond: r.int('NEW_SESSIONS_PER_ADDRESS_PER_SECOND', 0, 0, 1_000_000),
    trustedProxyHops: r.int('TRUSTED_PROXY_HOPS', 0, 0, 10),
    runtimeCacheMaxSessions: r.int('RUNTIME_CACHE_MAX_SESSIONS', 4000, 1, 1_000_000),
    runtimeIdleSeconds: r.int('RUNTIME_IDLE_SECONDS', 600, 1, 24 * 3600),
    sessionCacheMaxAgeMs: r.int('SESSION_CACHE_MAX_AGE_MS', 5000, 0, 3600 * 1000),
    bodyReadTimeoutMs: r.int('BODY_READ_TIMEOUT_MS', 30_000, 100, 600_000),
    getStreamMaxMs: r.int('GET_STREAM_MAX_MS', 0, 0, 24 * 3600 * 1000),
    listenStreamMaxMs: r.int('LISTEN_STREAM_MAX_MS', 0, 0, 24 * 3600 * 1000),
    sseRetryMs: r.int('SSE_RETRY_MS', 1000, 0, 600_000),
    sseKeepAliveMs: r.int('SSE_KEEPALIVE_MS', 15_000, 0, 600_000),
    sseMaxUnsentBytes: r.int('SSE_MAX_UNSENT_BYTES', 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    sseStallTimeoutMs: r.int('SSE_STALL_TIMEOUT_MS', 10_000, 100, 600_000),
    eventRetentionSeconds: r.int('EVENT_RETENTION_SECONDS', 600, 1, 7 * 24 * 3600),
    eventMaxPerStream: r.int('EVENT_MAX_PER_STREAM', 1000, 1, 1_000_000),
    drainTimeoutMs: r.int('DRAIN_TIMEOUT_MS', 10_000, 0, 600_000),
    ownerLivenessMs: r.int('OWNER_LIVENESS_MS', 3000, 300, 60_000),
    shutdownDelayMs: r.int('SHUTDOWN_DELAY_MS', 0, 0, 600_000),
    workload: r.string('MCP_WORKLOAD', 'reference'),
    stateTtlSeconds: r.int('STATE_TTL_SECONDS', 7 * 24 * 3600, 1, 365 * 24 * 3600),
    stateMaxKeys: r.int('STATE_MAX_KEYS', 10_000, 1, 10_000_000),
    requestStateKeys: r.list('REQUEST_STATE_KEYS'),
    requestStateTtlSeconds: r.int('REQUEST_STATE_TTL_SECONDS', 600, 1, 24 * 3600),
    tasks: {
      ttlMs: r.int('TASK_TTL_MS', DEFAULT_TASK_SETTINGS.ttlMs, 1000, 365 * 24 * 3_600_000),
      maxTtlMs: r.int('TASK_MAX_TTL_MS', DEFAULT_TASK_SETTINGS.maxTtlMs, 1000, 365 * 24 * 3_600_000),
      resultRetentionMs: r.int('TASK_RESULT_RETENTION_MS', DEFAULT_TASK_SETTINGS.resultRetentionMs, 1000, 365 * 24 * 3_600_000),
      pollIntervalMs: r.int('TASK_POLL_INTERVAL_MS', DEFAULT_TASK_SETTINGS.pollIntervalMs, 1, 3_600_000),
      maxActivePerPrincipal: r.int('TASKS_MAX_ACTIVE_PER_PRINCIPAL', DEFAULT_TASK_SETTINGS.maxActivePerPrincipal, 1, 1_000_000),
      maxStored: r.int('TASKS_MAX_STORED', DEFAULT_TASK_SETTINGS.maxStored, 1, 100_000_000),
      maxRunningPerReplica: r.int('TASKS_MAX_RUNNING_PER_REPLICA', DEFAULT_TASK_SETTINGS.maxRunningPerReplica, 1, 1_000_000),
      resultMaxBytes: r.int('TASK_RESULT_MAX_BYTES', DEFAULT_TASK_SETTINGS.resultMaxBytes, 1024, 64 * 1024 * 1024),
      maxAttempts: r.int('TASK_MAX_ATTEMPTS', DEFAULT_TASK_SETTINGS.maxAttempts, 1, 100),
    },
    clientRequestTimeoutMs: r.int('CLIENT_REQUEST_TIMEOUT_MS', 300_000, 100, 3600_000),
    logLevel: r.oneOf('LOG_LEVEL', 'info', ['debug', 'info', 'warn', 'error', 'silent'] as const),
    auth: readAuth(r),
  };
}

/** Every environment variable the server reads. */
export function settingNames(): string[] {
  const r = new Reader({ AUTH_ISSUER: 'https://issuer.example' });
  readConfig(r);
  return [...r.names].sort();
}

export function loadConfig(env: Env = process.env): ServerConfig {
  const r = new Reader(env);
  const config = readConfig(r);
  if (!config.mcpPath.startsWith('/')) r.problems.push('MCP_PATH must start with /');
  if (config.metricsPort !== 0 && config.metricsPort === config.port && config.port !== 0) {
    r.problems.push('METRICS_PORT must differ from PORT (or be 0 to disable the metrics listener)');
  }
  config.requestStateKeys.forEach((key, index) => {
    if (Buffer.byteLength(key, 'utf8') < MIN_REQUEST_STATE_KEY_BYTES) {
      r.problems.push(`REQUEST_STATE_KEYS: key ${index + 1} is shorter than ${MIN_REQUEST_STATE_KEY_BYTES} bytes`);
    }
  });
  if ((config.redis || config.postgres) && config.requestStateKeys.length === 0) {
    r.problems.push(
      `REQUEST_STATE_KEYS is required on ${config.postgres ? 'PostgreSQL' : 'Redis'}: every replica must seal and verify requestState with the same keys (comma list, each at least 32 bytes)`,
    );
  }
  if (config.tasks.ttlMs > config.tasks.maxTtlMs) r.problems.push('TASK_TTL_MS must not exceed TASK_MAX_TTL_MS');
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
