import { describe, expect, it } from 'vitest';
import { settingNames } from '../../src/config.js';
import { editDistance, unknownSettings } from '../../src/run/unknown-settings.js';

describe('unknown settings', () => {
  const known = settingNames();

  it('knows every setting the configuration reads, authorization and Redis included', () => {
    for (const name of ['PORT', 'METRICS_PORT', 'REDIS_URL', 'REQUEST_STATE_KEYS', 'SESSION_TTL_SECONDS', 'AUTH_FETCH_TIMEOUT_MS', 'MCP_WORKLOAD']) {
      expect(known).toContain(name);
    }
  });

  it('names a misspelt setting and the known one closest to it', () => {
    const env = { REDIS_ULR: 'redis://x', REQUEST_STATE_KEY: 'k', SESION_TTL_SECONDS: '5', REDIS_URL: 'redis://y' };
    expect(unknownSettings(env, known)).toEqual([
      { name: 'REDIS_ULR', closest: 'REDIS_URL' },
      { name: 'REQUEST_STATE_KEY', closest: 'REQUEST_STATE_KEYS' },
      { name: 'SESION_TTL_SECONDS', closest: 'SESSION_TTL_SECONDS' },
    ]);
  });

  it('leaves the rest of an environment alone', () => {
    const env = { PATH: '/bin', HOME: '/root', TERM: 'xterm', PWD: '/', HOSTNAME: 'h', NODE_ENV: 'production', npm_config_cache: 'x', SHLVL: '1' };
    expect(unknownSettings(env, known)).toEqual([]);
  });

  it('counts a swap of two neighbours as one edit', () => {
    expect(editDistance('ULR', 'URL')).toBe(1);
    expect(editDistance('REDIS_ULR', 'REDIS_TLS')).toBe(2);
  });
});
