import { ProtocolError, ProtocolErrorCode, type JSONRPCMessage, type JSONRPCRequest, type LoggingLevel, type McpServer } from '@modelcontextprotocol/server';
import { SubscriptionLimitError, type SessionRecord, type SessionStore } from '../../sessions/session-store.js';
import type { StreamManager } from '../../streams/stream-manager.js';
import { buildMcpServer, type ServerBuildDeps } from '../mcp-server-factory.js';
import { SessionTransport } from './session-transport.js';
import type { PendingClientRequests } from './pending-client-requests.js';
import type { RequestLives } from './request-life.js';

export interface RuntimeDeps {
  build: ServerBuildDeps;
  store: SessionStore;
  /** Undefined in stateless mode. */
  streams: StreamManager | undefined;
  pending: PendingClientRequests;
  lives: RequestLives;
  maxSubscriptionsPerSession: number;
  maxPendingClientRequests: number;
}

/** Subscribed URIs are stored in the session record and index keys: bounded like the record. */
const MAX_SUBSCRIPTION_URI_LENGTH = 2048;

let replayCounter = 0;
const replayId = () => `mcp-fleet-replay-${++replayCounter}`;

/**
 * One session's MCP server on this replica: an SDK McpServer with the workload registered,
 * connected to a SessionTransport. Built at initialize, or rebuilt from the stored SessionRecord on
 * a replica that has not seen the session (registration replay: the initialize and log level are
 * fed to the server again, with their responses kept inside, so it is in the state it would be in
 * had it served them itself).
 */
export class SessionRuntime {
  appliedLogLevel: LoggingLevel | undefined;
  lastUsed = Date.now();

  private constructor(
    readonly server: McpServer,
    readonly transport: SessionTransport,
  ) {}

  static async create(sessionId: string | undefined, deps: RuntimeDeps): Promise<SessionRuntime> {
    const server = buildMcpServer('legacy', sessionId, deps.build);
    if (sessionId !== undefined) {
      const id = sessionId;
      server.server.setRequestHandler('resources/subscribe', async (request) => {
        const { uri } = request.params;
        if (uri.length > MAX_SUBSCRIPTION_URI_LENGTH) {
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid params: a subscribed URI may be at most ${MAX_SUBSCRIPTION_URI_LENGTH} characters`);
        }
        try {
          await deps.store.subscribe(id, uri, deps.maxSubscriptionsPerSession);
        } catch (error) {
          if (error instanceof SubscriptionLimitError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid params: ${error.message}`);
          throw error;
        }
        return {};
      });
      server.server.setRequestHandler('resources/unsubscribe', async (request) => {
        await deps.store.unsubscribe(id, request.params.uri);
        return {};
      });
    }
    const transport = new SessionTransport(sessionId, deps.lives, deps.streams, deps.pending, deps.maxPendingClientRequests);
    await server.connect(transport);
    return new SessionRuntime(server, transport);
  }

  /** Serves the client's own initialize; the caller stores the session and sends the response. */
  initialize(request: JSONRPCRequest): Promise<JSONRPCMessage> {
    return this.transport.request(request);
  }

  async restore(record: SessionRecord): Promise<void> {
    const response = await this.transport.request({
      jsonrpc: '2.0',
      id: replayId(),
      method: 'initialize',
      params: {
        protocolVersion: record.protocolVersion,
        capabilities: record.clientCapabilities,
        clientInfo: record.clientInfo,
      },
    });
    if ('error' in response) throw new Error(`replaying initialize failed: ${JSON.stringify(response.error)}`);
    this.transport.dispatchNotification({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await this.applyLogLevel(record.logLevel);
  }

  async applyLogLevel(level: LoggingLevel | undefined): Promise<void> {
    if (level === undefined || level === this.appliedLogLevel) return;
    await this.transport.request({ jsonrpc: '2.0', id: replayId(), method: 'logging/setLevel', params: { level } });
    this.appliedLogLevel = level;
  }

  async close(): Promise<void> {
    await this.server.close().catch(() => {});
  }
}
