import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverJwksUrl, metadataUrls } from '../../src/auth/issuer-metadata.js';
import { canonicalResource } from '../../src/auth/jwt-verifier.js';
import { calledTools, ScopePolicy } from '../../src/auth/scopes.js';
import { bearerChallenge } from '../../src/auth/challenge.js';

describe('issuer metadata discovery', () => {
  let server: http.Server;
  let origin: string;
  const documents = new Map<string, unknown>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const document = documents.get(req.url ?? '');
      res.writeHead(document === undefined ? 404 : 200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(document ?? { error: 'not found' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('tries the locations in the order MCP clients do', () => {
    expect(metadataUrls('https://auth.test')).toEqual([
      'https://auth.test/.well-known/oauth-authorization-server',
      'https://auth.test/.well-known/openid-configuration',
    ]);
    expect(metadataUrls('https://auth.test/tenant1/')).toEqual([
      'https://auth.test/.well-known/oauth-authorization-server/tenant1',
      'https://auth.test/.well-known/openid-configuration/tenant1',
      'https://auth.test/tenant1/.well-known/openid-configuration',
    ]);
  });

  it('takes jwks_uri from the first document found, and refuses one naming another issuer', async () => {
    documents.set('/tenant/.well-known/openid-configuration', { issuer: `${origin}/tenant`, jwks_uri: `${origin}/keys` });
    expect(await discoverJwksUrl(`${origin}/tenant`, 10_000)).toBe(`${origin}/keys`);
    documents.set('/.well-known/oauth-authorization-server/evil', { issuer: 'https://honest.test', jwks_uri: `${origin}/keys` });
    await expect(discoverJwksUrl(`${origin}/evil`, 10_000)).rejects.toThrow(/names issuer "https:\/\/honest.test"/);
    await expect(discoverJwksUrl(`${origin}/none`, 10_000)).rejects.toThrow(/no metadata document/);
  });
});

describe('audience comparison', () => {
  it('ignores a fragment, one trailing slash and the case of scheme and host, nothing else', () => {
    const mine = canonicalResource('https://mcp.test/mcp');
    for (const same of ['https://mcp.test/mcp/', 'HTTPS://MCP.TEST/mcp', 'https://mcp.test/mcp#x']) expect(canonicalResource(same)).toBe(mine);
    for (const other of ['https://mcp.test/MCP', 'https://mcp.test/mcp/x', 'https://mcp.test:8443/mcp', 'http://mcp.test/mcp'])
      expect(canonicalResource(other)).not.toBe(mine);
    expect(canonicalResource('my-api')).toBe('my-api');
  });
});

describe('scopes', () => {
  const policy = new ScopePolicy(
    ['mcp:use'],
    new Map([
      ['bump', ['mcp:counters']],
      ['notify', ['mcp:admin', 'mcp:counters']],
    ]),
  );

  it('finds every tools/call in a message or a batch', () => {
    expect(calledTools({ method: 'tools/call', params: { name: 'bump' } })).toEqual(['bump']);
    expect(calledTools([{ method: 'tools/list' }, { method: 'tools/call', params: { name: 'a' } }, { method: 'tools/call', params: { name: 'b' } }])).toEqual([
      'a',
      'b',
    ]);
    expect(calledTools({ method: 'tools/call', params: { name: 7 } })).toEqual([]);
    expect(calledTools(undefined)).toEqual([]);
  });

  it('needs every scope of every called tool, once, required first', () => {
    expect(policy.neededFor(['bump', 'notify'])).toEqual(['mcp:use', 'mcp:counters', 'mcp:admin']);
    expect(policy.allowsTool('notify', ['mcp:admin'])).toBe(false);
    expect(policy.allowsTool('notify', ['mcp:counters', 'mcp:admin'])).toBe(true);
    expect(policy.allowsTool('whoami', [])).toBe(true);
  });

  it('quotes challenge parameters so that no value can break the header', () => {
    expect(bearerChallenge({ error: 'invalid_token', description: 'bad "x" \\ y\r\nz', scopes: ['a', 'b'], resourceMetadataUrl: 'https://mcp.test/m' })).toBe(
      'Bearer error="invalid_token", error_description="bad \\"x\\" \\\\ y  z", scope="a b", resource_metadata="https://mcp.test/m"',
    );
  });
});
