import type { RedisSettings } from '../../src/config.js';

export function redisSettings(url: string, overrides: Partial<RedisSettings> = {}): RedisSettings {
  return {
    url,
    sentinels: [],
    sentinelName: undefined,
    clusterNodes: [],
    username: undefined,
    password: undefined,
    tls: false,
    keyPrefix: `test-${Math.random().toString(36).slice(2, 8)}:`,
    commandTimeoutMs: 1000,
    connectTimeoutMs: 1000,
    ...overrides,
  };
}
