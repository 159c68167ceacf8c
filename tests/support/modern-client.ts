import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Served } from './fleet-client.js';

/**
 * The official SDK client pinned to 2026-07-28 (no session, `_meta` on every request), recording
 * which replica served each request and every resources/updated it hears on a listen stream. It
 * answers sampling, elicitation and roots: the SDK fulfils input_required results and retries.
 */
export class ModernClient {
  readonly served: Served[] = [];
  readonly updates: string[] = [];
  readonly client: Client;
  private readonly recordingFetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

  private constructor(readonly url: string) {
    const served = this.served;
    this.client = new Client(
      { name: 'modern-test', version: '1.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { sampling: {}, elicitation: {}, roots: {} } },
    );
    this.client.setRequestHandler('sampling/createMessage', async (request) => ({
      role: 'assistant',
      model: 'modern-test-model',
      content: { type: 'text', text: `echo: ${(request.params.messages[0]!.content as { text: string }).text}` },
    }));
    this.client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { answer: 'forty-two' } }));
    this.client.setRequestHandler('roots/list', async () => ({ roots: [{ uri: 'file:///work', name: 'work' }] }));
    this.client.setNotificationHandler('notifications/resources/updated', (notification) => {
      this.updates.push(notification.params.uri);
    });
    this.recordingFetch = async (input, init) => {
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined;
      const params = body?.params as { name?: unknown } | undefined;
      const method = `${String(body?.method ?? init?.method ?? 'GET')}${typeof params?.name === 'string' ? ` ${params.name}` : ''}`;
      const response = await fetch(input, init);
      served.push({ method, replica: response.headers.get('x-mcp-replica'), status: response.status });
      return response;
    };
  }

  static async connect(url: string): Promise<ModernClient> {
    const modern = new ModernClient(url);
    await modern.client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: modern.recordingFetch }));
    return modern;
  }

  async tool(name: string, args: Record<string, unknown> = {}): Promise<any> {
    const result = await this.client.callTool({ name, arguments: args });
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
    return JSON.parse((result.content as Array<{ text: string }>)[0]!.text);
  }

  /** Replicas that served the rounds of calls to `tool`, in order. */
  roundsOf(tool: string): Array<string | null> {
    return this.served.filter((s) => s.method === `tools/call ${tool}`).map((s) => s.replica);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
