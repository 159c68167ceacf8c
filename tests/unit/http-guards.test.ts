import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { acceptsEventStream, acceptsPost, checkOrigin, checkProtocolVersion, hasJsonBody, isValidHost } from '../../src/server/http-guards.js';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const none = { allowedOrigins: [], allowedHosts: [] };

describe('http guards', () => {
  it('POST needs both media types in Accept; GET needs SSE', () => {
    expect(acceptsPost(req({ accept: 'application/json, text/event-stream' }))).toBeUndefined();
    expect(acceptsPost(req({ accept: 'application/json' }))?.status).toBe(406);
    expect(acceptsEventStream(req({ accept: 'text/event-stream' }))).toBeUndefined();
    expect(acceptsEventStream(req({}))?.status).toBe(406);
  });

  it('Content-Type must be JSON, parameters allowed', () => {
    expect(hasJsonBody(req({ 'content-type': 'application/json; charset=utf-8' }))).toBeUndefined();
    expect(hasJsonBody(req({ 'content-type': 'application/jsonx' }))?.status).toBe(415);
    expect(hasJsonBody(req({}))?.status).toBe(415);
  });

  it('accepts any supported protocol version header, or none', () => {
    expect(checkProtocolVersion(req({}))).toBeUndefined();
    expect(checkProtocolVersion(req({ 'mcp-protocol-version': '2025-03-26' }))).toBeUndefined();
    expect(checkProtocolVersion(req({ 'mcp-protocol-version': '2099-01-01' }))?.status).toBe(400);
  });

  it('without configuration: no Origin or a loopback Origin passes, a rebinding page does not', () => {
    expect(checkOrigin(req({ host: 'mcp.example.com' }), none)).toBeUndefined();
    expect(checkOrigin(req({ host: '127.0.0.1:3000', origin: 'http://localhost:6274' }), none)).toBeUndefined();
    expect(checkOrigin(req({ host: 'evil.example.com', origin: 'http://evil.example.com' }), none)?.status).toBe(403);
    expect(checkOrigin(req({ host: 'x', origin: 'not a url' }), none)?.status).toBe(403);
  });

  it('with ALLOWED_ORIGINS / ALLOWED_HOSTS: exactly those', () => {
    const policy = { allowedOrigins: ['https://app.example.com'], allowedHosts: ['mcp.example.com'] };
    expect(checkOrigin(req({ host: 'mcp.example.com', origin: 'https://app.example.com' }), policy)).toBeUndefined();
    expect(checkOrigin(req({ host: 'mcp.example.com:443', origin: 'https://app.example.com' }), policy)).toBeUndefined();
    expect(checkOrigin(req({ host: 'other.example.com' }), policy)?.status).toBe(403);
    expect(checkOrigin(req({ host: 'mcp.example.com', origin: 'https://evil.example.com' }), policy)?.status).toBe(403);
  });

  it('a Host is a host[:port]: names, IP literals and ports pass; spaces, userinfo, paths, bad ports do not', () => {
    for (const host of [
      'localhost',
      'localhost:3000',
      '127.0.0.1:8080',
      '[::1]',
      '[::1]:80',
      'mcp.example.com',
      'mcp-fleet.mcp.svc.cluster.local:3000',
      'MCP.Example.COM.',
    ]) {
      expect(isValidHost(host), host).toBe(true);
    }
    for (const host of ['a b', 'localhost:99999', '127.0.0.1:1@evil', 'a/b', 'a?b', 'a#b', '[', ':', '%', 'host:port']) {
      expect(isValidHost(host), host).toBe(false);
    }
  });
});
