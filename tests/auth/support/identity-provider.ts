import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { errors } from 'oidc-provider';

export const SCOPES = ['mcp:use', 'mcp:counters', 'mcp:admin'] as const;

export interface TestClient {
  id: string;
  secret: string;
  /** Scopes this client may be granted. */
  scope: string;
  /** Access token lifetime in seconds. */
  ttlSeconds?: number;
}

/** Machine clients of the test provider: two ordinary principals, one without mcp:admin, a short-lived one. */
export const CLIENTS = {
  alice: { id: 'alice', secret: 'alice-secret-0123456789', scope: SCOPES.join(' ') },
  bob: { id: 'bob', secret: 'bob-secret-0123456789', scope: SCOPES.join(' ') },
  limited: { id: 'limited', secret: 'limited-secret-0123456789', scope: 'mcp:use mcp:counters' },
  brief: { id: 'brief', secret: 'brief-secret-0123456789', scope: SCOPES.join(' '), ttlSeconds: 3 },
} satisfies Record<string, TestClient>;

/**
 * A real OpenID provider (oidc-provider) on a free loopback port, issuing client-credentials
 * access tokens as JWTs (RFC 9068) for the resource indicators it is told about (RFC 8707).
 */
export class IdentityProvider {
  private constructor(
    readonly issuer: string,
    private readonly server: http.Server,
  ) {}

  static async start(resources: string[]): Promise<IdentityProvider> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const signingKey = {
      ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
      kid: 'test-key',
      alg: 'RS256',
      use: 'sig',
    };
    const known = new Set(resources);
    const clients = Object.values(CLIENTS) as TestClient[];
    const provider = new Provider(issuer, {
      clients: clients.map((c) => ({
        client_id: c.id,
        client_secret: c.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: c.scope,
        token_endpoint_auth_method: 'client_secret_basic',
      })),
      scopes: [...SCOPES],
      ttl: { ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300 },
      jwks: { keys: [signingKey] },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => undefined,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resource, client) => {
            if (!known.has(resource)) throw new errors.InvalidTarget(`unknown resource ${resource}`);
            return {
              scope: SCOPES.join(' '),
              audience: resource,
              accessTokenFormat: 'jwt',
              accessTokenTTL: clients.find((c) => c.id === client.clientId)?.ttlSeconds ?? 300,
              jwt: { sign: { alg: 'RS256' } },
            };
          },
        },
      },
    });
    server.on('request', provider.callback());
    return new IdentityProvider(issuer, server);
  }

  get tokenEndpoint(): string {
    return `${this.issuer}/token`;
  }

  /** A client-credentials token for `resource`, as a client would get it. */
  async token(client: TestClient, resource: string, scope?: string): Promise<string> {
    const response = await fetch(this.tokenEndpoint, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, ...(scope !== undefined && { scope }) }),
    });
    const body = (await response.json()) as { access_token?: string };
    if (!response.ok || body.access_token === undefined) throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
