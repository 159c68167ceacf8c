import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler, InMemoryTransport, type McpHttpHandler } from '@modelcontextprotocol/server';
import type { ClientCapabilities } from '@modelcontextprotocol/server';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { bindToMethod, createKeyRingCodec } from '../../src/request-state/key-ring.js';
import { buildMcpServer, type ServerBuildDeps } from '../../src/server/mcp-server-factory.js';
import { InMemorySharedState } from '../../src/backends/memory/shared-state.js';
import { conformanceWorkload } from '../../src/workload/conformance.js';
import type { ChangeEvents } from '../../src/workload/types.js';
import { MODERN_PROTOCOL_VERSION, modernRequest, POST_HEADERS, readAnswer, type RpcAnswer } from '../support/raw-mcp.js';

/** The capabilities the conformance suite's client declares. */
export const SUITE_CAPABILITIES: ClientCapabilities = { sampling: {}, elicitation: {}, roots: { listChanged: true } };

const TEST_KEY = 'conformance-workload-test-key-0123456789abcdef';

/** Fleet events that record what was published, as the event bus would carry it to every replica. */
export class RecordingEvents implements ChangeEvents {
  readonly published: string[] = [];

  async resourceUpdated(uri: string): Promise<number> {
    this.published.push(`resource_updated ${uri}`);
    return 1;
  }
  async toolsChanged(): Promise<void> {
    this.published.push('tools_list_changed');
  }
  async promptsChanged(): Promise<void> {
    this.published.push('prompts_list_changed');
  }
  async resourcesChanged(): Promise<void> {
    this.published.push('resources_list_changed');
  }
}

/**
 * What one replica builds its servers from, with the conformance workload: the same factory as
 * production, and a key ring that every "replica" built with the same key verifies.
 */
export function replicaDeps(options: { shared?: InMemorySharedState; events?: RecordingEvents; name?: string } = {}): ServerBuildDeps & {
  shared: InMemorySharedState;
  events: RecordingEvents;
} {
  return {
    workload: conformanceWorkload,
    replicaName: options.name ?? 'replica-a',
    shared: options.shared ?? new InMemorySharedState(),
    events: options.events ?? new RecordingEvents(),
    requestState: createKeyRingCodec({ keys: [TEST_KEY], ttlSeconds: 60, bind: bindToMethod }),
    observer: NOOP_OBSERVER,
    clientRequestTimeoutMs: 60_000,
  };
}

const open: Array<{ close(): Promise<void> }> = [];

export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => {})));
}

/** A 2025 session: the workload on a legacy-era server, a client over an in-memory transport. */
export async function legacyClient(deps: ServerBuildDeps, capabilities: ClientCapabilities = SUITE_CAPABILITIES): Promise<Client> {
  const server = buildMcpServer('legacy', 'session-1', deps);
  const client = new Client({ name: 'conformance-test', version: '0.0.0' }, { capabilities });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  open.push(client, server);
  return client;
}

/** The 2026-07-28 leg of one replica: a fresh server per request from the same factory. */
export function modernHandler(deps: ServerBuildDeps): McpHttpHandler {
  const handler = createMcpHandler(() => buildMcpServer('modern', undefined, deps), { legacy: 'reject' });
  open.push(handler);
  return handler;
}

const ENDPOINT = 'http://127.0.0.1/mcp';

/** A 2026-07-28 client whose HTTP requests are served by `handler` in this process. */
export async function modernClient(handler: McpHttpHandler, capabilities: ClientCapabilities = SUITE_CAPABILITIES): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(ENDPOINT), {
    fetch: (url, init) => handler.fetch(new Request(url, init)),
  });
  const client = new Client({ name: 'conformance-test', version: '0.0.0' }, { capabilities, versionNegotiation: { mode: { pin: MODERN_PROTOCOL_VERSION } } });
  await client.connect(transport);
  open.push(client);
  return client;
}

/** One 2026-07-28 request as the suite sends it (standard headers, `_meta` envelope), answered by `handler`. */
export async function rawModern(
  handler: McpHttpHandler,
  method: string,
  params: Record<string, unknown>,
  capabilities: ClientCapabilities = SUITE_CAPABILITIES,
): Promise<RpcAnswer & { body: Record<string, any> }> {
  const name = params.name ?? params.uri;
  const response = await handler.fetch(
    new Request(ENDPOINT, {
      method: 'POST',
      headers: {
        ...POST_HEADERS,
        'MCP-Protocol-Version': MODERN_PROTOCOL_VERSION,
        'Mcp-Method': method,
        ...(typeof name === 'string' ? { 'Mcp-Name': name } : {}),
      },
      body: JSON.stringify(modernRequest(method, params, capabilities)),
    }),
  );
  const answer = await readAnswer(response);
  const body = answer.messages.find((m) => 'result' in m || 'error' in m);
  if (body === undefined) throw new Error(`no response to ${method}: ${JSON.stringify(answer.messages)}`);
  return { ...answer, body };
}
