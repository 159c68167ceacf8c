import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const KEYS = { REQUEST_STATE_KEYS: 'k'.repeat(32) };

describe('loadConfig', () => {
  it('defaults to one in-memory stateful server on :3000/mcp with metrics on :9464', () => {
    const config = loadConfig({ POD_NAME: 'r0' });
    expect(config).toMatchObject({
      port: 3000,
      mcpPath: '/mcp',
      metricsPort: 9464,
      replicaName: 'r0',
      sessionMode: 'stateful',
      redis: undefined,
      workload: 'reference',
    });
  });

  it('switches to Redis with REDIS_URL and reads its settings', () => {
    const config = loadConfig({ ...KEYS, REDIS_URL: 'rediss://redis:6380', REDIS_KEY_PREFIX: 'app:', REDIS_PASSWORD: 's3cret' });
    expect(config.redis).toMatchObject({ url: 'rediss://redis:6380', tls: true, keyPrefix: 'app:', password: 's3cret', sentinels: [], clusterNodes: [] });
  });

  it('reads Sentinel and Cluster node lists', () => {
    expect(loadConfig({ ...KEYS, REDIS_SENTINELS: 'a:26379, b:26379', REDIS_SENTINEL_NAME: 'mymaster' }).redis?.sentinels).toEqual([
      { host: 'a', port: 26379 },
      { host: 'b', port: 26379 },
    ]);
    expect(loadConfig({ ...KEYS, REDIS_CLUSTER_NODES: 'n1:7000,n2:7001' }).redis?.clusterNodes).toHaveLength(2);
  });

  it('names every bad value at once', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: '70000',
        SESSION_MODE: 'sticky',
        REPLICA_HEADER: 'maybe',
        REDIS_SENTINELS: 'nohost',
        MCP_PATH: 'mcp',
        REDIS_URL: 'redis://x',
        REDIS_CLUSTER_NODES: 'a:1',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const fragment of [
      'PORT=70000 is out of range',
      'SESSION_MODE="sticky" must be one of stateful, stateless',
      'REPLICA_HEADER="maybe" is not a boolean',
      'REDIS_SENTINELS: "nohost" is not host:port',
      'MCP_PATH must start with /',
      'set only one of REDIS_URL',
    ]) {
      expect(problems).toContain(fragment);
    }
  });

  it('refuses a metrics port equal to the MCP port, and key prefixes that would need escaping', () => {
    expect(() => loadConfig({ PORT: '8080', METRICS_PORT: '8080' })).toThrow(/METRICS_PORT must differ/);
    expect(() => loadConfig({ REDIS_URL: 'redis://x', REDIS_KEY_PREFIX: 'a b*' })).toThrow(/REDIS_KEY_PREFIX/);
  });

  it('reads the requestState key ring: the first key signs, each must be at least 32 bytes', () => {
    const first = 'a'.repeat(32);
    const second = 'b'.repeat(40);
    expect(loadConfig({ REQUEST_STATE_KEYS: `${first}, ${second}` }).requestStateKeys).toEqual([first, second]);
    expect(() => loadConfig({ REQUEST_STATE_KEYS: `${first},short` })).toThrow(/key 2 is shorter than 32 bytes/);
    expect(loadConfig({}).requestStateKeys).toEqual([]);
  });

  it('refuses Redis without requestState keys: every replica must verify what another sealed', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://x' })).toThrow(/REQUEST_STATE_KEYS is required on Redis/);
    expect(loadConfig({ ...KEYS, REDIS_URL: 'redis://x' }).requestStateKeys).toHaveLength(1);
  });

  it('selects PostgreSQL by DATABASE_URL, with its own settings and the same key-ring rule as Redis', () => {
    const config = loadConfig({
      ...KEYS,
      DATABASE_URL: 'postgresql://u:p@db:5432/mcp?sslmode=require',
      DATABASE_LISTEN_URL: 'postgres://u:p@db-direct/mcp',
      DATABASE_SCHEMA: 'fleet_a',
    });
    expect(config.postgres).toMatchObject({
      url: 'postgresql://u:p@db:5432/mcp?sslmode=require',
      listenUrl: 'postgres://u:p@db-direct/mcp',
      schema: 'fleet_a',
    });
    expect(config.redis).toBeUndefined();
    expect(loadConfig({}).postgres).toBeUndefined();
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/mcp' })).toThrow(/REQUEST_STATE_KEYS is required on PostgreSQL/);
    expect(() => loadConfig({ ...KEYS, DATABASE_URL: 'mysql://db/mcp' })).toThrow(/DATABASE_URL must use postgres: or postgresql:/);
    expect(() => loadConfig({ ...KEYS, DATABASE_URL: 'postgres://db/mcp', DATABASE_SCHEMA: 'Drop Table' })).toThrow(/DATABASE_SCHEMA/);
    expect(() => loadConfig({ ...KEYS, DATABASE_LISTEN_URL: 'postgres://db/mcp' })).toThrow(/DATABASE_LISTEN_URL set without DATABASE_URL/);
  });

  it('refuses PostgreSQL and Redis settings together: one store per fleet', () => {
    expect(() => loadConfig({ ...KEYS, DATABASE_URL: 'postgres://db/mcp', REDIS_URL: 'redis://x' })).toThrow(/DATABASE_URL and REDIS_URL are both set/);
    expect(() => loadConfig({ ...KEYS, DATABASE_URL: 'postgres://db/mcp', REDIS_KEY_PREFIX: 'x:' })).toThrow(/DATABASE_URL and REDIS_KEY_PREFIX are both set/);
  });
});
