import { INTERNAL_ERROR, isJSONRPCErrorResponse, isJSONRPCResultResponse } from '@modelcontextprotocol/client';
import type { JSONRPCMessage, JSONRPCRequest, RequestId, TransportSendOptions } from '@modelcontextprotocol/client';

export interface Reissue {
  method: string;
  /** The id the application's Client knows the request by (its promise resolves with the re-issue's response). */
  requestId: RequestId;
  /** The new id the request went out with the second time. */
  reissuedAs: RequestId;
  /**
   * `stream-broke`: the response stream ended or failed before the response (a replica killed or
   * drained mid-call, a proxy cutting the connection); `request-failed`: the POST got no response at
   * all (connection reset or refused before the headers).
   */
  cause: 'stream-broke' | 'request-failed';
}

export interface ReissuingRequestsDeps {
  /** Sends on the underlying SDK transport. */
  send: (message: JSONRPCMessage, options?: TransportSendOptions) => Promise<void>;
  /** Hands a message to the application's Client. */
  deliver: (message: JSONRPCMessage) => void;
  isClosed: () => boolean;
  onReissue?: (reissue: Reissue) => void;
}

interface InFlight {
  /** As the Client sent it. */
  request: JSONRPCRequest;
  wireId: RequestId;
  reissued: boolean;
  options: TransportSendOptions | undefined;
}

/** undici reports a refused, reset or cut connection (before or while reading the body) as a TypeError. */
const isConnectionFailure = (error: unknown): boolean => error instanceof TypeError;

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * The 2026-07-28 rule for broken response streams. That revision has no Last-Event-ID: a request
 * whose response stream breaks before the response is lost, and the client re-issues it as a new
 * request with a new request id. This does so once per request and answers the Client under the id
 * it knows; a re-issue whose stream breaks too fails the request with a JSON-RPC error, so there is
 * no loop. A cancelled request (its per-request signal aborted) is never re-issued.
 */
export class ReissuingRequests {
  reissues = 0;
  private readonly inFlight = new Map<RequestId, InFlight>();
  private seq = 0;

  constructor(private readonly deps: ReissuingRequestsDeps) {}

  send(request: JSONRPCRequest, options?: TransportSendOptions): Promise<void> {
    return this.attempt({ request, wireId: request.id, reissued: false, options });
  }

  /** A response from the wire, under the id the Client knows it by. */
  answer(message: JSONRPCMessage): JSONRPCMessage {
    if (!isJSONRPCResultResponse(message) && !isJSONRPCErrorResponse(message)) return message;
    const entry = message.id === undefined ? undefined : this.inFlight.get(message.id);
    if (entry === undefined) return message;
    this.inFlight.delete(entry.wireId);
    return entry.reissued ? { ...message, id: entry.request.id } : message;
  }

  clear(): void {
    this.inFlight.clear();
  }

  private async attempt(entry: InFlight): Promise<void> {
    this.inFlight.set(entry.wireId, entry);
    entry.options?.requestSignal?.addEventListener('abort', () => this.inFlight.delete(entry.wireId), { once: true });
    const wire = entry.reissued ? { ...entry.request, id: entry.wireId } : entry.request;
    try {
      await this.deps.send(wire, { ...entry.options, onRequestStreamEnd: () => this.streamEnded(entry) });
    } catch (error) {
      this.inFlight.delete(entry.wireId);
      if (entry.reissued || !isConnectionFailure(error) || this.cancelled(entry)) throw error;
      await this.attempt(this.reissue(entry, 'request-failed'));
    }
  }

  /** The SDK calls this when a request's SSE stream is over, whether or not the response came. */
  private streamEnded(entry: InFlight): void {
    if (this.inFlight.get(entry.wireId) !== entry || this.cancelled(entry)) return;
    this.inFlight.delete(entry.wireId);
    if (entry.reissued) {
      this.fail(entry, 'broke again after the request was re-issued');
      return;
    }
    this.attempt(this.reissue(entry, 'stream-broke')).catch((error: unknown) =>
      this.fail(entry, `broke, and re-issuing the request failed: ${describe(error)}`),
    );
  }

  private reissue(entry: InFlight, cause: Reissue['cause']): InFlight {
    const next: InFlight = { ...entry, wireId: `mcp-fleet-reissue-${++this.seq}`, reissued: true };
    this.reissues += 1;
    this.deps.onReissue?.({ method: entry.request.method, requestId: entry.request.id, reissuedAs: next.wireId, cause });
    return next;
  }

  private cancelled(entry: InFlight): boolean {
    return entry.options?.requestSignal?.aborted === true || this.deps.isClosed();
  }

  private fail(entry: InFlight, why: string): void {
    if (this.cancelled(entry)) return;
    this.deps.deliver({
      jsonrpc: '2.0',
      id: entry.request.id,
      error: { code: INTERNAL_ERROR, message: `${entry.request.method}: the response stream ${why}` },
    });
  }
}
