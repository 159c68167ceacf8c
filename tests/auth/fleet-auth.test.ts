import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../../src/fleet/index.js';
import { freePort } from '../../src/fleet/free-port.js';
import { skipFleet } from '../fleet/available.js';
import { modernRequest, post, postModern, PROTOCOL_VERSION, request, toolJson } from '../support/raw-mcp.js';
import { CLIENTS, IdentityProvider } from './support/identity-provider.js';
import { OAuthMcpClient } from './support/oauth-client.js';
import { bearer, challengeOf, initializeAs, rpcError, toolNames } from './support/wire.js';

/**
 * Three replicas on one Redis behind HAProxy as an OAuth 2.1 resource server of a real OpenID
 * provider, with the SDK client's OAuth support, in both eras: discovery from the 401, step-up
 * from the 403, and principals kept apart on every replica.
 */
let idp: IdentityProvider;
let fleet: Fleet;
const closers: Array<() => Promise<void>> = [];
const OTHER_RESOURCE = 'http://127.0.0.1:1/other-mcp';
const ERAS = ['legacy', 'modern'] as const;

beforeAll(async () => {
  const lbPort = await freePort();
  const resource = `http://127.0.0.1:${lbPort}/mcp`;
  idp = await IdentityProvider.start([resource, OTHER_RESOURCE]);
  fleet = await startFleet({
    replicas: 3,
    lbPort,
    env: {
      LOG_LEVEL: 'warn',
      AUTH_ISSUER: idp.issuer,
      AUTH_RESOURCE_URL: resource,
      AUTH_REQUIRED_SCOPES: 'mcp:use',
      AUTH_TOOL_SCOPES: 'bump=mcp:counters;notify=mcp:admin',
      AUTH_CLOCK_TOLERANCE_SECONDS: '0',
    },
  });
  expect(fleet.url).toBe(resource);
});

afterAll(async () => {
  for (const close of closers) await close().catch(() => {});
  await fleet?.stop();
  await idp?.stop();
});

async function connect(credentials = CLIENTS.alice, era: 'legacy' | 'modern' = 'legacy'): Promise<OAuthMcpClient> {
  const client = await OAuthMcpClient.connect(fleet.url, credentials, idp.issuer, era);
  closers.push(() => client.close());
  return client;
}

const token = (client = CLIENTS.alice, scope = 'mcp:use mcp:counters mcp:admin', resource = fleet.url) => idp.token(client, resource, scope);
const everyUrl = () => [fleet.url, ...fleet.replicas.map((r) => r.url)];

describe.skipIf(skipFleet)('authorization through a three-replica fleet', () => {
  it('answers a request without a token 401 naming the metadata, which every replica serves', async () => {
    const metadataUrl = fleet.url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp');
    for (const url of everyUrl()) {
      const answer = await post(url, request('tools/list'));
      expect(answer.status).toBe(401);
      expect(challengeOf(answer)).toEqual({ resource_metadata: metadataUrl, scope: 'mcp:use' });
      rpcError(answer);
      const metadata = await (await fetch(url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'))).json();
      expect(metadata).toMatchObject({ resource: fleet.url, authorization_servers: [idp.issuer] });
    }
  });

  it.each(ERAS)('lets an SDK client (%s) discover the provider from the 401, get a token and be served by every replica, sampling included', async (era) => {
    const client = await connect(CLIENTS.alice, era);
    expect(client.client.getProtocolEra()).toBe(era);
    expect(client.served[0]!.status).toBe(401);
    const replicas = new Set<string | null>();
    for (let i = 0; i < 6; i++) replicas.add((await client.tool('whoami')).replica);
    expect(replicas).toEqual(new Set(fleet.replicas.map((r) => r.name)));
    if (era === 'legacy') expect(client.transport.sessionId).toBeDefined();
    // A multi round-trip call: its requestState, bound to the principal, verifies across rounds.
    expect(await client.tool('sample', { prompt: 'hello' })).toMatchObject({ answer: 'ok', model: 'oauth-test' });
  });

  it.each(ERAS)('steps up (%s): a 403 insufficient_scope for bump makes the client ask for mcp:counters too, and the call succeeds', async (era) => {
    const client = await connect(CLIENTS.alice, era);
    expect(await client.toolNames()).not.toContain('bump');
    expect(await client.tool('bump', { name: `step-up-${era}` })).toMatchObject({ value: 1 });
    const calls = client.served.filter((s) => s.method === 'tools/call bump');
    expect(calls.map((c) => c.status)).toEqual([403, 200]);
    // A 2026-07-28 client may keep its tools/list for the result's ttlMs; a 2025 one asks again.
    if (era === 'legacy') expect(await client.toolNames()).toContain('bump');
  });

  it.each(ERAS)('refuses (%s) a client whose provider will not grant the scope: it never sees or calls the tool', async (era) => {
    const client = await connect(CLIENTS.limited, era);
    expect(await client.tool('bump', { name: `limited-${era}` })).toMatchObject({ value: 1 });
    expect(await client.toolNames()).not.toContain('notify');
    await expect(client.tool('notify', { message: 'x' })).rejects.toThrow(/requested scope is not allowed/);
    expect(client.served.filter((s) => s.method === 'tools/call notify').map((s) => s.status)).toEqual([403]);
  });

  it('refuses a token for another audience, an expired one and a forged signature 401 on every replica', async () => {
    const brief = await token(CLIENTS.brief);
    const good = await token();
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const flipped = `${header}.${payload}.${signature.slice(0, -4)}${signature.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    const wrongAudience = await token(CLIENTS.alice, 'mcp:use', OTHER_RESOURCE);
    await new Promise((resolve) => setTimeout(resolve, decodeJwt(brief).exp! * 1000 - Date.now() + 1100));
    for (const [bad, reason] of [
      [wrongAudience, /not issued for this resource/],
      [brief, /expired/],
      [flipped, /signature/],
    ] as const) {
      for (const url of everyUrl()) {
        for (const answer of [await post(url, request('ping'), undefined, bearer(bad)), await postModern(url, modernRequest('tools/list'), bearer(bad))]) {
          expect(answer.status).toBe(401);
          expect(challengeOf(answer)).toMatchObject({ error: 'invalid_token', error_description: expect.stringMatching(reason) });
          rpcError(answer);
        }
      }
    }
    expect((await postModern(fleet.url, modernRequest('tools/list'), bearer(good))).status).toBe(200);
  });

  it("answers another principal's session id 404, as an unknown one, on every replica and for every verb", async () => {
    const [alice, bob] = [await token(CLIENTS.alice), await token(CLIENTS.bob)];
    const sessionId = await initializeAs(fleet.url, alice);
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const url of fleet.replicas.map((r) => r.url)) {
      for (const id of [sessionId, unknown]) {
        const call = await post(url, request('tools/call', { name: 'whoami', arguments: {} }), id, bearer(bob));
        expect(call.status).toBe(404);
        expect(rpcError(call)).toEqual({ code: -32001, message: 'Session not found' });
        const stream = await fetch(url, {
          headers: { Accept: 'text/event-stream', 'Mcp-Session-Id': id, 'MCP-Protocol-Version': PROTOCOL_VERSION, ...bearer(bob) },
        });
        expect(stream.status).toBe(404);
        expect(await stream.json()).toMatchObject({ error: { code: -32001 } });
        const deleted = await fetch(url, { method: 'DELETE', headers: { 'Mcp-Session-Id': id, 'MCP-Protocol-Version': PROTOCOL_VERSION, ...bearer(bob) } });
        expect(deleted.status).toBe(404);
      }
      // A's session is untouched, and still A's on this replica.
      const own = await post(url, request('tools/call', { name: 'whoami', arguments: {} }), sessionId, bearer(alice));
      expect(own.status).toBe(200);
      expect(toolJson(own)).toMatchObject({ sessionId });
    }
    // Another token of the same principal (say, after a refresh) keeps the session.
    expect((await post(fleet.url, request('ping'), sessionId, bearer(await token(CLIENTS.alice, 'mcp:use')))).status).toBe(200);
  });

  it("refuses a requestState minted for one principal in another principal's retry, on any replica", async () => {
    const [alice, bob] = [await token(CLIENTS.alice), await token(CLIENTS.bob)];
    const replica = (i: number) => fleet.replicas[i]!.url;
    const call = (extra: Record<string, unknown> = {}) =>
      modernRequest('tools/call', { name: 'sample', arguments: { prompt: 'p' }, ...extra }, { sampling: {} });
    const first = (await postModern(replica(0), call(), bearer(alice))).messages[0]!.result;
    expect(first).toMatchObject({ resultType: 'input_required' });
    const answer = { role: 'assistant', model: 'raw', content: { type: 'text', text: 'forty-two' } };
    const retry = call({ inputResponses: { sample: answer }, requestState: first.requestState });
    for (const i of [1, 2]) {
      const refused = (await postModern(replica(i), retry, bearer(bob))).messages[0]!;
      expect(refused.error).toMatchObject({ code: -32602, message: 'Invalid or expired requestState' });
    }
    expect(toolJson(await postModern(replica(2), retry, bearer(alice)))).toMatchObject({ answer: 'forty-two' });
  });

  it('lists tools by scope in both eras, and answers tools/call of a tool without its scope 403 through the balancer', async () => {
    const narrow = await token(CLIENTS.alice, 'mcp:use');
    const sessionId = await initializeAs(fleet.url, narrow);
    const legacy = toolNames(await post(fleet.url, request('tools/list'), sessionId, bearer(narrow)));
    const modern = toolNames(await postModern(fleet.url, modernRequest('tools/list'), bearer(narrow)));
    expect(legacy).toEqual(modern);
    expect(modern).toContain('whoami');
    expect(modern).not.toContain('bump');
    expect(modern).not.toContain('notify');
    const refused = await postModern(fleet.url, modernRequest('tools/call', { name: 'bump', arguments: { name: 'n' } }), bearer(narrow));
    expect(refused.status).toBe(403);
    expect(challengeOf(refused)).toMatchObject({ error: 'insufficient_scope', scope: 'mcp:use mcp:counters' });
  });
});
