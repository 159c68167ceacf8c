import { generateKeyPairSync } from 'node:crypto';
import net from 'node:net';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/fleet/free-port.js';
import { setLogLevel } from '../../src/log.js';
import { MODERN_PROTOCOL_VERSION, modernRequest, post, POST_HEADERS, postModern, PROTOCOL_VERSION, request } from '../support/raw-mcp.js';
import { startAuthServer, type AuthServer } from './support/auth-server.js';
import { CLIENTS, IdentityProvider } from './support/identity-provider.js';
import { bearer, challengeOf, initializeAs, rpcError, toolNames } from './support/wire.js';

/**
 * One replica (memory mode) as an OAuth resource server in front of a real OpenID provider: what
 * it publishes, what it accepts, and every refusal's status, challenge and JSON-RPC body.
 */
let idp: IdentityProvider;
let rs: AuthServer;
const stops: Array<() => Promise<unknown>> = [];
const OTHER_RESOURCE = 'http://127.0.0.1:1/other-mcp';

beforeAll(async () => {
  setLogLevel('error');
  const port = await freePort();
  idp = await IdentityProvider.start([`http://127.0.0.1:${port}/mcp`, OTHER_RESOURCE]);
  stops.push(() => idp.stop());
  rs = await startAuthServer(
    {
      AUTH_ISSUER: idp.issuer,
      AUTH_REQUIRED_SCOPES: 'mcp:use',
      AUTH_TOOL_SCOPES: 'bump=mcp:counters;notify=mcp:admin mcp:counters',
      AUTH_CLOCK_TOLERANCE_SECONDS: '0',
    },
    port,
  );
  stops.push(() => rs.server.shutdown());
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {});
});

const token = (client = CLIENTS.alice, scope = 'mcp:use mcp:counters mcp:admin', resource = rs.url) => idp.token(client, resource, scope);
const metadataUrl = () => `${rs.origin}/.well-known/oauth-protected-resource/mcp`;

describe('protected resource metadata (RFC 9728)', () => {
  it('names the resource and its authorization server at the root and the path-suffixed well-known URL', async () => {
    for (const url of [metadataUrl(), `${rs.origin}/.well-known/oauth-protected-resource`]) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      expect(await response.json()).toEqual({
        resource: rs.url,
        authorization_servers: [idp.issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp:use'],
        resource_name: 'mcp-fleet',
      });
    }
  });

  it('refuses other methods with a JSON-RPC body', async () => {
    const answer = await post(metadataUrl(), {});
    expect(answer.status).toBe(405);
    expect(rpcError(answer).message).toMatch(/GET/);
  });
});

describe('the bearer token check', () => {
  it('answers a request without a token 401 with the metadata URL and the required scope, no error code', async () => {
    for (const answer of [await post(rs.url, request('tools/list')), await post(rs.url, request('ping'), undefined, { Authorization: 'Basic YTpi' })]) {
      expect(answer.status).toBe(401);
      expect(challengeOf(answer)).toEqual({ resource_metadata: metadataUrl(), scope: 'mcp:use' });
      expect(rpcError(answer).message).toMatch(/^Unauthorized/);
    }
  });

  it('answers a malformed Authorization header 400 invalid_request', async () => {
    const answer = await post(rs.url, request('ping'), undefined, { Authorization: 'Bearer' });
    expect(answer.status).toBe(400);
    expect(challengeOf(answer)).toMatchObject({ error: 'invalid_request', resource_metadata: metadataUrl() });
    rpcError(answer);
  });

  it('accepts a token issued for this resource, in both eras', async () => {
    const alice = await token();
    const sessionId = await initializeAs(rs.url, alice);
    const legacy = await post(rs.url, request('tools/list'), sessionId, bearer(alice));
    expect(legacy.status).toBe(200);
    const modern = await postModern(rs.url, modernRequest('tools/list'), bearer(alice));
    expect(modern.status).toBe(200);
    expect(toolNames(modern)).toEqual(toolNames(legacy));
  });

  it('refuses a token for another audience, a tampered one, one signed with another key and garbage: 401 invalid_token', async () => {
    const good = await token();
    const [header, , signature] = good.split('.') as [string, string, string];
    const claims = decodeJwt(good);
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'bob' })).toString('base64url');
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const selfSigned = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'at+jwt' }).sign(otherKey);
    const cases: Array<[string, string, RegExp]> = [
      ['another audience', await token(CLIENTS.alice, 'mcp:use', OTHER_RESOURCE), /not issued for this resource/],
      ['a tampered payload', `${header}.${forged}.${signature}`, /signature/],
      ['another key', selfSigned, /signature/],
      ['not a JWT', 'abc.def', /Invalid/i],
    ];
    for (const [what, bad, reason] of cases) {
      for (const answer of [await post(rs.url, request('ping'), undefined, bearer(bad)), await postModern(rs.url, modernRequest('tools/list'), bearer(bad))]) {
        expect(answer.status, what).toBe(401);
        const challenge = challengeOf(answer);
        expect(challenge, what).toMatchObject({ error: 'invalid_token', resource_metadata: metadataUrl() });
        expect(challenge.error_description, what).toMatch(reason);
        expect(rpcError(answer).message).toMatch(/^Unauthorized/);
      }
    }
  });

  it('refuses an expired token 401 invalid_token', async () => {
    const brief = await token(CLIENTS.brief);
    const exp = decodeJwt(brief).exp!;
    expect((await postModern(rs.url, modernRequest('tools/list'), bearer(brief))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 1100));
    const answer = await postModern(rs.url, modernRequest('tools/list'), bearer(brief));
    expect(answer.status).toBe(401);
    expect(challengeOf(answer)).toMatchObject({ error: 'invalid_token', error_description: 'the token has expired' });
  });

  it('answers a token without the required scope 403 insufficient_scope naming it', async () => {
    const answer = await postModern(rs.url, modernRequest('tools/list'), bearer(await token(CLIENTS.alice, 'mcp:counters')));
    expect(answer.status).toBe(403);
    expect(challengeOf(answer)).toMatchObject({ error: 'insufficient_scope', scope: 'mcp:use', resource_metadata: metadataUrl() });
    expect(rpcError(answer).message).toMatch(/^Forbidden/);
  });
});

describe('per-tool scopes', () => {
  it('refuses tools/call of a tool without its scopes 403, naming every scope the call needs, in both eras', async () => {
    const limited = await token(CLIENTS.limited, 'mcp:use');
    const sessionId = await initializeAs(rs.url, limited);
    const answers = [
      await post(rs.url, request('tools/call', { name: 'bump', arguments: { name: 'x' } }), sessionId, bearer(limited)),
      await postModern(rs.url, modernRequest('tools/call', { name: 'bump', arguments: { name: 'x' } }), bearer(limited)),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(403);
      expect(challengeOf(answer)).toMatchObject({ error: 'insufficient_scope', scope: 'mcp:use mcp:counters', resource_metadata: metadataUrl() });
      expect(rpcError(answer).message).toMatch(/bump/);
      expect(answer.messages[0]!.id).not.toBeNull();
    }
    const both = await postModern(
      rs.url,
      modernRequest('tools/call', { name: 'notify', arguments: { message: 'm' } }),
      bearer(await token(CLIENTS.alice, 'mcp:use')),
    );
    expect(challengeOf(both).scope).toBe('mcp:use mcp:admin mcp:counters');
  });

  it('lists only the tools the token may call, in both eras, and calls them', async () => {
    const narrow = await token(CLIENTS.alice, 'mcp:use');
    const wide = await token(CLIENTS.alice, 'mcp:use mcp:counters mcp:admin');
    const all = toolNames(await postModern(rs.url, modernRequest('tools/list'), bearer(wide)));
    expect(all).toEqual(expect.arrayContaining(['whoami', 'bump', 'notify']));
    const modern = await postModern(rs.url, modernRequest('tools/list'), bearer(narrow));
    expect(toolNames(modern)).toEqual(all.filter((t) => t !== 'bump' && t !== 'notify'));
    expect(modern.messages[0]!.result).toMatchObject({ cacheScope: 'private' });
    const sessionId = await initializeAs(rs.url, narrow);
    const legacy = await post(rs.url, request('tools/list'), sessionId, bearer(narrow));
    expect(toolNames(legacy)).toEqual(toolNames(modern));
    expect(legacy.messages[0]!.result).not.toHaveProperty('cacheScope');
    // The same principal with a wider token (step-up) sees and calls more in the same session.
    expect(toolNames(await post(rs.url, request('tools/list'), sessionId, bearer(wide)))).toEqual(all);
    const bumped = await post(rs.url, request('tools/call', { name: 'bump', arguments: { name: 'scoped' } }), sessionId, bearer(wide));
    expect(bumped.status).toBe(200);
    expect(bumped.messages[0]!.result.isError).toBeFalsy();
  });
});

describe('streams that outlive requests', () => {
  /** Opens a stream and resolves when the server ends it (or after 15 s). */
  async function ended(response: Response): Promise<boolean> {
    expect(response.status).toBe(200);
    const done = response.text().then(
      () => true,
      () => true,
    );
    return Promise.race([done, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 15_000))]);
  }

  it('end when the token expires: a 2025 GET stream and a 2026-07-28 listen stream', async () => {
    const brief = await token(CLIENTS.brief);
    const sessionId = await initializeAs(rs.url, brief);
    const get = fetch(rs.url, {
      headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': sessionId, 'MCP-Protocol-Version': PROTOCOL_VERSION, ...bearer(brief) },
    });
    const listen = fetch(rs.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'MCP-Protocol-Version': MODERN_PROTOCOL_VERSION, 'Mcp-Method': 'subscriptions/listen', ...bearer(brief) },
      body: JSON.stringify(modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } })),
    });
    expect(await ended(await get)).toBe(true);
    expect(await ended(await listen)).toBe(true);
  });

  it('stay open while the token is good', async () => {
    const controller = new AbortController();
    const response = await fetch(rs.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'MCP-Protocol-Version': MODERN_PROTOCOL_VERSION, 'Mcp-Method': 'subscriptions/listen', ...bearer(await token()) },
      body: JSON.stringify(modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } })),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const done = response.text().then(
      () => 'ended',
      () => 'aborted',
    );
    const outcome = await Promise.race([done, new Promise((resolve) => setTimeout(() => resolve('open'), 2500))]);
    controller.abort();
    expect(outcome).toBe('open');
  });
});

describe('when the issuer cannot be reached', () => {
  it('answers 503 with the reason, bounded by the fetch timeout, for a key set that never answers or refuses', async () => {
    const held: net.Socket[] = [];
    const silent = net.createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    stops.push(() => {
      for (const socket of held) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const silentPort = (silent.address() as net.AddressInfo).port;
    const refusedPort = await freePort();
    const alice = await token();
    for (const [jwks, reason] of [
      [`http://127.0.0.1:${silentPort}/jwks`, /key set could not be fetched \(timed out\)/],
      [`http://127.0.0.1:${refusedPort}/jwks`, /key set could not be fetched .*ECONNREFUSED/],
    ] as const) {
      const cut = await startAuthServer({ AUTH_RESOURCE_URL: rs.url, AUTH_ISSUER: idp.issuer, AUTH_JWKS_URL: jwks, AUTH_FETCH_TIMEOUT_MS: '300' });
      stops.push(() => cut.server.shutdown());
      const answer = await postModern(cut.url, modernRequest('tools/list'), bearer(alice));
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(rpcError(answer).message).toMatch(reason);
    }
  });

  it("answers 503 when the issuer's metadata cannot be fetched", async () => {
    const deadIssuer = `http://127.0.0.1:${await freePort()}`;
    const cut = await startAuthServer({ AUTH_RESOURCE_URL: rs.url, AUTH_ISSUER: deadIssuer, AUTH_FETCH_TIMEOUT_MS: '300' });
    stops.push(() => cut.server.shutdown());
    const answer = await postModern(cut.url, modernRequest('tools/list'), bearer(await token()));
    expect(answer.status).toBe(503);
    expect(rpcError(answer).message).toMatch(/issuer's metadata could not be fetched/);
  });
});
