import type { McpServer } from '@modelcontextprotocol/server';
import { log } from '../../log.js';

/** How a lent instance's exchange ended, as its borrower saw it. */
export interface ExchangeOutcome {
  /**
   * Every handler the exchange started has settled: the response was written whole (a request),
   * or the instance never served (refused before dispatch, a listen stream). False when the client
   * went away first, the exchange was a notification (its handler runs after the 202), or the SDK
   * answered 5xx.
   */
  settled: boolean;
}

/** The connection-scoped fields of the SDK's Server that a request writes and a later one could read. */
interface ConnectionFields {
  _clientCapabilities?: unknown;
  _clientVersion?: unknown;
  _loggingLevels?: Map<unknown, unknown>;
}

/** What the pool remembers of an instance it built. */
interface Watch {
  /** Its registrations changed while it served (a handler registered, removed, enabled or disabled one). */
  changed: boolean;
  idle: boolean;
}

const LIST_CHANGED = ['sendToolListChanged', 'sendResourceListChanged', 'sendPromptListChanged'] as const;

/**
 * Idle server instances of the 2026-07-28 leg, each with the whole workload registered, lent to
 * one request at a time: every modern request has the same WorkloadContext (era modern, no
 * session), so an instance built for one serves any other once its exchange is over.
 *
 * An instance comes back only when nothing of its last request can reach the next one: its
 * transport closed, every handler settled, its registrations as built; the client identity
 * the SDK seeded from the request's `_meta` (and a deprecated `logging/setLevel`) is cleared.
 * Authorization and `_meta` travel with each request, never on the instance. At most `maxIdle`
 * instances wait; beyond that, returned ones are dropped (as many are built as requests are in
 * flight, so the pool never makes a request wait).
 */
export class ServerPool {
  private readonly idle: McpServer[] = [];
  private readonly watched = new WeakMap<McpServer, Watch>();
  private readonly maxIdle: number;

  constructor(
    private readonly build: () => McpServer,
    maxIdle: number,
  ) {
    this.maxIdle = maxIdle;
  }

  /** Instances waiting for a request. */
  get size(): number {
    return this.idle.length;
  }

  /** An idle instance, or a new one: never one another exchange holds. */
  acquire(): McpServer {
    const server = this.idle.pop();
    if (server) {
      this.watched.get(server)!.idle = false;
      return server;
    }
    const built = this.build();
    this.watch(built);
    return built;
  }

  /** Takes `server` back once its exchange is over; keeps it only if it is safe to lend again. */
  release(server: McpServer, outcome: ExchangeOutcome): void {
    const watch = this.watched.get(server);
    if (!watch || watch.idle || watch.changed || !outcome.settled || server.isConnected()) return;
    if (this.idle.length >= this.maxIdle) return;
    const fields = server.server as unknown as ConnectionFields;
    fields._clientCapabilities = undefined;
    fields._clientVersion = undefined;
    fields._loggingLevels?.clear();
    watch.idle = true;
    this.idle.push(server);
  }

  /** Drops every idle instance (drain). */
  clear(): void {
    for (const server of this.idle) this.watched.get(server)!.idle = false;
    this.idle.length = 0;
  }

  private watch(server: McpServer): void {
    if (!poolable(server)) return;
    const watch: Watch = { changed: false, idle: false };
    // Each registration change ends in one of these (McpServer calls them whether connected or not).
    for (const method of LIST_CHANGED) {
      const original = server[method].bind(server);
      server[method] = () => {
        watch.changed = true;
        original();
      };
    }
    this.watched.set(server, watch);
  }
}

let warned = false;

/** Whether this SDK build keeps the connection-scoped fields where the pool clears them. */
function poolable(server: McpServer): boolean {
  const fields = server.server as unknown as Record<string, unknown>;
  const known = '_clientCapabilities' in fields && '_clientVersion' in fields;
  if (!known && !warned) {
    warned = true;
    log.warn('this SDK version keeps its client identity elsewhere: modern server instances are built per request, not reused');
  }
  return known;
}
