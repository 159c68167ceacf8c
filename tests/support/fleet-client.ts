import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

export interface Served {
  method: string;
  replica: string | null;
  status: number;
}

export interface Notified {
  message: string;
  index: number;
  replica: string;
}

/**
 * The official SDK client pointed at one URL (the load balancer), recording which replica served
 * each request (X-MCP-Replica) and every notification it receives. It answers sampling and
 * elicitation, and reconnects its GET stream with Last-Event-ID as the SDK does.
 */
export class FleetClient {
  readonly served: Served[] = [];
  readonly notifications: Notified[] = [];
  readonly updates: string[] = [];
  readonly errors: Error[] = [];
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;

  constructor(url: string) {
    const served = this.served;
    const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : undefined;
      const method = (init?.method ?? 'GET') === 'POST' ? String(body?.method ?? 'response') : (init?.method ?? 'GET');
      const response = await fetch(input, init);
      served.push({ method, replica: response.headers.get('x-mcp-replica'), status: response.status });
      return response;
    };
    this.transport = new StreamableHTTPClientTransport(new URL(url), {
      fetch: recordingFetch,
      reconnectionOptions: { initialReconnectionDelay: 100, maxReconnectionDelay: 2000, reconnectionDelayGrowFactor: 1.5, maxRetries: 50 },
    });
    this.client = new Client({ name: 'fleet-test', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
    this.client.setRequestHandler('sampling/createMessage', async (request) => ({
      role: 'assistant',
      model: 'fleet-test-model',
      content: { type: 'text', text: `echo: ${(request.params.messages[0]!.content as { text: string }).text}` },
    }));
    this.client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { answer: 'yes' } }));
    this.client.setNotificationHandler('notifications/message', (notification) => {
      this.notifications.push(notification.params.data as Notified);
    });
    this.client.setNotificationHandler('notifications/resources/updated', (notification) => {
      this.updates.push(notification.params.uri);
    });
    this.client.onerror = (error) => this.errors.push(error);
  }

  static async connect(url: string): Promise<FleetClient> {
    const fleetClient = new FleetClient(url);
    await fleetClient.client.connect(fleetClient.transport);
    return fleetClient;
  }

  get sessionId(): string {
    return this.transport.sessionId!;
  }

  /** Replica that holds (or last opened) this client's GET stream. */
  get streamReplica(): string | null | undefined {
    return this.served.filter((s) => s.method === 'GET' && s.status === 200).at(-1)?.replica;
  }

  async waitForStream(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (this.streamReplica === undefined) {
      if (Date.now() > deadline) throw new Error('the GET stream did not open');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  async tool(name: string, args: Record<string, unknown> = {}): Promise<any> {
    const result = await this.client.callTool({ name, arguments: args });
    if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
    return JSON.parse((result.content as Array<{ text: string }>)[0]!.text);
  }

  async close(): Promise<void> {
    await this.transport.terminateSession().catch(() => {});
    await this.client.close();
  }
}

/** Messages of `tag` received, and how many arrived more than once. */
export function tally(notifications: Notified[], tag: string): { received: number; duplicates: number; indexes: number[] } {
  const indexes = notifications.filter((n) => n.message === tag).map((n) => n.index);
  return { received: new Set(indexes).size, duplicates: indexes.length - new Set(indexes).size, indexes };
}
