import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const ON = { AUTH_ISSUER: 'https://idp.test', AUTH_RESOURCE_URL: 'https://mcp.test/mcp' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('authorization settings', () => {
  it('are off unless AUTH_ISSUER is set, in memory mode and on Redis', () => {
    expect(loadConfig({}).auth).toBeUndefined();
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REQUEST_STATE_KEYS: 'k'.repeat(32) }).auth).toBeUndefined();
  });

  it('read the issuer, resource, audiences, scopes and per-tool scopes', () => {
    const auth = loadConfig({ ...ON, AUTH_REQUIRED_SCOPES: 'mcp:use, mcp:read', AUTH_TOOL_SCOPES: 'bump = mcp:write mcp:counters ; notify=mcp:admin' }).auth!;
    expect(auth).toMatchObject({
      issuer: 'https://idp.test',
      resourceUrl: 'https://mcp.test/mcp',
      audiences: ['https://mcp.test/mcp'],
      jwksUrl: undefined,
      requiredScopes: ['mcp:use', 'mcp:read'],
      clockToleranceSeconds: 5,
      fetchTimeoutMs: 3000,
    });
    expect([...auth.toolScopes]).toEqual([
      ['bump', ['mcp:write', 'mcp:counters']],
      ['notify', ['mcp:admin']],
    ]);
    expect(loadConfig({ ...ON, AUTH_AUDIENCE: 'api://mcp, https://mcp.test/mcp' }).auth!.audiences).toEqual(['api://mcp', 'https://mcp.test/mcp']);
  });

  it('refuse a partial or unsafe configuration at start', () => {
    expect(problemsOf({ AUTH_RESOURCE_URL: 'https://mcp.test/mcp' })).toEqual([expect.stringMatching(/set without AUTH_ISSUER/)]);
    expect(problemsOf({ AUTH_ISSUER: 'https://idp.test' })).toEqual([expect.stringMatching(/AUTH_RESOURCE_URL is required/)]);
    expect(problemsOf({ ...ON, AUTH_ISSUER: 'http://idp.test' })).toEqual([expect.stringMatching(/AUTH_ISSUER must use https/)]);
    expect(problemsOf({ ...ON, AUTH_JWKS_URL: 'http://keys.test/jwks' })).toEqual([expect.stringMatching(/AUTH_JWKS_URL must use https/)]);
    expect(problemsOf({ ...ON, AUTH_ISSUER: 'https://idp.test/?tenant=1' })).toEqual([expect.stringMatching(/query or fragment/)]);
    expect(problemsOf({ ...ON, AUTH_RESOURCE_URL: 'https://mcp.test/mcp#x' })).toEqual([expect.stringMatching(/fragment/)]);
    expect(problemsOf({ ...ON, AUTH_TOOL_SCOPES: 'bump' })).toEqual([expect.stringMatching(/not tool=scope/)]);
    expect(problemsOf({ ...ON, AUTH_TOOL_SCOPES: 'bump=a;bump=b' })).toEqual([expect.stringMatching(/twice/)]);
    expect(problemsOf({ ...ON, AUTH_TOOL_SCOPES: 'bump=a"b' })).toEqual([expect.stringMatching(/not a valid scope/)]);
    expect(problemsOf({ ...ON, AUTH_CLOCK_TOLERANCE_SECONDS: '3600' })).toEqual([expect.stringMatching(/out of range/)]);
  });

  it('allow http only for a loopback issuer', () => {
    expect(loadConfig({ AUTH_ISSUER: 'http://127.0.0.1:4000', AUTH_RESOURCE_URL: 'http://127.0.0.1:3000/mcp' }).auth!.issuer).toBe('http://127.0.0.1:4000');
    expect(loadConfig({ AUTH_ISSUER: 'http://localhost:4000/realms/x', AUTH_RESOURCE_URL: 'http://localhost:3000/mcp' }).auth!.issuer).toBe(
      'http://localhost:4000/realms/x',
    );
  });
});
