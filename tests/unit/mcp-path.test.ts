import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { mcpPathMatcher } from '../../src/server/mcp-path.js';

/** Whether Express 5 routes a request for `url` to `app.all(path)`. */
function expressRoutes(path: string, url: string): Promise<boolean> {
  const router = express.Router();
  return new Promise((resolve) => {
    router.all(path, () => resolve(true));
    const req = { url, method: 'POST', headers: {} } as IncomingMessage;
    router(req as express.Request, {} as ServerResponse as express.Response, () => resolve(false));
  });
}

const URLS = [
  '/mcp',
  '/MCP',
  '/Mcp/',
  '/mcp/',
  '/mcp//',
  '/mcp/x',
  '/mcpx',
  '/mc',
  '/',
  '',
  '/mcp?x=1',
  '/mcp/?a=/b',
  '/mcp?',
  '/x?/mcp',
  '/api/mcp',
  '/API/MCP/',
  '/api/mcp/x',
  '/api.mcp',
  '/apixmcp',
  '/a/../mcp',
  '/%6Dcp',
  '/mcp%2F',
  '//mcp',
];

describe('the MCP path matcher', () => {
  it('matches /mcp as Express does: path before ?, any case, an optional trailing slash, nothing below', () => {
    const isMcp = mcpPathMatcher('/mcp');
    expect(isMcp('/mcp')).toBe(true);
    expect(isMcp('/MCP')).toBe(true);
    expect(isMcp('/mcp/')).toBe(true);
    expect(isMcp('/mcp?session=1')).toBe(true);
    expect(isMcp('/mcp/?a=b')).toBe(true);
    expect(isMcp('/mcp/x')).toBe(false);
    expect(isMcp('/mcpx')).toBe(false);
    expect(isMcp('/mcp//')).toBe(false);
    expect(isMcp('/healthz')).toBe(false);
    expect(isMcp('/x?/mcp')).toBe(false);
  });

  it('is compared with what the router does', async () => {
    expect(await expressRoutes('/mcp', '/MCP/?x')).toBe(true);
    expect(await expressRoutes('/mcp', '/mcp/x')).toBe(false);
  });

  it('leaves to Express the targets only its router can read: absolute-form, a fragment, route syntax in the path', () => {
    expect(mcpPathMatcher('/mcp')('http://example.com/mcp')).toBeUndefined();
    expect(mcpPathMatcher('/mcp')('*')).toBeUndefined();
    expect(mcpPathMatcher('/mcp')('/mcp#x')).toBeUndefined();
    expect(mcpPathMatcher('/mcp')(undefined)).toBeUndefined();
    expect(mcpPathMatcher('/:tenant/mcp')('/a/mcp')).toBeUndefined();
  });

  for (const path of ['/mcp', '/mcp/', '/api/mcp', '/api.mcp', '/', '/a$b|c^']) {
    it(`decides as Express's router does for app.all(${JSON.stringify(path)})`, async () => {
      const isMcp = mcpPathMatcher(path);
      for (const url of [...URLS, '/a$b|c^', '/A$B|C^/', '/a$b|c^x']) {
        const verdict = isMcp(url);
        if (verdict !== undefined) expect(verdict, url).toBe(await expressRoutes(path, url));
      }
    });
  }
});
