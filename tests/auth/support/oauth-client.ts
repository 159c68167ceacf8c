import { Client, ClientCredentialsProvider, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Served } from '../../support/fleet-client.js';
import type { TestClient } from './identity-provider.js';

/**
 * The SDK client with its client-credentials OAuth provider, pointed at one URL: it meets the 401,
 * discovers the metadata, gets a token from the provider and retries, as any machine client would.
 * Records the status and replica of every request to the MCP endpoint.
 */
export class OAuthMcpClient {
  readonly served: Served[] = [];
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;

  private constructor(url: string, credentials: TestClient, issuer: string, era: 'legacy' | 'modern') {
    const served = this.served;
    const mcpUrl = new URL(url).href;
    const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const response = await fetch(input, init);
      const target = input instanceof Request ? input.url : String(input);
      if (target === mcpUrl) {
        const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { method?: string; params?: { name?: string } }) : undefined;
        const method = body ? `${body.method ?? 'response'}${body.params?.name ? ` ${body.params.name}` : ''}` : (init?.method ?? 'GET');
        served.push({ method, replica: response.headers.get('x-mcp-replica'), status: response.status });
      }
      return response;
    };
    const authProvider = new ClientCredentialsProvider({ clientId: credentials.id, clientSecret: credentials.secret, expectedIssuer: issuer });
    this.transport = new StreamableHTTPClientTransport(new URL(url), { authProvider, fetch: recordingFetch });
    this.client = new Client(
      { name: `oauth-${credentials.id}`, version: '1.0.0' },
      { capabilities: { sampling: {} }, ...(era === 'modern' && { versionNegotiation: { mode: { pin: '2026-07-28' } } }) },
    );
    this.client.setRequestHandler('sampling/createMessage', async () => ({ role: 'assistant', model: 'oauth-test', content: { type: 'text', text: 'ok' } }));
  }

  static async connect(url: string, credentials: TestClient, issuer: string, era: 'legacy' | 'modern'): Promise<OAuthMcpClient> {
    const client = new OAuthMcpClient(url, credentials, issuer, era);
    await client.client.connect(client.transport);
    return client;
  }

  async tool(name: string, args: Record<string, unknown> = {}): Promise<any> {
    const result = await this.client.callTool({ name, arguments: args });
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
    return JSON.parse((result.content as Array<{ text: string }>)[0]!.text);
  }

  async toolNames(): Promise<string[]> {
    return (await this.client.listTools()).tools.map((t) => t.name);
  }

  async close(): Promise<void> {
    await this.transport.terminateSession().catch(() => {});
    await this.client.close();
  }
}
